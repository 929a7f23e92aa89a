"""A tab left open after its session ended: the next click goes to the sign-in page and, once
signed in, back to the page the person was on, never to a POST-only URL or a fragment."""

from urllib.parse import parse_qs, urlsplit

from activation.models import ActivationRequest
from entitlements.models import Role
from support.models import ContractLink

from .factories import UserFactory

PAGE = "/dashboard/mpn/membership/benefits/technical"
SITE = "http://testserver"


def next_of(response):
    return parse_qs(urlsplit(response["Location"]).query)["next"][0]


def activate_url(offer):
    return f"{PAGE}/{offer.pk}/product_support/activate"


def test_a_stale_activate_returns_to_the_page_it_was_on_and_does_nothing(client, contoso):
    offer = contoso.offers.get(level="gold")
    response = client.post(activate_url(offer), HTTP_REFERER=f"{SITE}{PAGE}")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert next_of(response) == PAGE
    sign_in_page = client.get(response["Location"]).content.decode()
    assert "Your session had ended, so nothing was done." in sign_in_page
    assert not ActivationRequest.objects.exists()


def test_after_signing_in_the_stale_tab_lands_on_its_page(client, contoso, nora):
    """The sign-in form posts `next` back; allauth follows it."""
    offer = contoso.offers.get(level="gold")
    stale = client.post(activate_url(offer), HTTP_REFERER=f"{SITE}{PAGE}?x=1")
    landing = client.post(
        stale["Location"], {"login": nora.email, "password": "Partner!2026", "next": next_of(stale)}
    )
    assert landing["Location"] == f"{PAGE}?x=1"


def test_a_form_posted_from_elsewhere_or_without_a_referer_goes_to_the_home_page(client, contoso):
    offer = contoso.offers.get(level="gold")
    for referer in ({}, {"HTTP_REFERER": "https://evil.example/phish"}):
        response = client.post(activate_url(offer), **referer)
        assert next_of(response) == PAGE


def test_a_stale_add_contract_keeps_the_step_it_was_on(client, db):
    step = "/supportforbusiness/create?version=3&support_type=technical"
    response = client.post(
        "/supportforbusiness/contracts/add",
        {"access_id": "123456789", "contract_id": "987654321"},
        HTTP_REFERER=f"{SITE}{step}",
    )
    assert next_of(response) == step
    assert not ContractLink.objects.exists()


def poll(client, offer):
    """The request a pending row's htmx makes for itself, from the Technical benefits page."""
    return client.get(
        f"{PAGE}/{offer.pk}/product_support",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"{SITE}{PAGE}",
    )


def test_a_polling_row_whose_session_ended_navigates_to_sign_in(client, contoso):
    response = poll(client, contoso.offers.get(level="gold"))
    assert response.status_code == 204
    assert response.content == b""  # nothing to swap into the row
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")
    assert parse_qs(urlsplit(response["HX-Redirect"]).query)["next"] == [PAGE]


def test_a_fragment_never_becomes_the_two_factor_set_up_page(client, contoso):
    admin = UserFactory(partner=contoso, roles=[Role.MPN_PARTNER_ADMIN], two_factor=False)
    client.force_login(admin)
    response = poll(client, contoso.offers.get(level="gold"))
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/2fa/totp/activate")
