"""A person without a role asks for MPN partner admin, a Global admin approves it, and the
person then sees Technical benefits (after setting up two-factor authentication, which the
role requires): in each language, at a phone's width and a desktop's, axe finding nothing
serious on the new pages."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from notices.services import send_pending

from ..factories import totp_code
from .conftest import PASSWORD, say

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # axe-core is injected as an inline script, which the portal's CSP rightly blocks.
    pytest.mark.browser_context_args(bypass_csp=True),
]
TECHNICAL = "/dashboard/mpn/membership/benefits/technical"


@pytest.mark.parametrize(
    ("language", "locale", "width"),
    [("en", "en-US", 1280), ("ja", "ja-JP", 390), ("zh-hans", "zh-CN", 1280)],
)
def test_a_member_asks_for_mpn_partner_admin_and_a_global_admin_approves(
    browser, portal, sign_in_as, axe, language, locale, width
):
    def new_page():
        context = browser.new_context(
            locale=locale, viewport={"width": width, "height": 900}, bypass_csp=True
        )
        return context.new_page()

    member = sign_in_as(new_page(), "member@contoso.example")
    member.goto(portal + TECHNICAL)
    expect(member.locator("h1")).to_have_text(say(language, "You don't have access to this page"))
    member.locator("main").get_by_role("link", name=say(language, "My access")).click()
    expect(member.locator("h1")).to_have_text(say(language, "My access"))
    axe(member)
    member.locator("main").get_by_role("combobox").select_option("mpn_partner_admin")
    member.get_by_label(say(language, "Why you need it")).fill("I activate our benefits.")
    member.get_by_role("button", name=say(language, "Send request")).click()
    expect(member.locator("main")).to_contain_text(say(language, "Waiting for a decision"))

    admin = sign_in_as(new_page(), "admin@contoso.example")
    if width < 760:  # on a phone the navigation waits behind its Menu button
        admin.get_by_text(say(language, "Menu"), exact=True).click()
    admin.get_by_role("link", name=re.compile(re.escape(say(language, "Access requests")))).click()
    expect(admin.locator("h1")).to_have_text(say(language, "Access requests"))
    axe(admin)
    asked = admin.locator("section.access-request").filter(has_text="member@contoso.example")
    expect(asked).to_contain_text("I activate our benefits.")
    asked.get_by_label(say(language, "Note to the requester (optional)")).fill("Welcome")
    asked.get_by_role("button", name=say(language, "Approve"), exact=True).click()
    expect(admin.locator(".messages")).to_contain_text("member@contoso.example")
    # The member's request is decided and gone; the demo's other request still waits.
    expect(admin.locator("section.access-request")).to_have_count(1)
    expect(admin.locator("section.access-request")).not_to_contain_text("member@contoso.example")
    send_pending()
    assert [m.to for m in mail.outbox if "Welcome" in m.body] == [["member@contoso.example"]]

    # The role needs two-factor authentication: the member sets it up, then sees the page.
    member.goto(portal + TECHNICAL)
    if "/accounts/reauthenticate/" in member.url:  # allauth first asks for the password again
        member.locator("input[name=password]").fill(PASSWORD)
        member.locator("main form button[type=submit]").first.click()
    member.wait_for_url("**/accounts/2fa/totp/activate/**")
    secret = member.locator("#authenticator_secret").input_value()
    member.locator("input[name=code]").fill(totp_code(secret))
    member.locator("main form button[type=submit]").first.click()
    member.wait_for_load_state()
    member.goto(portal + TECHNICAL)
    expect(member.locator("h1")).to_have_text(say(language, "Technical benefits"))
    member.goto(portal + "/dashboard/account/myaccess")
    expect(member.locator("main")).to_contain_text(say(language, "Approved"))
    expect(member.locator("main")).to_contain_text(
        say(
            language,
            "Activate benefits: technical benefits, cloud subscriptions and Go-To-Market offers",
        )
    )
