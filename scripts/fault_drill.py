"""Fault drill against the real PostgreSQL and Redis: run by `make faults` (and CI).

Three faults, one after the other, each while activations are under way:
  1. the Celery worker is killed with SIGKILL again and again;
  2. Redis is stopped for a minute while people keep clicking Activate and opening pages;
  3. PostgreSQL drops the portal's connections in the middle of requests and steps.
Each company's admin also invites a colleague through the Add user page. After each fault,
every activation must be completed exactly once and nothing lost, and the outbox must have
told everyone: each person told of each completed activation has one notice (never two in
their notices list: a constraint), each invitee one, and by the end each an email with the IDs
or the invitation's link (twice only where "at least once" allows: a worker killed between
sending and recording it). Each company's webhook endpoint, a receiver in this process, must
have had every stage of every activation, in order (twice only where "at least once" allows).
The figures are printed at the end; the exit status is non-zero if any is wrong.

It uses the database DATABASE_URL names (migrating it) and stops and restarts the Redis server
REDIS_URL names (on 127.0.0.1; 6379 on CI), so it is for a machine of its own, such as CI's,
or for a Redis server of its own on another port.
"""

import os
import random
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benefits_portal.settings")
os.environ["SIMULATED_DAY_SECONDS"] = "2"  # a stage every few seconds
# The drill's webhook receiver listens on this machine; a failed call is tried again soon.
WEBHOOK_ENV = {"WEBHOOK_ALLOWED_ADDRESSES": "127.0.0.1", "WEBHOOK_RETRY_DELAYS": "1,1,2,2,5,5,10"}
os.environ.update(WEBHOOK_ENV)
warnings.filterwarnings("ignore", "No directory at")  # static files aren't collected here

import django  # noqa: E402

django.setup()

from allauth.mfa.totp.internal.auth import TOTP  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from activation.models import ActivationEvent, ActivationRequest  # noqa: E402
from activation.services import ids_ready_about, notice_recipients  # noqa: E402
from entitlements.models import Competency, MembershipOffer, Partner, Role  # noqa: E402
from entitlements.rules import Benefit, Level, OfferKind  # noqa: E402
from entitlements.services import set_roles  # noqa: E402
from notices import webhooks  # noqa: E402
from notices.models import Notice, WebhookDelivery  # noqa: E402
from support.models import SupportContract  # noqa: E402
from tests.factories import TOTP_SECRET  # noqa: E402
from tests.webhook_receiver import Receiver  # noqa: E402
from tests.workers import Worker, wait_for  # noqa: E402

REDIS_PORT = str(urlsplit(os.environ.get("REDIS_URL", "")).port or 6379)
REDIS_START = (
    f"redis-server --daemonize yes --bind 127.0.0.1 -::1 --port {REDIS_PORT} --save '' "
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)
STAGES = ["submitted", "in_review", "provisioning", "active"]
figures = Counter()
receiver = None  # the companies' webhook receiver, started by main()
INVITATION_LINK = "/dashboard/account/invitation/"


