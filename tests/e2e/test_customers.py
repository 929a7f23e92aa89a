"""A CSP partner's customers in a browser: Tailspin's Admin agent finds a customer, opens its
Service management, sees Microsoft 365 degraded with the incident explaining what the customer
reports, and files a request on the customer's behalf (seed 002); Contoso's Admin agent files a
technical request through Signature Cloud Support; a company not in CSP is told why (issue 18).
"""

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case
from customers.models import Customer
from entitlements.models import Partner
from entitlements.rules import Benefit

from ..factories import contract_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser_context_args(bypass_csp=True),  # axe runs as an inline script
]


def test_an_admin_agent_finds_a_customer_and_its_service_health(
    page, portal, sign_in_as, axe, shot
):
    sign_in_as(page, "agent@tailspin.example")
    page.get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    page.get_by_label("Search by name or domain").fill("fourthcoffee")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Litware Inc")).to_have_count(0)
    page.get_by_role("link", name="Fourth Coffee").click()
    expect(page.get_by_role("heading", name="Fourth Coffee")).to_be_visible()
    manage = page.get_by_role("link", name="Manage Microsoft 365")
    expect(manage).to_have_attribute("href", "https://admin.microsoft.com/")
    health = page.locator("article.service-health").filter(has_text="Microsoft 365")
    expect(health.locator(".status")).to_have_text("Degraded")
    expect(health).to_contain_text("Some users can't open shared mailboxes in Outlook")
    azure = page.locator("article.service-health").filter(has_text="Microsoft Azure")
    expect(azure).to_contain_text("Resolved")
    axe(page)
    shot(page, "customer-service-health")

    # The customer reports more than the incident explains: a request on their behalf.
    page.get_by_role("link", name="New request").click()
    expect(page.get_by_text("Tailspin Toys has no route for technical issues")).to_be_visible()
    page.get_by_label("Service").select_option(label="Microsoft 365")
    page.get_by_label("Technical").check()
    page.get_by_label("B: moderate impact").check()
    page.get_by_label("Title").fill("Shared mailbox still fails after the incident")
    page.get_by_label("Description").fill("Since Monday, three users can't open it.")
    page.get_by_label("Customer contact name").fill("Ana Bowman")
    page.get_by_label("Customer contact email").fill("ana@fourthcoffee.example")
    page.get_by_role("button", name="Submit request").click()
    # No technical route: told so, and nothing typed is lost.
    expect(page.locator(".error").first).to_contain_text("no route for technical issues")
    expect(page.get_by_label("Title")).to_have_value(
        "Shared mailbox still fails after the incident"
    )
    axe(page)
    page.get_by_label("Subscription management").check()
    page.get_by_role("button", name="Submit request").click()
    expect(
        page.get_by_text(re.compile(r"Request SR\d+ filed with Commercial support"))
    ).to_be_visible()
    expect(
        page.get_by_role("heading", name=re.compile("Shared mailbox still fails"))
    ).to_be_visible()
    axe(page)
    page.get_by_role("link", name="Fourth Coffee").click()
    requests = page.locator("#customer-requests").locator("..").locator("..")
    expect(requests).to_contain_text("Shared mailbox still fails after the incident")
    expect(requests).to_contain_text("Commercial support")


def test_a_company_not_in_csp_is_told_why(page, portal, sign_in_as):
    sign_in_as(page, "admin@fabrikam.example")
    expect(page.get_by_role("link", name="Customers")).to_have_count(0)
    response = page.goto(portal + "/dashboard/customers")
    assert response.status == 403
    expect(page.get_by_text("Fabrikam Inc is not in the Cloud Solution Provider")).to_be_visible()


def test_contoso_resells_too_its_agent_is_pointed_to_activating_signature_its_user_admin_refused(
    browser, page, portal, sign_in_as
):
    sign_in_as(page, "agent@contoso.example")
    page.get_by_role("link", name="Customers").click()
    page.get_by_role("link", name="Wingtip Toys").click()
    expect(page.locator("#support-routes").locator("..").locator("..")).to_contain_text(
        "Signature Cloud Support is included with your competency but not activated yet"
    )
    other = browser.new_page()
    sign_in_as(other, "useradmin@contoso.example")
    response = other.goto(portal + "/dashboard/customers")
    assert response.status == 403
    expect(other.locator("main")).to_contain_text("Megan Bowen")  # whom to ask for a role


def test_contosos_agent_files_a_technical_request_through_signature_cloud_support(
    page, portal, sign_in_as, axe, shot
):
    contoso = Partner.objects.get(name="Contoso Ltd")
    admin = contoso.users.get(email="admin@contoso.example")
    silver = contoso.offers.get(level="silver")  # a 5-pack: it counts down
    signature = contract_for(silver, Benefit.SIGNATURE_CLOUD_SUPPORT, admin)
    sign_in_as(page, "agent@contoso.example")
    page.get_by_role("link", name="Customers").click()
    page.get_by_role("link", name="Wingtip Toys").click()
    expect(page.locator("#support-routes").locator("..").locator("..")).to_contain_text(
        "Signature Cloud Support, included with your competency: 5 incidents left"
    )
    page.get_by_role("link", name="New request").click()
    expect(page.get_by_text("Technical issues go through Signature Cloud Support")).to_be_visible()
    page.get_by_label("Service").select_option(label="Microsoft Azure")
    page.get_by_label("Technical").check()
    page.get_by_label("A: critical impact").check()
    page.get_by_label("Title").fill("Virtual machines won't start")
    page.get_by_label("Description").fill("Every VM in West Europe fails to start since 09:00.")
    page.get_by_label("Customer contact name").fill("Kai Lee")
    page.get_by_label("Customer contact email").fill("kai@wingtiptoys.example")
    axe(page)
    shot(page, "customer-new-request")
    page.get_by_role("button", name="Submit request").dblclick()  # one request all the same
    expect(
        page.get_by_role("heading", name=re.compile("Virtual machines won't start"))
    ).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text(
        f"Signature Cloud Support · Contract ID ending {signature.contract_id[-4:]}"
    )
    assert Case.objects.filter(title="Virtual machines won't start").count() == 1
    signature.refresh_from_db()
    assert signature.incidents_remaining == 4
    page.get_by_role("link", name="Wingtip Toys").click()
    expect(page.locator("#support-routes").locator("..").locator("..")).to_contain_text(
        "4 incidents left"
    )
    # Another partner's customer is no customer at all.
    tailspins = Customer.objects.get(domain="fourthcoffee.onmicrosoft.com")
    response = page.goto(f"{portal}/dashboard/customers/{tailspins.pk}/requests/new")
    assert response.status == 404
