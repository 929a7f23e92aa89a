"""URLs people type: with or without a trailing slash, and the parent paths of a page."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .factories import sign_in_with_the_form


def portal_pages(resolver=None, prefix=""):
    """The portal's own pages taking no id (not allauth's, the admin's or the health
    checks'), as paths."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not route.startswith(("accounts/", "admin/", "i18n/")):
                yield from portal_pages(pattern, route)
        elif isinstance(pattern, URLPattern) and "<" not in route and route:
            yield "/" + route


PAGES = sorted(p for p in set(portal_pages()) if not p.endswith("/"))


def test_the_walk_finds_the_pages_people_type():
    assert "/supportforbusiness/create" in PAGES
    assert "/dashboard/mpn/membership/benefits/technical" in PAGES
    assert "/dashboard/account/auditlog" in PAGES


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_with_a_trailing_slash_too(client, db, path):
    response = client.get(f"{path}/?page=2")
    assert response.status_code == 301
    assert response["Location"] == f"{path}?page=2"


def test_supportforbusiness_create_with_a_slash_reaches_the_page(sign_in, bob):
    response = sign_in(bob).get("/supportforbusiness/create/", follow=True)
    assert response.status_code == 200
    assert "Create a support request" in response.content.decode()


def test_a_form_posted_to_a_slashed_url_is_not_redirected(sign_in, bob):
    # A redirect would turn the POST into a GET and lose what was typed.
    assert sign_in(bob).post("/supportforbusiness/create/").status_code == 404


def test_a_path_that_is_no_page_with_or_without_its_slash_stays_a_404(sign_in, bob):
    client = sign_in(bob)
    assert client.get("/supportforbusiness/nothing/").status_code == 404
    assert client.get("/supportforbusiness/nothing").status_code == 404


TECHNICAL = "/dashboard/mpn/membership/benefits/technical"


@pytest.mark.parametrize(
    ("typed", "lands_on"),
    [
        ("/", TECHNICAL),
        ("/dashboard", TECHNICAL),
        ("/dashboard/", TECHNICAL),
        ("/dashboard/mpn", TECHNICAL),
        ("/dashboard/mpn/membership", TECHNICAL),
        ("/dashboard/mpn/membership/", TECHNICAL),
        ("/dashboard/mpn/membership/benefits", TECHNICAL),
        ("/dashboard/account", "/dashboard/account/auditlog"),
        ("/supportforbusiness", "/supportforbusiness/create"),
        ("/supportforbusiness/", "/supportforbusiness/create"),
        ("/supportforbusiness/contracts", "/supportforbusiness/incidents"),
        ("/supportforbusiness/contracts/", "/supportforbusiness/incidents"),
    ],
)
def test_each_parent_path_leads_to_the_nearest_page(sign_in, alice, typed, lands_on):
    response = sign_in(alice).get(typed, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].split("#")[0] == lands_on


def test_the_contracts_path_opens_the_list_of_plans(sign_in, bob):
    response = sign_in(bob).get("/supportforbusiness/contracts")
    assert response["Location"] == "/supportforbusiness/incidents#plans"
    page = sign_in(bob).get("/supportforbusiness/incidents").content.decode()
    assert 'id="plans"' in page


def test_a_signed_out_visitor_typing_a_parent_path_is_asked_to_sign_in(client, db):
    response = client.get("/dashboard/mpn", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")


def test_support_staff_signing_in_land_in_the_admin(client, support):
    response = sign_in_with_the_form(client, support.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_support_staff_typing_the_site_root_land_in_the_admin(sign_in, support):
    assert sign_in(support).get("/")["Location"] == reverse("admin:index")


def test_support_staff_signed_out_typing_the_site_root_land_in_the_admin(client, support):
    """The root asks a visitor to sign in with no page to return to: signing in decides."""
    response = client.get("/")
    assert response["Location"] == "/accounts/login/"
    assert sign_in_with_the_form(client, support.email)["Location"] == reverse("admin:index")


def test_partners_signing_in_land_on_technical_benefits(client, alice):
    response = sign_in_with_the_form(client, alice.email)
    assert response["Location"] == TECHNICAL


@pytest.mark.parametrize("path", ["/", "/dashboard", "/alive"])
def test_a_monitor_asking_for_the_head_of_a_page_gets_an_answer(client, db, path):
    """Uptime monitors and link checkers send HEAD: it answers as GET does, never 405."""
    assert client.head(path).status_code == client.get(path).status_code != 405
