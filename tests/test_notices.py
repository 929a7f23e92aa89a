"""The outbox: telling someone once, emailing them at least once, and their notices page."""

import datetime
import json
import re
import smtplib

import psycopg
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts import access, people
from accounts.models import Invitation, User
from entitlements.models import Role
from entitlements.rules import Benefit
from notices import services, tasks
from notices.models import Notice
from notices.services import LEASE, MAX_ATTEMPTS, send_pending, tell

from .workers import worker_database_url

PAGE = reverse("notices:notices")
INVITATION_LINK = re.compile(r"http\S+/dashboard/account/invitation/(\S+)")
CONTEXT = {
    "benefit": Benefit.PRODUCT_SUPPORT,
    "partner": "Contoso Ltd",
    "contract_id": "412345678",
    "ends_on": datetime.date(2027, 3, 31),
    "incidents_remaining": 4,
}


def tell_expiring(person, about="contract:1"):
    return tell(
        person,
        "contract_expiring_7",
        about=about,
        context=CONTEXT,
        url="/supportforbusiness/contracts",
    )


def test_a_person_is_told_of_an_event_once_however_often_it_is_told(alice, clock):
    assert tell_expiring(alice) is True
    assert tell_expiring(alice) is False
    assert tell_expiring(alice, about="contract:2") is True
    assert Notice.objects.filter(recipient=alice).count() == 2
    send_pending()
    send_pending()
    assert [m.to for m in mail.outbox] == [[alice.email], [alice.email]]


