"""Each person's language: the pages start in it after sign-in, the language switch keeps it on
the account, and every email to the person is written in it, whatever language the sender's
page was in."""

import re
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import User
from activation import services
from activation.models import ActivationRequest
from entitlements.models import Role
from entitlements.rules import Benefit
from notices.models import Notice
from notices.services import LEASE, send_pending

from .factories import PASSWORD, UserFactory, sign_in_with_the_form
from .test_admin import change_form

PAGE = "/dashboard/mpn/membership/benefits/technical"
OTHER = {"ja": "zh-hans", "zh-hans": "ja"}
RESET_TEXT = (
    "You're receiving this email because you or someone else has requested a password reset "
    "for your user account.\nIt can be safely ignored if you did not request a password reset. "
    "Click the link below to reset your password."
)


def say(language, text):
    """`text` in `language`, failing if the catalogs have no translation of it."""
    with translation.override(language):
        result = gettext(text)
    assert result != text, f"no {language} translation of {text!r}"
    return result


def lang_of(response):
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def english_browser():
    return Client(headers={"accept-language": "en-US,en;q=0.9"})


@pytest.fixture
def japanese_alice(alice):
    alice.language = "ja"
    alice.save()
    return alice


# The pages


def test_the_pages_are_in_the_accounts_language_whatever_the_browser_says(japanese_alice):
    client = english_browser()
    client.cookies["django_language"] = "en"
    client.force_login(japanese_alice)
    response = client.get(PAGE)
    assert lang_of(response) == "ja"
    assert f"<h1>{say('ja', 'Technical benefits')}</h1>" in response.content.decode()


def test_an_account_without_a_language_reads_the_browsers(alice):
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(alice)
    assert lang_of(client.get(PAGE)) == "zh-hans"


