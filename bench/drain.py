"""Drain benchmark: how fast two Celery workers complete due activations.

    .venv/bin/python bench/drain.py --database-url postgres://... \\
        --redis-url redis://127.0.0.1:6379/7 --count 100000 --out bench/results/drain.json

Against a PostgreSQL database and a Redis DB of their own, it:

1. makes --count activation requests in Provisioning, due already, for companies named
   "Drain bench ..." (the previous run's companies and everything of theirs are deleted first);
2. times a bare SQL UPDATE of the same rows to Active, and rolls it back: the floor;
3. starts two single-process prefork workers, enqueues one sweep per worker and then one a
   second, as beat does, and times the drain, then the activation notices that follow;
4. checks every request was completed exactly once and writes the figures as JSON.

The Redis DB in --redis-url is flushed before the workers start, unless it is DB 0. The
workers' logs go to var/bench/. On a server without autovacuum the requests table is vacuumed
once drained (see --vacuum-after-drain), as autovacuum would have done by then.
"""

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CELERY = Path(sys.executable).parent / "celery"
PREFIX = "Drain bench "
MIB = 1024 * 1024


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgres://... (migrated)")
    parser.add_argument("--redis-url", required=True, help="redis://host:port/db, a DB of its own")
    parser.add_argument("--count", type=int, default=100_000, help="activation requests")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "drain.json")
    parser.add_argument("--batch-size", type=int, default=5000, help="rows per bulk insert")
    parser.add_argument(
        "--sweep-every", type=float, default=1.0, help="seconds between enqueued sweeps"
    )
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds the drain may take at most"
    )
    parser.add_argument(
        "--notice-timeout",
        type=float,
        default=600,
        help="seconds after the drain to wait for the notices",
    )
    parser.add_argument("--update-repeats", type=int, default=3, help="bare UPDATE runs")
    parser.add_argument(
        "--vacuum-after-drain",
        choices=["auto", "on", "off"],
        default="auto",
        help="VACUUM ANALYZE the requests once drained, as autovacuum would have by then; "
        "auto: only if the server's autovacuum is off",
    )
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be at least 1")
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must name a PostgreSQL database (SKIP LOCKED, ANY(array))")
    return args


def portal_env(args):
    """Production's settings, but plain http, no collected static files and no real email."""
    return {
        "DJANGO_SETTINGS_MODULE": "benefits_portal.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_MANIFEST": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": "",  # empty: the broker is REDIS_URL, whatever the shell says
        # Real days, as in production: each request takes one step, Provisioning to Active.
        "SIMULATED_DAY_SECONDS": "86400",
        "ACTIVATION_BUSINESS_DAYS": "3",
    }


args = parse_args()
ENV = portal_env(args)
os.environ.update(ENV)
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", "No directory at")  # static files aren't collected here

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from activation import services  # noqa: E402
from activation.models import ActivationEvent, ActivationRequest  # noqa: E402
from activation.tasks import sweep_due_activations  # noqa: E402
from audit.models import AuditEntry  # noqa: E402
from benefits_portal.celery import app  # noqa: E402
from entitlements.models import Competency, MembershipOffer, Partner, Role, RoleAssignment  # noqa: E402
from entitlements.rules import Level, OfferKind  # noqa: E402
from notices.models import Notice  # noqa: E402
from support.models import SupportContract  # noqa: E402

User = get_user_model()
State = ActivationRequest.State


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# Setting up the rows

