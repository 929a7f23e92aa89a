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
from ..workers import Worker

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
    load_demo()
    return live_server.url


# The demo as seed_demo left it, copied into a schema of the test database beside Django's own
# (which the flush after each test neither sees nor empties), once per test process and day.
DEMO_COPY = "demo_copy"
_demo_copied = {}  # {test database: (the day it was seeded, {table: its columns})}


def load_demo():
    """seed_demo's rows in the database the last test emptied. The first time in a test process
    (and day) seed_demo runs and its rows are copied aside; after that they are copied back,
    every table in one statement each, which takes a fraction of seeding again (PostgreSQL; on
    SQLite the demo is seeded for each test)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction
    from django.utils import timezone

    from ..conftest import restore_reference_data

    if connection.vendor != "postgresql":
        call_command("seed_demo", verbosity=0)
        return
    quote = connection.ops.quote_name
    today = timezone.localdate()
    database = connection.settings_dict["NAME"]
    copied = _demo_copied.get(database)
    if copied is None or copied[0] != today:
        restore_reference_data()  # tests/conftest.py leaves that to the copy when there is one
        call_command("seed_demo", verbosity=0)
        _demo_copied[database] = (today, copy_aside(connection, quote))
        return
    _day, tables = copied
    with transaction.atomic(), connection.cursor() as cursor:
        # What the test's fixtures and the flush's post_migrate made (content types,
        # permissions, reference data) goes: the copy has its own, with the ids its rows use.
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table in tables:
            cursor.execute(f"DELETE FROM {quote(table)}")  # a few rows: cheaper than TRUNCATE
        for table, columns in tables.items():
            if columns:
                names = ", ".join(quote(column) for column in columns)
                cursor.execute(
                    f"INSERT INTO {quote(table)} ({names}) "
                    f"SELECT {names} FROM {quote(DEMO_COPY)}.{quote(table)}"
                )
    # Cached ids of the content types the copy replaced.
    ContentType.objects.clear_cache()


def copy_aside(connection, quote):
    """Copy every table of Django's into the DEMO_COPY schema; returns {table: [the columns to
    copy back]}, [] for a table the demo left empty."""
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    copied = {}
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quote(DEMO_COPY)} CASCADE")
        cursor.execute(f"CREATE SCHEMA {quote(DEMO_COPY)}")
        for table in sorted(tables):
            cursor.execute(
                f"CREATE TABLE {quote(DEMO_COPY)}.{quote(table)} AS TABLE {quote(table)}"
            )
            cursor.execute(f"SELECT EXISTS (SELECT FROM {quote(table)})")
            [has_rows] = cursor.fetchone()
            # Generated columns are computed again, not copied.
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = %s AND is_generated = 'NEVER' "
                "ORDER BY ordinal_position",
                [table],
            )
            copied[table] = [column for (column,) in cursor.fetchall()] if has_rows else []
    return copied


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


@pytest.fixture
def worker(tmp_path, settings):
    """A real Celery worker and beat for the test's live server (tests/workers.py)."""
    # Six-second days: each stage stays on the page long enough for the row to show it.
    settings.SIMULATED_DAY_SECONDS = 6
    running = Worker(tmp_path, SIMULATED_DAY_SECONDS=6, ACTIVATION_SWEEP_SECONDS=1)
    running.purge()
    running.start()
    yield running
    running.stop()
