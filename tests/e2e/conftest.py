"""End-to-end tests: Debian's Chromium, driven by Playwright, against the live server."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext

from entitlements.management.commands.seed_demo import TOTP_SECRET

from ..factories import totp_code

# Playwright's sync API runs an event loop in this thread; the ORM calls of the tests are
# still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the networking flags Chromium keeps trying to reach hosts this machine can't reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "Partner!2026"


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# Only the violations: axe then skips working out selectors for all that passed, its slow part.
AXE_VIOLATIONS = "async () => (await axe.run({resultTypes: ['violations']})).violations"


@pytest.fixture
def axe():
    if not AXE.exists():
        if os.environ.get("CI"):
            pytest.fail("CI needs axe-core: npm install --no-package-lock")
        pytest.skip("axe-core is not installed: npm install --no-package-lock")

    def check(page):
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(AXE_VIOLATIONS)
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
            for v in violations
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], f"{page.url}: {serious}"

    return check


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs Chromium at {CHROMIUM} (apt-get install chromium).")
        pytest.skip(f"No Chromium at {CHROMIUM}: apt-get install chromium to run these tests.")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def portal(live_server, settings):
    """The live server with the demo data. Plain http on localhost: cookies can't be Secure."""
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    call_command("seed_demo", verbosity=0)
    return live_server.url


def has_font_for(language):
    """Whether fontconfig knows a font for the language ("ja", "zh-hans"...)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    fc_language = {"zh-hans": "zh-cn", "zh-hant": "zh-tw"}.get(language, language)
    found = subprocess.run(
        [fc_list, f":lang={fc_language}"], capture_output=True, text=True, check=False
    )
    return bool(found.stdout.strip())


@pytest.fixture
def shot():
    """Save the page as test-artifacts/<name>.png. A Japanese or Chinese page is not taken on a
    machine without a font for it: Chromium would draw its text as boxes."""
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page, name):
        language = page.evaluate("document.documentElement.lang").lower()
        if language.startswith(("ja", "zh")) and not has_font_for(language):
            why = (
                f"No font for {language} (fc-list finds none), so the screenshot {name} would "
                "show boxes: apt-get install fonts-noto-cjk"
            )
            if os.environ.get("CI"):
                pytest.fail(why)
            pytest.skip(why)
        page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)

    return save


def give_the_authenticator_code(page):
    """Global admins and support staff are asked for their authenticator app's code."""
    if "/accounts/2fa/authenticate/" in page.url:
        page.locator("input[name=code]").fill(totp_code(TOTP_SECRET))
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_load_state()


@pytest.fixture
def sign_in_as(portal):
    """Sign in through the real sign-in form, in whatever language the page speaks."""

    def sign_in(page, email, password=PASSWORD):
        page.goto(f"{portal}/accounts/login/")
        page.locator("input[name=login]").fill(email)
        page.locator("input[name=password]").fill(password)
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_load_state()
        give_the_authenticator_code(page)
        return page

    return sign_in


def say(language, text):
    """`text` as the portal says it in `language` (from its catalogs)."""
    with translation.override(language):
        return gettext(text)
