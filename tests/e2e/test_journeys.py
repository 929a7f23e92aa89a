"""Every journey of the demo accounts, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from activation.models import ActivationRequest
from support.models import SupportContract

from .conftest import give_the_authenticator_code

# These tests flush the database; conftest.reference_data puts back what migrations made.
pytestmark = pytest.mark.django_db(transaction=True)

PAGE = "/dashboard/mpn/membership/benefits/technical"


@pytest.mark.parametrize(
    ("email", "sees"),
    [
        ("admin@contoso.example", "Signature 5-pack"),
        ("mpnadmin@contoso.example", "Gold Cloud Platform"),
        ("agent@contoso.example", "Only a Global admin or MPN partner admin can activate"),
        ("useradmin@contoso.example", "Add user"),  # on Users: the page their role is for
        ("member@contoso.example", "Your account has no role in Contoso Ltd"),
        ("admin@fabrikam.example", "Microsoft Action Pack"),
        ("admin@northwind.example", "Your membership ended on"),
        ("agent@tailspin.example", "You are not authorized for this action"),
    ],
)
def test_each_demo_account_signs_in_and_sees_its_page(page, sign_in_as, shot, email, sees):
    sign_in_as(page, email)
    lands = "/dashboard/account/users" if email.startswith("useradmin@") else PAGE
    expect(page).to_have_url(re.compile(lands + "$"))
    expect(page.get_by_text(sees).first).to_be_visible()
    shot(page, f"technical-benefits-{email.replace('@', '-at-')}")


def test_a_signed_out_visitor_is_sent_to_sign_in(page, portal, shot):
    page.goto(portal + PAGE)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shot(page, "sign-in")


def test_sign_in_with_another_account(page, sign_in_as, shot):
    sign_in_as(page, "agent@contoso.example")
    page.get_by_label("Account").click()
    shot(page, "account-menu")
    page.get_by_role("button", name="Sign in with another account").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    sign_in_as(page, "admin@contoso.example")
    expect(page.get_by_text("admin@contoso.example").first).to_be_attached()
    page.get_by_label("Account").click()
    expect(page.get_by_role("button", name="Sign in with another account")).to_be_visible()


def test_activate_then_watch_the_row_reach_its_ids_without_reloading(
    page, context, browser, sign_in_as, shot, worker, portal
):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in_as(page, "admin@contoso.example")
    row = page.locator("details.benefit").first
    row.locator("summary").click()
    shot(page, "activate-before")
    row.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("status").first).to_contain_text("Allow a few days")
    row = page.locator("details.benefit").first
    expect(row.locator(".benefit-status")).to_contain_text("Activation pending")
    shot(page, "activate-pending")

    page.evaluate("window.stillTheSamePage = true")  # gone if the page reloads
    status = row.locator(".benefit-status")
    for stage in ("In review", "Provisioning", "Active"):
        expect(status).to_contain_text(stage, timeout=60_000)
        shot(page, f"activate-{stage.lower().replace(' ', '-')}")
    assert page.evaluate("window.stillTheSamePage") is True

    contract = SupportContract.objects.get()
    expect(row.get_by_text(contract.access_id)).to_be_visible()
    expect(row.get_by_text(contract.contract_id)).to_be_visible()
    row.get_by_role("button", name="Copy Access ID").click()
    assert page.evaluate("navigator.clipboard.readText()") == contract.access_id
    row.get_by_role("button", name="Copy Contract ID").click()
    assert page.evaluate("navigator.clipboard.readText()") == contract.contract_id
    shot(page, "activate-ids")

    agent = browser.new_page()
    sign_in_as(agent, "agent@contoso.example")
    agent_row = agent.locator("details.benefit").first
    agent_row.locator("summary").click()
    expect(agent_row.get_by_text(contract.access_id)).to_be_visible()
    other = agent.locator("details.benefit").nth(1)
    other.locator("summary").click()
    expect(other.get_by_role("button", name="Activate")).to_be_disabled()
    shot(agent, "admin-agent-sees-the-ids")
    assert ActivationRequest.objects.get(product=None).state == "active"


def test_support_portal_add_the_contract_open_an_incident_add_it_again(
    page, sign_in_as, shot, portal
):
    from activation import services

    admin = User.objects.get(email="admin@contoso.example")
    offer = admin.partner.offers.get(level="gold")
    request, _ = services.request_activation(offer, "product_support", admin)
    services.complete_now(request.pk, None)
    contract = SupportContract.objects.get()

    sign_in_as(page, "admin@fabrikam.example")  # another company's account
    page.goto(f"{portal}/supportforbusiness/create")
    page.get_by_label("Product").select_option(label="Windows Server 2025")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("None of the plans on your account covers")).to_be_visible()
    page.get_by_text("Do you need to purchase or add more support plans?").click()
    page.get_by_label("Access ID").fill(contract.access_id)
    page.get_by_label("Contract ID").fill(contract.contract_id)
    shot(page, "support-add-contract")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Contract added")

    plans = page.locator("table.plans").first
    expect(plans).to_contain_text("Microsoft Product Support")
    expect(plans).to_contain_text("20")
    shot(page, "support-types-of-support")

    page.get_by_label("Title").fill("Cluster node won't rejoin")
    page.get_by_label("Description").fill("Event 1135 after the November update.")
    page.get_by_role("radio", name=re.compile("^B: moderate impact")).check()
    page.get_by_role("button", name="Open incident").click()
    expect(page.get_by_role("status")).to_contain_text("19 incidents remaining on this plan")
    expect(page.get_by_text("Cluster node won't rejoin")).to_be_visible()
    expect(page.get_by_text("19 of 20")).to_be_visible()
    shot(page, "support-incident-opened")

    page.goto(f"{portal}/supportforbusiness/create")
    page.get_by_text("Do you need to purchase or add more support plans?").click()
    page.get_by_label("Access ID").fill(contract.access_id)
    page.get_by_label("Contract ID").fill(contract.contract_id)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(
        "This contract is already on your account: you added it on"
    )
    expect(page.get_by_role("status")).to_contain_text("It is usable")
    shot(page, "support-add-again-diagnostic")


def test_a_japanese_browser_gets_japanese_and_the_menu_switches_to_chinese(
    browser, portal, sign_in_as, shot
):
    from django.utils import translation
    from django.utils.translation import gettext

    def say(language, text):
        with translation.override(language):
            return gettext(text)

    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{portal}/accounts/login/")
    page.locator("#id_login").fill("admin@contoso.example")
    page.locator("#id_password").fill("Partner!2026")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()
    give_the_authenticator_code(page)
    expect(page.locator("h1")).to_have_text(say("ja", "Technical benefits"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    shot(page, "technical-benefits-ja")

    page.get_by_label(say("ja", "Account")).click()
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("h1")).to_have_text(say("zh-hans", "Technical benefits"))
    shot(page, "technical-benefits-zh-hans")
    page.goto(f"{portal}/supportforbusiness/create")  # remembered on the next page
    expect(page.locator("h1")).to_have_text(say("zh-hans", "Create a support request"))
    context.close()
