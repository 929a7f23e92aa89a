"""Visual Studio subscriptions in a browser: a Global admin assigns one and the assignee is
emailed; reassigning is refused on day 89 and allowed on day 90 (the clock moved, not slept);
an MPN partner admin sees them and can't assign (issue 17)."""

import datetime

import pytest
from django.core import mail
from django.utils import formats
from playwright.sync_api import expect

from devtools.models import SubscriptionAssignment
from notices.services import send_pending

from .conftest import say

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser_context_args(bypass_csp=True),  # axe runs as an inline script
]

PAGE = "/dashboard/mpn/membership/benefits/visualstudio"


def seat(page, number):
    return page.locator("ol.subscriptions > li").filter(has_text=f"Subscription {number}").first


def test_a_global_admin_assigns_then_reassigns_after_90_days(
    clock, page, browser, portal, sign_in_as, axe, shot
):
    sign_in_as(page, "admin@contoso.example")
    page.get_by_role("link", name="Visual Studio subscriptions").click()
    expect(page.get_by_role("heading", name="Visual Studio Enterprise")).to_be_visible()
    expect(page.get_by_text("5 subscriptions, 1 assigned")).to_be_visible()
    expect(seat(page, 1)).to_contain_text("Assigned to Adele Vance")  # the demo's

    seat(page, 2).get_by_label("Assign to").select_option(
        label="Pradeep Gupta (member@contoso.example)"
    )
    seat(page, 2).get_by_role("button", name="Assign user").click()
    expect(page.get_by_role("status").first).to_contain_text("is assigned to Pradeep Gupta")
    expect(seat(page, 2)).to_contain_text("Assigned to Pradeep Gupta")
    axe(page)
    shot(page, "visual-studio-assigned")
    send_pending()  # what the beat's sweep does
    [email] = [e for e in mail.outbox if e.to == ["member@contoso.example"]]
    assert "Visual Studio Enterprise subscription is assigned to you" in email.subject

    # Day 89: not yet, and the page says from when.
    clock.advance(days=89)
    page.reload()
    assigned = SubscriptionAssignment.objects.get(number=2, ended_at__isnull=True)
    day_90 = formats.date_format(assigned.reassignable_on, "DATE_FORMAT")
    expect(seat(page, 2)).to_contain_text(f"Can be reassigned on {day_90}.")
    expect(seat(page, 2).get_by_role("button", name="Assign user")).to_have_count(0)
    assert assigned.reassignable_on == (clock.now() + datetime.timedelta(days=1)).date()

    # Day 90: reassigned to the Admin agent.
    clock.advance(days=1)
    page.reload()
    seat(page, 2).get_by_label("Reassign to").select_option(label="Lee Gu (agent@contoso.example)")
    seat(page, 2).get_by_role("button", name="Assign user").click()
    expect(seat(page, 2)).to_contain_text("Assigned to Lee Gu")
    holders = SubscriptionAssignment.objects.filter(number=2).order_by("assigned_at")
    assert [h.assignee.email for h in holders] == [
        "member@contoso.example",
        "agent@contoso.example",
    ]

    # An MPN partner admin sees them, and who can assign.
    other = browser.new_context()
    theirs = other.new_page()
    sign_in_as(theirs, "mpnadmin@contoso.example")
    theirs.goto(portal + PAGE)
    expect(theirs.get_by_text("Only a Global admin can assign subscriptions.")).to_be_visible()
    expect(theirs.get_by_role("button", name="Assign user")).to_have_count(0)
    other.close()


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_the_page_on_a_phone_in_japanese_and_chinese(browser, portal, sign_in_as, axe, language):
    locale = {"ja": "ja-JP", "zh-hans": "zh-CN"}[language]
    context = browser.new_context(
        viewport={"width": 390, "height": 800}, locale=locale, bypass_csp=True
    )
    page = context.new_page()
    sign_in_as(page, "admin@contoso.example")
    page.goto(portal + PAGE)
    heading = say(language, "Visual Studio subscriptions")
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1]
    axe(page)
    context.close()
