"""The company's audit log: activations, revealed IDs, contract links, role changes."""

import pytest

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
    assert f"Contract ID {contract.contract_id}, bob@fabrikam.example" in page
    assert f"Admin agent, {newcomer.email}" in page
    rows = page.split("<tbody>")[1]
    assert rows.index("Role removed") < rows.index("Activation requested")  # newest first


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


# Every write to a company's contracts and benefits, whoever makes it and from where.


def test_adding_a_contract_already_on_the_account_is_audited(bob, alice, contoso):
    offer = contoso.offers.get(level="gold")
    request, _ = activation.request_activation(offer, Benefit.PRODUCT_SUPPORT, alice)
    activation.complete_now(request.pk, None)
    contract = request.contract
    support_portal.add_contract(bob, contract.access_id, contract.contract_id)
    _, created = support_portal.add_contract(bob, contract.access_id, contract.contract_id)
    assert not created
    again = AuditEntry.objects.get(partner=contoso, action=Action.CONTRACT_ADDED_AGAIN)
    assert again.actor == bob and contract.contract_id in again.subject


def entries_of(partner, action):
    return list(AuditEntry.objects.filter(partner=partner, action=action))


def test_incidents_opened_and_given_back_are_audited_once(alice, bob, contoso, support):
    from support.models import ProductVersion

    offer = contoso.offers.get(level="gold")
    request, _ = activation.request_activation(offer, Benefit.PRODUCT_SUPPORT, alice)
    activation.complete_now(request.pk, None)
    contract = request.contract
    support_portal.add_contract(bob, contract.access_id, contract.contract_id)
    incident = support_portal.open_incident(
        bob,  # another company's account holding Contoso's contract
        ProductVersion.objects.get(product__name="SQL Server", name="2022"),
        contract.pk,
        title="Log shipping stalls",
        description="Since this morning.",
        severity="B",
        contact_name="Bob",
        contact_email=bob.email,
    )
    [opened] = entries_of(contoso, Action.INCIDENT_OPENED)
    assert opened.actor == bob and incident.number in opened.subject
    support_portal.give_back_incidents(contract.pk, 1, "Closed as a duplicate", support)
    [given] = entries_of(contoso, Action.INCIDENTS_GIVEN_BACK)
    assert given.actor == support and "Closed as a duplicate" in given.subject


def test_support_staffs_edits_in_admin_are_in_the_companys_log(sign_in, support, alice, contoso):
    from django.utils import timezone

    from cases.models import Case
    from support.models import ProductVersion

    client = sign_in(support)
    offer = contoso.offers.get(level="silver")
    request, _ = activation.request_activation(
        contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice
    )
    activation.complete_now(request.pk, None)
    form = {
        "partner": contoso.pk,
        "kind": offer.kind,
        "competency": offer.competency_id,
        "level": "gold",
        "starts_on": offer.starts_on.isoformat(),
        "ends_on": offer.ends_on.isoformat(),
    }
    url = f"/admin/entitlements/membershipoffer/{offer.pk}/change/"
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302  # saved again, nothing changed
    [changed] = entries_of(contoso, Action.OFFER_CHANGED)
    assert changed.actor == support and "level silver -> gold" in changed.subject

    new = {**form, "starts_on": "2020-01-01", "ends_on": "2020-12-31"}
    assert client.post("/admin/entitlements/membershipoffer/add/", new).status_code == 302
    [added] = entries_of(contoso, Action.OFFER_ADDED)
    assert added.actor == support

    company = {
        "name": contoso.name,
        "mpn_id": contoso.mpn_id,
        "is_csp": "on",
        "offers-TOTAL_FORMS": 0,
        "offers-INITIAL_FORMS": 0,
    }
    assert (
        client.post(f"/admin/entitlements/partner/{contoso.pk}/change/", company).status_code == 302
    )
    [company_changed] = entries_of(contoso, Action.COMPANY_CHANGED)
    assert company_changed.actor == support
    assert "is_mpn_associated True -> False" in company_changed.subject

    version = ProductVersion.objects.get(product__name="SQL Server", name="2022")
    incident = Case.objects.create(
        partner=request.contract.partner,
        opened_by=alice,
        contract=request.contract,
        product=version.product,
        product_version=version,
        first_response_due=timezone.now(),
        title="t",
        description="d",
        severity="B",
        contact_name="Alice",
        contact_email=alice.email,
        opened_at=timezone.now(),
    )
    from .test_cases import NO_ENTRIES  # the case page's inlines, empty

    response = client.post(
        f"/admin/cases/case/{incident.pk}/change/",
        {"state": "closed", "resolution": "solved", "severity": "B", **NO_ENTRIES},
    )
    assert response.status_code == 302
    [incident_changed] = entries_of(contoso, Action.INCIDENT_CHANGED)
    assert incident_changed.actor == support and "open -> closed" in incident_changed.subject


