"""The Technical benefits page states each demo company's terms, as its admins read them."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import expect

from accounts.models import User
from activation import services
from activation.models import ActivationRequest
from entitlements.models import Competency

from .conftest import give_the_authenticator_code

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # axe-core is injected as an inline script, which the portal's CSP rightly blocks.
    pytest.mark.browser_context_args(bypass_csp=True),
]

PAGE = "/dashboard/mpn/membership/benefits/technical"


def test_action_pack_says_why_cloud_support_is_missing(page, sign_in_as, axe, shot):
    sign_in_as(page, "admin@fabrikam.example")
    main = page.locator("main")
    expect(main).to_contain_text("Microsoft Action Pack includes no cloud support.")
    expect(main).to_contain_text("membership offers Fabrikam Inc holds: Microsoft Action Pack.")
    expect(main).not_to_contain_text("Gold, Silver and Microsoft Action Pack")
    facts = page.locator("dl.company-facts")
    expect(facts).to_contain_text("4423456")
    expect(facts).to_contain_text("Not in the CSP program")
    axe(page)
    shot(page, "terms-action-pack")


def test_a_csp_only_account_learns_how_to_become_mpn_associated(page, sign_in_as, axe):
    sign_in_as(page, "agent@tailspin.example")
    main = page.locator("main")
    expect(main).to_contain_text("You must have an MPN associated account.")
    expect(
        page.get_by_role("heading", name="How an account becomes MPN associated")
    ).to_be_visible()
    expect(main).to_contain_text("In the CSP program")
    axe(page)


def test_a_company_whose_membership_ended_is_told_so_and_until_when_to_renew(
    page, sign_in_as, axe, shot
):
    sign_in_as(page, "admin@northwind.example")
    northwind = User.objects.get(email="admin@northwind.example").partner
    offer = northwind.offers.get()
    main = page.locator("main")
    expect(main).to_contain_text(f"Your membership ended on {date_format(offer.ends_on)}.")
    last_day = offer.ends_on + datetime.timedelta(days=30)
    expect(main).to_contain_text(f"Renew by {date_format(last_day)}")
    expect(main).not_to_contain_text("signed in using the wrong account")
    axe(page)
    shot(page, "terms-membership-ended")


def test_a_silver_offer_keeps_its_five_pack_after_its_competency_turns_cloud(page, sign_in_as):
    data_analytics = Competency.objects.get(name="Data Analytics")
    data_analytics.is_cloud = True  # support staff's change, after the offer started
    data_analytics.save()
    sign_in_as(page, "admin@contoso.example")
    silver = page.locator("section.offer", has_text="Silver Data Analytics")
    cloud = silver.locator("details.benefit", has_text="Signature Cloud Support")
    expect(cloud).to_contain_text("5 incidents")
    expect(cloud).to_contain_text("Signature 5-pack")
    expect(cloud).not_to_contain_text("Unlimited")


def test_megan_reads_you_and_the_banner_goes_when_the_row_is_active(
    page, browser, sign_in_as, portal, settings, shot
):
    settings.SIMULATED_DAY_SECONDS = 6  # the row polls every few seconds
    sign_in_as(page, "admin@contoso.example")  # Megan Bowen
    row = page.locator("details.benefit").first
    row.locator("summary").click()
    row.get_by_role("button", name="Activate").click()
    banner = page.get_by_role("status").first
    expect(banner).to_contain_text("Allow a few days")
    row = page.locator("details.benefit").first
    expect(row).to_contain_text("by you.")
    expect(row).not_to_contain_text("Megan Bowen")

    colleague = browser.new_page()
    sign_in_as(colleague, "mpnadmin@contoso.example")
    other_row = colleague.locator("details.benefit").first
    other_row.locator("summary").click()
    expect(other_row).to_contain_text("by Megan Bowen.")

    request = ActivationRequest.objects.get(product=None)  # the technical benefit's
    services.complete_now(request.pk, None)
    expect(row.locator(".benefit-status")).to_contain_text("Active", timeout=30_000)
    expect(page.get_by_text("Allow a few days")).to_have_count(0)
    shot(page, "terms-banner-gone")


def test_a_failure_reason_keeps_the_date_the_offer_had_ended_on(page, sign_in_as, portal):
    megan = User.objects.get(email="admin@contoso.example")
    gold = megan.partner.offers.get(level="gold")
    request, _ = services.request_activation(gold, "product_support", megan)
    ended = timezone.localdate() - datetime.timedelta(days=1)
    gold.ends_on = ended
    gold.save()
    services.complete_now(request.pk, None)  # fails: the offer has ended
    gold.ends_on = ended + datetime.timedelta(days=365)  # renewed since
    gold.save()

    sign_in_as(page, "admin@contoso.example")
    page.goto(portal + reverse("entitlements:benefit_detail", args=[gold.pk, "product_support"]))
    failure = page.locator("p.failure")
    expect(failure).to_contain_text(f"ended on {date_format(ended)}")
    expect(failure).not_to_contain_text(date_format(gold.ends_on))


@pytest.mark.parametrize(
    "email", ["admin@contoso.example", "admin@fabrikam.example", "admin@northwind.example"]
)
def test_the_terms_fit_a_phone(browser, portal, email):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{portal}/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill("Partner!2026")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    give_the_authenticator_code(page)
    expect(page.locator("dl.company-facts")).to_be_visible()
    facts = page.locator("dl.company-facts").bounding_box()
    assert facts["x"] + facts["width"] <= 390
    context.close()
