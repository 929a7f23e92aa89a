"""A person's language follows their account: from any browser, the pages start in it after
sign-in, and the language they choose in the account menu is the one the next sign-in starts
in."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User

from .conftest import say

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = "/dashboard/mpn/membership/benefits/technical"
EMAIL = "member@contoso.example"  # no role, so no two-factor: two sign-ins in a minute


def test_the_pages_follow_the_accounts_language_from_an_english_browser(
    browser, portal, sign_in_as, axe
):
    User.objects.filter(email=EMAIL).update(language="ja")
    context = browser.new_context(locale="en-US", bypass_csp=True)
    page = context.new_page()
    page.goto(f"{portal}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # signed out: the browser's

    sign_in_as(page, EMAIL)
    expect(page).to_have_url(re.compile(PAGE + "$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("h1")).to_have_text(say("ja", "You don't have access to this page"))
    axe(page)

    page.get_by_label(say("ja", "Account")).click()
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text(say("zh-hans", "You don't have access to this page"))
    page.get_by_label(say("zh-hans", "Account")).click()
    page.get_by_role("button", name=say("zh-hans", "Sign out"), exact=True).click()
    context.close()

    # Another English browser: the next sign-in starts in Chinese.
    context = browser.new_context(locale="en-US", bypass_csp=True)
    page = sign_in_as(context.new_page(), EMAIL)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text(say("zh-hans", "You don't have access to this page"))
    context.close()
    assert User.objects.get(email=EMAIL).language == "zh-hans"
