"""Signed out because of a change made elsewhere (a role removed, the account moved or
deactivated, the password changed): the sign-in page says why, once, and only to the
browser that was signed in."""

from django.test import Client

from entitlements.models import Role
from entitlements.services import account_moved, set_roles

from .factories import PartnerFactory, UserFactory, sign_in_with_the_form
from .test_admin import change_form

LOGIN = "/accounts/login/"
PAGE = "/dashboard/mpn/membership/benefits/technical"


def signed_in(user):
    client = Client()
    response = sign_in_with_the_form(client, user.email)
    assert response.status_code == 302 and response["Location"] == PAGE
    return client


def next_page(client):
    """The stale tab's next click: to the sign-in page, which is returned."""
    response = client.get(PAGE, follow=True)
    assert response.redirect_chain[-1][0].startswith(LOGIN)
    return response.content.decode()


def test_a_removed_role_is_given_as_the_reason_once(aaron, django_capture_on_commit_callbacks):
    set_roles(aaron, [Role.ADMIN_AGENT, Role.USER_ADMIN])
    client = signed_in(aaron)
    with django_capture_on_commit_callbacks(execute=True):
        set_roles(aaron, [Role.ADMIN_AGENT])
    page = next_page(client)
    assert "You were signed out because your roles changed." in page
    assert "your roles changed" not in client.get(LOGIN).content.decode()  # said once


def test_a_moved_account_is_told_it_was_moved(aaron, django_capture_on_commit_callbacks):
    client = signed_in(aaron)
    contoso = aaron.partner
    aaron.partner = PartnerFactory(name="Fabrikam Inc")
    aaron.save()
    with django_capture_on_commit_callbacks(execute=True):
        account_moved(aaron, contoso)
    assert "your account was moved to another company" in next_page(client)


def test_an_account_deactivated_by_support_staff_is_told_so(support, alice):
    # Contoso keeps a Global admin: the last one can't be deactivated.
    UserFactory(partner=alice.partner, roles=[Role.GLOBAL_ADMIN])
    client = signed_in(alice)
    staff = Client()
    staff.force_login(support)
    form = change_form(alice, roles=[Role.GLOBAL_ADMIN])
    form.pop("is_active")
    assert staff.post(f"/admin/accounts/user/{alice.pk}/change/", form).status_code == 302
    assert "You were signed out because your account was deactivated." in next_page(client)


def test_an_account_deactivated_anywhere_else_is_told_so_too(alice):
    client = signed_in(alice)
    alice.is_active = False
    alice.save()
    assert "your account was deactivated" in next_page(client)


def test_a_password_changed_elsewhere_is_given_as_the_reason(alice):
    stale = signed_in(alice)
    elsewhere = Client()
    elsewhere.force_login(alice)  # an authenticator code is accepted once: no second form
    response = elsewhere.post(
        "/accounts/password/change/",
        {"oldpassword": "Partner!2026", "password1": "Another!2027x", "password2": "Another!2027x"},
    )
    assert response.status_code == 302, response.context["form"].errors
    page = next_page(stale)
    assert "You were signed out because your password was changed." in page
    assert elsewhere.get(PAGE).status_code == 200  # the browser that changed it stays in


def test_a_password_reset_by_link_is_given_as_the_reason(alice):
    stale = signed_in(alice)
    alice.set_password("Another!2027x")  # what the reset link's form does
    alice.save()
    assert "your password was changed" in next_page(stale)


def test_a_visitor_who_was_not_signed_in_is_told_nothing(aaron, django_capture_on_commit_callbacks):
    signed_in(aaron)
    with django_capture_on_commit_callbacks(execute=True):
        set_roles(aaron, [])
    page = Client().get(PAGE, follow=True).content.decode()
    assert "You were signed out" not in page


def test_signing_out_oneself_gives_no_reason(alice):
    client = signed_in(alice)
    client.post("/accounts/logout/")
    assert "You were signed out because" not in next_page(client)


def test_a_request_in_flight_cannot_write_the_ended_session_back(
    aaron, django_capture_on_commit_callbacks
):
    """A page of the session still being served when its roles change saves the session as
    it read it: that must not sign the browser back in."""
    from importlib import import_module

    import pytest
    from django.conf import settings
    from django.contrib.sessions.backends.base import UpdateError

    set_roles(aaron, [Role.ADMIN_AGENT, Role.USER_ADMIN])
    client = signed_in(aaron)
    in_flight = import_module(settings.SESSION_ENGINE).SessionStore(
        client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    in_flight["last_page"] = PAGE  # read, and changed, before the roles change
    with django_capture_on_commit_callbacks(execute=True):
        set_roles(aaron, [Role.ADMIN_AGENT])
    with pytest.raises(UpdateError):
        in_flight.save()
    assert "You were signed out because your roles changed." in next_page(client)
