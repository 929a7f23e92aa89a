"""Webhooks (issue 19): a company's endpoints told of its events, signed per Standard
Webhooks, retried with backoff, in order per subject, logged try by try, disabled after days
of failing, and never sent into the portal's own network."""

import datetime
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from standardwebhooks.webhooks import Webhook

from audit.models import AuditEntry
from cases import services as cases
from entitlements.models import Role
from entitlements.rules import Benefit
from notices import webhooks
from notices.models import Notice, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from notices.reminders import send_reminders
from notices.services import send_pending
from support import services as support_services

from .factories import PartnerFactory, UserFactory, contract_for
from .test_cases import open_incident
from .webhook_receiver import Receiver
from .workers import Worker, wait_for

ALL_EVENTS = WebhookEvent.values


@pytest.fixture(autouse=True)
def local_receivers(settings):
    settings.WEBHOOK_ALLOWED_ADDRESSES = ["127.0.0.1"]
    settings.WEBHOOK_RETRY_DELAYS = [5, 300, 1800]
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 3


@pytest.fixture
def receiver(tmp_path):
    running = Receiver(secret=None, record=tmp_path / "got.jsonl")
    yield running
    running.stop()


def add(user, receiver, events=ALL_EVENTS):
    endpoint, added = webhooks.add_endpoint(user, receiver.url, events, uuid.uuid4())
    assert added
    receiver.server.secret = endpoint.secret
    return endpoint


def attempts(delivery):
    return list(delivery.attempt_log.order_by("at", "pk").values_list("status_code", "no_answer"))


def test_a_completed_activation_reaches_the_endpoint_signed_and_in_order(alice, contoso, receiver):
    endpoint = add(alice, receiver)

    contract = contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)
    assert webhooks.send_due() == 4

    got = receiver.got()
    assert [(g["type"], g["data"]["state"]) for g in got] == [
        ("activation.stage_changed", "submitted"),
        ("activation.stage_changed", "in_review"),
        ("activation.stage_changed", "provisioning"),
        ("activation.completed", "active"),
    ]
    assert all(g["verified"] for g in got)  # the receiver checked each with the secret shown
    assert got[-1]["data"] == {
        "activation_id": contract.activation_id,
        "offer_id": contoso.offers.get(level="gold").pk,
        "benefit": "product_support",
        "product": None,
        "from_state": "provisioning",
        "state": "active",
    }
    # The IDs themselves are never in a payload: an API token with the scope reads them.
    assert contract.access_id not in str(got) and contract.contract_id not in str(got)
    assert not WebhookDelivery.objects.filter(endpoint=endpoint, delivered_at=None).exists()
    assert webhooks.send_due() == 0  # delivered once


def test_the_signature_is_standard_webhooks_and_a_wrong_secret_fails(alice, receiver):
    endpoint = add(alice, receiver, ["case.state_changed"])
    receiver.server.secret = webhooks.new_secret()  # the receiver has another secret
    webhooks.announce(
        alice.partner_id,
        "case.state_changed",
        subject="case:1",
        key="one",
        data={"case": 1},
    )
    webhooks.send_due()
    [got] = receiver.got()
    assert got["verified"] is False
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert got["id"] == delivery.message_id and delivery.message_id.startswith("msg_")
    # The secret is the Standard Webhooks form: "whsec_" and base64 of random bytes.
    assert endpoint.secret.startswith("whsec_") and Webhook(endpoint.secret)


def test_a_failing_endpoint_is_tried_again_with_backoff_and_the_log_shows_each_try(
    alice, receiver, clock
):
    endpoint = add(alice, receiver, ["case.state_changed"])
    receiver.answers.extend([500, 503])
    webhooks.announce(alice.partner_id, "case.state_changed", subject="case:7", key="k", data={})

    assert webhooks.send_due() == 0
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.state == "waiting" and delivery.attempts == 1
    assert delivery.due_at == clock.now() + datetime.timedelta(seconds=5)
    [attempt] = delivery.attempt_log.all()
    assert (attempt.status_code, attempt.excerpt) == (500, "not now: try later")

    assert webhooks.send_due() == 0  # not due yet: nothing is sent before its time
    assert len(receiver.got()) == 1
    clock.advance(seconds=5)
    assert webhooks.send_due() == 0  # 503
    delivery.refresh_from_db()
    assert delivery.due_at == clock.now() + datetime.timedelta(seconds=300)
    clock.advance(seconds=300)
    assert webhooks.send_due() == 1
    delivery.refresh_from_db()
    assert delivery.state == "delivered"
    assert attempts(delivery) == [(500, ""), (503, ""), (204, "")]
    assert [g["id"] for g in receiver.got()] == [delivery.message_id] * 3  # one webhook-id


