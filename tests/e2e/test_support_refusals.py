"""Support for Business in a browser: the tab that loses a plan's last incident is told the
true reason and keeps what was typed; typed URLs find their page; support staff land in the
admin; a session ended elsewhere says why on the sign-in page."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from cases.models import Case
from entitlements.services import set_roles
from support.models import ContractLink, ProductVersion, SupportContract

pytestmark = pytest.mark.django_db(transaction=True)


def last_incident_of_a_contract_on(account):
    """Contoso's Gold Microsoft Product Support, on `account`, with one incident left."""
    from activation import services

    admin = User.objects.get(email="admin@contoso.example")
    request, _ = services.request_activation(
        admin.partner.offers.get(level="gold"), "product_support", admin
    )
    services.complete_now(request.pk, None)
    contract = SupportContract.objects.get()
    SupportContract.objects.filter(pk=contract.pk).update(incidents_remaining=1)
    ContractLink.objects.create(user=User.objects.get(email=account), contract=contract)
    return contract


def describe(page, title):
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("Event 1135 after the November update.")
    page.get_by_label("Contact phone (optional)").fill("+1 (425) 555-0100")
    page.get_by_role("radio", name=re.compile("^B: moderate impact")).check()


def test_two_tabs_race_for_the_last_incident_and_the_loser_keeps_its_text(
    page, context, portal, sign_in_as, shot
):
    contract = last_incident_of_a_contract_on("admin@fabrikam.example")
    version = ProductVersion.objects.get(product__name="Windows Server", name="2025")
    step = f"{portal}/supportforbusiness/create?version={version.pk}&support_type=setup"
    sign_in_as(page, "admin@fabrikam.example")
    page.goto(step)
    other_tab = context.new_page()
    other_tab.goto(step)

    describe(other_tab, "Cluster node won't rejoin")
    describe(page, "Storage Spaces pool degraded")
    other_tab.get_by_role("button", name="Open incident").click()
    expect(other_tab.get_by_role("status")).to_contain_text("0 incidents remaining")

    page.get_by_role("button", name="Open incident").click()
    expect(page.get_by_role("alert")).to_contain_text("This plan has no incidents remaining.")
    expect(page.get_by_role("alert")).not_to_contain_text("not on your account")
    expect(page.get_by_label("Title")).to_have_value("Storage Spaces pool degraded")
    expect(page.get_by_label("Description")).to_have_value("Event 1135 after the November update.")
    expect(page.get_by_label("Contact phone (optional)")).to_have_value("+1 (425) 555-0100")
    expect(page.get_by_label("Access ID")).to_be_visible()  # Add contract, open
    shot(page, "support-race-lost")
    assert Case.objects.filter(kind=Case.Kind.INCIDENT).count() == 1

    # Add another contract: what was typed is still there, and goes under the new plan.
    from activation import services

    admin = User.objects.get(email="admin@contoso.example")
    request, _ = services.request_activation(
        admin.partner.offers.get(level="silver"), "product_support", admin
    )
    services.complete_now(request.pk, None)
    silver = SupportContract.objects.get(activation=request)
    page.get_by_label("Access ID").fill(silver.access_id)
    page.get_by_label("Contract ID").fill(silver.contract_id)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Contract added")
    expect(page.get_by_label("Title")).to_have_value("Storage Spaces pool degraded")
    page.locator(f"#plan-{silver.pk}").check()
    page.get_by_role("button", name="Open incident").click()
    expect(page.get_by_role("status")).to_contain_text("14 incidents remaining on this plan")
    assert Case.objects.filter(title="Storage Spaces pool degraded").exists()

    row = page.locator("table.plans").first.locator("tbody tr").nth(1)  # the first tab's
    expect(row).to_contain_text(f"Contract ID ending {contract.contract_id[-4:]}")
    expect(row).not_to_contain_text(contract.contract_id)
    expect(row).to_contain_text("B: moderate impact")
    expect(row).to_contain_text("Setup: installing, configuring or upgrading")
    expect(row).to_contain_text("UTC")


def test_an_old_version_and_action_pack_say_which_rule(page, portal, sign_in_as):
    from activation import services

    admin = User.objects.get(email="admin@fabrikam.example")
    request, _ = services.request_activation(admin.partner.offers.get(), "product_support", admin)
    services.complete_now(request.pk, None)
    ContractLink.objects.create(user=admin, contract=SupportContract.objects.get())
    sign_in_as(page, "admin@fabrikam.example")
    page.goto(f"{portal}/supportforbusiness/create")
    page.get_by_label("Product").select_option(label="Windows Server 2019")
    page.get_by_role("button", name="Next").click()
    expect(page.locator(".notice")).to_contain_text(
        "Only the current and the previous version of an on-premises product are covered: "
        "now Windows Server 2025 and Windows Server 2022."
    )
    page.get_by_label("Product").select_option(label="Azure")
    page.get_by_role("button", name="Change").click()
    expect(page.locator(".notice")).to_contain_text(
        "Microsoft Action Pack includes no cloud support."
    )


def test_a_typed_url_with_a_trailing_slash_finds_its_page(page, portal, sign_in_as):
    sign_in_as(page, "admin@fabrikam.example")
    page.goto(f"{portal}/supportforbusiness/create/")
    expect(page.get_by_role("heading", name="Create a support request")).to_be_visible()
    page.goto(f"{portal}/dashboard/mpn")
    expect(page).to_have_url(re.compile(r"/dashboard/mpn/membership/benefits/technical$"))


def test_support_staff_land_in_the_admin(page, sign_in_as):
    sign_in_as(page, "support@benefits.example")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_text("You are not authorized for this action")).to_have_count(0)


def test_a_role_removed_elsewhere_is_given_as_the_reason_on_sign_in(page, sign_in_as, shot):
    sign_in_as(page, "agent@contoso.example")
    set_roles(User.objects.get(email="agent@contoso.example"), [])
    page.reload()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("status")).to_contain_text(
        "You were signed out because your roles changed."
    )
    shot(page, "signed-out-roles-changed")
    page.reload()
    expect(page.get_by_text("You were signed out because")).to_have_count(0)