def test_an_offer_removed_in_admin_is_audited(sign_in, support, contoso):
    support.is_superuser = True  # only a superuser may delete at all
    support.save()
    offer = contoso.offers.get(level="silver")
    response = sign_in(support).post(
        f"/admin/entitlements/membershipoffer/{offer.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    [removed] = entries_of(contoso, Action.OFFER_REMOVED)
    assert removed.actor == support


def test_the_demo_data_audits_the_offers_it_adds(db):
    from django.core.management import call_command

    call_command("seed_demo", stdout=None)
    contoso = AuditEntry.objects.filter(action=Action.OFFER_ADDED, partner__name="Contoso Ltd")
    assert contoso.count() == 2
    call_command("seed_demo")  # again: nothing new, nothing recorded twice
    assert contoso.count() == 2


# Who first saw a contract's IDs


def test_the_first_view_of_a_contracts_ids_is_recorded_once(sign_in, alice, aaron, contoso):
    import pytest
    from django.db import IntegrityError, transaction

    from audit.services import record

    offer = contoso.offers.get(level="gold")
    request, _ = activation.request_activation(offer, Benefit.PRODUCT_SUPPORT, alice)
    activation.complete_now(request.pk, None)
    contract = request.contract
    page = "/dashboard/mpn/membership/benefits/technical"
    assert contract.contract_id in sign_in(aaron).get(page).content.decode()
    sign_in(aaron).get(page)
    sign_in(alice).get(page, headers={"accept-language": "ja"})  # rendered afresh
    sign_in(alice).get(f"/dashboard/mpn/membership/benefits/technical/{offer.pk}/product_support")
    [first] = entries_of(contoso, Action.IDS_FIRST_VIEWED)
    assert first.actor == aaron and contract.contract_id in first.subject
    with pytest.raises(IntegrityError), transaction.atomic():
        record(contoso, Action.IDS_FIRST_VIEWED, "again", alice, first.facts)

    # New IDs are new: whoever sees them first is recorded too.
    support_portal.reissue_ids(contract.pk, contract.access_id, None)
    sign_in(alice).get(page)
    views = entries_of(contoso, Action.IDS_FIRST_VIEWED)
    assert [view.actor for view in views] == [alice, aaron]  # newest first


# Filters and CSV


def log_of(contoso, alice, bob, support):
    """Three entries in Contoso's log: by Alice yesterday, by support, by the portal."""
    import datetime

    from django.utils import timezone

    from audit.services import record

    AuditEntry.objects.all().delete()
    yesterday = timezone.now() - datetime.timedelta(days=1)
    old = record(contoso, Action.ROLE_GRANTED, "x", alice, {"role": "admin_agent", "email": "a@b"})
    AuditEntry.objects.filter(pk=old.pk).update(at=yesterday)
    record(contoso, Action.CONTRACT_LINKED, '=HYPERLINK("http://evil")', support)
    record(contoso, Action.IDS_REVEALED, "+cmd|' /C calc'!A0", None)
    record(bob.partner, Action.ROLE_GRANTED, "fabrikam's own", bob)
    return yesterday


def test_the_log_is_filtered_by_action_person_and_date(sign_in, alice, bob, contoso, support):
    yesterday = log_of(contoso, alice, bob, support)
    client = sign_in(alice)

    def rows(**query):
        page = client.get(LOG, query).content.decode()
        return page.split("<tbody>")[1].count("<tr>") if "<tbody>" in page else 0

    assert rows() == 3
    assert rows(action=Action.ROLE_GRANTED) == 1  # not Fabrikam's
    assert rows(person=support.email) == 1
    assert rows(person="portal") == 1
    day = yesterday.date().isoformat()
    assert rows(start=day, end=day) == 1
    page = client.get(LOG, {"action": Action.ROLE_GRANTED, "start": day}).content.decode()
    assert f'value="{day}"' in page and f'value="{Action.ROLE_GRANTED}" selected' in page


def test_a_bad_date_is_named_not_a_server_error(sign_in, alice, bob, contoso, support):
    log_of(contoso, alice, bob, support)
    response = sign_in(alice).get(LOG, {"start": "30/11/2026", "person": support.email})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a date as year-month-day, for example 2026-11-30." in page
    assert 'value="30/11/2026"' in page  # what was typed stays
    assert page.split("<tbody>")[1].count("<tr>") == 1  # the valid filter still applies
    response = sign_in(alice).get(LOG, {"start": "2026-11-30", "end": "2026-11-01"})
    assert "The end date is before the start date." in response.content.decode()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31"])
def test_a_day_out_of_range_is_named_on_the_page_and_the_export(sign_in, alice, contoso, day):
    client = sign_in(alice)
    for name in ("start", "end"):
        for url in (LOG, "/dashboard/account/auditlog/export"):
            response = client.get(url, {name: day})
            assert response.status_code in (200, 400), url
            page = response.content.decode()
            assert "Enter a date from 2000-01-01 to 9998-12-31." in page
            assert f'value="{day}"' in page


def test_an_export_with_a_filter_in_error_is_not_a_file_of_the_whole_log(
    sign_in, alice, bob, contoso, support
):
    """The download would pass for the filtered log: the page says what to correct."""
    log_of(contoso, alice, bob, support)
    client = sign_in(alice)
    response = client.get("/dashboard/account/auditlog/export", {"start": "30/11/2026"})
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("text/csv")
    assert "Enter a date as year-month-day, for example 2026-11-30." in response.content.decode()
    page = client.get(LOG, {"start": "30/11/2026"}).content.decode()
    assert "Export CSV" not in page


def test_paging_keeps_the_filters(sign_in, alice, contoso):
    from audit.services import record
    from audit.views import PER_PAGE

    for n in range(PER_PAGE + 1):
        record(contoso, Action.ROLE_GRANTED, f"n{n}", alice)
    page = sign_in(alice).get(LOG, {"action": Action.ROLE_GRANTED}).content.decode()
    assert f"?action={Action.ROLE_GRANTED}&amp;page=2" in page


def csv_rows(response):
    import csv

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(text.splitlines()))


