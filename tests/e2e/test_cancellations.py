"""Cancelling an offer for a refund in a browser: a Global admin asks on the offer's page,
support staff approve in the admin, and the offer ends; an offer whose license key was viewed
says so, naming who and when, and offers no form."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from cancellations.models import CancellationRequest
from entitlements.models import Competency, MembershipOffer, Partner
from entitlements.rules import Level, OfferKind
from software.models import LicenseKey, Product

from .conftest import say
from .test_contract_holders import no_sideways_scroll

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser_context_args(bypass_csp=True),  # axe is injected into the page
]

OFFERS = "/dashboard/mpn/membership/offers"


def bought_days_ago(days, competency="Security"):
    """An offer of Contoso's bought `days` days ago, nothing of it used."""
    today = timezone.localdate()
    return MembershipOffer.objects.create(
        partner=Partner.objects.get(name="Contoso Ltd"),
        kind=OfferKind.COMPETENCY,
        competency=Competency.objects.get(name=competency),
        level=Level.SILVER,
        starts_on=today - datetime.timedelta(days=days),
        ends_on=today - datetime.timedelta(days=days) + datetime.timedelta(days=365),
    )


def test_an_admin_asks_to_cancel_and_support_approves(page, browser, portal, sign_in_as, axe):
    offer = bought_days_ago(3)
    sign_in_as(page, "admin@contoso.example")
    page.get_by_role("link", name="Membership offers").click()
    axe(page)
    page.get_by_role("link", name="Silver Security").click()
    expect(page.locator("main")).to_contain_text("can be cancelled for a refund until")
    page.get_by_role("button", name="Request cancellation").click()  # no reason yet
    expect(page.get_by_role("alert")).to_contain_text("Say why you want to cancel the offer.")
    page.get_by_label("Why do you want to cancel?").fill("Bought for the wrong team")
    page.get_by_role("button", name="Request cancellation").click()
    asked = CancellationRequest.objects.get()
    expect(page.locator(".messages")).to_contain_text(asked.number)
    expect(page.locator("p[role=status]")).to_contain_text("Waiting for a decision")
    axe(page)

    staff = browser.new_context().new_page()
    sign_in_as(staff, "support@benefits.example")
    staff.goto(f"{portal}/admin/cancellations/cancellationrequest/")
    staff.get_by_role("link", name=asked.number).click()
    expect(staff.locator("#content")).to_contain_text("Bought for the wrong team")
    expect(staff.locator("#content")).to_contain_text("Yes: nothing stands in the way.")
    staff.get_by_label("Approve").check()
    staff.get_by_label("Note to the partner").fill("Refund on its way")
    staff.locator("input[name=_save]").click()
    expect(staff.locator(".messagelist")).to_be_visible()

    page.reload()
    expect(page.locator("main")).to_contain_text("Cancelled")
    expect(page.locator("#requests")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Refund on its way")
    offer.refresh_from_db()
    assert offer.cancelled_on == timezone.localdate()
    page.goto(f"{portal}/dashboard/mpn/membership/benefits/technical")
    expect(page.locator("main")).not_to_contain_text("Silver Security")


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_an_offer_whose_key_was_viewed_says_who_viewed_it_on_a_phone(
    browser, portal, sign_in_as, axe, language
):
    offer = bought_days_ago(2)
    megan = User.objects.get(email="admin@contoso.example")
    product, _ = Product.objects.get_or_create(name="Windows Server 2022", version="")
    now = timezone.now()
    LicenseKey.objects.create(
        product=product,
        key="VIEWED-KEY-1",
        loaded_at=now,
        offer=offer,
        drawn_at=now,
        first_viewed_by=megan,
        first_viewed_at=now,
    )
    context = browser.new_context(
        viewport={"width": 390, "height": 800}, locale=language, bypass_csp=True
    )
    context.add_cookies([{"name": "django_language", "value": language, "url": portal}])
    page = sign_in_as(context.new_page(), "mpnadmin@contoso.example")
    page.goto(f"{portal}{OFFERS}/{offer.pk}")
    main = page.locator("main")
    expect(main).to_contain_text(say(language, "This offer can't be cancelled for a refund:"))
    expect(main).to_contain_text("Megan Bowen")
    expect(main).to_contain_text("Windows Server 2022")
    expect(page.get_by_role("button", name=say(language, "Request cancellation"))).to_have_count(0)
    no_sideways_scroll(page)
    axe(page)
