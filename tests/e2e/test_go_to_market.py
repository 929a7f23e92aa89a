"""The Go-To-Market page in a browser: Activate refused until the company has a marketing
contact, the contact added with a clear message for a wrong address and the typed text kept,
then the offer activated through the worker to Active with its Expires date, and the
instructions emailed to the contact's address in their language (seed 003; issue 17)."""

import pytest
from django.utils import formats
from playwright.sync_api import expect

from marketing.models import MarketingContact

from ..workers import wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser_context_args(bypass_csp=True),  # axe runs as an inline script
]

GO_TO_MARKET = "/dashboard/mpn/membership/benefits/gotomarket"
OFFER = "Partner listing in Microsoft solution finder"


def offer_row(page, name):
    return page.locator("details.benefit").filter(has=page.locator(".benefit-name", has_text=name))


def test_an_offer_is_refused_without_a_contact_then_activated_and_the_contact_instructed(
    page, portal, sign_in_as, axe, shot, worker
):
    # Fabrikam has Microsoft Action Pack and no marketing contact yet (the demo).
    sign_in_as(page, "admin@fabrikam.example")
    page.goto(portal + GO_TO_MARKET)
    expect(page.get_by_role("heading", name="Microsoft Action Pack")).to_be_visible()
    row = offer_row(page, OFFER)
    row.locator("summary").click()
    expect(row).to_contain_text("A marketing contact must be assigned first.")
    row.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("status").first).to_contain_text("Add a marketing contact first")
    axe(page)

    page.get_by_role("link", name="Add", exact=True).click()
    expect(page.get_by_role("heading", name="Add marketing contact")).to_be_visible()
    page.get_by_label("User").select_option(label="Diego Siciliani (admin@fabrikam.example)")
    page.get_by_label("Email address for Go-To-Market instructions").fill("admin@fabrikam.example")
    page.get_by_label("Contact phone").fill("+81 3 1234 5678")
    page.get_by_label("Preferred language").select_option("ja")
    page.get_by_role("button", name="Assign user").click()
    # The sign-in address is refused, saying why; what was typed stays.
    expect(page.get_by_role("alert")).to_contain_text("Enter an email address other than")
    expect(page.get_by_label("Contact phone")).to_have_value("+81 3 1234 5678")
    axe(page)
    shot(page, "go-to-market-contact-refused")
    page.get_by_label("Email address for Go-To-Market instructions").fill(
        "marketing@fabrikam.example"
    )
    page.get_by_role("button", name="Assign user").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Diego Siciliani is your marketing contact"
    )
    expect(page.locator("#marketing-contact")).to_contain_text("marketing@fabrikam.example")
    assert MarketingContact.objects.get(partner__name="Fabrikam Inc").language == "ja"

    row = offer_row(page, OFFER)
    row.locator("summary").click()
    row.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("status").first).to_contain_text("It can take several days")
    row = offer_row(page, OFFER)
    expect(row.locator(".benefit-status")).to_contain_text("Activation pending")
    page.evaluate("window.stillTheSamePage = true")  # gone if the page reloads
    expect(row.locator(".benefit-status")).to_contain_text("Active", timeout=60_000)
    expect(row.locator(".benefit-status")).not_to_contain_text("pending")
    assert page.evaluate("window.stillTheSamePage") is True
    # "It can take several days" was true while it waited; it goes with the wait.
    expect(page.locator(".message", has_text="It can take several days")).to_have_count(0)
    offer = MarketingContact.objects.get(partner__name="Fabrikam Inc").partner.offers.get()
    expires = formats.date_format(offer.ends_on, "DATE_FORMAT")
    expect(row.locator(".expires")).to_contain_text(expires)
    axe(page)
    shot(page, "go-to-market-active")
    wait_for(
        lambda: any(
            "To: marketing@fabrikam.example" in email and OFFER in email and "様" in email
            for email in worker.emails()
        ),
        60,
        "the instructions, in Japanese, at the marketing contact's address",
    )