def test_the_database_refuses_a_second_row_for_one_person_and_event(alice, clock):
    tell_expiring(alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notice.objects.create(
            recipient=alice, kind="contract_expiring_7", about="contract:1", created_at=clock.now()
        )


def test_telling_keeps_the_callers_transaction_going_after_a_repeat(alice, mona, clock):
    with transaction.atomic():
        tell_expiring(alice)
        assert tell_expiring(alice) is False  # its savepoint rolled back, not the transaction
        assert tell_expiring(mona) is True
    assert Notice.objects.count() == 2


def test_an_unknown_kind_is_refused(alice, clock):
    with pytest.raises(ValueError):
        tell(alice, "no_such_kind", about="x")


def test_a_sender_sends_once_and_another_sweep_changes_nothing(alice, clock):
    tell_expiring(alice)
    notice = Notice.objects.get()
    assert send_pending() == 1
    assert send_pending() == 0
    notice.refresh_from_db()
    assert (notice.sent_at, notice.email_due_at, notice.attempts) == (clock.now(), None, 1)
    [email] = mail.outbox
    assert email.subject == "Microsoft Product Support contract 412345678 ends on March 31, 2027"
    assert "http://" in email.body and "/supportforbusiness/contracts" in email.body


def test_a_burst_of_emails_goes_over_one_connection_to_the_mail_server(alice, clock, monkeypatch):
    opened = []

    def connection(**kwargs):
        opened.append(EmailBackend(**kwargs))
        return opened[-1]

    monkeypatch.setattr(services, "get_connection", connection)
    for n in range(services.BATCH_SIZE * 2 + 5):  # three batches
        tell_expiring(alice, about=f"contract:{n}")
    assert send_pending() == services.BATCH_SIZE * 2 + 5
    assert len(opened) == 1 and len(mail.outbox) == services.BATCH_SIZE * 2 + 5


def test_a_claim_of_a_sender_that_was_killed_lapses_and_the_sweep_sends(alice, clock):
    tell_expiring(alice)
    # A worker claimed it and was killed before it sent anything.
    Notice.objects.update(email_due_at=clock.now() + LEASE, attempts=1)
    assert send_pending() == 0
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert send_pending() == 1
    assert len(mail.outbox) == 1


def test_an_email_whose_sender_never_ends_uses_up_its_tries_and_is_given_up(
    alice, clock, monkeypatch
):
    """Each try is counted when the email is claimed: one that stops its sender every time
    (its task out of time, its worker killed) is given up after MAX_ATTEMPTS, not tried
    forever."""
    tell_expiring(alice)

    def out_of_time(*args, **kwargs):
        raise SoftTimeLimitExceeded

    monkeypatch.setattr(EmailBackend, "send_messages", out_of_time)
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(SoftTimeLimitExceeded):
            send_pending()
        clock.advance(seconds=LEASE.total_seconds() + 1)
    assert send_pending() == 0
    notice = Notice.objects.get()
    assert notice.gave_up_at == clock.now() and notice.email_due_at is None
    assert notice.attempts == MAX_ATTEMPTS + 1


def test_with_the_broker_down_the_change_stands_and_the_sweep_sends(
    alice, clock, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(tasks.send_pending_notices, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        assert tell_expiring(alice) is True
    assert "Could not reach the broker" in caplog.text
    assert mail.outbox == []
    assert send_pending() == 1
    assert [m.to for m in mail.outbox] == [[alice.email]]


def test_the_broker_nudges_a_sender_once_the_change_commits(
    alice, mona, clock, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        tasks.send_pending_notices, "apply_async", lambda **kw: sent.append(send_pending())
    )
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        tell_expiring(alice)
        tell_expiring(mona)
        assert sent == []  # nothing before the commit
    assert sent == [2, 0]  # the first sender sent both; the second found nothing left
    assert len(mail.outbox) == 2


class Server:
    """The mail server, failing every email with `error` while it is set."""

    def __init__(self, monkeypatch):
        self.error = None
        real = EmailBackend.send_messages

        def send_messages(backend, messages):
            if self.error:
                raise self.error
            return real(backend, messages)

        monkeypatch.setattr(EmailBackend, "send_messages", send_messages)


def test_a_mail_server_that_is_away_is_tried_again_later_each_time(alice, clock, monkeypatch):
    server = Server(monkeypatch)
    server.error = smtplib.SMTPServerDisconnected("gone")
    tell_expiring(alice)
    waits = []
    for _ in range(3):
        before = clock.now()
        assert send_pending() == 0
        notice = Notice.objects.get()
        waits.append((notice.email_due_at - before).total_seconds())
        clock.advance(seconds=waits[-1])
    assert waits == [30, 60, 120]
    server.error = None
    assert send_pending() == 1
    notice.refresh_from_db()
    assert (notice.attempts, notice.last_error, notice.gave_up_at) == (4, "", None)


def test_a_server_that_is_away_ends_the_round_and_the_rest_are_sent_later(
    alice, mona, clock, monkeypatch
):
    server = Server(monkeypatch)
    tell_expiring(alice)
    tell_expiring(mona)
    server.error = smtplib.SMTPServerDisconnected("gone")
    assert send_pending() == 0
    # One try, not one per email: Mona's waits for the round after the claim lapses.
    assert sorted(Notice.objects.values_list("attempts", flat=True)) == [0, 1]
    server.error = None
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert send_pending() == 2
    assert sorted(m.to[0] for m in mail.outbox) == [alice.email, mona.email]


def test_a_notice_that_cannot_be_written_holds_up_no_other(alice, mona, clock, monkeypatch):
    real = services.email_of

    def broken_for_alice(notice):
        if notice.recipient == alice:
            raise KeyError("a template's mistake")
        return real(notice)

    monkeypatch.setattr(services, "email_of", broken_for_alice)
    tell_expiring(alice)
    tell_expiring(mona)
    assert send_pending() == 1
    assert [m.to for m in mail.outbox] == [[mona.email]]
    assert Notice.objects.get(recipient=alice).email_due_at > clock.now()  # tried later


def test_after_many_tries_the_email_is_given_up_and_logged(alice, clock, monkeypatch, caplog):
    Server(monkeypatch).error = smtplib.SMTPServerDisconnected("gone")
    tell_expiring(alice)
    for _ in range(MAX_ATTEMPTS + 2):
        send_pending()
        clock.advance(hours=4)
    notice = Notice.objects.get()
    assert notice.attempts == MAX_ATTEMPTS
    assert notice.gave_up_at is not None and notice.email_due_at is None
    assert "given up" in caplog.text
    assert not Notice.objects.email_pending().exists()


def test_a_refused_address_is_given_up_at_once_and_the_notice_stays(
    sign_in, alice, clock, monkeypatch, caplog
):
    Server(monkeypatch).error = smtplib.SMTPRecipientsRefused({alice.email: (550, b"No such")})
    tell_expiring(alice)
    assert send_pending() == 0
    clock.advance(days=1)
    assert send_pending() == 0
    notice = Notice.objects.get()
    assert (notice.attempts, notice.email_due_at) == (1, None)
    assert "refused" in caplog.text
    assert "ends on March 31, 2027" in sign_in(alice).get(PAGE).content.decode()


def test_an_account_deactivated_before_the_email_goes_is_not_emailed(alice, mona, clock):
    tell_expiring(mona)
    User.objects.filter(pk=mona.pk).update(is_active=False)
    assert send_pending() == 0
    assert mail.outbox == []


def test_a_japanese_reader_gets_the_email_and_the_notice_in_japanese(sign_in, alice, clock):
    User.objects.filter(pk=alice.pk).update(language="ja")
    alice.refresh_from_db()
    tell_expiring(alice)
    send_pending()
    [email] = mail.outbox
    assert email.subject == "Microsoft 製品サポート の契約 412345678 は 2027年3月31日 に終了します"
    assert "契約 412345678 は 2027年3月31日 に終了します" in email.body
    page = sign_in(alice).get(PAGE).content.decode()
    assert "<h1>お知らせ</h1>" in page
    assert "契約 412345678 は 2027年3月31日 に終了します" in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_the_sweep_skips_a_notice_another_sender_holds(alice, clock):
    tell_expiring(alice)
    notice = Notice.objects.get()
    with psycopg.connect(worker_database_url(), autocommit=False) as other:
        other.execute("SELECT id FROM notices_notice WHERE id = %s FOR UPDATE", [notice.pk])
        assert send_pending() == 0  # not waiting for the lock: the holder is sending it
        other.rollback()
    assert send_pending() == 1


# The notices page


def test_the_page_lists_ones_own_notices_newest_first_unread_marked(sign_in, alice, mona, clock):
    tell_expiring(alice, about="contract:1")
    clock.advance(hours=1)
    tell(alice, "incidents_low", about="contract:2", context={**CONTEXT, "incidents_remaining": 2})
    tell_expiring(mona, about="contract:3")
    client = sign_in(alice)
    page = client.get(PAGE).content.decode()
    newer = page.index("2 incidents left on Microsoft Product Support contract 412345678")
    older = page.index("Microsoft Product Support contract 412345678 ends on March 31, 2027")
    assert newer < older
    assert page.count(">Unread</span>") == 2
    assert '<span class="bell-count">2<' in page
    assert page.count('name="open" value="1"') == 1  # the one with a link: opening marks it read


def test_marking_read_one_then_all_and_again_changes_nothing_more(sign_in, alice, clock):
    tell_expiring(alice, about="contract:1")
    tell_expiring(alice, about="contract:2")
    first = Notice.objects.get(about="contract:1")
    client = sign_in(alice)
    response = client.post(reverse("notices:mark_read", args=[first.pk]), {"page": "1"})
    assert response.status_code == 302 and response.url == f"{PAGE}?page=1"
    assert client.post(reverse("notices:mark_read", args=[first.pk])).status_code == 302
    page = client.get(PAGE).content.decode()
    assert page.count(">Unread</span>") == 1 and '<span class="bell-count">1<' in page
    client.post(reverse("notices:mark_all_read"))
    client.post(reverse("notices:mark_all_read"))  # a double click
    page = client.get(PAGE).content.decode()
    assert ">Unread</span>" not in page and "bell-count" not in page
    assert page.count('<a href="/supportforbusiness/contracts">') == 2
    assert Notice.objects.filter(read_at__isnull=True).count() == 0


def test_opening_a_notice_marks_it_read_and_follows_its_link(sign_in, alice, clock):
    tell_expiring(alice)
    notice = Notice.objects.get()
    response = sign_in(alice).post(reverse("notices:mark_read", args=[notice.pk]), {"open": "1"})
    assert response.url == "/supportforbusiness/contracts"
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_another_persons_notice_is_a_404_and_stays_unread(sign_in, alice, mona, bob, clock):
    tell_expiring(mona)
    notice = Notice.objects.get()
    for someone in (alice, bob):
        client = sign_in(someone)
        assert client.post(reverse("notices:mark_read", args=[notice.pk])).status_code == 404
        client.post(reverse("notices:mark_all_read"))
        assert "412345678" not in client.get(PAGE).content.decode()
    notice.refresh_from_db()
    assert notice.read_at is None


def test_with_nothing_to_tell_the_page_says_so(sign_in, nora):
    page = sign_in(nora).get(PAGE).content.decode()
    assert "Nothing to tell you yet." in page and "bell-count" not in page


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(page=st.text(max_size=30), posted=st.text(max_size=30))
def test_any_page_number_or_form_answers_without_an_error(sign_in, alice, page, posted):
    client = sign_in(alice)
    assert client.get(PAGE, {"page": page}).status_code == 200
    response = client.post(reverse("notices:mark_all_read"), {"page": posted, "open": posted})
    assert response.status_code == 302 and response.url.startswith(PAGE)


# Moving onto the outbox


@pytest.mark.django_db(transaction=True)
def test_activation_emails_not_sent_before_the_outbox_are_sent_from_it(alice, mona, contoso):
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    before = [("activation", "0008_who_was_told_ids_are_ready"), ("notices", "0001_outbox")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Request = old.get_model("activation", "ActivationRequest")
    Contract = old.get_model("support", "SupportContract")
    now = timezone.now()
    offers = list(contoso.offers.order_by("pk"))
    requests = []
    for n, offer in enumerate(offers):
        request = Request.objects.create(
            offer_id=offer.pk,
            benefit="product_support",
            requested_by_id=mona.pk,
            state="active",
            requested_at=now,
            completed_at=now,
            expected_at=now,
            notified_at=now if n else None,  # the second one's emails all went
        )
        Contract.objects.create(
            activation=request,
            partner_id=contoso.pk,
            benefit="product_support",
            access_id=f"41234567{n}",
            contract_id=f"51234567{n}",
            starts_on=now.date(),
            ends_on=now.date(),
            incidents_total=20,
            incidents_remaining=20,
        )
        requests.append(request)
    requests[0].notice_sent_to.add(alice.pk)  # Alice was emailed before the sender stopped

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    [notice] = Notice.objects.all()
    assert (notice.recipient_id, notice.about) == (mona.pk, f"activation:{requests[0].pk}")
    assert send_pending() == 1
    [email] = mail.outbox
    assert email.to == [mona.email] and "412345670" in email.body


def test_an_account_moved_to_another_company_is_neither_emailed_nor_shown_the_old_ones(
    sign_in, alice, bob, clock
):
    tell_expiring(alice)
    User.objects.filter(pk=alice.pk).update(partner=bob.partner)
    alice.refresh_from_db()
    assert send_pending() == 0
    assert mail.outbox == []
    assert Notice.objects.get().last_error == "Left the company"
    page = sign_in(alice).get(PAGE).content.decode()
    assert "ends on" not in page and "bell-count" not in page
    notice = Notice.objects.get()
    assert sign_in(alice).post(reverse("notices:mark_read", args=[notice.pk])).status_code == 404


def test_a_recipient_refused_for_now_is_tried_again_later(alice, clock, monkeypatch):
    server = Server(monkeypatch)
    server.error = smtplib.SMTPRecipientsRefused({alice.email: (451, b"4.7.1 Greylisted")})
    tell_expiring(alice)
    assert send_pending() == 0
    notice = Notice.objects.get()
    assert (notice.gave_up_at, notice.email_due_at > clock.now()) == (None, True)
    server.error = None
    clock.advance(seconds=31)
    assert send_pending() == 1
    assert [m.to for m in mail.outbox] == [[alice.email]]


def test_a_notice_whose_title_cannot_be_written_still_leaves_the_page_readable(
    sign_in, alice, clock
):
    tell(alice, "incidents_low", about="contract:9", context={"incidents_remaining": "many"})
    tell_expiring(alice)
    response = sign_in(alice).get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Few incidents left" in page and "ends on March 31, 2027" in page


def test_mark_all_read_leaves_unread_what_came_after_the_page_was_shown(sign_in, alice, clock):
    tell_expiring(alice, about="contract:1")
    client = sign_in(alice)
    shown = client.get(PAGE).content.decode()
    newest = Notice.objects.get().pk
    assert f'name="newest" value="{newest}"' in shown
    tell_expiring(alice, about="contract:2")  # arrives while the page is open
    client.post(reverse("notices:mark_all_read"), {"newest": str(newest)})
    assert list(Notice.objects.filter(read_at__isnull=True).values_list("about", flat=True)) == [
        "contract:2"
    ]


# What the portal tells people of their account and access, through the same outbox


def test_an_invitation_made_while_the_mail_server_is_away_goes_once_it_is_back(
    alice, contoso, clock, monkeypatch
):
    server = Server(monkeypatch)
    server.error = smtplib.SMTPServerDisconnected("gone")
    invitation = people.invite(contoso, alice, "ivy@contoso.example", "Ivy", "Ives", [], "en")
    assert send_pending() == 0 and mail.outbox == []
    server.error = None
    clock.advance(seconds=30)
    assert send_pending() == 1
    [email] = mail.outbox
    assert email.to == ["ivy@contoso.example"]
    assert "Alice" in email.body and "Contoso Ltd" in email.subject
    key = INVITATION_LINK.search(email.body).group(1)
    assert key == invitation.key
    # Neither the invitation nor the outbox keeps a key that works: only the key's digest.
    assert not Invitation.objects.filter(key_digest=key).exists()
    assert key not in json.dumps(list(Notice.objects.values_list("context", flat=True)))
    assert people.accept(key, "A long enough passphrase 2026").email == "ivy@contoso.example"
    # An invitation is only emailed: the invitee can't sign in to read a notice.
    assert not Notice.objects.of(User.objects.get(email="ivy@contoso.example")).exists()


def test_an_invitation_sent_again_before_its_email_went_sends_only_the_new_link(alice, contoso):
    first = people.invite(contoso, alice, "ivy@contoso.example", "Ivy", "Ives", [], "en")
    second = people.resend(alice, first.user)
    assert send_pending() == 1
    [email] = mail.outbox
    assert INVITATION_LINK.search(email.body).group(1) == second.key
    assert Notice.objects.get(about=f"invitation:{first.pk}").last_error == (
        "Invitation no longer open"
    )


def test_a_deactivated_person_is_emailed_and_told_in_the_portal_once_back(sign_in, alice, nora):
    people.deactivate(alice, nora)
    assert send_pending() == 1
    assert mail.outbox[-1].to == [nora.email] and "deactivated" in mail.outbox[-1].subject
    people.reactivate(alice, nora)
    assert send_pending() == 1
    assert "reactivated" in mail.outbox[-1].subject
    page = sign_in(nora).get(PAGE).content.decode()
    assert "was reactivated" in page
    assert "was deactivated" not in page  # an email only: nora could not sign in to read it


def test_someone_removed_from_the_company_is_still_emailed(alice, nora):
    people.remove_from_company(alice, nora)
    assert send_pending() == 1
    [email] = mail.outbox
    assert email.to == [nora.email] and "removed from Contoso Ltd" in email.subject


def test_a_role_change_is_a_notice_in_the_readers_language(sign_in, alice, nora, clock):
    User.objects.filter(pk=nora.pk).update(language="ja")
    nora.refresh_from_db()
    people.change_roles(alice, nora, [Role.ADMIN_AGENT])
    people.change_roles(alice, nora, [])
    assert send_pending() == 2
    assert all("ロールが変更されました" in email.subject for email in mail.outbox)
    assert "管理エージェント" in mail.outbox[0].body
    page = sign_in(nora).get(PAGE).content.decode()
    assert "Contoso Ltd でのロールが変更されました" in page
    assert page.count('class="notice-row unread"') == 2
    assert '<span class="bell-count">2<' in page


def test_an_invitee_deactivated_while_the_email_waited_gets_it_once_reactivated(
    alice, contoso, clock, monkeypatch
):
    server = Server(monkeypatch)
    server.error = smtplib.SMTPServerDisconnected("gone")
    invitation = people.invite(contoso, alice, "ivy@contoso.example", "Ivy", "Ives", [], "en")
    assert send_pending() == 0
    server.error = None
    people.deactivate(alice, invitation.user)
    clock.advance(seconds=30)
    assert send_pending() == 0  # given up: nobody to invite
    people.reactivate(alice, invitation.user)
    assert send_pending() == 1
    [email] = mail.outbox
    assert INVITATION_LINK.search(email.body).group(1) == invitation.key


def test_a_request_for_a_role_is_not_emailed_to_someone_who_may_no_longer_decide(
    alice, ursula, nora
):
    access.request_access(nora, Role.ADMIN_AGENT, "Customers")
    people.change_roles(alice, ursula, [])  # the User admin is one no longer
    send_pending()
    asked = [email.to for email in mail.outbox if "Admin agent" in email.subject]
    assert asked == [[alice.email]]