# Children before parents. The app's foreign keys are checked at commit, so a row of some other
# kind still pointing at a bench company makes the whole clean-up fail rather than half happen.
CLEANUP = [
    (
        "support contracts",
        "DELETE FROM support_supportcontract WHERE partner_id IN "
        "(SELECT id FROM entitlements_partner WHERE name LIKE %s)",
    ),
    (
        "activation events",
        "DELETE FROM activation_activationevent WHERE request_id IN "
        "(SELECT r.id FROM activation_activationrequest r "
        "JOIN entitlements_membershipoffer o ON o.id = r.offer_id "
        "JOIN entitlements_partner p ON p.id = o.partner_id WHERE p.name LIKE %s)",
    ),
    (
        "activation requests",
        "DELETE FROM activation_activationrequest WHERE offer_id IN "
        "(SELECT o.id FROM entitlements_membershipoffer o "
        "JOIN entitlements_partner p ON p.id = o.partner_id WHERE p.name LIKE %s)",
    ),
    (
        "audit entries",
        "DELETE FROM audit_auditentry WHERE partner_id IN "
        "(SELECT id FROM entitlements_partner WHERE name LIKE %s)",
    ),
    (
        "offers",
        "DELETE FROM entitlements_membershipoffer WHERE partner_id IN "
        "(SELECT id FROM entitlements_partner WHERE name LIKE %s)",
    ),
    (
        "notices",
        "DELETE FROM notices_notice WHERE recipient_id IN "
        "(SELECT u.id FROM accounts_user u "
        "JOIN entitlements_partner p ON p.id = u.partner_id WHERE p.name LIKE %s)",
    ),
    (
        "role assignments",
        "DELETE FROM entitlements_roleassignment WHERE user_id IN "
        "(SELECT u.id FROM accounts_user u "
        "JOIN entitlements_partner p ON p.id = u.partner_id WHERE p.name LIKE %s)",
    ),
    (
        "users",
        "DELETE FROM accounts_user WHERE partner_id IN "
        "(SELECT id FROM entitlements_partner WHERE name LIKE %s)",
    ),
    ("partners", "DELETE FROM entitlements_partner WHERE name LIKE %s"),
]


def delete_previous_run():
    """Plain DELETEs: Django's collector would load every row of the last run first."""
    deleted = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for what, sql in CLEANUP:
            cursor.execute(sql, [PREFIX + "%"])
            deleted[what] = cursor.rowcount
    return {what: rows for what, rows in deleted.items() if rows}


def free_mpn_ids():
    taken = set(Partner.objects.exclude(mpn_id="").values_list("mpn_id", flat=True))
    for number in range(1_000_000, 10_000_000):
        if str(number) not in taken:
            yield str(number)


def offers_of(index, partner, competencies, today):
    """Every company holds a competency, Gold or Silver in turn (two benefits); every fourth
    one Action Pack too (one benefit). Started at different dates, all active today."""
    started = today - datetime.timedelta(days=30 + index % 300)
    offers = [
        MembershipOffer(
            partner=partner,
            kind=OfferKind.COMPETENCY,
            competency=competencies[index % len(competencies)],
            level=Level.GOLD if index % 2 else Level.SILVER,
            starts_on=started,
            ends_on=started + datetime.timedelta(days=365),
        )
    ]
    if index % 4 == 0:
        pack_started = today - datetime.timedelta(days=10 + index % 200)
        offers.append(
            MembershipOffer(
                partner=partner,
                kind=OfferKind.ACTION_PACK,
                starts_on=pack_started,
                ends_on=pack_started + datetime.timedelta(days=365),
            )
        )
    return offers


def make_companies(count, batch_size):
    """Companies, each with a Global admin (who asked for the activations and gets the
    notices), and their offers: enough for `count` (offer, benefit) pairs.
    Returns [(offer, benefit, admin)], `count` long."""
    competencies = list(Competency.objects.order_by("name"))
    if not competencies:
        raise SystemExit("No competencies in the database: is it migrated?")
    today = timezone.localdate()
    mpn_ids = free_mpn_ids()
    partners, offers_by_partner = [], []
    pairs = 0
    while pairs < count:
        index = len(partners)
        partner = Partner(
            name=f"{PREFIX}{index:07d}",
            mpn_id=next(mpn_ids),
            is_mpn_associated=True,
            is_csp=index % 3 == 0,
        )
        offers = offers_of(index, partner, competencies, today)
        partners.append(partner)
        offers_by_partner.append(offers)
        pairs += sum(len(offer.entitlements()) for offer in offers)

    Partner.objects.bulk_create(partners, batch_size=batch_size)
    admins = User.objects.bulk_create(
        [
            User(
                email=f"admin-{partner.mpn_id}@drain-bench.example.com",
                password=make_password(None),  # unusable: nobody signs in as them
                first_name="Bench",
                last_name=partner.mpn_id,
                partner=partner,
            )
            for partner in partners
        ],
        batch_size=batch_size,
    )
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(user=admin, role=Role.GLOBAL_ADMIN) for admin in admins],
        batch_size=batch_size,
    )
    all_offers = [offer for offers in offers_by_partner for offer in offers]
    MembershipOffer.objects.bulk_create(all_offers, batch_size=batch_size)

    work = []
    for admin, offers in zip(admins, offers_by_partner, strict=True):
        for offer in offers:
            for entitlement in offer.entitlements():
                work.append((offer, entitlement.benefit, admin))
    return partners, all_offers, work[:count]


