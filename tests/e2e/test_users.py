"""Account settings → Users in the browser: a Global admin invites someone who joins, sets up
two-factor and sees what their role allows; a User admin can't make anyone a Global admin,
in the page or by a forged form; the company's last Global admin stays one."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import User
from entitlements.models import Role
from entitlements.permissions import roles_of
from notices.services import send_pending

from ..factories import totp_code
from .conftest import say
from .test_contract_holders import no_sideways_scroll

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # axe-core is injected as an inline script, which the portal's CSP rightly blocks.
    pytest.mark.browser_context_args(bypass_csp=True),
]

LINK = re.compile(r"http\S+(/dashboard/account/invitation/\S+)")
NEW_PASSWORD = "Harbour lights 2026"


def open_users(page, language, width):
    if width < 760:  # on a phone the navigation waits behind its Menu button
        page.get_by_text(say(language, "Menu"), exact=True).click()
    page.get_by_role("link", name=say(language, "Users"), exact=True).click()
    expect(page.locator("h1")).to_have_text(say(language, "Users"))


@pytest.mark.parametrize(
    ("language", "locale", "width"), [("en", "en-US", 1280), ("ja", "ja-JP", 390)]
)
def test_a_global_admin_invites_someone_who_joins_and_sets_up_two_factor(
    browser, portal, sign_in_as, axe, shot, language, locale, width
):
    context = browser.new_context(
        locale=locale, viewport={"width": width, "height": 900}, bypass_csp=True
    )
    page = sign_in_as(context.new_page(), "admin@contoso.example")
    open_users(page, language, width)
    # Contoso has one Global admin: the list recommends a second.
    expect(page.locator(".notice")).to_be_visible()
    no_sideways_scroll(page)
    axe(page)

    page.get_by_role("link", name=say(language, "Add user")).click()
    page.get_by_label(say(language, "Email address")).fill("pradeep@contoso.example")
    page.get_by_label(say(language, "First name")).fill("Pradeep")
    page.get_by_label(say(language, "Last name")).fill("Gupta")
    page.get_by_label(say(language, "Admin agent")).check()
    page.get_by_label(say(language, "Language of the invitation")).select_option("ja")
    no_sideways_scroll(page)
    axe(page)
    page.get_by_role("button", name=say(language, "Send invitation")).click()
    expect(page.locator("h1")).to_have_text("Pradeep Gupta")
    expect(page.locator(".facts")).to_contain_text(say(language, "Admin agent"))
    shot(page, f"user-invited-{language}")

    send_pending()
    (invitation,) = [m for m in mail.outbox if m.to == ["pradeep@contoso.example"]]
    assert "招待" in invitation.subject  # in the invitee's language, not the admin's
    path = LINK.search(invitation.body).group(1)

    invitee = browser.new_context(
        locale=locale, viewport={"width": width, "height": 900}, bypass_csp=True
    ).new_page()
    invitee.goto(portal + path)
    axe(invitee)
    invitee.locator("input[name=password1]").fill(NEW_PASSWORD)
    invitee.locator("input[name=password2]").fill(NEW_PASSWORD)
    invitee.get_by_role("button", name=say(language, "Join")).click()

    # An Admin agent must use two-factor: set up before anything else.
    invitee.wait_for_url("**/accounts/2fa/totp/activate/**")
    secret = invitee.locator("#authenticator_secret").input_value()
    invitee.locator("input[name=code]").fill(totp_code(secret))
    invitee.locator("main form button[type=submit]").first.click()
    invitee.wait_for_load_state()
    # Signed in, the pages are in the language the invitation was written in, whatever the
    # browser says.
    invitee.goto(portal + reverse("entitlements:technical_benefits"))
    expect(invitee.locator("h1")).to_have_text(say("ja", "Technical benefits"))

    # The link was used once: opened again, it says so.
    invitee.goto(portal + path)
    expect(invitee.locator("main")).to_contain_text(
        say("ja", "This invitation was already used. Sign in with the password you chose.")
    )
    page.reload()
    expect(page.locator(".facts")).to_contain_text(say(language, "Active"))


def test_a_user_admin_cannot_make_anyone_a_global_admin(browser, sign_in_as, portal, axe):
    agent = User.objects.get(email="agent@contoso.example")
    admin = User.objects.get(email="admin@contoso.example")
    context = browser.new_context(bypass_csp=True)
    page = sign_in_as(context.new_page(), "useradmin@contoso.example")
    page.goto(portal + reverse("accounts:invite"))
    expect(page.get_by_label("MPN partner admin")).to_be_visible()
    expect(page.get_by_label("Global admin")).to_have_count(0)

    page.goto(portal + reverse("accounts:user", args=[agent.pk]))
    expect(page.get_by_label("User admin")).to_be_visible()
    expect(page.get_by_label("Global admin")).to_have_count(0)
    axe(page)
    # A Global admin's page: nothing to change.
    page.goto(portal + reverse("accounts:user", args=[admin.pk]))
    expect(page.locator("main form")).to_have_count(0)

    # A forged form, with the page's own CSRF token.
    token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    url = portal + reverse("accounts:change_roles", args=[agent.pk])
    headers = {"X-CSRFToken": token, "Referer": url}
    forged = page.request.post(url, form={"roles": "global_admin"}, headers=headers)
    assert forged.status == 400
    forged = page.request.post(
        portal + reverse("accounts:change_roles", args=[admin.pk]), form={}, headers=headers
    )
    assert forged.status == 403
    assert roles_of(User.objects.get(pk=agent.pk)) == {Role.ADMIN_AGENT}
    assert roles_of(User.objects.get(pk=admin.pk)) == {Role.GLOBAL_ADMIN}


def test_the_last_global_admin_stays_one(browser, sign_in_as, portal):
    admin = User.objects.get(email="admin@contoso.example")
    context = browser.new_context(bypass_csp=True)
    page = sign_in_as(context.new_page(), "admin@contoso.example")
    page.goto(portal + reverse("accounts:user", args=[admin.pk]))
    # Nobody deactivates or removes their own account here.
    expect(page.get_by_role("button", name="Remove from the company")).to_have_count(0)
    expect(page.get_by_role("button", name="Deactivate")).to_have_count(0)

    page.get_by_label("Global admin").uncheck()
    page.get_by_role("button", name="Save roles").click()
    expect(page.get_by_role("alert")).to_contain_text("only active Global admin")
    assert roles_of(User.objects.get(pk=admin.pk)) == {Role.GLOBAL_ADMIN}
