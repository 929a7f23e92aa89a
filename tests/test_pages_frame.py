"""What every page carries, whatever its content: the site's root files, a description,
compression, the language switcher, and allauth's pages in the portal's frame and voice."""

import gzip
import re

import pytest
from django.urls import reverse

from benefits_portal.templatetags.portal_text import sentence_case

pytestmark = pytest.mark.django_db


def test_the_favicon_and_robots_txt_are_served(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an icon file
    robots = client.get("/robots.txt")
    assert robots.status_code == 200
    assert b"Disallow: /" in b"".join(robots.streaming_content)


@pytest.mark.parametrize(
    ("language", "description"),
    [
        ("en", "Partner Center: your company"),
        ("ja", "パートナー センター: 会社のパートナー特典"),
        ("zh-hans", "合作伙伴中心：贵公司的合作伙伴权益"),
    ],
)
def test_every_page_has_a_description_in_its_language(client, sign_in, nora, language, description):
    pages = [reverse("account_login"), "/no/such/page"]
    signed_in = [reverse("entitlements:technical_benefits"), reverse("account_change_password")]
    for path in pages:
        response = client.get(path, headers={"accept-language": language})
        assert f'<meta name="description" content="{description}' in response.text, path
    sign_in(nora)
    for path in signed_in:
        response = client.get(path, headers={"accept-language": language})
        assert f'<meta name="description" content="{description}' in response.text, path


def test_pages_are_compressed_for_browsers_that_accept_it(client):
    response = client.get(reverse("account_login"), headers={"accept-encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"
    assert b"<!DOCTYPE html>" in gzip.decompress(response.content)


def test_signed_in_pages_which_hold_ids_are_not_compressed(client, sign_in, alice):
    """BREACH: a compressed page holding a secret beside text a link chose leaks the secret."""
    sign_in(alice)
    response = client.get(
        reverse("entitlements:technical_benefits") + "?guess=1234",
        headers={"accept-encoding": "gzip"},
    )
    assert response.status_code == 200
    assert not response.has_header("Content-Encoding")
    assert "guess=1234" in response.text  # the language switch echoes the address


@pytest.mark.parametrize("language", ["en", "ja", "zh-hans"])
def test_the_language_switcher_names_each_language_in_its_own_name(client, language):
    response = client.get(reverse("account_login"), headers={"accept-language": language})
    for name in ("English", "日本語", "简体中文"):
        assert f">{name}</button>" in response.text


def test_allauth_pages_keep_the_navigation_and_speak_in_sentence_case(client, sign_in, nora):
    sign_in(nora)
    response = client.get(reverse("account_change_password"))
    text = response.text
    assert 'class="leftnav"' in text
    assert 'class="account-menu"' in text
    assert re.search(r"<h1>\s*Change password\s*</h1>", text)
    assert re.search(r"<title>\s*Change password\s*· Partner Center</title>", text)
    assert "Current password" in text
    assert "Change Password" not in text


def test_sentence_case_keeps_names_acronyms_and_markup():
    assert sentence_case("Two-Factor Authentication") == "Two-factor authentication"
    assert sentence_case("IP Address") == "IP address"
    assert sentence_case("Sign In to Microsoft Partner Center") == (
        "Sign in to Microsoft Partner Center"
    )
    assert sentence_case('<a href="/X/Y">Forgot Your Password?</a>') == (
        '<a href="/X/Y">Forgot your password?</a>'
    )
    assert sentence_case("パスワードの変更") == "パスワードの変更"


def test_no_summary_declares_aria_expanded_and_no_menu_role(client, sign_in, nora):
    sign_in(nora)
    text = client.get(reverse("entitlements:technical_benefits")).text
    assert "aria-expanded" not in text
    assert 'role="menu' not in text


def test_sentence_case_starts_again_in_each_run_of_text():
    assert sentence_case("<li>Your Password</li><li>Your Email</li>") == (
        "<li>Your password</li><li>Your email</li>"
    )


def test_placeholders_on_allauths_pages_are_in_sentence_case_too(client, sign_in, nora):
    """A placeholder is text a person reads in the field: "Current password", as its label."""
    sign_in(nora)
    text = client.get(reverse("account_change_password")).text
    placeholders = re.findall(r'placeholder="([^"]*)"', text)
    assert "Current password" in placeholders
    assert [p for p in placeholders if re.search(r"\s[A-Z][a-z]", p)] == []
    assert sentence_case('<input placeholder="New Password" name="Pass Word">') == (
        '<input placeholder="New password" name="Pass Word">'
    )