def make_requests(work, batch_size):
    """The requests, in Provisioning and due, with the history they would have: their first
    three events and the audit entry of the request. Returns their ids."""
    now = timezone.now()
    ids = []
    for start in range(0, len(work), batch_size):
        chunk = work[start : start + batch_size]
        requests = []
        for number, (offer, benefit, admin) in enumerate(chunk, start):
            # Asked for three to four days ago; due (expected) a day or more ago.
            requested_at = now - datetime.timedelta(days=4, seconds=number % 86_400)
            expected_at = requested_at + datetime.timedelta(days=3)
            requests.append(
                ActivationRequest(
                    offer=offer,
                    benefit=benefit,
                    requested_by=admin,
                    state=State.PROVISIONING,
                    requested_at=requested_at,
                    in_review_at=requested_at + datetime.timedelta(days=1),
                    provisioning_at=requested_at + datetime.timedelta(days=2),
                    expected_at=expected_at,
                    due_at=expected_at,
                )
            )
        ActivationRequest.objects.bulk_create(requests, batch_size=batch_size)
        events, entries = [], []
        for request in requests:
            admin = request.requested_by
            events += [
                ActivationEvent(
                    request=request, at=request.requested_at, actor=admin, to_state=State.SUBMITTED
                ),
                ActivationEvent(
                    request=request,
                    at=request.in_review_at,
                    from_state=State.SUBMITTED,
                    to_state=State.IN_REVIEW,
                ),
                ActivationEvent(
                    request=request,
                    at=request.provisioning_at,
                    from_state=State.IN_REVIEW,
                    to_state=State.PROVISIONING,
                ),
            ]
            entries.append(
                AuditEntry(
                    partner_id=request.offer.partner_id,
                    action=AuditEntry.Action.ACTIVATION_REQUESTED,
                    subject=f"{request.get_benefit_display()}, {request.offer.title}",
                    actor=admin,
                    actor_email=admin.email,
                )
            )
        ActivationEvent.objects.bulk_create(events, batch_size=batch_size)
        AuditEntry.objects.bulk_create(entries, batch_size=batch_size)
        ids += [request.pk for request in requests]
    return ids


BENCH_TABLES = [
    "entitlements_partner",
    "accounts_user",
    "entitlements_roleassignment",
    "entitlements_membershipoffer",
    "activation_activationrequest",
    "activation_activationevent",
    "audit_auditentry",
    "support_supportcontract",
]


def vacuum_analyze():
    """Fresh statistics and no dead rows left by the clean-up or the rolled-back UPDATE, so
    the workers' plans and pages are those of a settled table."""
    with connection.cursor() as cursor:
        for table in BENCH_TABLES:
            cursor.execute("VACUUM ANALYZE " + connection.ops.quote_name(table))


# The floor: one statement


def bare_update(ids, repeats):
    """Seconds for one UPDATE of the rows to Active, each run rolled back."""
    runs = []
    for _ in range(repeats):
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            try:
                started = time.perf_counter()
                cursor.execute(
                    "UPDATE activation_activationrequest "
                    "SET state = 'active', completed_at = now(), due_at = NULL "
                    "WHERE id = ANY(%s)",
                    [ids],
                )
                runs.append(time.perf_counter() - started)
                if cursor.rowcount != len(ids):
                    raise SystemExit(f"The UPDATE changed {cursor.rowcount} rows, not {len(ids)}")
            finally:
                cursor.execute("ROLLBACK")
    return runs


# The workers


def children_of(pid):
    children = set()
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            children.update(int(child) for child in (task / "children").read_text().split())
    return children