def test_a_delivery_is_given_up_after_the_last_retry(alice, receiver, clock, settings):
    settings.WEBHOOK_RETRY_DELAYS = [5, 5]
    add(alice, receiver, ["case.state_changed"])
    receiver.answers.extend([500] * 5)
    webhooks.announce(alice.partner_id, "case.state_changed", subject="case:7", key="k", data={})
    for _ in range(5):
        webhooks.send_due()
        clock.advance(seconds=5)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "given_up" and delivery.attempts == 3
    assert len(receiver.got()) == 3


def test_deliveries_of_one_subject_wait_for_the_earlier_one(alice, receiver, clock):
    add(alice, receiver, ["case.state_changed"])
    receiver.answers.append(500)
    for n, state in enumerate(["in_progress", "resolved"]):
        webhooks.announce(
            alice.partner_id,
            "case.state_changed",
            subject="case:1",
            key=f"case:1:{n}",
            data={"state": state},
        )
    webhooks.announce(
        alice.partner_id,
        "case.state_changed",
        subject="case:2",
        key="case:2:0",
        data={"state": "closed"},
    )

    webhooks.send_due()
    # case:1's first failed: its second waits behind it, and the endpoint is not called again
    # this round (case:2 waits for the next).
    assert [g["data"]["state"] for g in receiver.got()] == ["in_progress"]
    assert WebhookDelivery.objects.filter(attempts=0, due_at__isnull=False).count() == 2
    clock.advance(seconds=5)
    webhooks.send_due()
    assert [g["data"]["state"] for g in receiver.got()] == [
        "in_progress",
        "in_progress",
        "closed",
        "resolved",
    ]


def test_an_event_is_announced_once_and_only_to_the_endpoints_that_asked(
    alice, contoso, receiver, tmp_path
):
    cases_only = add(alice, receiver, ["case.state_changed"])
    fabrikam_admin = UserFactory(partner=PartnerFactory(), roles=[Role.GLOBAL_ADMIN])
    other = Receiver(secret=None, record=tmp_path / "other.jsonl")
    try:
        add(fabrikam_admin, other)
        disabled = Receiver(secret=None, record=tmp_path / "disabled.jsonl")
        off = add(alice, disabled)
        webhooks.set_enabled(off.pk, contoso, alice, False)
        for _ in range(2):
            webhooks.announce(contoso.pk, "contract.linked", subject="contract:1", key="l", data={})
            webhooks.announce(contoso.pk, "case.state_changed", subject="case:1", key="c", data={})
        assert list(WebhookDelivery.objects.values_list("endpoint", "event")) == [
            (cases_only.pk, "case.state_changed")
        ]
        webhooks.send_due()
        assert other.got() == [] and disabled.got() == []
    finally:
        other.stop()
        disabled.stop()


def test_each_engine_announces_its_events(alice, nora, contoso, support, receiver):
    endpoint = add(alice, receiver)
    contract = contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)
    support_services.add_contract(nora, contract.access_id, contract.contract_id)
    case = open_incident(nora, contract)
    cases.reply(case.pk, support, "Looking", waiting_on_you=True)
    cases.add_note(case.pk, nora, "Logs attached")
    cases.change(case.pk, support, state="resolved", resolution="solved")
    cases.close(case.pk, nora)
    contract.ends_on = timezone.localdate() + datetime.timedelta(days=6)
    contract.incidents_remaining = 1
    contract.save()
    send_reminders()

    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk")
    events = [(d.event, d.payload["data"].get("state")) for d in deliveries]
    assert events[4:] == [
        ("contract.linked", None),
        ("case.state_changed", "waiting_on_you"),
        ("case.state_changed", "in_progress"),
        ("case.state_changed", "resolved"),
        ("case.state_changed", "closed"),
        ("contract.expiring", None),
        ("contract.incidents_running_out", None),
    ]
    linked = deliveries.get(event="contract.linked")
    assert linked.payload["data"] == {
        "contract": contract.pk,
        "benefit": "product_support",
        "user": nora.email,
    }
    send_reminders()  # an hour later: nothing told twice
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == len(events)


