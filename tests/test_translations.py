"""English, Japanese and Simplified Chinese: every string translated, chosen by the browser or
the account menu and remembered, dates in the reader's format."""

import os
import re
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


# Japanese and Chinese put no space after 。，： (a space there reads as a gap in the text).
NO_SPACE_AFTER = re.compile(r"[。，：] ")
BLOCK_TAGS = re.compile(
    r"</?(p|div|li|h[1-6]|dt|dd|section|header|footer|td|th|tr|ul|ol|nav|form|label|summary|"
    r"details|table|main|option|select|button|title|br|fieldset|legend|dl|textarea)\b[^>]*>"
)


def paragraphs(html):
    """The text of each block of the page, its white space as a browser shows it."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    html = re.sub(r"<[^>]+>", "", BLOCK_TAGS.sub("\u2029", html))
    return [re.sub(r"\s+", " ", block).strip() for block in html.split("\u2029")]


@pytest.mark.parametrize("language", ["ja", "zh_Hans"])
def test_no_catalog_text_has_a_space_after_a_full_stop_or_comma(language):
    with open(ROOT / "locale" / language / "LC_MESSAGES" / "django.po", "rb") as po:
        catalog = read_po(po)
    spaced = [
        message.id
        for message in catalog
        for text in (message.string if isinstance(message.string, tuple) else [message.string])
        if message.id and NO_SPACE_AFTER.search(text or "")
    ]
    assert spaced == []


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_sentences_joined_on_a_page_have_no_space_between_them(
    client, sign_in, alice, aaron, nora, bob, carol, language
):
    from entitlements.models import Role
    from entitlements.services import set_roles

    visits = [
        (aaron, PAGE),  # who may activate, and the advisory hours
        (bob, PAGE),  # Action Pack's hours
        (nora, PAGE),  # no role
        (aaron, reverse("audit:log")),  # a role, not the right one
        (carol, PAGE),  # not in MPN
    ]
    set_roles(bob, [Role.ADMIN_AGENT])  # Fabrikam's page names who may activate: nobody
    spaced = []
    for user, url in visits:
        html = sign_in(user).get(url, headers={"accept-language": language}).content.decode()
        spaced += [(user.email, text) for text in paragraphs(html) if NO_SPACE_AFTER.search(text)]
    client.logout()
    html = client.get("/accounts/login/", headers={"accept-language": language}).content.decode()
    spaced += [("signed out", text) for text in paragraphs(html) if NO_SPACE_AFTER.search(text)]
    assert spaced == []


# One term for signing in: Partner Center's サインイン, and the portal's 登录/注销, on allauth's
# pages and messages too (the project's catalogs come before allauth's).
OTHER_TERMS = {"ja": ("ログイン", "ログアウト"), "zh-hans": ("登出", "退出")}


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_allauths_strings_say_sign_in_as_the_portal_does(language):
    import allauth

    folder = "ja" if language == "ja" else "zh_Hans"
    path = Path(allauth.__file__).parent / "locale" / folder / "LC_MESSAGES" / "django.po"
    with open(path, "rb") as po:
        allauths = read_po(po)
    with translation.override(language):
        shown = {
            message.id: translation.pgettext(message.context, message.id)
            if message.context
            else gettext(message.id)
            for message in allauths
            if message.id and isinstance(message.id, str)
        }
    others = {
        msgid: text
        for msgid, text in shown.items()
        if any(term in text for term in OTHER_TERMS[language])
    }
    assert others == {}


def test_the_sign_in_and_sign_out_pages_say_sign_in_in_japanese(client, sign_in, alice):
    page = client.get("/accounts/login/", headers={"accept-language": "ja"}).content.decode()
    assert "サインイン" in page and "ログイン" not in page
    page = sign_in(alice).get("/accounts/logout/", headers={"accept-language": "ja"})
    assert "サインアウト" in page.content.decode() and "ログアウト" not in page.content.decode()


# One rule for offer titles: the level and the competency both in the reader's language (as
# Microsoft's localized docs name them), never one translated beside one left in English.
PRODUCT_NAMES = re.compile(r"DevOps|Windows")


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_offer_titles_are_in_one_language(language):
    from entitlements.models import offer_title
    from entitlements.rules import CLOUD_COMPETENCIES, OTHER_COMPETENCIES, Level, OfferKind

    mixed = []
    with translation.override(language):
        for level in Level:
            for competency in CLOUD_COMPETENCIES + OTHER_COMPETENCIES:
                title = offer_title(OfferKind.COMPETENCY, level, competency)
                if re.search("[A-Za-z]", PRODUCT_NAMES.sub("", title)):
                    mixed.append(title)
    assert mixed == []


def test_the_page_names_the_offers_in_japanese(sign_in, alice):
    html = sign_in(alice).get(PAGE, headers={"accept-language": "ja"}).content.decode()
    titles = re.findall(r'<h2 id="offer-\d+">([^<]*)</h2>', html)
    assert titles == ["ゴールド クラウド プラットフォーム", "シルバー データ分析"]


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_support_for_business_joins_its_sentences_without_a_space(sign_in, bob, language):
    """Step 2's notice (the product sentence, then the rule) and the message after an
    incident is opened (the number, then what remains) are sentences joined on the page."""
    from django.contrib.messages import get_messages

    from entitlements.rules import Benefit

    from .test_support import add, contract_for, incident_fields, step2

    contract = contract_for(bob.partner.offers.get(), Benefit.PRODUCT_SUPPORT, bob)
    client = sign_in(bob)
    add(client, contract)
    headers = {"accept-language": language}
    html = client.get(step2("Azure"), headers=headers).content.decode()
    spaced = [text for text in paragraphs(html) if NO_SPACE_AFTER.search(text)]
    response = client.post(
        step2("Windows Server", "2025"), incident_fields(contract.pk), headers=headers
    )
    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert len(said) == 1
    assert spaced + [text for text in said if NO_SPACE_AFTER.search(text)] == []


@pytest.mark.parametrize("language", ["ja", "zh_Hans"])
def test_a_benefit_is_named_the_same_in_every_sentence(language):
    """A benefit's name in a sentence is the name the benefit has on its own, never English
    inside Japanese or Chinese."""
    path = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
    catalog = read_po(path.open("rb"))
    name = catalog.get("Microsoft Product Support").string
    english = [
        message.string
        for message in catalog
        if message.id and "Microsoft Product Support" in str(message.string)
    ]
    assert name != "Microsoft Product Support" and english == []


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_a_pending_activation_joins_its_sentences_without_a_space(
    sign_in, alice, contoso, language
):
    from activation import services as activation
    from entitlements.rules import Benefit

    offer = contoso.offers.get(level="gold")
    activation.request_activation(offer, Benefit.PRODUCT_SUPPORT, alice)
    url = reverse("entitlements:benefit_detail", args=[offer.pk, "product_support"])
    html = sign_in(alice).get(url, headers={"accept-language": language}).content.decode()
    assert 'class="pending-note"' in html
    assert [text for text in paragraphs(html) if NO_SPACE_AFTER.search(text)] == []


def test_the_code_marks_its_strings_with_names_makemessages_reads():
    """xgettext finds gettext(), _() and their lazy and plural kin by name: a string passed to
    any other name (`from ... import gettext as _gettext`) never reaches the catalogs, and
    stays English in every language."""
    imported = re.compile(
        r"from django\.utils\.translation import[^\n]*\b(\w*gettext\w*) as (\w+)", re.MULTILINE
    )
    hidden = []
    for path in ROOT.rglob("*.py"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & {".venv", "node_modules", "tests", "migrations", "var"}:
            continue
        for name, alias in imported.findall(path.read_text()):
            if alias != "_":
                hidden.append(f"{path.relative_to(ROOT)}: {name} as {alias}")
    assert hidden == []
