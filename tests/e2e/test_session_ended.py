"""A pending row keeps polling; once the session ends, the next poll takes the whole tab to
the sign-in page (never the sign-in page inside the row), and signing in comes back."""

import re
import time

import pytest
from playwright.sync_api import expect

from .conftest import give_the_authenticator_code

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_polling_row_after_sign_out_goes_to_sign_in_and_back(
    page, context, portal, sign_in_as, settings
):
    settings.SIMULATED_DAY_SECONDS = 6  # the pending row looks again within seconds
    sign_in_as(page, "admin@contoso.example")
    code_period = int(time.time() // 30)
    row = page.locator("details.benefit").first
    row.locator("summary").click()
    row.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("status").first).to_contain_text("Allow a few days")

    was_on = page.url
    context.clear_cookies()  # signed out elsewhere, or the session expired

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="), timeout=30_000)
    assert page.locator("details.benefit").count() == 0  # a page, not a row
    page.locator("input[name=login]").fill("admin@contoso.example")
    page.locator("input[name=password]").fill("Partner!2026")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    while int(time.time() // 30) == code_period:  # a code is accepted once: wait for the next
        time.sleep(0.5)
    give_the_authenticator_code(page)
    expect(page).to_have_url(was_on)
