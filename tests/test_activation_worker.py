"""A real Celery worker on the configured broker (Redis in CI) carries activations through.

The simulated day lasts a second or two, so three business days pass in seconds.
"""

import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activation import services
from activation.models import ActivationEvent, ActivationRequest
from entitlements.models import Role
from entitlements.rules import Benefit, Level
from notices.models import Notice
from notices.services import nudge_sender
from support.models import SupportContract

from .factories import OfferFactory, PartnerFactory, UserFactory, competency
from .workers import Worker, portal_env, wait_for, worker_database_url

# These tests flush the database; conftest.reference_data puts back what migrations made.
pytestmark = pytest.mark.django_db(transaction=True)
State = ActivationRequest.State
STAGES = [State.SUBMITTED, State.IN_REVIEW, State.PROVISIONING, State.ACTIVE]


def told(request):
    """Whether the request is active and everyone told of it has been emailed."""
    notices = Notice.objects.filter(about=services.ids_ready_about(request.pk))
    return notices.exists() and not notices.email_pending().exists()


@pytest.fixture
def worker(tmp_path, settings):
    settings.SIMULATED_DAY_SECONDS = 1
    running = Worker(tmp_path, SIMULATED_DAY_SECONDS=1, ACTIVATION_SWEEP_SECONDS=1)
    running.purge()
    yield running
    running.stop()


def test_a_worker_completes_an_activation_and_emails_the_ids(worker, alice, contoso):
    worker.start()
    offer = contoso.offers.get(level="gold")
    client = Client()
    client.force_login(alice)
    response = client.post(reverse("activation:activate", args=[offer.pk, "product_support"]))
    assert response.status_code == 302

    request = ActivationRequest.objects.get()
    wait_for(
        lambda: told(request),
        timeout=90,
        what="the activation to complete and its notice to be sent",
    )
    contract = SupportContract.objects.get(activation=request)
    assert list(request.events.values_list("to_state", flat=True)) == STAGES
    [email] = worker.emails()
    assert contract.access_id in email and contract.contract_id in email

    page = client.get(reverse("entitlements:technical_benefits")).content.decode()
    assert contract.access_id in page and contract.contract_id in page


def test_killing_the_worker_mid_activation_loses_and_doubles_nothing(worker, capsys):
    """SIGKILL the worker (and its pool and beat) again and again while a batch of activations
    is in flight; each restart picks up from the database."""
    requests = []
    for _ in range(4):
        partner = PartnerFactory()
        admin = UserFactory(partner=partner, roles=[Role.GLOBAL_ADMIN])
        for name, level in (("Cloud Platform", Level.GOLD), ("Data Analytics", Level.SILVER)):
            offer = OfferFactory(partner=partner, competency=competency(name), level=level)
            for benefit in Benefit:
                requests.append(services.request_activation(offer, benefit, admin)[0])

    def all_notified():
        return all(told(request) for request in requests)

    kills = 0
    worker.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all_notified():
        time.sleep(random.uniform(0.5, 2.5))
        worker.kill()
        kills += 1
        worker.start()
    # A notice claimed by a killed worker is sent again once its claim lapses (a minute).
    wait_for(all_notified, timeout=240, what="every activation to complete and be notified")

    assert kills >= 1
    assert set(ActivationRequest.objects.values_list("state", flat=True)) == {State.ACTIVE}
    contracts = Counter(SupportContract.objects.values_list("activation_id", flat=True))
    assert sorted(contracts) == sorted(r.pk for r in requests)
    assert set(contracts.values()) == {1}
    for request in requests:
        transitions = ActivationEvent.objects.filter(request=request)
        assert list(transitions.values_list("to_state", flat=True)) == STAGES
    ids = list(SupportContract.objects.values_list("access_id", flat=True))
    assert len(set(ids)) == len(ids)
    # Notices are sent at least once; a kill between the send and its mark may repeat one.
    mail = "\n".join(worker.emails())
    assert all(access_id in mail for access_id in ids)
    with capsys.disabled():
        print(
            f"\n  fault test: activations {len(requests)}, worker kills {kills}, "
            f"completed {len(contracts)}, duplicates 0, lost 0"
        )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="holds a table lock, which SQLite doesn't have"
)
def test_a_worker_killed_inside_a_step_leaves_it_to_be_done_once(worker, alice, contoso):
    """Block the worker inside its last step (the contracts' COPY waits on a table lock the
    test holds, the request's row locked and its state changed in the same transaction),
    SIGKILL it there, then let a new worker finish."""
    blocker = psycopg.connect(worker_database_url(), autocommit=False)
    try:
        blocker.execute("LOCK TABLE support_supportcontract IN EXCLUSIVE MODE")
        offer = contoso.offers.get(level="gold")
        request, _ = services.request_activation(offer, Benefit.PRODUCT_SUPPORT, alice)
        worker.start()

        def blocked_writing_the_contract():
            with psycopg.connect(worker_database_url(), autocommit=True) as watcher:
                return watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE 'COPY \"support_supportcontract\"%%'"
                ).fetchone()[0]

        wait_for(blocked_writing_the_contract, timeout=90, what="the worker to reach the COPY")
        worker.kill()
    finally:
        blocker.rollback()  # release the table; the killed worker's transaction can't commit
        blocker.close()
    worker.start()
    wait_for(
        lambda: told(request),
        timeout=90,
        what="a new worker to complete the activation",
    )
    assert SupportContract.objects.filter(activation=request).count() == 1
    assert list(request.events.values_list("to_state", flat=True)) == STAGES


