"""A Global admin creates an API token in a browser, a script uses it, and the admin revokes
it (issue 19)."""

import pytest
import requests
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser_context_args(bypass_csp=True),  # axe runs as an inline script
]


def test_a_global_admin_creates_a_token_a_script_uses_it_then_it_is_revoked(
    page, portal, sign_in_as, axe, shot
):
    sign_in_as(page, "admin@contoso.example")
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", exact=True)).to_be_visible()
    page.get_by_label("Name").fill("Billing sync")
    page.get_by_label("Read membership offers, benefits and activations").check()
    page.get_by_role("button", name="Create token").click()
    raw = page.locator("#new-token").inner_text()
    assert raw.startswith("pbp_")
    expect(page.locator("table")).to_contain_text("benefits:read")
    axe(page)
    shot(page, "api-token-created")

    headers = {"Authorization": f"Bearer {raw}"}
    offers = requests.get(f"{portal}/api/v1/offers", headers=headers, timeout=30)
    assert offers.status_code == 200
    assert "Gold Cloud Platform" in [offer["title"] for offer in offers.json()]

    page.reload()  # shown once: gone from the page now
    expect(page.locator("#new-token")).to_have_count(0)
    page.get_by_role("button", name="Revoke Billing sync").click()
    expect(page.get_by_role("status")).to_contain_text("Token revoked")
    expect(page.locator("table")).to_contain_text("Revoked on")
    assert requests.get(f"{portal}/api/v1/offers", headers=headers, timeout=30).status_code == 401