def test_the_csv_holds_the_filtered_rows_safe_for_spreadsheets(
    sign_in, alice, bob, contoso, support
):
    log_of(contoso, alice, bob, support)
    client = sign_in(alice)
    response = client.get("/dashboard/account/auditlog/export")
    assert response["Content-Type"].startswith("text/csv")
    header, *rows = csv_rows(response)
    assert header == ["When", "What", "Details", "Who"]
    assert len(rows) == 3
    details = [row[2] for row in rows]
    assert '\'=HYPERLINK("http://evil")' in details
    assert "'+cmd|' /C calc'!A0" in details
    assert "fabrikam's own" not in str(rows)
    only = csv_rows(client.get("/dashboard/account/auditlog/export", {"person": "portal"}))
    assert len(only) == 2 and only[1][3] == "The portal"


def test_the_csv_needs_the_same_permission_as_the_page(sign_in, mona, bob, alice, contoso, support):
    log_of(contoso, alice, bob, support)
    assert sign_in(mona).get("/dashboard/account/auditlog/export").status_code == 403
    bobs = csv_rows(sign_in(bob).get("/dashboard/account/auditlog/export"))
    assert [row[2] for row in bobs[1:]] == ["fabrikam's own"]


def test_details_and_role_names_read_in_the_readers_language(sign_in, alice, contoso, support):
    from django.utils import translation
    from django.utils.translation import gettext

    set_roles(alice, [Role.GLOBAL_ADMIN, Role.USER_ADMIN], actor=support)
    for language, code in (("ja", "ja"), ("zh-hans", "zh-hans")):
        page = sign_in(alice).get(LOG, headers={"accept-language": code}).content.decode()
        with translation.override(language):
            role = gettext("User admin")
        assert role != "User admin"
        assert role in page.split("<tbody>")[1]
        assert "User admin" not in page


def test_entries_written_before_facts_read_in_the_readers_language_too():
    import importlib

    from django.utils import translation

    from audit.describe import describe

    migration = importlib.import_module("audit.migrations.0005_facts_of_earlier_entries")
    written = {
        ("role_granted", "Admin agent: newcomer@contoso.example"): "管理エージェント",
        ("activation_requested", "Microsoft Product Support, Gold Cloud Platform"): "ゴールド",
        ("activation_rejected", "Signature Cloud Support, Microsoft Action Pack: Not eligible"): (
            "Not eligible"
        ),
        ("contract_unlinked", "Microsoft Product Support 123456789: bob@x.example (moved)"): (
            "123456789"
        ),
    }
    for (action, subject), expected in written.items():
        facts = migration.facts_of(action, subject)
        with translation.override("ja"):
            assert expected in describe(facts), (subject, describe(facts))
    assert migration.facts_of("password_changed", "alice@x.example: reset") is None


def test_credential_changes_read_in_the_readers_language(sign_in, alice, rf):
    from allauth.account import signals as account_signals

    request = rf.get("/")
    request.user = alice
    account_signals.password_reset.send(sender=type(alice), request=request, user=alice)
    page = sign_in(alice).get(LOG, headers={"accept-language": "ja"}).content.decode()
    rows = page.split("<tbody>")[1]
    assert "メールのリンクでパスワードをリセット" in rows and "reset by email link" not in rows


def test_an_entry_names_its_product_once():
    from audit.describe import describe

    facts = {
        "product": "Microsoft 365 E3",
        "offer": {"kind": "competency", "level": "gold", "competency": "Cloud Platform"},
    }
    assert describe(facts).count("Microsoft 365 E3") == 1
