"""Sign-in with Microsoft Entra ID, through the browser, against a real OpenID Connect provider
(panva's oidc-provider, tests/e2e/oidc_provider.mjs) whose tokens carry Entra's claims: a
Global admin connects the company's tenant and maps a group; a person of that tenant signs in
and lands where the group's role lets them; another tenant is refused; an existing account's
address is not taken over."""

import datetime
import json
import os
import shutil
import socket
import subprocess
import uuid
from pathlib import Path

import pytest
from allauth.socialaccount.models import SocialAccount
from django.utils import timezone
from playwright.sync_api import expect

from accounts import entra
from accounts.models import EntraTenant, Invitation, User
from benefits_portal.settings import entra_apps
from entitlements.models import Partner, Role
from entitlements.services import set_roles

from .conftest import ROOT, say

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser_context_args(bypass_csp=True),
]

PROVIDER_SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CONTOSO_TENANT = uuid.UUID("72f988bf-86f1-41af-91ab-2d7cd011db47")
OTHER_TENANT = uuid.UUID("f8cdef31-a31e-4b4a-93e4-5f571e91255a")
PARTNER_ADMINS = uuid.UUID("0b0c6f4e-6d0a-4c52-9a43-2a1d3c5e7f90")
CLIENT_ID = "partner-benefits-tests"
CLIENT_SECRET = "test-only-client-secret"  # noqa: S105


def _module_available():
    if (ROOT / "node_modules" / "oidc-provider").exists():
        return True
    return any(
        (Path(entry) / "oidc-provider").exists()
        for entry in os.environ.get("NODE_PATH", "").split(os.pathsep)
        if entry
    )


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def oidc_provider(portal, settings):
    """Start the provider with the given accounts (login name -> claims) on a free port, and
    point the portal's Entra app at it. Stopped after the test."""
    if shutil.which("node") is None or not _module_available():
        why = "The Entra tests need node and oidc-provider: npm install --no-package-lock"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    started = []

    def start(accounts):
        port = _free_port()
        env = {
            **os.environ,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_REDIRECT_URI": f"{portal}/accounts/oidc/entra/login/callback/",
            "OIDC_ACCOUNTS": json.dumps(accounts),
        }
        process = subprocess.Popen(  # noqa: S603 - our own script
            ["node", str(PROVIDER_SCRIPT), str(port)],  # noqa: S607
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        started.append(process)
        line = process.stdout.readline()
        assert line.strip() == "listening", f"the provider did not start: {line!r}"
        url = f"http://127.0.0.1:{port}"
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {
                "APPS": entra_apps(url, CLIENT_ID, CLIENT_SECRET),
                "OAUTH_PKCE_ENABLED": True,
            }
        }
        return url

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def sign_in_with_entra(page, portal, login):
    """From the sign-in page, through the provider's sign-in and consent pages, back."""
    page.goto(f"{portal}/accounts/login/")
    page.get_by_role("button", name="Sign in with Microsoft Entra ID").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    if "/interaction/" in page.url:  # the consent page, the first time
        page.locator("button[type=submit]").click()
    page.wait_for_url(f"{portal}/**")
    page.wait_for_load_state()
    return page


def claims(email, tenant, groups=(), amr=("pwd", "mfa")):
    return {
        "email": email,
        "tid": str(tenant),
        "groups": [str(group) for group in groups],
        "amr": list(amr),
        "given_name": "Alex",
        "family_name": "Wilber",
    }


def test_an_admin_connects_the_tenant_and_its_people_sign_in_with_their_groups_role(
    browser, portal, sign_in_as, oidc_provider, axe
):
    oidc_provider(
        {"alex": claims("AlexW@contoso.example", CONTOSO_TENANT, [PARTNER_ADMINS, uuid.uuid4()])}
    )
    admin_context = browser.new_context(bypass_csp=True)
    page = sign_in_as(admin_context.new_page(), "admin@contoso.example")
    page.get_by_role("link", name="Sign-in with Microsoft Entra ID").click()
    page.get_by_label("Tenant ID").fill(str(CONTOSO_TENANT).upper())
    page.get_by_role("button", name="Connect tenant").click()
    expect(page.get_by_text("Connected. People of this tenant can now sign in")).to_be_visible()
    page.get_by_label("Group object ID").fill(str(PARTNER_ADMINS))
    page.get_by_label("Role", exact=True).select_option(Role.MPN_PARTNER_ADMIN.value)
    page.get_by_role("button", name="Map the group").click()
    expect(page.locator("table")).to_contain_text(str(PARTNER_ADMINS))
    axe(page)
    admin_context.close()

    context = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.goto(f"{portal}/accounts/login/")
    axe(page)  # the sign-in page with its Entra button, at a phone's width
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page = sign_in_with_entra(page, portal, "alex")
    # The group's role opens Technical benefits; Entra's MFA stands for two-factor here.
    expect(page.locator("h1")).to_have_text(say("en", "Technical benefits"))
    alex = User.objects.get(email="alexw@contoso.example")
    assert alex.partner.name == "Contoso Ltd"
    assert list(alex.role_assignments.values_list("role", flat=True)) == [Role.MPN_PARTNER_ADMIN]
    assert not alex.has_usable_password()
    context.close()