def test_an_endpoint_failing_for_days_is_disabled_and_the_global_admins_told(
    alice, mona, contoso, receiver, clock, settings
):
    settings.WEBHOOK_RETRY_DELAYS = [3600] * 100
    endpoint = add(alice, receiver, ["case.state_changed"])
    receiver.answers.extend([500] * 100)
    webhooks.announce(contoso.pk, "case.state_changed", subject="case:1", key="a", data={})
    for _ in range(3 * 24):
        webhooks.send_due()
        clock.advance(hours=1)
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None  # 71 hours of failing: not yet
    webhooks.send_due()
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None and endpoint.disabled_by is None

    # Alice (Global admin) is told; Mona (MPN partner admin) manages no webhooks.
    [notice] = Notice.objects.filter(kind=Notice.Kind.WEBHOOK_DISABLED)
    assert notice.recipient == alice
    alice.language = "ja"
    alice.save()
    send_pending()
    [email] = mail.outbox
    assert email.subject == f"Webhook エンドポイントが無効になりました: {receiver.url}"
    assert reverse("integrations:webhook", args=[endpoint.pk]) in email.body

    # Disabled: new events add nothing, what waits waits; enabled: what waits is sent.
    webhooks.announce(contoso.pk, "case.state_changed", subject="case:2", key="b", data={})
    tried = len(receiver.got())
    clock.advance(days=1)
    webhooks.send_due()
    assert len(receiver.got()) == tried
    receiver.answers.clear()
    webhooks.set_enabled(endpoint.pk, contoso, alice, True)
    assert webhooks.send_due() == 1
    assert WebhookDelivery.objects.count() == 1
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_a_success_ends_the_failing_streak(alice, contoso, receiver, clock, settings):
    settings.WEBHOOK_RETRY_DELAYS = [3600] * 100
    endpoint = add(alice, receiver, ["case.state_changed"])
    receiver.answers.extend([500] * 60)
    webhooks.announce(contoso.pk, "case.state_changed", subject="case:1", key="a", data={})
    for _ in range(61):
        webhooks.send_due()
        clock.advance(hours=1)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None  # the 61st try went through
    webhooks.announce(contoso.pk, "case.state_changed", subject="case:1", key="b", data={})
    receiver.answers.extend([500] * 100)
    for _ in range(24):
        webhooks.send_due()
        clock.advance(hours=1)
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None  # a day of failing since: not three


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://10.0.0.5/hooks", "10.0.0.5 is not a public address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is not a public address"),
        ("http://[::1]:8000/hooks", "::1 is not a public address"),
        ("http://192.168.1.10/hooks", "192.168.1.10 is not a public address"),
        ("http://100.64.0.1/hooks", "100.64.0.1 is not a public address"),
        ("http://[::ffff:10.0.0.1]/hooks", "::ffff:10.0.0.1 is not a public address"),
        ("http://localhost:1/hooks", "localhost is not a public address"),
        # IPv6 forms that carry a private or loopback IPv4 address, and site-local.
        ("http://[::ffff:0:7f00:1]/", "::ffff:0:7f00:1 is not a public address"),
        ("http://[::7f00:1]/", "::7f00:1 is not a public address"),
        ("http://[64:ff9b::a00:5]/", "64:ff9b::a00:5 is not a public address"),
        ("http://[2002:a00:1::]/", "2002:a00:1:: is not a public address"),
        ("http://[fec0::1]/", "fec0::1 is not a public address"),
        ("ftp://example.com/hooks", "starts with https:// or http://"),
        ("https://user:secret@example.com/hooks", "Leave the user name and password out"),
        ("https://nowhere.invalid/hooks", "No address was found for nowhere.invalid"),
    ],
)
def test_urls_into_the_portals_own_network_are_refused(alice, url, says, settings):
    settings.WEBHOOK_ALLOWED_ADDRESSES = []
    with translation.override("en"), pytest.raises(webhooks.Refused, match=says):
        webhooks.add_endpoint(alice, url, ["case.state_changed"])
    assert not WebhookEndpoint.objects.exists()


