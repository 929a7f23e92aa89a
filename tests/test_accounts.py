"""Signing in by email, no sign-up, signing out, password reset, the account menu."""

import re

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.core import mail
from django.db import IntegrityError, transaction

from accounts.models import User
from entitlements.models import Role

from .factories import PASSWORD, UserFactory, sign_in_with_the_form

LOGIN = "/accounts/login/"
PAGE = "/dashboard/mpn/membership/benefits/technical"


def test_a_user_without_a_role_signs_in_with_email_and_password(client, nora):
    response = client.post(LOGIN, {"login": "nora@contoso.example", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == PAGE
    assert client.get("/supportforbusiness/create").status_code == 200


@pytest.mark.parametrize("who", ["alice", "mona", "aaron"])
def test_every_role_that_sees_the_ids_gives_the_authenticator_code(client, who, request):
    user = request.getfixturevalue(who)
    response = client.post(LOGIN, {"login": user.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get(PAGE).status_code == 302  # not signed in on the password alone


def test_a_global_admin_also_gives_the_authenticator_code(client, alice):
    response = client.post(LOGIN, {"login": "alice@contoso.example", "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get(PAGE).status_code == 302  # not signed in on the password alone
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200 and client.get(PAGE).status_code == 302
    response = sign_in_with_the_form(client, "alice@contoso.example")
    assert response["Location"] == PAGE
    assert client.get(PAGE).status_code == 200


@pytest.mark.parametrize("role", [Role.GLOBAL_ADMIN, Role.MPN_PARTNER_ADMIN, Role.ADMIN_AGENT])
def test_every_role_that_sees_the_ids_must_set_up_an_authenticator(client, contoso, role):
    UserFactory(email="new@contoso.example", partner=contoso, roles=[role], two_factor=False)
    sign_in_with_the_form(client, "new@contoso.example")
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/totp/activate")
    setup = client.get(response["Location"], follow=True)
    # The set-up is open to them (allauth first asks to confirm the password), nothing else.
    assert setup.status_code == 200
    assert setup.redirect_chain[-1][0].startswith("/accounts/reauthenticate/")
    assert client.get("/dashboard/mpn/membership/benefits/software").status_code == 302


def test_support_staff_sign_in_to_the_admin_through_allauth(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_email_is_not_case_sensitive(client, aaron):
    assert sign_in_with_the_form(client, "Aaron@Contoso.EXAMPLE")["Location"] == PAGE
    assert client.get(PAGE).status_code == 200


def test_a_wrong_password_signs_nobody_in(client, alice):
    response = client.post(LOGIN, {"login": "alice@contoso.example", "password": "guess"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert client.get(PAGE).status_code == 302


def test_a_deactivated_account_cannot_sign_in(client, alice):
    alice.is_active = False
    alice.save()
    client.post(LOGIN, {"login": "alice@contoso.example", "password": PASSWORD})
    assert client.get(PAGE).status_code == 302


def test_the_sign_in_page_offers_no_sign_up(client, db):
    page = client.get(LOGIN).content.decode()
    assert "sign up" not in page.lower()
    assert "Forgot your password?" in page


def test_nobody_can_sign_themselves_up(client, db):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": "Long-enough-1", "password2": "Long-enough-1"},
    )
    assert "Sign up closed" in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


def test_sign_in_with_another_account_signs_out_and_asks_to_sign_in(sign_in, alice):
    client = sign_in(alice)
    response = client.post("/accounts/logout/", {"next": LOGIN})
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert client.get(PAGE).status_code == 302


def test_a_forgotten_password_is_reset_by_email(client, alice):
    client.post("/accounts/password/reset/", {"email": "alice@contoso.example"})
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@contoso.example"]
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    form = client.get(link.group(1), follow=True)
    new = "A-new-passphrase-2026"
    done = client.post(form.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert done.status_code == 302

    old = client.post(LOGIN, {"login": "alice@contoso.example", "password": PASSWORD})
    assert old.status_code == 200
    signed_in = sign_in_with_the_form(client, "alice@contoso.example", new)
    assert signed_in["Location"] == PAGE


def test_a_reset_answers_the_same_for_an_unknown_address(client, alice):
    known = client.post("/accounts/password/reset/", {"email": "alice@contoso.example"})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]


def test_accounts_are_unique_by_email_whatever_the_case(db):
    UserFactory(email="dana@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="DANA@example.com")
    # Even a write that skips save() is stopped by the database.
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(email="Dana@Example.com")])


def test_a_recovery_code_stands_in_for_the_authenticator_once(client, alice):
    code = RecoveryCodes.activate(alice).get_unused_codes()[0]
    assert sign_in_with_the_form(client, alice.email, code=code)["Location"] == PAGE
    client.logout()
    again = sign_in_with_the_form(client, alice.email, code=code)
    assert again.status_code == 200  # used up: asked again
    assert client.get(PAGE).status_code == 302
