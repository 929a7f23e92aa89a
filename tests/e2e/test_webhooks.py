"""A Global admin adds a webhook endpoint in a browser, copies its secret, and follows its
delivery log as a real worker delivers, retries and redelivers (issue 19)."""

import pytest
from playwright.sync_api import expect

from ..webhook_receiver import Receiver
from ..workers import Worker
from .test_accessibility import activated

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser_context_args(bypass_csp=True),  # axe runs as an inline script
]


@pytest.fixture
def receiver(tmp_path):
    running = Receiver(secret=None, record=tmp_path / "got.jsonl")
    yield running
    running.stop()


@pytest.fixture
def webhook_worker(tmp_path, settings):
    settings.WEBHOOK_ALLOWED_ADDRESSES = ["127.0.0.1"]
    running = Worker(
        tmp_path, WEBHOOK_ALLOWED_ADDRESSES="127.0.0.1", WEBHOOK_RETRY_DELAYS="2,2,2,2"
    )
    running.purge()
    running.start()
    yield running
    running.stop()


def test_a_global_admin_adds_an_endpoint_and_follows_its_deliveries(
    page, portal, sign_in_as, axe, shot, receiver, webhook_worker
):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_as(page, "admin@contoso.example")
    page.goto(f"{portal}/dashboard/account/webhooks")
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_label("Contract about to end").uncheck()
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator("#new-secret").inner_text()
    assert secret.startswith("whsec_")
    receiver.server.secret = secret  # what the admin copied into their own system
    axe(page)
    shot(page, "webhook-endpoint-added")

    page.get_by_role("link", name="Open its delivery log").click()
    expect(page.get_by_text("Nothing sent yet")).to_be_visible()
    receiver.answers.append(500)  # the first try fails
    activated()  # four stages: each is an event

    # The log fills in by itself as the worker delivers; the failed try is tried again.
    expect(page.locator(".delivery .status-active")).to_have_count(4, timeout=60_000)
    expect(page.locator(".deliveries")).to_contain_text("500")
    assert [g["data"]["state"] for g in receiver.got() if g["status"] == 204] == [
        "submitted",
        "in_review",
        "provisioning",
        "active",
    ]
    assert all(g["verified"] for g in receiver.got())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe(page)
    shot(page, "webhook-delivery-log")

    first = page.locator(".delivery").first
    webhook_id = first.locator(".webhook-id").inner_text()
    first.get_by_role("button", name="Redeliver").click()
    expect(page.get_by_role("status")).to_contain_text("Delivery sent again")
    expect(page.locator(".delivery").first.locator(".status-active")).to_be_visible(timeout=30_000)
    assert [g["id"] for g in receiver.got()].count(webhook_id) == 2

    page.get_by_role("button", name="Disable").click()
    expect(page.locator("dl.facts")).to_contain_text("Disabled on")
    page.get_by_role("button", name="Remove endpoint").click()
    expect(page.get_by_text("No webhook endpoint yet.")).to_be_visible()