def test_loopback_is_refused_unless_the_setting_lets_it_through(alice, receiver, settings):
    settings.WEBHOOK_ALLOWED_ADDRESSES = []
    with pytest.raises(webhooks.Refused):
        webhooks.add_endpoint(alice, receiver.url, ["case.state_changed"])
    settings.WEBHOOK_ALLOWED_ADDRESSES = ["127.0.0.1"]
    endpoint = add(alice, receiver, ["case.state_changed"])

    # Allowed when added, not when called: checked again at each call, and not called.
    settings.WEBHOOK_ALLOWED_ADDRESSES = []
    webhooks.announce(alice.partner_id, "case.state_changed", subject="s", key="k", data={})
    webhooks.send_due()
    assert receiver.got() == []
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert attempts(delivery) == [(None, WebhookAttempt.NoAnswer.NOT_PUBLIC)]


def test_a_redirect_is_not_followed(alice, receiver):
    add(alice, receiver, ["case.state_changed"])
    receiver.answers.append(302)  # to the cloud's metadata address
    webhooks.announce(alice.partner_id, "case.state_changed", subject="s", key="k", data={})
    assert webhooks.send_due() == 0
    delivery = WebhookDelivery.objects.get()
    assert attempts(delivery) == [(302, "")] and delivery.state == "waiting"


def test_an_endpoint_that_is_down_is_logged_as_such(alice, receiver, clock):
    endpoint = add(alice, receiver, ["case.state_changed"])
    receiver.stop()
    webhooks.announce(alice.partner_id, "case.state_changed", subject="s", key="k", data={})
    assert webhooks.send_due() == 0
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert attempts(delivery) == [(None, WebhookAttempt.NoAnswer.CONNECTION_REFUSED)]
    endpoint.refresh_from_db()
    assert endpoint.failing_since == clock.now()


def test_redeliver_sends_a_delivery_again_with_its_webhook_id(alice, contoso, receiver):
    add(alice, receiver, ["case.state_changed"])
    webhooks.announce(contoso.pk, "case.state_changed", subject="s", key="k", data={})
    webhooks.send_due()
    delivery = WebhookDelivery.objects.get()

    endpoint = delivery.endpoint_id
    assert webhooks.redeliver(delivery.pk, endpoint, contoso, alice) is True
    assert webhooks.redeliver(delivery.pk, endpoint, contoso, alice) is False  # waiting already
    webhooks.send_due()
    assert [g["id"] for g in receiver.got()] == [delivery.message_id] * 2
    assert AuditEntry.objects.filter(action=AuditEntry.Action.WEBHOOK_REDELIVERED).count() == 1
    with pytest.raises(WebhookDelivery.DoesNotExist):
        webhooks.redeliver(delivery.pk, endpoint, PartnerFactory(), alice)


@pytest.mark.django_db(transaction=True)
def test_removing_an_endpoint_while_a_change_tells_it_rolls_nothing_back(
    alice, contoso, receiver, clock
):
    """A change that announced an event to an endpoint removed before it commits still
    commits; the endpoint is sent nothing, and is deleted, with its log, an hour later."""
    endpoint = add(alice, receiver, ["case.state_changed"])
    webhooks.announce(contoso.pk, "case.state_changed", subject="s", key="done", data={})
    webhooks.send_due()
    removed = threading.Event()

    def remove():
        try:
            webhooks.remove_endpoint(endpoint.pk, contoso, alice)
            removed.set()
        finally:
            connection.close()

    with transaction.atomic():  # the change, still open when the removal commits
        webhooks.announce(contoso.pk, "case.state_changed", subject="s", key="new", data={})
        remover = threading.Thread(target=remove)
        remover.start()
        remover.join(timeout=30)
    assert removed.is_set()
    assert WebhookDelivery.objects.filter(key="new").exists()  # the change committed
    assert webhooks.send_due() == 0 and len(receiver.got()) == 1
    assert not webhooks.endpoints_of(contoso).exists()

    clock.advance(minutes=59)
    webhooks.forget_old()
    assert WebhookEndpoint.objects.exists()  # an hour for changes in flight to commit
    clock.advance(minutes=2)
    webhooks.forget_old()
    assert not WebhookEndpoint.objects.exists() and not WebhookAttempt.objects.exists()


