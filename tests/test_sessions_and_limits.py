"""Sessions follow the account's access; sign-in, password reset and contract linking are
rate limited."""

from django.core import mail
from django.test import Client

from entitlements.models import Role
from entitlements.services import set_roles

from .factories import PASSWORD, UserFactory, sign_in_with_the_form
from .test_admin import change_form

LOGIN = "/accounts/login/"
PAGE = "/dashboard/mpn/membership/benefits/technical"


def sign_in_through_the_form(client, user):
    response = sign_in_with_the_form(client, user.email)
    assert response.status_code == 302 and response["Location"] == PAGE
    return client


def test_signing_in_starts_a_new_session(client, alice):
    client.get(LOGIN)
    before = client.session.session_key
    sign_in_through_the_form(client, alice)
    assert client.session.session_key != before


def test_losing_a_role_ends_the_accounts_sessions(
    client, aaron, django_capture_on_commit_callbacks
):
    set_roles(aaron, [Role.ADMIN_AGENT, Role.USER_ADMIN])
    sign_in_through_the_form(client, aaron)
    assert client.get(PAGE).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        set_roles(aaron, [Role.ADMIN_AGENT])
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_gaining_a_role_keeps_the_session(client, aaron, django_capture_on_commit_callbacks):
    sign_in_through_the_form(client, aaron)
    with django_capture_on_commit_callbacks(execute=True):
        set_roles(aaron, [Role.ADMIN_AGENT, Role.MPN_PARTNER_ADMIN])
    assert client.get(PAGE).status_code == 200


def test_a_deactivated_account_is_signed_out_at_once(client, support, alice):
    # Contoso keeps a Global admin: the last one can't be deactivated.
    UserFactory(partner=alice.partner, roles=[Role.GLOBAL_ADMIN])
    sign_in_through_the_form(client, alice)
    staff = Client()
    staff.force_login(support)
    form = change_form(alice, roles=[Role.GLOBAL_ADMIN])
    form.pop("is_active")
    assert staff.post(f"/admin/accounts/user/{alice.pk}/change/", form).status_code == 302
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_repeated_failed_sign_ins_are_refused_even_with_the_right_password(client, alice):
    for _ in range(5):
        client.post(LOGIN, {"login": alice.email, "password": "wrong-guess"})
    response = client.post(LOGIN, {"login": alice.email, "password": PASSWORD})
    assert response.status_code in (200, 429)
    assert "Too many failed login attempts" in response.content.decode()
    assert client.get(PAGE).status_code == 302


def test_password_resets_for_one_address_are_limited(client, alice):
    for _ in range(8):
        client.post("/accounts/password/reset/", {"email": alice.email})
    assert 1 <= len(mail.outbox) <= 5
