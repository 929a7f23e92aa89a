"""A CSP partner's customers in a browser: Tailspin's Admin agent finds a customer, opens its
Service management and sees Microsoft 365 degraded with the incident explaining what the
customer reports (seed 002); a company not in CSP is told why (issue 18)."""

import pytest
from playwright.sync_api import expect

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