def test_an_endpoint_disabled_mid_round_is_called_no_more(alice, contoso, receiver, monkeypatch):
    endpoint = add(alice, receiver, ["case.state_changed"])
    for n in range(3):
        webhooks.announce(contoso.pk, "case.state_changed", subject=f"s{n}", key=f"{n}", data={})
    original = webhooks._call

    def disabled_by_an_admin_meanwhile(*args):
        answer = original(*args)
        webhooks.set_enabled(endpoint.pk, contoso, alice, False)
        return answer

    monkeypatch.setattr(webhooks, "_call", disabled_by_an_admin_meanwhile)
    assert webhooks.send_due() == 1
    assert len(receiver.got()) == 1
    assert WebhookDelivery.objects.filter(attempts=0, due_at__isnull=False).count() == 2


def test_an_answer_with_a_nul_byte_is_logged_and_delivered_once(alice, contoso, receiver):
    add(alice, receiver, ["case.state_changed"])
    receiver.server.body = b"ok\x00done"
    receiver.answers.append(200)
    webhooks.announce(contoso.pk, "case.state_changed", subject="s", key="k", data={})
    assert webhooks.send_due() == 1
    [attempt] = WebhookAttempt.objects.all()
    assert attempt.excerpt == "ok\ufffddone"
    assert webhooks.send_due() == 0 and len(receiver.got()) == 1


def test_an_endpoint_dribbling_its_answer_holds_the_sender_no_longer_than_allowed(
    alice, contoso, receiver, monkeypatch
):
    monkeypatch.setattr(webhooks, "READ_FOR", 1)
    add(alice, receiver, ["case.state_changed"])
    receiver.server.dribble = True  # one byte every half second, for ten seconds
    receiver.answers.append(200)
    webhooks.announce(contoso.pk, "case.state_changed", subject="s", key="k", data={})
    started = time.monotonic()
    assert webhooks.send_due() == 1
    assert time.monotonic() - started < 5
    [attempt] = WebhookAttempt.objects.all()
    assert attempt.status_code == 200 and 0 < len(attempt.excerpt) < 10


def test_tries_that_never_came_back_are_given_up(alice, contoso, receiver, clock, settings):
    """A sender stopped mid-call (its task's time up, the worker killed) logs no answer; the
    tries still count, and past the last one the delivery is given up, not called again."""
    settings.WEBHOOK_RETRY_DELAYS = [5, 5]
    add(alice, receiver, ["case.state_changed"])
    webhooks.announce(contoso.pk, "case.state_changed", subject="s", key="k", data={})
    WebhookDelivery.objects.update(attempts=3)  # three calls whose senders died
    assert webhooks.send_due() == 0
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "given_up" and receiver.got() == []
    assert attempts(delivery) == [(None, WebhookAttempt.NoAnswer.TIMED_OUT)]


def test_a_task_out_of_time_mid_call_logs_the_try_as_timed_out(
    alice, contoso, receiver, monkeypatch
):
    add(alice, receiver, ["case.state_changed"])
    webhooks.announce(contoso.pk, "case.state_changed", subject="s", key="k", data={})

    def out_of_time(*args):
        raise SoftTimeLimitExceeded

    monkeypatch.setattr(webhooks, "_call", out_of_time)
    with pytest.raises(SoftTimeLimitExceeded):
        webhooks.send_due()
    delivery = WebhookDelivery.objects.get()
    assert attempts(delivery) == [(None, WebhookAttempt.NoAnswer.TIMED_OUT)]
    assert delivery.state == "waiting" and delivery.attempts == 1


