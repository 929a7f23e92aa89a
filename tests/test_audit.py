"""The company's audit log: activations, revealed IDs, contract links, role changes."""

from activation import services as activation
from audit.models import AuditEntry
from entitlements.models import Role
from entitlements.rules import Benefit
from entitlements.services import set_roles
from support import services as support_portal

from .factories import UserFactory

LOG = "/dashboard/account/auditlog"
Action = AuditEntry.Action


def test_a_global_admin_reads_who_did_what_when(sign_in, alice, bob, contoso, support):
    AuditEntry.objects.all().delete()  # the fixtures' own role grants
    offer = contoso.offers.get(level="gold")
    request, _ = activation.request_activation(offer, Benefit.PRODUCT_SUPPORT, alice)
    activation.complete_now(request.pk, support)
    contract = request.contract
    support_portal.add_contract(bob, contract.access_id, contract.contract_id)  # another company
    newcomer = UserFactory(partner=contoso)
    set_roles(newcomer, [Role.ADMIN_AGENT], actor=support)
    set_roles(newcomer, [], actor=alice)

    assert list(
        AuditEntry.objects.filter(partner=contoso).order_by("pk").values_list("action", "actor")
    ) == [
        (Action.ACTIVATION_REQUESTED, alice.pk),
        (Action.IDS_REVEALED, support.pk),
        (Action.CONTRACT_LINKED, bob.pk),
        (Action.ROLE_GRANTED, support.pk),
        (Action.ROLE_REMOVED, alice.pk),
    ]
    page = sign_in(alice).get(LOG).content.decode()
    assert (
        "Activation requested" in page and "Microsoft Product Support, Gold Cloud Platform" in page
    )
    assert "Access ID and Contract ID revealed" in page
    assert f"{contract.contract_id}: bob@fabrikam.example" in page
    assert f"Admin agent: {newcomer.email}" in page
    assert page.index("Role removed") < page.index("Activation requested")  # newest first


def test_the_portals_own_steps_have_no_actor(sign_in, alice, contoso, clock):
    offer = contoso.offers.get(level="gold")
    request, _ = activation.request_activation(offer, Benefit.PRODUCT_SUPPORT, alice)
    for _ in range(3):  # a stage each week is plenty
        clock.advance(days=7)
        activation.sweep()
    entry = AuditEntry.objects.get(action=Action.IDS_REVEALED)
    assert entry.actor is None
    assert "The portal" in sign_in(alice).get(LOG).content.decode()


def test_another_companys_entries_stay_out(sign_in, alice, bob):
    set_roles(bob, [Role.GLOBAL_ADMIN, Role.ADMIN_AGENT], actor=bob)
    page = sign_in(alice).get(LOG).content.decode()
    assert "alice@contoso.example" in page  # her own role, granted when she was made
    assert "bob@fabrikam.example" not in page


def test_only_global_admins_see_it_in_the_navigation(sign_in, alice, mona):
    assert (
        f'href="{LOG}"'
        in sign_in(alice).get("/dashboard/mpn/membership/benefits/technical").content.decode()
    )
    assert (
        f'href="{LOG}"'
        not in sign_in(mona).get("/dashboard/mpn/membership/benefits/technical").content.decode()
    )


def test_support_staff_read_the_log_in_admin_and_cannot_change_it(sign_in, support, alice):
    set_roles(alice, [Role.GLOBAL_ADMIN, Role.USER_ADMIN], actor=support)
    entry = AuditEntry.objects.get(action=Action.ROLE_GRANTED, actor=support)
    client = sign_in(support)
    assert (
        "User admin: alice@contoso.example"
        in client.get("/admin/audit/auditentry/").content.decode()
    )
    assert (
        client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"subject": "x"}).status_code
        == 403
    )
    assert (
        client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
