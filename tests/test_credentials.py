"""Credentials stay with their owners: staff never choose a password, every credential change
is audited and emailed, the sign-in email needs the password again, and an account that
moves or is deactivated keeps nothing of its old company."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from audit.models import AuditEntry
from entitlements.models import Role
from support.models import ContractLink

from .factories import PASSWORD, PartnerFactory, sign_in_with_the_form, totp_code
from .test_admin import change_form
from .test_support import contract_for

Action = AuditEntry.Action
PAGE = "/dashboard/mpn/membership/benefits/technical"


def logged(partner, action):
    return list(
        AuditEntry.objects.filter(partner=partner, action=action).values_list(
            "subject", "actor_email"
        )
    )


def signed_in_with_the_form(user):
    """A session that really signed in (password and code), as its owner's browser has."""
    client = Client()
    response = sign_in_with_the_form(client, user.email)
    assert response.status_code == 302, response
    return client


# Staff and passwords


def test_support_staff_cannot_set_a_partners_password(sign_in, support, alice):
    staff = sign_in(support)
    url = f"/admin/accounts/user/{alice.pk}/password/"
    assert staff.get(url)["Location"] == f"/admin/accounts/user/{alice.pk}/change/"
    new = "Chosen-by-staff-2026"
    staff.post(url, {"password1": new, "password2": new, "usable_password": "true"})
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD) and not alice.check_password(new)


def test_a_new_account_gets_an_invitation_not_a_password_chosen_by_staff(
    sign_in, support, contoso, django_capture_on_commit_callbacks
):
    staff = sign_in(support)
    assert "password1" not in staff.get("/admin/accounts/user/add/").content.decode()
    chosen = "Chosen-by-staff-2026"
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            "/admin/accounts/user/add/",
            {
                "email": "gina@contoso.example",
                "first_name": "Gina",
                "last_name": "Global",
                "partner": contoso.pk,
                "roles": [Role.GLOBAL_ADMIN],
                "usable_password": "true",
                "password1": chosen,
                "password2": chosen,
            },
        )
    assert response.status_code == 302
    gina = contoso.users.get(email="gina@contoso.example")
    assert not gina.has_usable_password()
    assert sign_in_with_the_form(Client(), gina.email, chosen).status_code != 302
    (invitation,) = mail.outbox
    assert invitation.to == ["gina@contoso.example"]
    assert "An account with this email address has been created for you at Contoso Ltd" in (
        invitation.body
    )
    assert logged(contoso, Action.PASSWORD_LINK_SENT) == [
        ("invitation: gina@contoso.example", support.email)
    ]
    # The link lets Gina, and only Gina, choose her password.
    client = Client()
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", invitation.body)
    form = client.get(link.group(1), follow=True)
    mine = "Gina-chose-this-2026"
    client.post(form.redirect_chain[-1][0], {"password1": mine, "password2": mine})
    gina.refresh_from_db()
    assert gina.check_password(mine)


def test_support_staff_send_a_password_reset_link(sign_in, support, alice, contoso):
    response = sign_in(support).post(
        "/admin/accounts/user/",
        {"action": "send_password_reset_links", "_selected_action": [alice.pk]},
    )
    assert response.status_code == 302
    (email,) = mail.outbox
    assert email.to == [alice.email] and "/accounts/password/reset/key/" in email.body
    assert logged(contoso, Action.PASSWORD_LINK_SENT) == [
        ("password reset link: alice@contoso.example", support.email)
    ]


# Changes made by the account itself


def test_a_stolen_session_cookie_alone_cannot_change_the_sign_in_email(client, mona):
    client.force_login(mona)  # the cookie, without the password behind it
    response = client.post(
        "/accounts/email/", {"email": "thief@example.net", "action_add": ""}, follow=True
    )
    assert response.redirect_chain[0][0].startswith("/accounts/reauthenticate/")
    assert not EmailAddress.objects.filter(email="thief@example.net").exists()


def confirmation_code():
    return re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", mail.outbox[-1].body, re.M).group(1)


def test_adding_making_primary_and_removing_an_email_is_audited_and_emailed(contoso, mona):
    client = signed_in_with_the_form(mona)
    # Asked for the password again, then for the code sent to the new address.
    response = client.post("/accounts/email/", {"email": "mona@personal.example", "action_add": ""})
    assert response["Location"].startswith("/accounts/reauthenticate/")
    response = client.post(response["Location"], {"password": PASSWORD})
    assert mail.outbox[-1].to == ["mona@personal.example"]
    client.post(response["Location"], {"code": confirmation_code()})
    assert logged(contoso, Action.EMAIL_ADDED) == [
        ("mona@contoso.example: mona@personal.example", mona.email)
    ]
    assert mail.outbox[-1].to == ["mona@contoso.example"]
    assert "mona@personal.example has been added" in mail.outbox[-1].body

    mail.outbox.clear()
    client.post("/accounts/email/", {"email": "mona@personal.example", "action_primary": ""})
    mona.refresh_from_db()
    assert mona.email == "mona@personal.example"
    assert logged(contoso, Action.EMAIL_CHANGED) == [
        ("mona@contoso.example -> mona@personal.example", "mona@personal.example")
    ]
    # Both the old address and the new one hear of it.
    assert {m.to[0] for m in mail.outbox} == {"mona@contoso.example", "mona@personal.example"}

    mail.outbox.clear()
    client.post("/accounts/email/", {"email": "mona@contoso.example", "action_remove": ""})
    assert logged(contoso, Action.EMAIL_REMOVED) == [
        ("mona@personal.example: mona@contoso.example", "mona@personal.example")
    ]
    assert [m.to for m in mail.outbox] == [["mona@personal.example"]]