def test_a_person_of_another_tenant_is_refused(browser, portal, oidc_provider):
    EntraTenant.objects.create(
        partner=Partner.objects.get(name="Contoso Ltd"), tenant_id=CONTOSO_TENANT
    )
    oidc_provider({"eve": claims("eve@elsewhere.example", OTHER_TENANT)})
    context = browser.new_context(bypass_csp=True)
    page = sign_in_with_entra(context.new_page(), portal, "eve")

    assert page.url.startswith(f"{portal}/accounts/login/")
    expect(page.get_by_text(str(entra.NOT_CONNECTED))).to_be_visible()
    assert not User.objects.filter(email="eve@elsewhere.example").exists()
    assert not SocialAccount.objects.exists()
    context.close()


def test_an_existing_accounts_address_is_not_taken_over(browser, portal, oidc_provider):
    EntraTenant.objects.create(
        partner=Partner.objects.get(name="Contoso Ltd"), tenant_id=CONTOSO_TENANT
    )
    oidc_provider({"megan": claims("admin@contoso.example", CONTOSO_TENANT)})
    context = browser.new_context(bypass_csp=True)
    page = sign_in_with_entra(context.new_page(), portal, "megan")

    assert page.url.startswith(f"{portal}/accounts/login/")
    expect(
        page.get_by_text("A portal account with this email address already exists")
    ).to_be_visible()
    assert not SocialAccount.objects.exists()
    # Still signed out: the sign-in form is there.
    expect(page.locator("input[name=password]")).to_be_visible()
    context.close()


def test_the_groups_decide_the_roles_at_each_sign_in(browser, portal, oidc_provider):
    tenant = EntraTenant.objects.create(
        partner=Partner.objects.get(name="Contoso Ltd"), tenant_id=CONTOSO_TENANT
    )
    tenant.group_roles.create(group_id=PARTNER_ADMINS, role=Role.MPN_PARTNER_ADMIN)
    # In no mapped group.
    oidc_provider({"sam": claims("sam@contoso.example", CONTOSO_TENANT, [uuid.uuid4()])})
    first = browser.new_context(bypass_csp=True)
    sign_in_with_entra(first.new_page(), portal, "sam")
    sam = User.objects.get(email="sam@contoso.example")
    assert not sam.role_assignments.exists()
    first.close()

    # A role given in the portal meanwhile: the directory's groups still decide.
    set_roles(sam, [Role.MPN_PARTNER_ADMIN])
    again = browser.new_context(bypass_csp=True)
    page = sign_in_with_entra(again.new_page(), portal, "sam")
    assert not sam.role_assignments.exists()
    # Signed in all the same (only older sessions end), told why the page is closed to them.
    page.goto(f"{portal}/dashboard/mpn/membership/benefits/technical")
    missing = say("en", "You may not have the correct user roles assigned in Partner Center.")
    expect(page.get_by_text(missing)).to_be_visible()
    again.close()


def test_an_invited_person_accepts_by_signing_in_with_entra(browser, portal, oidc_provider):
    contoso = Partner.objects.get(name="Contoso Ltd")
    EntraTenant.objects.create(partner=contoso, tenant_id=CONTOSO_TENANT)
    invited = User.objects.create_user("ines@contoso.example", partner=contoso)
    set_roles(invited, [Role.MPN_PARTNER_ADMIN])
    invitation = Invitation.objects.create(
        partner=contoso,
        user=invited,
        email=invited.email,
        key_digest="e" * 64,
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    oidc_provider({"ines": claims("ines@contoso.example", CONTOSO_TENANT)})
    context = browser.new_context(bypass_csp=True)
    page = sign_in_with_entra(context.new_page(), portal, "ines")

    expect(page.locator("h1")).to_have_text(say("en", "Technical benefits"))
    assert SocialAccount.objects.get().user == invited
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert User.objects.filter(email="ines@contoso.example").count() == 1
    context.close()