ACTIVATE_WITH_BROKER_DOWN = """
from django.test import Client
from django.test.utils import setup_test_environment
from accounts.models import User
setup_test_environment()
client = Client()
client.force_login(User.objects.get(email="alice@contoso.example"))
response = client.post("{url}")
print("status", response.status_code)
"""


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis"), reason="priorities are Redis's"
)
def test_a_backlog_of_emails_does_not_hold_up_the_next_stage(worker, alice, contoso):
    done, _ = services.request_activation(
        contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice
    )
    services.complete_now(done.pk, None)  # queues its email
    [notice] = Notice.objects.filter(about=services.ids_ready_about(done.pk))
    for _ in range(20):  # a backlog: nudges of a burst of completions (these find it sent)
        nudge_sender()
    waiting, _ = services.request_activation(
        contoso.offers.get(level="silver"), Benefit.PRODUCT_SUPPORT, alice
    )
    ActivationRequest.objects.filter(pk=waiting.pk).update(due_at=timezone.now())
    services._enqueue_advance(waiting.pk, 0)  # queued after all the emails

    worker.start(concurrency=1, beat=False)  # one task at a time
    wait_for(
        lambda: (
            told(done)
            and ActivationRequest.objects.filter(pk=waiting.pk, in_review_at__isnull=False).exists()
        ),
        timeout=60,
        what="the email to be sent and the waiting activation to move on",
    )
    done.refresh_from_db()
    waiting.refresh_from_db()
    notice.refresh_from_db()
    assert waiting.in_review_at < notice.sent_at
    access_id = SupportContract.objects.get(activation=done).access_id
    assert sum(access_id in email for email in worker.emails()) == 1  # the backlog sent no more


def test_with_the_broker_down_activate_still_records_the_request(tmp_path, alice, contoso):
    """The whole web stack in a process whose broker is unreachable (nothing listens on port 1):
    the click is saved, and the sweeper moves the request once it runs again."""
    offer = contoso.offers.get(level="gold")
    url = reverse("activation:activate", args=[offer.pk, "product_support"])
    env = portal_env(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:1/0", SIMULATED_DAY_SECONDS=1)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", ACTIVATE_WITH_BROKER_DOWN.format(url=url)],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "status 302" in result.stdout, result.stderr
    assert "Could not reach the broker" in result.stderr

    request = ActivationRequest.objects.get()
    assert request.state == State.SUBMITTED
    wait_for(lambda: services.sweep() > 0, timeout=30, what="the sweeper to move the request")
    request.refresh_from_db()
    assert request.state == State.IN_REVIEW