def test_a_host_without_an_address_at_call_time_is_logged_as_such(
    alice, contoso, receiver, monkeypatch
):
    endpoint = add(alice, receiver, ["case.state_changed"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="https://gone.invalid/hooks")
    webhooks.announce(contoso.pk, "case.state_changed", subject="s", key="k", data={})
    webhooks.send_due()
    assert attempts(WebhookDelivery.objects.get()) == [(None, WebhookAttempt.NoAnswer.NOT_FOUND)]


def test_one_failure_after_a_quiet_week_does_not_disable_the_endpoint(
    alice, contoso, receiver, clock, settings
):
    settings.WEBHOOK_RETRY_DELAYS = [5]
    endpoint = add(alice, receiver, ["case.state_changed"])
    receiver.answers.extend([500, 500, 503])
    webhooks.announce(contoso.pk, "case.state_changed", subject="s", key="a", data={})
    webhooks.send_due()
    clock.advance(seconds=5)
    webhooks.send_due()
    assert WebhookDelivery.objects.get().state == "given_up"
    clock.advance(days=7)
    webhooks.announce(contoso.pk, "case.state_changed", subject="s", key="b", data={})
    webhooks.send_due()
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None and endpoint.failing_since == clock.now()


# The pages


def test_adding_an_endpoint_shows_its_secret_once_and_a_double_click_adds_one(
    client, alice, receiver
):
    client.force_login(alice)
    form = client.get(reverse("integrations:webhooks")).context["form"]
    data = {
        "url": receiver.url,
        "events": ["activation.completed", "case.state_changed"],
        "submission_key": form.initial["submission_key"],
    }
    first = client.post(reverse("integrations:webhooks"), data)
    again = client.post(reverse("integrations:webhooks"), data)

    endpoint = WebhookEndpoint.objects.get()
    assert (first.status_code, again.status_code) == (201, 201)
    for response in (first, again):
        assert endpoint.secret in response.content.decode()
    assert endpoint.events == ["activation.completed", "case.state_changed"]
    assert endpoint.secret not in client.get(reverse("integrations:webhooks")).content.decode()
    page = client.get(reverse("integrations:webhook", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in page
    assert AuditEntry.objects.filter(action=AuditEntry.Action.WEBHOOK_ENDPOINT_ADDED).count() == 1

    # The same form sent back changed: a new endpoint, with its own secret, even clicked twice.
    changed = [
        client.post(reverse("integrations:webhooks"), data | {"url": receiver.url + "2"})
        for _ in range(2)
    ]
    second = WebhookEndpoint.objects.get(url=receiver.url + "2")
    assert [response.status_code for response in changed] == [201, 201]
    assert all(second.secret in response.content.decode() for response in changed)
    assert WebhookEndpoint.objects.count() == 2

    # Removed, then the same form sent again: added anew, not "exists already".
    webhooks.remove_endpoint(second.pk, alice.partner, alice)
    again = client.post(reverse("integrations:webhooks"), data | {"url": receiver.url + "2"})
    assert again.status_code == 201
    WebhookEndpoint.objects.filter(url=receiver.url + "2").delete()

    # The same URL from another form: refused, the typed text kept.
    data["submission_key"] = str(uuid.uuid4())
    refused = client.post(reverse("integrations:webhooks"), data)
    assert refused.status_code == 400
    assert "Your company has an endpoint with this URL already." in refused.content.decode()
    assert f'value="{receiver.url}"' in refused.content.decode()


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("not a url", "Enter a web address such as https://example.com/webhooks."),
        ("http://10.1.2.3/x", "10.1.2.3 is not a public address"),
        ("", "Enter the URL that receives the events."),
        ("https://" + "a" * 500 + ".example", "Ensure this value has at most 500 characters"),
    ],
)
def test_a_bad_url_is_refused_with_a_message_and_kept(client, alice, typed, says, settings):
    settings.WEBHOOK_ALLOWED_ADDRESSES = []
    client.force_login(alice)
    response = client.post(
        reverse("integrations:webhooks"), {"url": typed, "events": ["case.state_changed"]}
    )
    assert response.status_code == 400
    assert says in response.content.decode()
    if typed:
        assert typed in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_log_page_shows_each_try_and_redelivers(client, alice, contoso, receiver, clock):
    endpoint = add(alice, receiver, ["case.state_changed"])
    receiver.answers.append(500)
    webhooks.announce(contoso.pk, "case.state_changed", subject="case:3", key="k", data={})
    webhooks.send_due()
    clock.advance(seconds=5)
    webhooks.send_due()
    client.force_login(alice)
    url = reverse("integrations:webhook", args=[endpoint.pk])

    page = client.get(url).content.decode()
    assert "Delivered" in page and "500" in page and "204" in page
    assert "not now: try later" in page and " ms<" in page

    delivery = WebhookDelivery.objects.get()
    response = client.post(reverse("integrations:redeliver", args=[endpoint.pk, delivery.pk]))
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "Delivery sent again" in page and "Waiting: to be sent again" in page
    # While a delivery waits, the log reloads itself; htmx asks for the log alone.
    assert 'data-hx-trigger="load delay:3s"' in page
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.startswith('<div id="deliveries">') and "<html" not in fragment


def test_disable_enable_and_remove_from_the_page(client, alice, contoso, receiver):
    endpoint = add(alice, receiver, ["case.state_changed"])
    client.force_login(alice)
    enabled = reverse("integrations:webhook_enabled", args=[endpoint.pk])
    client.post(enabled, {"enabled": "0"})
    again = client.post(enabled, {"enabled": "0"}, follow=True)
    assert "No change: the endpoint was disabled already." in again.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.disabled_by == alice
    client.post(enabled, {"enabled": "1"})
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None

    removed = client.post(reverse("integrations:webhook_remove", args=[endpoint.pk]), follow=True)
    assert f"Endpoint {receiver.url} removed" in removed.content.decode()
    assert receiver.url not in removed.content.decode().split("removed")[1]
    again = client.post(reverse("integrations:webhook_remove", args=[endpoint.pk]))
    assert again.status_code == 404
    gone = client.get(reverse("integrations:webhook", args=[endpoint.pk]))
    assert gone.status_code == 404
    assert list(
        AuditEntry.objects.filter(action__startswith="webhook_endpoint")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == [
        "webhook_endpoint_added",
        "webhook_endpoint_disabled",
        "webhook_endpoint_enabled",
        "webhook_endpoint_removed",
    ]


@pytest.mark.parametrize("language", ["ja", "zh-hans"])
def test_the_webhook_pages_speak_the_readers_language(client, alice, receiver, language):
    endpoint = add(alice, receiver, ["case.state_changed"])
    alice.language = language
    alice.save()
    client.force_login(alice)
    english = ["Add an endpoint", "Delivery log", "Case state changed", "Remove endpoint"]
    for url in (
        reverse("integrations:webhooks"),
        reverse("integrations:webhook", args=[endpoint.pk]),
    ):
        page = client.get(url).content.decode()
        assert not [text for text in english if text in page]


# With a real worker, and a receiver that is killed and restarted


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ReceiverProcess:
    """tests/webhook_receiver.py in its own process, on one port across restarts."""

    def __init__(self, port, secret, record):
        self.args = [sys.executable, str(Path(__file__).with_name("webhook_receiver.py"))]
        self.args += [str(port), secret, str(record)]
        self.port, self.record, self.process = port, Path(record), None

    def start(self):
        self.process = subprocess.Popen(self.args)
        wait_for(self._listening, timeout=30, what="the receiver to listen")

    def _listening(self):
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def kill(self):
        self.process.kill()
        self.process.wait(timeout=30)

    def got(self):
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]


@pytest.mark.django_db(transaction=True)
def test_a_receiver_killed_and_restarted_gets_what_it_missed(tmp_path, alice, contoso, settings):
    """Done when (issue 19): a receiver gets a correctly signed event when an activation
    completes; killed and restarted, it gets the missed deliveries; the log shows each try."""
    settings.SIMULATED_DAY_SECONDS = 1
    worker = Worker(
        tmp_path,
        SIMULATED_DAY_SECONDS=1,
        ACTIVATION_SWEEP_SECONDS=1,
        WEBHOOK_ALLOWED_ADDRESSES="127.0.0.1",
        WEBHOOK_RETRY_DELAYS=",".join(["1"] * 60),
    )
    worker.purge()
    port = free_port()
    endpoint, _added = webhooks.add_endpoint(
        alice,
        f"http://127.0.0.1:{port}/hooks",
        ["activation.stage_changed", "activation.completed"],
    )
    receiver = ReceiverProcess(port, endpoint.secret, tmp_path / "got.jsonl")
    receiver.start()
    worker.start()
    client = Client()
    client.force_login(alice)
    gold = contoso.offers.get(level="gold")
    stages = ["submitted", "in_review", "provisioning", "active"]
    try:
        client.post(reverse("activation:activate", args=[gold.pk, "product_support"]))
        wait_for(lambda: len(receiver.got()) == 4, timeout=120, what="the first activation")
        assert [g["data"]["state"] for g in receiver.got()] == stages
        assert receiver.got()[-1]["type"] == "activation.completed"

        receiver.kill()
        client.post(reverse("activation:activate", args=[gold.pk, "signature_cloud_support"]))
        missed = WebhookDelivery.objects.filter(endpoint=endpoint, delivered_at=None)
        wait_for(
            lambda: (
                missed.filter(event="activation.completed").exists()
                and WebhookAttempt.objects.filter(delivery__in=missed).exists()
            ),
            timeout=120,
            what="the activation to complete while the receiver is away",
        )
        receiver.start()
        wait_for(lambda: not missed.exists(), timeout=60, what="the missed deliveries")
    finally:
        worker.stop()
        if receiver.process.poll() is None:
            receiver.kill()

    got = receiver.got()
    assert all(g["verified"] for g in got)  # each checked with the secret shown once
    again = [g for g in got if g["data"]["benefit"] == "signature_cloud_support"]
    assert [g["data"]["state"] for g in again] == stages  # in order, each once
    assert len({g["id"] for g in got}) == 8
    first_missed = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk")[4]
    log = attempts(first_missed)
    assert log[-1] == (204, "")
    assert (None, WebhookAttempt.NoAnswer.CONNECTION_REFUSED) in log[:-1]


def test_support_staff_read_endpoints_and_deliveries_in_admin_without_the_secret(
    client, support, alice, receiver
):
    endpoint = add(alice, receiver, ["case.state_changed"])
    receiver.answers.append(500)
    webhooks.announce(alice.partner_id, "case.state_changed", subject="s", key="k", data={})
    webhooks.send_due()
    delivery = WebhookDelivery.objects.get()
    client.force_login(support)

    listed = client.get("/admin/notices/webhookendpoint/")
    shown = client.get(f"/admin/notices/webhookendpoint/{endpoint.pk}/change/")
    tries = client.get(f"/admin/notices/webhookdelivery/{delivery.pk}/change/")

    assert receiver.url in listed.content.decode()
    assert shown.status_code == 200 and endpoint.secret not in shown.content.decode()
    assert "not now: try later" in tries.content.decode()


def test_a_sweep_starts_no_call_after_its_time_and_leaves_the_rest_due(
    alice, contoso, receiver, clock, monkeypatch
):
    add(alice, receiver, ["case.state_changed"])
    for n in range(3):
        webhooks.announce(contoso.pk, "case.state_changed", subject=f"s{n}", key=f"{n}", data={})
    original = webhooks._call

    def slow(*args):
        time.sleep(0.3)
        return original(*args)

    monkeypatch.setattr(webhooks, "_call", slow)
    assert webhooks.send_due(run_for=0.2) == 1  # the first call, then no other
    assert WebhookDelivery.objects.filter(due_at__lte=clock.now(), attempts=0).count() == 2
    assert webhooks.send_due() == 2


def test_a_delivery_taken_after_its_claim_lapsed_is_still_delivered(
    alice, contoso, receiver, monkeypatch
):
    add(alice, receiver, ["case.state_changed"])
    webhooks.announce(contoso.pk, "case.state_changed", subject="s", key="k", data={})
    original = webhooks._call

    def slow(endpoint, delivery):
        answer = original(endpoint, delivery)
        # Another sender's claim meanwhile (this one's lapsed): the answer still counts.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(due_at=timezone.now())
        return answer

    monkeypatch.setattr(webhooks, "_call", slow)
    assert webhooks.send_due() == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "delivered" and delivery.due_at is None