def test_signing_in_for_the_first_time_keeps_the_language_signed_in_with(alice):
    client = Client(headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert sign_in_with_the_form(client, alice.email).status_code == 302
    alice.refresh_from_db()
    assert alice.language == "zh-hans"
    # Later, from an English browser, the pages still start in Chinese.
    later = english_browser()
    later.force_login(alice)
    assert lang_of(later.get(PAGE)) == "zh-hans"


def test_signing_in_from_another_browser_keeps_the_language_chosen(japanese_alice):
    client = english_browser()
    sign_in_with_the_form(client, japanese_alice.email)
    japanese_alice.refresh_from_db()
    assert japanese_alice.language == "ja"
    assert lang_of(client.get(PAGE)) == "ja"


def test_choosing_a_language_while_signed_in_keeps_it_on_the_account(japanese_alice):
    client = english_browser()
    client.force_login(japanese_alice)
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": PAGE})
    assert response.status_code == 302 and response["Location"] == PAGE
    japanese_alice.refresh_from_db()
    assert japanese_alice.language == "zh-hans"
    # A new browser, after signing in again, starts in it.
    elsewhere = english_browser()
    elsewhere.force_login(japanese_alice)
    assert lang_of(elsewhere.get(PAGE)) == "zh-hans"


@pytest.mark.parametrize("language", ["de", "", "xx-" + "y" * 20, "ja-JP", "en\x00"])
def test_a_language_the_portal_doesnt_speak_changes_nothing(japanese_alice, language):
    client = english_browser()
    client.force_login(japanese_alice)
    response = client.post(reverse("set_language"), {"language": language, "next": PAGE})
    assert response.status_code == 302
    japanese_alice.refresh_from_db()
    assert japanese_alice.language == "ja"
    assert lang_of(client.get(PAGE)) == "ja"


def test_a_language_named_in_another_case_is_kept_by_its_code(japanese_alice):
    client = english_browser()
    client.force_login(japanese_alice)
    client.post(reverse("set_language"), {"language": "zh-Hans", "next": PAGE})
    japanese_alice.refresh_from_db()
    assert japanese_alice.language == "zh-hans"


def test_a_signed_out_visitors_choice_stays_with_the_browser(db, japanese_alice):
    client = english_browser()
    response = client.post(reverse("set_language"), {"language": "ja", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "ja"
    assert lang_of(client.get("/accounts/login/")) == "ja"
    assert lang_of(english_browser().get("/accounts/login/")) == "en"
    assert set(User.objects.values_list("language", flat=True)) == {"ja"}  # alice's, as it was


def test_support_staff_see_and_change_the_language_in_admin(sign_in, support, japanese_alice):
    staff = sign_in(support)
    page = staff.get(f"/admin/accounts/user/{japanese_alice.pk}/change/").content.decode()
    assert re.search(r'<option value="ja" selected>', page)
    response = staff.post(
        f"/admin/accounts/user/{japanese_alice.pk}/change/",
        change_form(japanese_alice, language="zh-hans", roles=[Role.GLOBAL_ADMIN]),
    )
    assert response.status_code == 302
    japanese_alice.refresh_from_db()
    assert japanese_alice.language == "zh-hans"


# allauth's emails, in the language of the account the address belongs to


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_a_password_reset_link_is_in_the_accounts_language(client, nora, language):
    nora.language = language
    nora.save()
    # Asked for from a page in the other language, the address typed in capitals.
    client.cookies["django_language"] = OTHER[language]
    client.post("/accounts/password/reset/", {"email": nora.email.upper()})
    [email] = mail.outbox
    assert [address.lower() for address in email.to] == [nora.email]
    assert say(language, "Password Reset Email") in email.subject
    assert say(language, RESET_TEXT) in email.body


def test_an_account_without_a_language_reads_a_reset_link_in_the_pages(client, nora):
    client.cookies["django_language"] = "zh-hans"
    client.post("/accounts/password/reset/", {"email": nora.email})
    [email] = mail.outbox
    assert say("zh-hans", "Password Reset Email") in email.subject


def test_a_reset_for_an_unknown_address_is_in_the_pages_language(client, db, settings):
    settings.ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = True
    client.cookies["django_language"] = "ja"
    client.post("/accounts/password/reset/", {"email": "stranger@example.net"})
    [email] = mail.outbox
    assert say("ja", "Unknown Account") in email.subject


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_a_password_change_notice_is_in_the_accounts_language(mona, language):
    mona.language = language
    mona.save()
    client = english_browser()
    sign_in_with_the_form(client, mona.email)
    new = "A-new-passphrase-2026"
    client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    [email] = mail.outbox
    assert email.subject.endswith(say(language, "Password Changed"))
    assert say(language, "Your password has been changed.") in email.body


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_an_added_address_gets_its_code_and_the_account_its_notice_in_its_language(mona, language):
    mona.language = language
    mona.save()
    client = english_browser()
    sign_in_with_the_form(client, mona.email)
    client.cookies["django_language"] = "en"
    response = client.post("/accounts/email/", {"email": "mona@personal.example", "action_add": ""})
    response = client.post(response["Location"], {"password": PASSWORD})
    code_email = mail.outbox[-1]
    assert code_email.to == ["mona@personal.example"]
    assert say(language, "Please Confirm Your Email Address") in code_email.subject
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", code_email.body, re.M).group(1)
    client.post(response["Location"], {"code": code})
    notice = mail.outbox[-1]
    assert notice.to == [mona.email]
    assert say(language, "Email address added") in notice.subject
    assert (
        say(language, "Email address %(added_email)s has been added to your account.")
        % {"added_email": "mona@personal.example"}
        in notice.body
    )


# The portal's own emails


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_an_invitation_from_admin_is_in_the_language_staff_chose(
    sign_in, support, contoso, language, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_in(support).post(
            "/admin/accounts/user/add/",
            {
                "email": "new.person@contoso.example",
                "first_name": "New",
                "last_name": "Person",
                "language": language,
                "partner": contoso.pk,
                "roles": [Role.ADMIN_AGENT],
            },
            headers={"accept-language": "en"},
        )
    assert response.status_code == 302
    [email] = mail.outbox
    assert email.subject.endswith(say(language, "Your account is ready: choose a password"))
    assert (
        say(language, "An account with this email address has been created for you at %(partner)s.")
        % {"partner": contoso.name}
        in email.body
    )


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_a_reset_link_sent_by_staff_is_in_the_accounts_language(sign_in, support, nora, language):
    nora.language = language
    nora.save()
    sign_in(support).post(
        "/admin/accounts/user/",
        {"action": "send_password_reset_links", "_selected_action": [nora.pk]},
    )
    [email] = mail.outbox
    assert say(language, "Password Reset Email") in email.subject


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_both_addresses_hear_of_an_email_changed_by_staff_in_the_accounts_language(
    sign_in, support, aaron, language
):
    aaron.language = language
    aaron.save()
    sign_in(support).post(
        f"/admin/accounts/user/{aaron.pk}/change/",
        change_form(aaron, email="aaron.new@contoso.example", roles=[Role.ADMIN_AGENT]),
    )
    assert sorted(m.to[0] for m in mail.outbox) == [
        "aaron.new@contoso.example",
        "aaron@contoso.example",
    ]
    for email in mail.outbox:
        assert say(language, "Email Changed") in email.subject


# The notice that the IDs are ready: one email per person, each in their language


def active(offer, requester, clock):
    request, _ = services.request_activation(offer, Benefit.PRODUCT_SUPPORT, requester)
    services.complete_now(request.pk, None)
    return ActivationRequest.objects.get(pk=request.pk)


@pytest.fixture
def gold(contoso):
    return contoso.offers.get(level="gold")


@pytest.fixture
def readers(alice, mona):
    """Alice, the Global admin, reads Japanese; Mona, who asked, reads Chinese."""
    User.objects.filter(pk=alice.pk).update(language="ja")
    User.objects.filter(pk=mona.pk).update(language="zh-hans")
    return alice, mona


def ids_ready_subject(language):
    benefit = say(language, "Microsoft Product Support")
    return say(language, "%(benefit)s is active: your Access ID and Contract ID") % {
        "benefit": benefit
    }


def test_each_person_reads_the_notice_in_their_language(readers, gold, clock):
    alice, mona = readers
    request = active(gold, mona, clock)
    assert send_pending() == 2
    by_address = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_address) == [alice.email, mona.email]
    for person, language in ((alice, "ja"), (mona, "zh-hans")):
        message = by_address[person.email]
        assert message.subject == ids_ready_subject(language)
        assert say(language, "Access ID") in message.body
        assert request.contract.access_id in message.body
        assert "Hello," not in message.body


class FailingFor:
    """The mail server, refusing to take mail for some addresses with `error`."""

    def __init__(self, monkeypatch, addresses, error):
        self.addresses, self.error = set(addresses), error
        real = EmailBackend.send_messages

        def send_messages(backend, messages):
            for message in messages:
                if self.addresses & set(message.to):
                    raise self.error
            return real(backend, messages)

        monkeypatch.setattr(EmailBackend, "send_messages", send_messages)


def test_one_failed_email_is_sent_again_without_repeating_the_others(
    readers, gold, clock, monkeypatch, sign_in, support
):
    alice, mona = readers
    request = active(gold, mona, clock)
    server = FailingFor(monkeypatch, [mona.email], smtplib.SMTPServerDisconnected("gone"))
    assert send_pending() == 1
    assert [m.to for m in mail.outbox] == [[alice.email]]

    server.addresses.clear()  # back
    clock.advance(seconds=31)  # the next try of Mona's
    assert send_pending() == 1
    assert [m.to for m in mail.outbox] == [[alice.email], [mona.email]]
    clock.advance(hours=1)
    assert send_pending() == 0
    assert len(mail.outbox) == 2
    # Support staff see who was told.
    page = sign_in(support).get(f"/admin/activation/activationrequest/{request.pk}/change/")
    assert f"{alice.email} (emailed), {mona.email} (emailed)" in page.content.decode()
    page = sign_in(support).get(f"/admin/notices/notice/?q=activation:{request.pk}")
    assert alice.email in page.content.decode() and mona.email in page.content.decode()


def test_an_address_the_server_refuses_does_not_hold_up_the_notice(
    readers, gold, clock, monkeypatch
):
    alice, mona = readers
    request = active(gold, mona, clock)
    refused = smtplib.SMTPRecipientsRefused({alice.email: (550, b"No such user")})
    FailingFor(monkeypatch, [alice.email], refused)
    assert send_pending() == 1
    assert [m.to for m in mail.outbox] == [[mona.email]]
    assert Notice.objects.get(recipient=alice, about=f"activation:{request.pk}").gave_up_at
    clock.advance(days=1)
    assert send_pending() == 0  # a refused address is not tried again


def test_a_sender_whose_claim_lapsed_leaves_the_rest_to_the_next(readers, gold, clock, monkeypatch):
    alice, mona = readers
    active(gold, mona, clock)
    real = EmailBackend.send_messages

    def slow(backend, messages):
        # While the first email was on its way, the claim lapsed and another sender took it.
        monkeypatch.setattr(EmailBackend, "send_messages", real)
        clock.advance(seconds=LEASE.total_seconds() + 1)
        assert send_pending() == 2
        return real(backend, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", slow)
    assert send_pending() == 0  # the slow sender records nothing it no longer holds
    # Alice's email went twice (at least once), Mona's once: the slow sender left hers.
    assert sorted(m.to[0] for m in mail.outbox) == [alice.email, alice.email, mona.email]
    assert not Notice.objects.email_pending().exists()


def test_a_new_user_gets_the_notice_in_the_default_language(contoso, gold, clock):
    admin = UserFactory(partner=contoso, roles=[Role.GLOBAL_ADMIN])
    with translation.override("ja"):  # whatever the sender's language
        active(gold, admin, clock)
        send_pending()
    [email] = mail.outbox
    assert email.subject == "Microsoft Product Support is active: your Access ID and Contract ID"