def peak_rss_bytes(pid):
    """VmHWM: the most resident memory the process has had."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


class Worker:
    def __init__(self, name, queue, log_path):
        self.name = name
        self.log_path = log_path
        self.command = [
            str(CELERY),
            "-A",
            "benefits_portal",
            "worker",
            "--concurrency",
            "1",
            "--pool",
            "prefork",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
            "-n",
            f"{name}@%h",
        ]
        self.process = None
        self.peaks = {}  # pid: (role, VmHWM bytes); a pool child replaced keeps its line

    @property
    def node(self):
        return f"{self.name}@{socket.gethostname()}"

    def start(self):
        with self.log_path.open("w") as log_file:
            self.process = subprocess.Popen(  # noqa: S603 - our own celery, fixed arguments
                self.command,
                cwd=ROOT,
                env={**os.environ, **ENV},
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group, so a kill takes the pool child too
            )

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def sample(self):
        parent = self.process.pid
        for pid, role in [(parent, "parent"), *((c, "child") for c in children_of(parent))]:
            peak = peak_rss_bytes(pid)
            if peak is not None:
                self.peaks[pid] = (role, peak)

    def stop(self, timeout=60):
        """SIGTERM: a warm shutdown, the task in hand finished first."""
        if not self.alive():
            return "exited before the end"
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
            return "stopped"
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
            return f"killed after {timeout}s"

    def swept(self):
        """How many requests this worker's sweeps moved, from its log."""
        text = self.log_path.read_text(errors="replace")
        return sum(int(n) for n in re.findall(r"Swept (\d+) due activation", text))


def sample_while(workers, stop, every=0.5):
    while not stop.wait(every):
        for worker in workers:
            if worker.alive():
                worker.sample()


def wait_until_ready(workers, timeout=120):
    deadline = time.monotonic() + timeout
    waiting = {worker.node for worker in workers}
    while waiting:
        for worker in workers:
            if not worker.alive():
                raise SystemExit(f"Worker {worker.name} exited; see {worker.log_path}")
        if time.monotonic() > deadline:
            raise SystemExit(f"Workers not ready after {timeout}s: {sorted(waiting)}")
        for reply in app.control.ping(destination=sorted(waiting), timeout=1.0):
            waiting -= set(reply)


def prepare_broker(redis_url, queue):
    """Drop what earlier runs left: messages, unacked deliveries, cached pages. Never DB 0,
    which is where other things live unless told otherwise."""
    client = redis.Redis.from_url(redis_url)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    if int(db) == 0:
        # Redis keeps each priority step in a list of its own: the emails wait in "queue\x06\x169".
        waiting = sum(client.llen(key) for key in [queue, *client.keys(f"{queue}\x06\x16*")])
        log(f"Redis DB 0: not flushed; {waiting} message(s) already in queue {queue!r}")
        return {"db": 0, "flushed": False, "messages_before": waiting}
    keys = client.dbsize()
    client.flushdb()
    log(f"Redis DB {db}: flushed ({keys} key(s))")
    return {"db": int(db), "flushed": True, "keys_flushed": keys}


# Measuring


class Rows:
    """The bench's requests: ids from lo to hi (they were inserted in one go)."""

    def __init__(self, ids):
        self.lo, self.hi = min(ids), max(ids)

    def all(self):
        return ActivationRequest.objects.filter(
            pk__range=(self.lo, self.hi), offer__partner__name__startswith=PREFIX
        )

    def pending(self):
        # Pending exactly when due_at is set (a check constraint); the partial index has them.
        return ActivationRequest.objects.filter(pk__range=(self.lo, self.hi), due_at__isnull=False)

    def unnotified(self):
        # The outbox's emails not sent yet (the notice_email_due partial index): during the
        # drain, those of the activations it completes.
        return Notice.objects.filter(kind=Notice.Kind.IDS_READY, email_due_at__isnull=False)

    # Polled while the workers share the machine, so these read one entry of the partial
    # index, in its order: a count reads all of it, and with the statistics of before the
    # drain the planner answers an exists() with a scan of the table.

    def any_pending(self):
        return bool(self.pending().order_by("due_at").values_list("pk", flat=True)[:1])

    def any_unnotified(self):
        return bool(self.unnotified().order_by("email_due_at").values_list("pk", flat=True)[:1])


def polled(check, poll=0.1, share=0.05):
    """Yield while check() is true. Waits between calls so that polling takes at most `share`
    of the time, however slow the query gets: the dead index entries the workers leave
    behind make it slower as they go."""
    while True:
        started = time.perf_counter()
        if not check():
            return
        took = time.perf_counter() - started
        yield
        time.sleep(min(1.0, max(poll, took / share)))


