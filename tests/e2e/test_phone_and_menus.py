"""The frame around every page, as a person uses it: the account menu, the navigation on a
phone, the sign-in card, the activation timeline, and the copy buttons in each language."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from support.models import ContractLink

from .conftest import say
from .test_accessibility import activated

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 800}


def test_escape_and_a_click_outside_close_the_account_menu(page, sign_in_as):
    sign_in_as(page, "admin@contoso.example")
    account = page.get_by_label("Account")  # the avatar: a <summary>, a disclosure button
    panel = page.get_by_role("link", name="Change password")
    assert page.locator("[role=menu], [role=menuitem]").count() == 0

    account.click()
    expect(panel).to_be_visible()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(account).to_be_focused()

    account.click()
    expect(panel).to_be_visible()
    page.locator("h1").click()
    expect(panel).to_be_hidden()


def test_support_for_business_is_in_the_navigation_and_has_the_account_menu(
    page, portal, sign_in_as
):
    sign_in_as(page, "admin@contoso.example")
    page.get_by_role("navigation", name="Partner Center").get_by_role(
        "link", name="Support for Business"
    ).click()
    expect(page.locator("h1")).to_have_text("Create a support request")
    page.get_by_label("Account").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("h1")).to_have_text("Sign in")
    page.goto(f"{portal}/supportforbusiness/create")
    expect(page.locator("h1")).to_have_text("Sign in")  # signed out, in Partner Center too


def test_severity_is_a_group_named_by_its_legend(page, portal, sign_in_as):
    contract = activated()
    ContractLink.objects.create(
        user=User.objects.get(email="admin@contoso.example"), contract=contract
    )
    sign_in_as(page, "admin@contoso.example")
    page.goto(f"{portal}/supportforbusiness/create")
    page.get_by_label("Product").select_option(label="Windows Server 2025")
    page.get_by_role("button", name="Next").click()
    severity = page.get_by_role("group", name="Severity")
    expect(severity.get_by_role("radio")).to_have_count(3)


def test_on_a_phone_the_page_comes_before_the_navigation(browser, portal, sign_in_as):
    context = browser.new_context(viewport=PHONE)
    page = sign_in_as(context.new_page(), "admin@contoso.example")
    heading = page.locator("h1")
    assert heading.bounding_box()["y"] < 200  # on the first screen, under the top bar
    audit = page.get_by_role("link", name="Audit log")
    expect(audit).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    audit.click()
    expect(heading).to_have_text("Audit log")
    context.close()


def test_on_a_desktop_the_navigation_is_open_without_a_menu_button(page, sign_in_as):
    sign_in_as(page, "admin@contoso.example")
    expect(page.get_by_role("link", name="Audit log")).to_be_visible()
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}])
def test_the_sign_in_card_is_a_card(browser, portal, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(f"{portal}/accounts/login/")
    card = page.locator("main").bounding_box()
    assert card["width"] <= min(440, viewport["width"])
    forgot = page.get_by_role("link", name="Forgot your password?")
    if forgot.count():  # a link in the password's help text, if the form shows one
        assert forgot.bounding_box()["height"] >= 44
    context.close()


def test_the_timeline_labels_stand_apart_on_a_phone(browser, sign_in_as):
    activated()
    context = browser.new_context(viewport=PHONE)
    page = sign_in_as(context.new_page(), "admin@contoso.example")
    page.locator("details.benefit > summary").first.click()
    # Where each label's text is drawn (a block's box would hide text running past it).
    stages = page.evaluate(
        """() => [...document.querySelectorAll('.timeline .stage, .timeline .when')].map(el => {
            const range = document.createRange();
            range.selectNodeContents(el);
            const box = range.getBoundingClientRect();
            return {left: box.left, right: box.right, top: box.top, bottom: box.bottom};
        })"""
    )
    assert len(stages) >= 6
    for i, one in enumerate(stages):
        for other in stages[i + 1 :]:
            apart = (
                one["bottom"] <= other["top"]
                or other["bottom"] <= one["top"]
                or one["right"] + 8 <= other["left"]
                or other["right"] + 8 <= one["left"]
            )
            assert apart, (one, other)
    context.close()


@pytest.mark.parametrize(
    ("language", "locale", "copied"),
    [("ja", "ja-JP", "コピーしました"), ("zh-hans", "zh-CN", "已复制")],
)
def test_copied_is_said_in_the_page_language(browser, sign_in_as, language, locale, copied):
    activated()
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = sign_in_as(context.new_page(), "admin@contoso.example")
    page.locator("details.benefit > summary").first.click()
    copy = page.get_by_role("button", name=say(language, "Copy Access ID"))
    copy.click()
    expect(copy).to_have_text(copied)
    expect(page.locator("#announcer")).to_have_text(copied)
    context.close()


@pytest.mark.parametrize(
    ("language", "locale", "press"),
    [("ja", "ja-JP", "Ctrl+C キーを押してください"), ("zh-hans", "zh-CN", "请按 Ctrl+C")],
)
def test_press_ctrl_c_is_said_in_the_page_language(browser, sign_in_as, language, locale, press):
    activated()
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = sign_in_as(context.new_page(), "admin@contoso.example")
    # A browser that refuses the clipboard: the text is selected for Ctrl-C instead.
    page.evaluate(
        "() => { navigator.clipboard.writeText = () => Promise.reject(new Error('denied')); }"
    )
    page.locator("details.benefit > summary").first.click()
    copy = page.get_by_role("button", name=say(language, "Copy Contract ID"))
    copy.click()
    expect(copy).to_have_text(press)
    expect(page.locator("#announcer")).to_have_text(press)
    context.close()
