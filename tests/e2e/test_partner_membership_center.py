"""A company not yet moved from Partner Membership Center, in a browser: each Benefits page says
so and how to activate technical benefits outside Partner Center, with no Activate or Get keys
(seed 003), on a phone and in Japanese too."""

import pytest
from playwright.sync_api import expect

from .conftest import say

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser_context_args(bypass_csp=True),  # axe runs as an inline script
]

SAYS = "The membership benefits of Adventure Works are still managed in Partner Membership Center"


def test_a_company_in_partner_membership_center_is_told_and_offered_no_action(
    page, portal, sign_in_as, axe, shot
):
    sign_in_as(page, "admin@adventureworks.example")
    expect(page.get_by_role("heading", name="Technical benefits")).to_be_visible()
    expect(page.get_by_text(SAYS)).to_be_visible()
    expect(page.get_by_text("Silver Security").first).to_be_visible()  # its offer, still shown
    expect(page.get_by_role("button", name="Activate")).to_have_count(0)
    link = page.get_by_role("link", name="Activate technical benefits outside of Partner Center")
    expect(link).to_have_attribute(
        "href",
        "https://learn.microsoft.com/partner-center/partner-membership-center-tech-benefits-activate",
    )
    axe(page)
    shot(page, "partner-membership-center")

    for name, button in (
        ("Software", "Get keys"),
        ("Cloud", "Activate"),
        ("Go-To-Market", "Activate"),
    ):
        page.get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
        expect(page.get_by_text(SAYS)).to_be_visible()
        page.evaluate("document.querySelectorAll('main details').forEach(d => { d.open = true; })")
        expect(page.get_by_role("button", name=button)).to_have_count(0)
    expect(page.get_by_role("link", name="Add", exact=True)).to_have_count(0)  # no contact


def test_the_message_on_a_phone_in_japanese(browser, portal, sign_in_as, axe):
    context = browser.new_context(
        viewport={"width": 390, "height": 800}, locale="ja-JP", bypass_csp=True
    )
    page = context.new_page()
    sign_in_as(page, "admin@adventureworks.example")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    heading = say("ja", "Your membership is still in Partner Membership Center")
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1]
    axe(page)
    context.close()