def company(label):
    """A company with Gold Cloud Platform and Silver Data Analytics, and its admin (Global admin
    and MPN partner admin: may activate and invite), with an authenticator app as the roles
    require."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    today = timezone.localdate()
    mpn_id = str(7_000_000 + Partner.objects.count())
    partner = Partner.objects.create(name=f"Drill {label} {mpn_id}", mpn_id=mpn_id)
    for name, level in (("Cloud Platform", Level.GOLD), ("Data Analytics", Level.SILVER)):
        MembershipOffer.objects.create(
            partner=partner,
            kind=OfferKind.COMPETENCY,
            competency=Competency.objects.get(name=name),
            level=level,
            starts_on=today - timezone.timedelta(days=30),
            ends_on=today + timezone.timedelta(days=335),
        )
    admin = get_user_model().objects.create_user(
        f"admin@{mpn_id}.drill.example", "x", partner=partner
    )
    set_roles(admin, [Role.GLOBAL_ADMIN, Role.MPN_PARTNER_ADMIN])
    TOTP.activate(admin, TOTP_SECRET)
    endpoint, _added = webhooks.add_endpoint(
        admin, receiver.url, ["activation.stage_changed", "activation.completed"]
    )
    endpoint.secret = receiver.server.secret  # one receiver checks every company's signatures
    endpoint.save(update_fields=["secret"])
    return partner, admin


def activate_everything(partner, admin, client=None):
    """Click Activate on each of the company's benefits, through the web stack."""
    client = client or Client()
    for _attempt in range(5):
        try:
            client.force_login(admin)
            break
        except Exception:  # noqa: BLE001 - the drill's own connection was dropped
            connection.close()
    for offer in partner.offers.all():
        for benefit in Benefit:
            url = f"/dashboard/mpn/membership/benefits/technical/{offer.pk}/{benefit}/activate"
            for _attempt in range(5):
                try:
                    response = client.post(url)
                    # Activate answers with the benefit's own page, whatever happened before.
                    if response.status_code == 302 and response["Location"].endswith(benefit):
                        break
                except Exception:  # noqa: BLE001 - the connection was dropped under the request
                    figures["web retries"] += 1
                    connection.close()
                    time.sleep(0.5)
            figures["activations"] += 1


def invitee_of(partner):
    return f"colleague@{partner.mpn_id}.drill.example"


def invite_a_colleague(partner, admin, client=None):
    """Invite invitee_of(partner) through the Add user page, as the admin would, clicking again
    if the connection drops (the address's unique constraint keeps one account)."""
    client = client or Client()
    form = {"email": invitee_of(partner), "first_name": "Colleague", "last_name": "Drill"}
    for _attempt in range(5):
        try:
            client.force_login(admin)
            response = client.post(reverse("accounts:invite"), {**form, "language": "en"})
            if response.status_code in (200, 302):  # 200: the address is taken, by the first
                break
        except Exception:  # noqa: BLE001 - the connection was dropped under the request
            figures["web retries"] += 1
            connection.close()
            time.sleep(0.5)
    figures["invitations"] += 1


def ids_ready_notices(requests):
    about = [ids_ready_about(pk) for pk in requests.values_list("pk", flat=True)]
    return Notice.objects.filter(kind=Notice.Kind.IDS_READY, about__in=about)


def all_done(partners):
    """Every activation completed, each told in the outbox and its emails gone."""
    requests = ActivationRequest.objects.filter(offer__partner__in=partners)
    if requests.exclude(state="active").exists():
        return False
    notices = ids_ready_notices(requests)
    return (
        notices.count() >= requests.count()
        and not Notice.objects.filter(partner__in=partners).email_pending().exists()
        and not WebhookDelivery.objects.filter(
            endpoint__partner__in=partners, delivered_at__isnull=True
        ).exists()
    )


def check_the_webhooks(requests):
    """(lost, sent twice, out of order, badly signed) of these activations' webhooks: each
    stage one delivery, received at least once, first received in the order of the stages."""
    got = receiver.got()
    lost = repeated = disordered = 0
    for request in requests:
        deliveries = list(
            WebhookDelivery.objects.filter(subject=f"activation:{request.pk}")
            .order_by("pk")
            .values_list("message_id", flat=True)
        )
        lost += max(0, len(STAGES) - len(deliveries))
        received = [g["id"] for g in got if g["id"] in deliveries]
        for message_id in deliveries:
            lost += message_id not in received
            repeated += max(0, received.count(message_id) - 1)
        disordered += list(dict.fromkeys(received)) != deliveries
    badly_signed = sum(not g["verified"] for g in got)
    return lost, repeated, disordered, badly_signed


