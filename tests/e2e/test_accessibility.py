"""axe-core finds no serious or critical violation; the controls work from the keyboard."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from activation import services
from support.models import ContractLink, SupportContract

# These tests flush the database; conftest.reference_data puts back what migrations made.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    # axe-core is injected as an inline script, which the portal's CSP rightly blocks.
    pytest.mark.browser_context_args(bypass_csp=True),
]

PAGE = "/dashboard/mpn/membership/benefits/technical"


def activated(email="admin@contoso.example", level="gold", benefit="product_support"):
    admin = User.objects.get(email=email)
    request, _ = services.request_activation(admin.partner.offers.get(level=level), benefit, admin)
    services.complete_now(request.pk, None)
    return SupportContract.objects.get(activation=request)


@pytest.mark.parametrize(
    "email",
    [
        "admin@contoso.example",
        "agent@contoso.example",
        "member@contoso.example",
        "admin@northwind.example",
        "agent@tailspin.example",
    ],
)
def test_the_technical_benefits_page_as_each_kind_of_user(page, sign_in_as, axe, email):
    activated()
    sign_in_as(page, email)
    for summary in page.locator("details.benefit > summary").all():
        summary.click()  # every benefit expanded: IDs, timeline, buttons
    axe(page)


def test_the_sign_in_page_and_a_missing_page(page, portal, axe):
    page.goto(f"{portal}/accounts/login/")
    axe(page)
    page.goto(f"{portal}/accounts/password/reset/")
    axe(page)
    page.goto(f"{portal}/no/such/page")
    axe(page)


def test_the_support_portal_pages(page, portal, sign_in_as, axe):
    contract = activated()
    bob = User.objects.get(email="admin@fabrikam.example")
    ContractLink.objects.create(user=bob, contract=contract)
    sign_in_as(page, "admin@fabrikam.example")
    page.goto(f"{portal}/supportforbusiness/create")
    axe(page)
    page.get_by_label("Product").select_option(label="Windows Server 2019")
    page.get_by_role("button", name="Next").click()
    page.get_by_text("Would you like to see unavailable support plans?").click()
    page.get_by_text("Do you need to purchase or add more support plans?").click()
    axe(page)
    page.get_by_label("Product").select_option(label="Windows Server 2025")
    page.get_by_role("button", name="Change").click()
    axe(page)
    page.goto(f"{portal}/supportforbusiness/incidents")
    axe(page)


def test_expand_activate_and_copy_from_the_keyboard(page, context, sign_in_as):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in_as(page, "admin@contoso.example")
    row = page.locator("details.benefit").first
    summary = row.locator("summary")
    expect(row).not_to_have_attribute("open", "")
    summary.focus()
    page.keyboard.press("Enter")
    expect(row).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Activate")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Allow a few days")

    contract = activated(level="silver", benefit="signature_cloud_support")
    page.reload()
    row = page.locator("details.benefit").nth(3)
    row.locator("summary").focus()
    page.keyboard.press("Enter")
    row.get_by_role("button", name="Copy Contract ID").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("navigator.clipboard.readText()") == contract.contract_id


def test_a_status_that_changes_on_the_page_is_announced(page, sign_in_as, settings):
    settings.SIMULATED_DAY_SECONDS = 6  # the row looks again within seconds
    sign_in_as(page, "admin@contoso.example")
    row = page.locator("details.benefit").first
    row.locator("summary").click()
    row.get_by_role("button", name="Activate").click()
    announcer = page.locator("#announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    request = services.open_request(
        User.objects.get(email="admin@contoso.example").partner.offers.get(level="gold"),
        "product_support",
    )
    services.complete_now(request.pk, None)
    expect(announcer).to_have_text(re.compile("Microsoft Product Support: +Active"), timeout=30_000)


def test_the_audit_log(page, portal, sign_in_as, axe):
    activated()
    sign_in_as(page, "admin@contoso.example")
    page.goto(f"{portal}/dashboard/account/auditlog")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    axe(page)