def test_a_password_change_is_audited_and_emailed(contoso, mona):
    client = signed_in_with_the_form(mona)
    new = "A-new-passphrase-2026"
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    assert response.status_code == 302
    assert logged(contoso, Action.PASSWORD_CHANGED) == [
        ("mona@contoso.example: changed", mona.email)
    ]
    assert [m.to for m in mail.outbox] == [["mona@contoso.example"]]


def test_a_password_reset_by_email_is_audited(client, contoso, nora):
    client.post("/accounts/password/reset/", {"email": nora.email})
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    form = client.get(link.group(1), follow=True)
    new = "A-new-passphrase-2026"
    client.post(form.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert logged(contoso, Action.PASSWORD_CHANGED) == [
        ("nora@contoso.example: reset by email link", nora.email)
    ]
    assert "password has been reset" in mail.outbox[-1].body.lower()


def test_removing_and_adding_two_factor_is_audited_and_emailed(contoso, mona):
    client = signed_in_with_the_form(mona)
    response = client.post("/accounts/2fa/totp/deactivate/")
    assert response["Location"].startswith("/accounts/reauthenticate/")
    client.post(response["Location"], {"password": PASSWORD})
    assert logged(contoso, Action.TWO_FACTOR_REMOVED) == [
        ("mona@contoso.example: TOTP Authenticator", mona.email)
    ]
    assert mail.outbox and mail.outbox[-1].to == [mona.email]
    # The role requires it: the next page is setting one up again.
    assert client.get(PAGE)["Location"].startswith("/accounts/2fa/totp/activate")


def test_a_code_typed_with_full_width_digits_signs_in(client, alice):
    wide = totp_code().translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    response = sign_in_with_the_form(client, alice.email, code=wide)
    assert response["Location"] == PAGE


# Changes made by support staff in admin


def test_an_email_changed_by_staff_is_audited_and_both_addresses_are_told(
    sign_in, support, contoso, aaron
):
    response = sign_in(support).post(
        f"/admin/accounts/user/{aaron.pk}/change/",
        change_form(aaron, email="aaron.new@contoso.example", roles=[Role.ADMIN_AGENT]),
    )
    assert response.status_code == 302
    assert logged(contoso, Action.EMAIL_CHANGED) == [
        ("aaron@contoso.example -> aaron.new@contoso.example", support.email)
    ]
    assert {m.to[0] for m in mail.outbox} == {
        "aaron@contoso.example",
        "aaron.new@contoso.example",
    }
    assert list(EmailAddress.objects.filter(user=aaron).values_list("email", flat=True)) == [
        "aaron.new@contoso.example"
    ]


@pytest.fixture
def fabrikam(db):
    return PartnerFactory(name="Fabrikam Inc", mpn_id="4423456")


def test_moving_an_account_takes_its_roles_contracts_and_sessions(
    sign_in, support, alice, contoso, aaron, fabrikam, django_capture_on_commit_callbacks
):
    from entitlements.rules import Benefit

    contract = contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)
    ContractLink.objects.create(user=aaron, contract=contract)
    aarons_browser = signed_in_with_the_form(aaron)

    with django_capture_on_commit_callbacks(execute=True):
        response = sign_in(support).post(
            f"/admin/accounts/user/{aaron.pk}/change/",
            change_form(aaron, partner=fabrikam.pk, roles=[Role.ADMIN_AGENT]),  # still ticked
        )

    assert response.status_code == 302
    aaron.refresh_from_db()
    assert aaron.partner == fabrikam
    assert not aaron.role_assignments.exists()
    assert not ContractLink.objects.filter(user=aaron).exists()
    assert aarons_browser.get(PAGE)["Location"].startswith("/accounts/login/")
    assert logged(contoso, Action.ACCOUNT_LEFT) == [
        ("aaron@contoso.example -> Fabrikam Inc", support.email)
    ]
    assert logged(contoso, Action.ROLE_REMOVED) == [
        ("Admin agent: aaron@contoso.example", support.email)
    ]
    assert len(logged(contoso, Action.CONTRACT_UNLINKED)) == 1
    assert logged(fabrikam, Action.ACCOUNT_JOINED) == [
        ("aaron@contoso.example <- Contoso Ltd", support.email)
    ]
    # In Fabrikam it sees no benefits until a Fabrikam admin gives it a role.
    again = Client()
    again.force_login(aaron)
    assert again.get(PAGE).status_code == 403


def test_a_deactivated_account_loses_its_contracts(sign_in, support, alice, contoso, nora):
    from entitlements.rules import Benefit

    contract = contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)
    ContractLink.objects.create(user=nora, contract=contract)
    form = change_form(nora)
    form.pop("is_active")
    assert sign_in(support).post(f"/admin/accounts/user/{nora.pk}/change/", form).status_code == 302
    assert not ContractLink.objects.filter(user=nora).exists()
    assert logged(contoso, Action.ACCOUNT_DEACTIVATED) == [("nora@contoso.example", support.email)]
