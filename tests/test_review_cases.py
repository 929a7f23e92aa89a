"""Cases found by trying to break limits, credentials and contract holders: each failed
before its fix."""

import json
import threading

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from audit.models import AuditEntry
from entitlements.rules import Benefit
from support import services
from support.models import ContractLink, SupportContract

from .factories import PASSWORD, UserFactory, sign_in_with_the_form
from .test_admin import change_form
from .test_support import ADD, add, contract_for

WIDE = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture
def contract(alice, contoso):
    return contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)


def test_ids_in_arabic_indic_digits_are_the_same_ids(sign_in, bob, contract):
    response = add(
        sign_in(bob),
        contract,
        access_id=contract.access_id.translate(ARABIC),
        contract_id=contract.contract_id.translate(ARABIC),
    )
    assert "Contract added" in response.content.decode()


def test_wrong_pairs_from_one_ipv6_network_count_as_one_address(client, contract, db):
    for i in range(21):
        client.force_login(UserFactory())
        client.post(
            ADD,
            {"access_id": contract.access_id, "contract_id": "123456789"},
            REMOTE_ADDR=f"2001:db8::{i}:1",
        )
    client.force_login(UserFactory())
    wrong = {"access_id": contract.access_id, "contract_id": "123456789"}
    client.post(ADD, wrong, REMOTE_ADDR="2001:db8::ff:1")
    right = {"access_id": contract.access_id, "contract_id": contract.contract_id}
    assert client.post(ADD, right, REMOTE_ADDR="2001:db8::ff:2").status_code == 429


def test_more_proxies_configured_than_forwarded_is_no_error(client, settings, alice):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2
    response = client.post(
        "/accounts/login/",
        {"login": alice.email, "password": "wrong"},
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert response.status_code == 200


def test_reissuing_without_the_ids_seen_is_refused(sign_in, alice, contract):
    from django.urls import reverse

    response = sign_in(alice).post(reverse("reissue_contract_ids", args=[contract.pk]))
    assert response.status_code == 400
    assert SupportContract.objects.get(pk=contract.pk).access_id == contract.access_id


def test_a_double_submit_of_the_admins_reissue_reissues_once(sign_in, support, contract):
    staff = sign_in(support)
    confirm = {
        "action": "reissue_ids",
        "_selected_action": [contract.pk],
        "apply": "1",
        "seen": json.dumps({str(contract.pk): contract.access_id}),
    }
    staff.post("/admin/support/supportcontract/", confirm)
    staff.post("/admin/support/supportcontract/", confirm)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CONTRACT_IDS_REISSUED).count() == 1


def test_staff_cannot_give_an_account_anothers_verified_address(sign_in, support, aaron, nora):
    EmailAddress.objects.create(user=nora, email="nora@personal.example", verified=True)
    response = sign_in(support).post(
        f"/admin/accounts/user/{aaron.pk}/change/",
        change_form(aaron, email="nora@personal.example"),
    )
    assert response.status_code == 200
    assert "An account with this email address already exists." in response.content.decode()
    aaron.refresh_from_db()
    assert aaron.email == "aaron@contoso.example"


def test_allauths_address_and_authenticator_pages_only_read(client, mona, db):
    from allauth.mfa.models import Authenticator

    root = UserFactory(partner=None, is_staff=True, is_superuser=True)
    client.force_login(root)
    totp = Authenticator.objects.get(user=mona)
    assert (
        client.post(f"/admin/mfa/authenticator/{totp.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    response = client.post(
        "/admin/account/emailaddress/add/",
        {"user": mona.pk, "email": "evil@example.net", "verified": "on", "primary": ""},
    )
    assert response.status_code == 403
    assert Authenticator.objects.filter(pk=totp.pk).exists()
    assert not EmailAddress.objects.filter(email="evil@example.net").exists()


@pytest.mark.django_db(transaction=True)  # the invitation goes after a real commit
def test_an_invitation_that_cant_be_sent_says_so(sign_in, support, contoso, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    response = sign_in(support).post(
        "/admin/accounts/user/add/",
        {"email": "gina@contoso.example", "partner": contoso.pk},
        follow=True,
    )
    assert response.status_code == 200
    assert "the invitation email could not be sent" in response.content.decode()
    assert contoso.users.filter(email="gina@contoso.example").exists()


def test_a_password_change_with_the_mail_server_away_is_no_error_page(settings, mona):
    client = Client()
    sign_in_with_the_form(client, mona.email)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    new = "A-new-passphrase-2026"
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    assert response.status_code == 302
    mona.refresh_from_db()
    assert mona.check_password(new)


def test_an_email_code_typed_full_width_is_the_same_code(mona):
    import re

    client = Client()
    sign_in_with_the_form(client, mona.email)
    response = client.post("/accounts/email/", {"email": "mona@home.example", "action_add": ""})
    response = client.post(response["Location"], {"password": PASSWORD})
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", mail.outbox[-1].body, re.M).group(1)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in code)  # ＡＢＣＤ－１２３４
    client.post(response["Location"], {"code": wide})
    assert EmailAddress.objects.filter(email="mona@home.example", verified=True).exists()


@pytest.mark.django_db(transaction=True)
def test_the_old_ids_add_nothing_once_a_reissue_under_way_commits(alice, contoso, bob):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write at a time: no two transactions interleave")
    contract = contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)
    old = (contract.access_id, contract.contract_id)
    drawing = threading.Event()
    release = threading.Event()
    numbers = iter(["555555555", "666666666"])

    def slow_draw():
        drawing.set()
        release.wait(10)
        return next(numbers)

    def reissue():
        try:
            services.reissue_ids(contract.pk, old[0], alice, draw=slow_draw)
        finally:
            connection.close()

    outcome = {}

    def add_old_pair():
        try:
            from django.db import transaction

            with transaction.atomic():
                outcome["link"] = services.add_contract(bob, *old)
        except services.WrongIds:
            outcome["wrong"] = True
        finally:
            connection.close()

    reissuer = threading.Thread(target=reissue)
    reissuer.start()
    assert drawing.wait(10)
    adder = threading.Thread(target=add_old_pair)
    adder.start()
    adder.join(1)  # waits on the re-issue's lock
    release.set()
    reissuer.join(10)
    adder.join(10)
    assert outcome == {"wrong": True}
    assert not ContractLink.objects.filter(user=bob).exists()