def check_the_outbox(requests, emails):
    """(notices lost, notices doubled, emails lost, emails sent twice) of these completed
    activations: every person `notice_recipients` names has one notice and an email with the
    Access ID."""
    lost = doubled = emails_lost = emails_repeated = 0
    for request in requests.select_related("offer__partner", "requested_by", "contract"):
        told = Counter(
            Notice.objects.filter(
                kind=Notice.Kind.IDS_READY, about=ids_ready_about(request.pk)
            ).values_list("recipient_id", flat=True)
        )
        doubled += sum(count - 1 for count in told.values())
        for person in notice_recipients(request):
            lost += person.pk not in told
            sent = sum(
                f"To: {person.email}" in email and request.contract.access_id in email
                for email in emails
            )
            emails_lost += sent == 0
            emails_repeated += max(0, sent - 1)
    return lost, doubled, emails_lost, emails_repeated


def check_the_invitations(partners, emails):
    """(notices lost, notices doubled, emails lost, emails sent twice) of the invitations:
    each company's invitee has one invitation notice and an email with its link."""
    lost = doubled = emails_lost = emails_repeated = 0
    for partner in partners:
        address = invitee_of(partner)
        told = Notice.objects.filter(kind=Notice.Kind.INVITATION, recipient__email=address)
        lost += not told.exists()
        doubled += max(0, told.count() - 1)
        sent = sum(f"To: {address}" in email and INVITATION_LINK in email for email in emails)
        emails_lost += sent == 0
        emails_repeated += max(0, sent - 1)
    return lost, doubled, emails_lost, emails_repeated


def check(partners, fault, worker):
    """Every activation of these companies completed exactly once: one request per benefit,
    one contract per request, each stage reached once; and everyone told of it once in the
    portal and at least once by email."""
    requests = ActivationRequest.objects.filter(offer__partner__in=partners)
    expected = MembershipOffer.objects.filter(partner__in=partners).count() * len(Benefit)
    duplicates = max(0, requests.count() - expected)
    lost = max(0, expected - requests.count())
    contracts = Counter(
        SupportContract.objects.filter(partner__in=partners).values_list("activation", flat=True)
    )
    duplicates += sum(count - 1 for count in contracts.values())
    for request in requests:
        moves = list(
            ActivationEvent.objects.filter(request=request).values_list("to_state", flat=True)
        )
        if len(moves) > len(set(moves)):
            duplicates += 1
        elif moves != STAGES or request.pk not in contracts:
            lost += 1
    figures["duplicates"] += duplicates
    figures["lost"] += lost
    emails = worker.emails()
    told = check_the_outbox(requests.filter(state="active"), emails)
    invited = check_the_invitations(partners, emails)
    notices_lost, notices_doubled, emails_lost, emails_repeated = (
        a + b for a, b in zip(told, invited, strict=True)
    )
    figures["notices lost"] += notices_lost
    figures["notices doubled"] += notices_doubled
    figures["emails lost"] += emails_lost
    figures["emails sent twice (at least once)"] += emails_repeated
    hooks_lost, hooks_repeated, disordered, badly_signed = check_the_webhooks(requests)
    figures["webhooks lost"] += hooks_lost
    figures["webhooks sent twice (at least once)"] += hooks_repeated
    figures["webhooks out of order"] += disordered
    figures["webhooks badly signed"] = badly_signed  # over every company so far
    print(
        f"  {fault}: {requests.count()} activations and {len(partners)} invitations, "
        f"duplicates {duplicates}, lost {lost}; "
        f"notices lost {notices_lost}, doubled {notices_doubled}; emails lost {emails_lost}, "
        f"sent twice {emails_repeated}; webhooks lost {hooks_lost}, sent twice "
        f"{hooks_repeated}, out of order {disordered}"
    )


def worker_in(folder, tmp):
    (tmp / folder).mkdir()
    return Worker(tmp / folder, SIMULATED_DAY_SECONDS=2, ACTIVATION_SWEEP_SECONDS=1, **WEBHOOK_ENV)