def drain(rows, workers, sweep_every, timeout):
    """Enqueue one sweep per worker, then one every `sweep_every` seconds while any request is
    pending. Returns (seconds until none is pending or None on timeout, sweeps enqueued)."""
    # Like beat's: a sweep not started before the next one is due is dropped, not piled up.
    expires = sweep_every * 0.9
    started = time.monotonic()
    for _ in workers:
        sweep_due_activations.apply_async(expires=expires)
    enqueued, last = len(workers), started
    for _ in polled(rows.any_pending):
        now = time.monotonic()
        if now - started > timeout:
            return None, enqueued
        for worker in workers:
            if not worker.alive():
                raise SystemExit(f"Worker {worker.name} exited; see {worker.log_path}")
        if now - last >= sweep_every:
            sweep_due_activations.apply_async(expires=expires)
            enqueued, last = enqueued + 1, now
    return time.monotonic() - started, enqueued


def wait_for_notices(rows, since, timeout):
    """Seconds from `since` until every notice is marked sent (None on timeout), and how many
    are left to send at the end."""
    for _ in polled(rows.any_unnotified):
        if time.monotonic() - since > timeout:
            return None, rows.unnotified().count()
    return time.monotonic() - since, 0


def verify(rows):
    mine = rows.all()
    twice_active = (
        ActivationEvent.objects.filter(request__in=mine, to_state=State.ACTIVE)
        .values("request")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("request", flat=True)
    )
    two_contracts = (
        SupportContract.objects.filter(activation__in=mine)
        .values("activation")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("activation", flat=True)
    )
    states = dict(mine.values_list("state").annotate(n=Count("pk")))
    return {
        "duplicates": len(set(twice_active) | set(two_contracts)),
        "lost": sum(n for state, n in states.items() if state != State.ACTIVE),
        "failed": states.get(State.FAILED, 0),
        "states": states,
        "contracts": SupportContract.objects.filter(activation__in=mine).count(),
        "active_without_contract": mine.filter(state=State.ACTIVE, contract__isnull=True).count(),
        "notices_sent": Notice.objects.filter(
            kind=Notice.Kind.IDS_READY,
            about__in=[services.ids_ready_about(pk) for pk in mine.values_list("pk", flat=True)],
            sent_at__isnull=False,
        ).count(),
    }


def machine():
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "postgres": postgres,
        "autovacuum": autovacuum,
        "redis": redis.Redis.from_url(args.redis_url).info("server")["redis_version"],
    }


