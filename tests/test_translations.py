"""English, Japanese and Simplified Chinese: every string translated, chosen by the browser or
the account menu and remembered, dates in the reader's format."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext

ROOT = Path(__file__).resolve().parent.parent
PAGE = "/dashboard/mpn/membership/benefits/technical"
# The project as checked out: everything but what is installed, built or generated.
NOT_SOURCES = shutil.ignore_patterns(
    ".venv",
    "node_modules",
    ".git",
    "var",
    "test-artifacts",
    "staticfiles",
    "docs",
    "__pycache__",
    "*.mo",
)


@pytest.fixture(scope="module")
def gathered_catalogs(tmp_path_factory):
    """The catalogs as `make messages` would leave them now: a string added to the code but
    not to the catalogs shows up here untranslated."""
    if not shutil.which("xgettext"):
        if os.environ.get("CI"):
            pytest.fail("CI needs GNU gettext (apt-get install gettext).")
        pytest.skip("GNU gettext is not installed: apt-get install gettext")
    copy = tmp_path_factory.mktemp("gather") / "project"
    shutil.copytree(ROOT, copy, ignore=NOT_SOURCES)
    subprocess.run(
        [shutil.which("make"), "-s", "messages", f"BIN={Path(sys.executable).parent}"],
        cwd=copy,
        env={**os.environ, "DEBUG": "true"},
        check=True,
        capture_output=True,
    )
    return copy / "locale"


@pytest.mark.parametrize("language", ["ja", "zh_Hans"])
def test_every_user_facing_string_is_translated(gathered_catalogs, language):
    with open(gathered_catalogs / language / "LC_MESSAGES" / "django.po", "rb") as po:
        catalog = read_po(po)
    untranslated = [
        message.id
        for message in catalog
        if message.id
        and (
            message.fuzzy
            or not all(message.string if isinstance(message.string, tuple) else [message.string])
        )
    ]
    assert untranslated == []
    problems = [(message.id, errors) for message, errors in catalog.check()]
    assert problems == []  # placeholders kept


def test_signature_cloud_support_stays_a_product_name():
    for language in ("ja", "zh-hans"):
        with translation.override(language):
            assert gettext("Signature Cloud Support") == "Signature Cloud Support"
            assert "ID" in gettext("Access ID") and "ID" in gettext("Contract ID")


def translated(language, text):
    with translation.override(language):
        result = gettext(text)
    assert result != text, f"no {language} translation of {text!r}"
    return result


def test_the_browsers_language_is_used(sign_in, alice):
    page = sign_in(alice).get(PAGE, headers={"accept-language": "ja,en;q=0.5"})
    content = page.content.decode()
    assert '<html lang="ja">' in content
    assert f"<h1>{translated('ja', 'Technical benefits')}</h1>" in content
    assert translated("ja", "Microsoft Product Support") in content


def test_the_language_picked_in_the_account_menu_is_remembered(sign_in, alice):
    client = sign_in(alice)
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": PAGE})
    assert response.status_code == 302 and response["Location"] == PAGE
    page = client.get(PAGE, headers={"accept-language": "en"}).content.decode()
    assert '<html lang="zh-hans">' in page
    assert translated("zh-hans", "Sign in with another account") in page


def test_dates_follow_the_language(sign_in, alice, contoso):
    offer = contoso.offers.get(level="gold")
    page = sign_in(alice).get(PAGE, headers={"accept-language": "ja"}).content.decode()
    with translation.override("ja"):
        japanese_date = formats.date_format(offer.ends_on, "DATE_FORMAT")
    assert "年" in japanese_date
    assert japanese_date in page


def test_messages_from_the_code_are_translated_too(sign_in, alice, contoso, clock):
    offer = contoso.offers.get(level="gold")
    client = sign_in(alice)
    client.post(reverse("set_language"), {"language": "ja", "next": PAGE})
    page = client.post(
        reverse("activation:activate", args=[offer.pk, "product_support"]), follow=True
    ).content.decode()
    with translation.override("ja"):
        expected = gettext(
            "Activation of %(benefit)s requested. "
            "Allow a few days to process your activation request."
        ) % {"benefit": gettext("Microsoft Product Support")}
    assert expected in page
