"""Lighthouse (accessibility and best practices, mobile) scores the key pages 100, and the
current Nu HTML checker finds no error in any page as the browser holds it once its scripts
have run."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD, ROOT
from .test_every_page import the_pages

pytestmark = pytest.mark.django_db(transaction=True)

LIGHTHOUSE = ROOT / "node_modules" / "lighthouse" / "cli" / "index.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def needs(what, found, how):
    if found:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI needs {what}: {how}")
    pytest.skip(f"{what} is not installed: {how}")


@pytest.fixture
def node():
    needs("Node", shutil.which("node"), "apt-get install nodejs npm")
    needs("Lighthouse", LIGHTHOUSE.exists(), "npm install --no-package-lock")
    return shutil.which("node")


@pytest.fixture
def java():
    needs("Java", shutil.which("java"), "apt-get install default-jre-headless")
    needs("the Nu HTML checker", VNU.exists(), "npm install --no-package-lock")
    return shutil.which("java")


def session_cookie(browser, sign_in_as, email):
    context = browser.new_context()
    sign_in_as(context.new_page(), email, PASSWORD)
    [cookie] = [c for c in context.cookies() if c["name"] == "sessionid"]
    context.close()
    return f"sessionid={cookie['value']}"


def test_lighthouse_scores_the_key_pages_100(browser, portal, sign_in_as, node):
    paths = the_pages()["admin@contoso.example"]
    cookie = session_cookie(browser, sign_in_as, "admin@contoso.example")
    key_pages = [
        *(
            {"url": portal + path, "cookie": cookie}
            for path in paths
            if path.startswith(("/dashboard/mpn/membership/benefits/technical", "/support"))
            and "/technical/" not in path
        ),
        {"url": f"{portal}/dashboard/account/auditlog", "cookie": cookie},
        {"url": f"{portal}/accounts/login/", "cookie": None},
    ]
    script = Path(__file__).with_name("lighthouse.mjs")
    flags = [*CHROMIUM_ARGS, "--headless"]
    run = subprocess.run(
        [node, str(script), json.dumps({"pages": key_pages, "flags": flags})],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads(run.stdout)
    assert len(results) == len(key_pages) >= 5
    below = [
        f"{r['url']}: accessibility {r['accessibility']}, best practices {r['bestPractices']}: "
        f"{r['failing']} {r['runtimeError'] or ''}"
        for r in results
        if (r["accessibility"], r["bestPractices"]) != (100, 100) or r["failing"]
    ]
    assert below == [], "\n".join(below)
    # Signed in, each page is itself, not the sign-in page it would send a stranger to.
    assert [r["finalUrl"] for r in results] == [p["url"] for p in key_pages]


def test_the_nu_html_checker_finds_no_error_in_any_page(
    browser, portal, sign_in_as, java, tmp_path
):
    pages = the_pages()
    files = {}
    for email, paths in pages.items():
        context = browser.new_context()
        page = context.new_page()
        if email:
            sign_in_as(page, email, PASSWORD)
        for path in paths:
            page.goto(portal + path)
            page.evaluate(
                "document.querySelectorAll('main details').forEach(d => { d.open = true; })"
            )
            name = tmp_path / f"{len(files):02}.html"
            name.write_text(page.content(), encoding="utf-8")
            files[name.name] = f"{email or 'signed out'} {path}"
        context.close()

    # One Java process for every page.
    run = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--format", "json", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(run.stderr)["messages"]
    errors = [
        f"{files.get(Path(m.get('url', '')).name, m.get('url'))}: {m['message']} "
        f"[{m.get('extract', '').strip()[:120]}]"
        for m in messages
        if m["type"] in ("error", "non-document-error")
    ]
    assert errors == []
    assert len(files) >= 25