def main():
    out = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {"count": args.count, "started_at": timezone.now().isoformat(timespec="seconds")}
    result["machine_at_start"] = machine()
    log(f"{args.count} activations; load average {os.getloadavg()}")
    # Without autovacuum the planner keeps the statistics of before the drain. They say the
    # partial index of unsent notices is empty, so it scans that index, which holds the whole
    # backlog, for each notice it claims by id.
    vacuum_after_drain = args.vacuum_after_drain == "on" or (
        args.vacuum_after_drain == "auto" and result["machine_at_start"]["autovacuum"] != "on"
    )

    call_command("migrate", verbosity=0, interactive=False)
    began = time.perf_counter()
    deleted = delete_previous_run()
    if deleted:
        log(f"Deleted the previous run's rows: {deleted}")
    partners, offers, work = make_companies(args.count, args.batch_size)
    ids = make_requests(work, args.batch_size)
    vacuum_analyze()
    result["setup"] = {
        "seconds": round(time.perf_counter() - began, 1),
        "partners": len(partners),
        "offers": len(offers),
        "requests": len(ids),
        "deleted_first": deleted,
    }
    log(
        f"Made {len(partners)} companies, {len(offers)} offers, {len(ids)} requests "
        f"in {result['setup']['seconds']}s"
    )
    rows = Rows(ids)
    # Someone else's due requests would be swept too, and slow the drain down.
    others = ActivationRequest.objects.due(timezone.now()).count() - rows.pending().count()
    result["other_due_requests"] = others
    if others:
        log(f"Warning: {others} other due request(s) will be swept with the bench's")

    runs = bare_update(ids, args.update_repeats)
    vacuum_analyze()
    update_seconds = sorted(runs)[len(runs) // 2]  # the median
    bare_rate = args.count / update_seconds
    result["bare_update_seconds"] = [round(run, 4) for run in runs]
    result["bare_update_rows_per_s"] = round(bare_rate)
    log(f"Bare UPDATE: {update_seconds:.3f}s median of {len(runs)}, {bare_rate:,.0f} rows/s")

    queue = app.conf.task_default_queue
    result["broker"] = prepare_broker(args.redis_url, queue)
    log_dir = ROOT / "var" / "bench"  # the workers' logs: large, and not results
    log_dir.mkdir(parents=True, exist_ok=True)
    workers = [
        Worker(name, queue, log_dir / f"{out.stem}-{name}.log") for name in ("drain1", "drain2")
    ]
    stop_sampling = threading.Event()
    sampler = threading.Thread(target=sample_while, args=(workers, stop_sampling), daemon=True)
    try:
        for worker in workers:
            worker.start()
        wait_until_ready(workers)
        sampler.start()
        log("Workers ready; enqueueing sweeps")
        seconds, sweeps = drain(rows, workers, args.sweep_every, args.timeout)
        if seconds is None:
            log(f"Drain timed out after {args.timeout}s: {rows.pending().count()} still pending")
        else:
            log(f"Drained in {seconds:.1f}s; waiting for the notices")
        notices, notices_after_drain, notices_left = None, None, None
        if seconds is not None:
            drained_at = time.monotonic()
            notices_after_drain = rows.unnotified().count()
            if vacuum_after_drain:
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE activation_activationrequest")
                log(f"Vacuumed the requests in {time.monotonic() - drained_at:.1f}s")
            notices, notices_left = wait_for_notices(rows, drained_at, args.notice_timeout)
            notices_elapsed = time.monotonic() - drained_at
            if notices is None:
                log(f"Notices: {notices_left} not sent within {args.notice_timeout}s")
            else:
                log(f"Notices all sent {notices:.1f}s after the drain")
        for worker in workers:
            worker.sample()  # the last word on peak memory, while they are still up
    finally:
        stop_sampling.set()
        stopped = {worker.name: worker.stop() for worker in workers}
    result["machine_at_end"] = machine()

    checks = verify(rows)
    activation_rate = args.count / seconds if seconds else None
    result.update(
        {
            "seconds": round(seconds, 2) if seconds is not None else None,
            "activations_per_s": round(activation_rate, 1) if activation_rate else None,
            "ratio": round(activation_rate / bare_rate, 5) if activation_rate else None,
            "duplicates": checks.pop("duplicates"),
            "lost": checks.pop("lost"),
            "failed": checks.pop("failed"),
            "notices_seconds": round(notices, 2) if notices is not None else None,
            # Of those still to send when the drain ended (the workers were sweeping before),
            # all of them or as many as were sent before the timeout.
            "notices_per_s": round((notices_after_drain - notices_left) / notices_elapsed, 1)
            if seconds is not None
            else None,
            "notices_left_at_drain_end": notices_after_drain,
            "notices_left_at_timeout": notices_left or None,
            "checks": checks,
            "sweeps_enqueued": sweeps,
            "swept_per_worker": {worker.name: worker.swept() for worker in workers},
            "peak_rss_mib": {
                f"{worker.name} {role} {pid}": round(peak / MIB, 1)
                for worker in workers
                for pid, (role, peak) in sorted(worker.peaks.items())
            },
            "workers": {
                "count": len(workers),
                "command": workers[0].command,
                "stopped": stopped,
                "logs": [str(worker.log_path) for worker in workers],
                "prefetch_multiplier": settings.CELERY_WORKER_PREFETCH_MULTIPLIER,
                "acks_late": settings.CELERY_TASK_ACKS_LATE,
                "sweep_batch_size": services.sweep.__defaults__[0],
                "sweep_every_s": args.sweep_every,
                "vacuumed_after_drain": vacuum_after_drain,
                "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
                # Unset: Celery's Django fixup closes the connection around every task.
                "celery_db_reuse_max": app.conf.get("CELERY_DB_REUSE_MAX"),
                "email_backend": settings.EMAIL_BACKEND,
            },
        }
    )
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")

    print()
    print(f"Activations:  {args.count} in {result['seconds']}s ({result['activations_per_s']}/s)")
    print(f"Bare UPDATE:  {result['bare_update_rows_per_s']:,} rows/s; ratio {result['ratio']}")
    if notices is not None:
        print(f"Notices sent: {result['notices_seconds']}s after the drain")
    elif seconds is not None:
        print(f"Notices: {notices_left} not sent within {args.notice_timeout}s of the drain")
    print(
        f"Duplicates {result['duplicates']}, lost {result['lost']}, failed {result['failed']}; "
        f"swept per worker {result['swept_per_worker']}"
    )
    for process, mib in result["peak_rss_mib"].items():
        print(f"Peak RSS {process}: {mib} MiB")
    print(f"Written to {out}")
    wrong = result["duplicates"] or result["lost"] or seconds is None
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