def drill_worker_kills(tmp):
    companies = [company("kill") for _ in range(5)]
    partners = [partner for partner, _admin in companies]
    for partner, admin in companies:
        activate_everything(partner, admin)
        invite_a_colleague(partner, admin)
    worker = worker_in("kills", tmp)
    worker.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all_done(partners):
        time.sleep(random.uniform(1, 3))
        worker.kill()
        figures["worker kills"] += 1
        worker.start()
    wait_for(lambda: all_done(partners), 300, "the activations after the kills")
    worker.stop()
    check(partners, "worker killed", worker)


def drill_redis_down(tmp):
    worker = worker_in("redis", tmp)
    worker.start()
    partners = []
    subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", REDIS_PORT, "shutdown", "nosave"], check=False
    )
    stopped = time.monotonic()
    pages = Client()
    while time.monotonic() - stopped < 60:
        partner, admin = company("redis")
        partners.append(partner)
        activate_everything(partner, admin)  # enqueueing fails; the clicks are saved
        invite_a_colleague(partner, admin)  # the invitation waits in the outbox
        pages.force_login(admin)
        status = pages.get("/dashboard/mpn/membership/benefits/technical").status_code
        figures["page views with Redis down"] += 1
        figures["page errors"] += status >= 500
        time.sleep(5)
    subprocess.run(shlex.split(REDIS_START), check=True)
    figures["Redis stopped (s)"] = round(time.monotonic() - stopped)
    wait_for(lambda: all_done(partners), 300, "the activations after Redis came back")
    worker.stop()
    check(partners, "Redis down", worker)


def drill_dropped_connections(tmp):
    worker = worker_in("pg", tmp)
    worker.start()
    partners = []
    stop = threading.Event()

    def drop_connections():
        import psycopg

        url = os.environ["DATABASE_URL"]
        with psycopg.connect(url, autocommit=True) as admin:
            while not stop.is_set():
                time.sleep(random.uniform(0.5, 1.5))
                dropped = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"
                ).fetchone()[0]
                figures["connections dropped"] += dropped

    dropper = threading.Thread(target=drop_connections)
    dropper.start()
    try:
        for _ in range(5):
            for _attempt in range(5):
                try:
                    partner, admin = company("pg")
                    break
                except Exception:  # noqa: BLE001 - dropped while setting up the drill itself
                    connection.close()
            partners.append(partner)
            activate_everything(partner, admin)
            invite_a_colleague(partner, admin)
            time.sleep(3)
        time.sleep(10)
    finally:
        stop.set()
        dropper.join()
    connection.close()
    wait_for(lambda: all_done(partners), 300, "the activations after the dropped connections")
    worker.stop()
    check(partners, "PostgreSQL connections dropped", worker)


def main():
    global receiver
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("The fault drill needs DATABASE_URL on PostgreSQL and REDIS_URL on Redis.")
    setup_test_environment()  # the test client's host, 'testserver', is allowed
    call_command("migrate", verbosity=0)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        receiver = Receiver(secret=webhooks.new_secret(), record=tmp / "webhooks.jsonl")
        Worker(tmp, SIMULATED_DAY_SECONDS=2).purge()
        print("Fault drill")
        drill_worker_kills(tmp)
        drill_redis_down(tmp)
        drill_dropped_connections(tmp)
    print(", ".join(f"{name}: {value}" for name, value in figures.items()))
    wrong = (
        "duplicates",
        "lost",
        "page errors",
        "notices lost",
        "notices doubled",
        "emails lost",
        "webhooks lost",
        "webhooks out of order",
        "webhooks badly signed",
    )
    if any(figures[name] for name in wrong):
        sys.exit(
            "The drill found duplicates, lost activations, notices or webhooks, webhooks out of "
            "order, or failed pages."
        )


if __name__ == "__main__":
    main()
