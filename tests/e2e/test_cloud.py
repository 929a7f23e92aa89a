"""The Cloud page in a browser: an Azure credit assigned and its email arriving with the
redemption link, a cloud subscription activated through the worker, the row following it to
Active without a reload, and a license-based one's keys revealed (issue 16, "## Cloud")."""

import re

import pytest
from playwright.sync_api import expect

from cloud.models import CloudSubscription, CreditAssignment
from software.models import LicenseKey

from ..workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

CLOUD = "/dashboard/mpn/membership/benefits/cloud"


def cloud_row(page, product):
    return page.locator("details.benefit").filter(
        has=page.locator(".benefit-name", has_text=product)
    )


def test_an_azure_credit_is_assigned_and_its_email_arrives_with_the_link(
    page, browser, portal, sign_in_as, shot, worker
):
    sign_in_as(page, "admin@contoso.example")
    page.goto(portal + CLOUD)
    row = cloud_row(page, "Microsoft Azure")
    # The demo assigned it to the Global admin herself ("assign yourself").
    expect(row.locator(".benefit-status")).to_contain_text("Assigned to Megan Bowen")
    row.locator("summary").click()
    expect(row).to_contain_text("Monthly credit lapses at the end of each month")
    row.get_by_label("Reassign to").select_option(label="Pradeep Gupta")
    shot(page, "cloud-assign")
    row.get_by_role("button", name="Assign user").click()
    expect(page.get_by_role("status").first).to_contain_text("is assigned to Pradeep Gupta")
    row = cloud_row(page, "Microsoft Azure")
    expect(row.locator(".benefit-status")).to_contain_text("Assigned to Pradeep Gupta")

    assignment = CreditAssignment.objects.get(ended_at=None)
    link = f"{CLOUD}/credit/{assignment.redemption_code}"
    wait_for(
        lambda: any(
            "To: member@contoso.example" in email and link in email for email in worker.emails()
        ),
        60,
        "the assignee's email with the redemption link",
    )
    # The Global admin is told she no longer holds it.
    wait_for(
        lambda: any(
            "To: admin@contoso.example" in email and "no longer assigned to you" in email
            for email in worker.emails()
        ),
        60,
        "the old assignee's email",
    )

    member = browser.new_page()
    sign_in_as(member, "member@contoso.example")
    member.goto(portal + link)
    expect(member.locator("#redemption-code")).to_have_text(assignment.redemption_code)
    shot(member, "cloud-redemption")
    # The old link of the Global admin's assignment no longer works.
    old = CreditAssignment.objects.exclude(pk=assignment.pk).get()
    response = page.goto(f"{portal}{CLOUD}/credit/{old.redemption_code}")
    assert response.status == 404


def test_a_cloud_subscription_activates_through_the_worker(page, portal, sign_in_as, shot, worker):
    sign_in_as(page, "mpnadmin@contoso.example")
    page.goto(portal + CLOUD)
    row = cloud_row(page, "Microsoft 365 E3")
    expect(row).to_contain_text("25 licenses")
    row.locator("summary").click()
    row.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("status").first).to_contain_text("Allow a few days")
    row = cloud_row(page, "Microsoft 365 E3")
    expect(row.locator(".benefit-status")).to_contain_text("Activation pending")

    page.evaluate("window.stillTheSamePage = true")  # gone if the page reloads
    status = row.locator(".benefit-status")
    for stage in ("In review", "Provisioning", "Active"):
        expect(status).to_contain_text(stage, timeout=60_000)
    assert page.evaluate("window.stillTheSamePage") is True
    # "Allow a few days" was true while it waited; it goes with the wait.
    expect(page.locator(".message", has_text="Allow a few days")).to_have_count(0)
    subscription = CloudSubscription.objects.get()
    expect(row.get_by_text(str(subscription.subscription_id))).to_be_visible()
    expect(row.locator("ol.timeline li.done")).to_have_count(4)
    shot(page, "cloud-subscription-active")
    wait_for(
        lambda: any(
            "To: admin@contoso.example" in email and re.search("Microsoft 365 E3 is active", email)
            for email in worker.emails()
        ),
        60,
        "the Global admin's email that the subscription is active",
    )


def test_a_license_based_subscription_reveals_its_keys_and_the_same_ones_after_a_reload(
    page, portal, sign_in_as, shot
):
    sign_in_as(page, "admin@contoso.example")
    page.goto(portal + CLOUD)
    row = cloud_row(page, "Dynamics 365 Sales")
    expect(row).to_contain_text("10 licenses")
    row.locator("summary").click()
    row.get_by_role("button", name="Get keys").click()
    row = cloud_row(page, "Dynamics 365 Sales")
    keys = row.locator("ul.license-keys code")
    expect(keys).to_have_count(1)  # one key per offer, for its 10 licenses
    expect(row).to_contain_text("First viewed")
    [key] = keys.all_inner_texts()
    shot(page, "cloud-keys")

    page.reload()
    row = cloud_row(page, "Dynamics 365 Sales")
    row.locator("summary").click()
    expect(row.locator("ul.license-keys code")).to_have_text([key])
    drawn = LicenseKey.objects.filter(product__name="Dynamics 365 Sales", offer__isnull=False)
    assert [k.key for k in drawn] == [key]
    assert drawn[0].first_viewed_by.email == "admin@contoso.example"
