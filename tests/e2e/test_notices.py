"""Notices in the browser: a contract ending in 7 days makes one email and one notice, however
many sweeps run; the bell counts it, the notices page lists it, opening it marks it read."""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from notices.models import Notice
from notices.reminders import send_reminders
from notices.services import send_pending
from support.models import SupportContract

from .test_accessibility import activated
from .test_contract_holders import no_sideways_scroll

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # axe-core is injected as an inline script, which the portal's CSP rightly blocks.
    pytest.mark.browser_context_args(bypass_csp=True),
]


def sweeps(times):
    """The hourly reminders and the outbox's sweep, as beat runs them."""
    for _ in range(times):
        send_reminders()
        send_pending()


def test_a_contract_ending_in_7_days_makes_one_email_and_one_notice(
    browser, portal, sign_in_as, axe
):
    admin = User.objects.get(email="admin@contoso.example")
    contract = activated()  # its IDs are ready: a notice too
    today = timezone.localdate()
    SupportContract.objects.filter(pk=contract.pk).update(
        starts_on=today - datetime.timedelta(days=358), ends_on=today + datetime.timedelta(days=7)
    )
    sweeps(3)
    ending = f"Microsoft Product Support contract {contract.contract_id} ends on"
    assert [m.to for m in mail.outbox if ending in m.subject and m.to == [admin.email]] == [
        [admin.email]
    ]
    assert Notice.objects.filter(recipient=admin, kind="contract_expiring_7").count() == 1
    # The activation's notices read: the bell counts the reminder alone.
    Notice.objects.filter(recipient=admin).exclude(kind="contract_expiring_7").update(
        read_at=timezone.now()
    )

    context = browser.new_context(viewport={"width": 390, "height": 800}, bypass_csp=True)
    page = sign_in_as(context.new_page(), admin.email)
    bell = page.locator("a.bell")
    expect(bell.locator(".bell-count")).to_have_text("1 unread")
    bell.click()
    expect(page.locator("h1")).to_have_text("Notices")
    rows = page.locator(".notice-row")
    expect(rows.filter(has_text=ending)).to_have_count(1)
    expect(rows.filter(has_text=ending).locator(".badge")).to_have_text("Unread")
    no_sideways_scroll(page)
    axe(page)

    # Opening it marks it read on the way to the contracts it is about.
    page.locator("button[name=open]", has_text=ending).click()
    expect(page).to_have_url(re.compile("/supportforbusiness"))
    expect(page.locator("a.bell .bell-count")).to_have_count(0)

    sweeps(3)  # more sweeps, however many: nothing new
    assert len([m for m in mail.outbox if ending in m.subject and m.to == [admin.email]]) == 1
    page.goto(f"{portal}/dashboard/notices")
    expect(page.locator(".notice-row").filter(has_text=ending)).to_have_count(1)
    expect(page.locator(".badge")).to_have_count(0)
    expect(page.get_by_role("link", name=ending)).to_be_visible()
    context.close()
