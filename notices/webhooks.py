"""Webhooks: a company's own systems told of its events, signed per Standard Webhooks.

`announce` writes one WebhookDelivery per endpoint that asked for the event, in the caller's
transaction, and nudges a worker once it commits. The workers deliver (`send_due`): claimed
with SKIP LOCKED and a lease, at least once, and in order per subject (a delivery waits while
an earlier one of its subject and endpoint is pending). A failed try is due again after
settings.WEBHOOK_RETRY_DELAYS; an endpoint that has failed every try for
settings.WEBHOOK_DISABLE_AFTER_DAYS is disabled and its company's Global admins are told.

Calls go only to public addresses (`public_address`): a URL can't reach the portal's own
network, and the address checked is the one called, so a name can't change in between.
"""

import base64
import datetime
import ipaddress
import json
import logging
import secrets
import socket
import time
import uuid

import urllib3
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook

from activation import clock
from audit.models import AuditEntry
from audit.services import record
from entitlements.permissions import MANAGE_WEBHOOKS, people_who_can

from .models import Notice, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .services import tell

log = logging.getLogger(__name__)
NoAnswer = WebhookAttempt.NoAnswer

BATCH_SIZE = 20
# A sender has this long per delivery it claimed; after that the claim lapses and the next
# sweep tries it: twice only if the first call did arrive after all. A sweep's task stops at
# SWEEP_TIME_LIMIT, before any claim of its lapses, so no call outlives its claim however
# slowly an endpoint answers; it starts no call after RUN_FOR.
LEASE = datetime.timedelta(seconds=60)
SWEEP_TIME_LIMIT = 55
RUN_FOR = 25
# Short: the sweep waits for each call, and the workers have activations to move too.
TIMEOUT = urllib3.Timeout(connect=3, read=5)
# However slowly an endpoint answers, the start of its answer is read for this long at most.
READ_FOR = 10
# Deliveries and their tries are kept this long, then forgotten (`forget_old`).
KEEP_DELIVERIES = datetime.timedelta(days=30)
EXCERPT_LENGTH = 500
USER_AGENT = "PartnerBenefitsPortal-Webhooks/1"


class Refused(Exception):
    """The URL may not be called; the message says why, for the person who typed it."""


class NotFound(Refused):
    """The URL's host has no address (now)."""


# Ranges no webhook goes to, beyond what `ipaddress` calls not global (which varies with the
# Python version): IETF protocol assignments, IPv6 forms that carry an IPv4 address inside
# (compatible, mapped, translated, NAT64, Teredo, 6to4) and the site-local range.
BLOCKED = [
    ipaddress.ip_network(network)
    for network in (
        "192.0.0.0/24",
        "::/96",
        "::ffff:0:0/96",
        "::ffff:0:0:0/96",
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "2001::/32",
        "2002::/16",
        "fec0::/10",
    )
]


def new_secret():
    """A signing secret as Standard Webhooks writes one: "whsec_" and 24 random bytes in
    base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def public_address(url):
    """The address to call for `url`: the first its host resolves to.

    Takes an http(s) URL; returns (address, port). Raises Refused for another scheme, a host
    that doesn't resolve, or one that resolves to any address that is not public (loopback,
    private, link-local, shared or reserved ranges: issue 19, SSRF), unless the address is in
    settings.WEBHOOK_ALLOWED_ADDRESSES.
    """
    try:
        parts = urllib3.util.parse_url(url)
    except ValueError:
        raise Refused(_("Enter a web address such as https://example.com/webhooks.")) from None
    if parts.scheme not in ("http", "https") or not parts.host:
        raise Refused(_("Enter a web address that starts with https:// or http://."))
    if parts.auth:
        raise Refused(_("Leave the user name and password out of the address."))
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.host.strip("[]")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise NotFound(_("No address was found for %(host)s.") % {"host": host}) from None
    addresses = [info[4][0] for info in found]
    for address in addresses:
        if not _public(address):
            raise Refused(
                _("%(host)s is not a public address: webhooks go only to the internet.")
                % {"host": host}
            )
    return addresses[0], port


def _public(address):
    if address in settings.WEBHOOK_ALLOWED_ADDRESSES:
        return True
    ip = ipaddress.ip_address(address.split("%")[0])
    if any(ip in network for network in BLOCKED):
        return False
    return ip.is_global and not ip.is_multicast


# A company's endpoints


def endpoints_of(partner):
    """The company's endpoints, oldest first (not those removed): the only way the pages
    reach them."""
    return WebhookEndpoint.objects.filter(partner=partner, removed_at__isnull=True)


def add_endpoint(user, url, events, submission_key=None):
    """Add an endpoint for the user's company; audited.

    Takes the Global admin adding it, an http(s) URL, a list of WebhookEvent values and the
    form's one-time key (a UUID, or None). Returns (endpoint, added): added is False when this
    form, as it is, added it already (a double click), so its secret is shown again to the same
    person; the form sent again changed adds a new one. Raises Refused for a URL that may not be
    called (`public_address`) or that the company has an endpoint for already.
    """
    events = sorted(events)
    public_address(url)
    earlier = _added_by(user, submission_key)
    if earlier is not None and (earlier.url, earlier.events) != (url, events):
        # Back, changed and sent again: a new endpoint, under a key of the form as it is now
        # (a double click of it adds one).
        submission_key = uuid.uuid5(submission_key, json.dumps([url, events]))
        earlier = _added_by(user, submission_key)
    if earlier is not None:
        return earlier, False
    try:
        with transaction.atomic():
            endpoint = WebhookEndpoint.objects.create(
                partner_id=user.partner_id,
                url=url,
                events=events,
                secret=new_secret(),
                created_by=user,
                created_at=clock.now(),
                submission_key=submission_key,
            )
            record(
                user.partner,
                AuditEntry.Action.WEBHOOK_ENDPOINT_ADDED,
                f"{url}: {' '.join(events)}",
                user,
                {"url": url, "events": events},
            )
    except IntegrityError:
        earlier = _added_by(user, submission_key)  # two clicks at once: the first won
        if earlier is not None and (earlier.url, earlier.events) == (url, events):
            return earlier, False
        raise Refused(_("Your company has an endpoint with this URL already.")) from None
    return endpoint, True


def _added_by(user, submission_key):
    if submission_key is None:
        return None
    return (
        endpoints_of(user.partner_id).filter(created_by=user, submission_key=submission_key).first()
    )


def set_enabled(endpoint_pk, partner, actor, enabled):
    """Disable one of the company's endpoints (no new deliveries are made for it, and those
    waiting wait) or enable it again (those waiting are sent); audited. Returns whether it
    changed. Raises WebhookEndpoint.DoesNotExist for another company's."""
    with transaction.atomic():
        endpoint = endpoints_of(partner).select_for_update(no_key=True).get(pk=endpoint_pk)
        if (endpoint.disabled_at is None) == enabled:
            return False
        if enabled:
            endpoint.disabled_at = endpoint.disabled_by = endpoint.failing_since = None
            endpoint.last_failed_at = None
        else:
            endpoint.disabled_at, endpoint.disabled_by = clock.now(), actor
        endpoint.save(
            update_fields=["disabled_at", "disabled_by", "failing_since", "last_failed_at"]
        )
        action = "WEBHOOK_ENDPOINT_ENABLED" if enabled else "WEBHOOK_ENDPOINT_DISABLED"
        record(partner, AuditEntry.Action[action], endpoint.url, actor, {"url": endpoint.url})
    if enabled:
        transaction.on_commit(_nudge)
    return True


def remove_endpoint(endpoint_pk, partner, actor):
    """Remove one of the company's endpoints; audited. It is gone from the pages and sent
    nothing from now on; its row, deliveries and their log are deleted by `forget_old`, so a
    change telling it of an event meanwhile still commits. Returns whether it was there to
    remove (False: removed already, or another company's)."""
    with transaction.atomic():
        endpoint = (
            endpoints_of(partner).select_for_update(no_key=True).filter(pk=endpoint_pk).first()
        )
        if endpoint is None:
            return False
        endpoint.removed_at = clock.now()
        endpoint.save(update_fields=["removed_at"])
        record(
            partner,
            AuditEntry.Action.WEBHOOK_ENDPOINT_REMOVED,
            endpoint.url,
            actor,
            {"url": endpoint.url},
        )
    return True


def forget_old():
    """Delete the endpoints removed over an hour ago, with their deliveries, and the
    deliveries done with (delivered or given up) over KEEP_DELIVERIES ago, with their tries.
    Returns how many rows went. Run hourly (beat)."""
    now = clock.now()
    removed, _ = WebhookEndpoint.objects.filter(
        removed_at__lte=now - datetime.timedelta(hours=1)
    ).delete()
    old, _ = (
        WebhookDelivery.objects.filter(created_at__lte=now - KEEP_DELIVERIES, due_at__isnull=True)
        .exclude(attempt_log__at__gt=now - KEEP_DELIVERIES)  # redelivered lately: kept
        .delete()
    )
    return removed + old


# Telling


def announce(partner_id, event, *, subject, key, data):
    """Tell the company's endpoints that asked for `event` of it, once each.

    Takes the company's pk, a WebhookEvent, `subject` (what it is about, e.g. "case:12": the
    deliveries of one subject go in order), `key` (what makes it one event, e.g.
    "case:12:resolved:<time>"; announcing it again adds nothing) and `data`, the event's plain
    values (its payload's "data"). Call it inside the transaction of the change; a worker is
    nudged once it commits.
    """
    announce_all([(partner_id, event, subject, key, data)])


def announce_all(events):
    """`announce` for a batch of events (the activation drain's): two statements however many.

    Takes a list of (company pk, WebhookEvent, subject, key, data) tuples, each as `announce`
    takes them. Returns nothing; raises ValueError for an unknown event.
    """
    events = [(partner_id, WebhookEvent(event), *rest) for partner_id, event, *rest in events]
    if not events:
        return
    endpoints = {}
    for endpoint in WebhookEndpoint.objects.filter(
        partner__in={event[0] for event in events},
        removed_at__isnull=True,
        disabled_at__isnull=True,
    ).order_by("pk"):
        endpoints.setdefault(endpoint.partner_id, []).append(endpoint)
    if not endpoints:
        return
    now = clock.now()
    deliveries = [
        WebhookDelivery(
            endpoint=endpoint,
            event=event,
            subject=subject,
            key=key,
            message_id=f"msg_{uuid.uuid4().hex}",
            payload={"type": event.value, "timestamp": now, "data": data},
            created_at=now,
            due_at=now,
        )
        for partner_id, event, subject, key, data in events
        for endpoint in endpoints.get(partner_id, ())
        if event in endpoint.events
    ]
    if deliveries:
        # ignore_conflicts: an endpoint told of an event already is not told again.
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        transaction.on_commit(_nudge)


def _nudge():
    from .tasks import send_due_webhooks

    try:
        send_due_webhooks.delay()
    except SoftTimeLimitExceeded:
        raise
    except Exception:  # the broker is down: the rows are saved and the beat's sweep sends them
        log.warning("Could not reach the broker; webhooks wait for the sweep.")


# Delivering


def send_due(batch_size=BATCH_SIZE, run_for=RUN_FOR):
    """Try every delivery that is due and first in line for its subject (new, waiting for a
    retry, or whose sender died), round after round while a round delivers something (each
    makes the next of its subject first), starting no call after `run_for` seconds (the next
    sweep goes on); returns how many were delivered. Rows another sender holds are skipped:
    it is sending them."""
    delivered = 0
    stop_at = time.monotonic() + run_for
    while True:
        lease_end = clock.now() + LEASE
        earlier_pending = WebhookDelivery.objects.filter(
            endpoint=OuterRef("endpoint"),
            subject=OuterRef("subject"),
            pk__lt=OuterRef("pk"),
            delivered_at__isnull=True,
            gave_up_at__isnull=True,
        )
        with transaction.atomic():
            batch = list(
                WebhookDelivery.objects.filter(
                    due_at__lte=clock.now(),
                    endpoint__disabled_at__isnull=True,
                    endpoint__removed_at__isnull=True,
                )
                .exclude(Exists(earlier_pending))
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("due_at", "pk")
                .values_list("pk", "endpoint_id")[:batch_size]
            )
            WebhookDelivery.objects.filter(pk__in=[pk for pk, _ in batch]).update(due_at=lease_end)
        this_round, failing = 0, set()
        for pk, endpoint_id in batch:
            if time.monotonic() > stop_at:
                # Time's up: what is left is due now, for the next sweep.
                WebhookDelivery.objects.filter(pk=pk, due_at=lease_end).update(due_at=clock.now())
            elif endpoint_id in failing:
                # One failure an endpoint a round: a dead one costs one timeout, not twenty.
                WebhookDelivery.objects.filter(pk=pk, due_at=lease_end).update(
                    due_at=clock.now()
                    + datetime.timedelta(seconds=settings.WEBHOOK_RETRY_DELAYS[0])
                )
            elif _attempt(pk, lease_end):
                this_round += 1
            else:
                failing.add(endpoint_id)
        delivered += this_round
        # A delivery made the next of its subject due; none: what is left waits for its time.
        if not this_round or time.monotonic() > stop_at:
            return delivered


def _attempt(pk, lease_end):
    """Call the endpoint with the delivery once, if this sender's claim (`lease_end`) still
    holds and the endpoint is still enabled, and log the try; True if the endpoint took it (a
    2xx answer)."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=pk).first()
    if delivery is None:
        return False  # forgotten meanwhile, with its endpoint
    endpoint = delivery.endpoint
    claimed = WebhookDelivery.objects.filter(pk=pk, due_at=lease_end)
    if endpoint.disabled_at or endpoint.removed_at:
        claimed.update(due_at=clock.now())  # disabled meanwhile: it waits, untried
        return False
    renewed = clock.now() + LEASE
    if not claimed.update(due_at=renewed, attempts=F("attempts") + 1):
        return False  # the lease lapsed and another sender took it
    delivery.attempts += 1
    mine = WebhookDelivery.objects.filter(pk=pk, due_at=renewed)
    at, started = clock.now(), time.monotonic()
    if delivery.attempts > len(settings.WEBHOOK_RETRY_DELAYS) + 1:
        # Tries that never came back (a sender stopped mid-call): given up, not called again.
        _log_attempt(delivery, mine, at, None, 0, NoAnswer.TIMED_OUT)
        return False
    try:
        status, excerpt = _call(endpoint, delivery)
    except SoftTimeLimitExceeded:
        # The task's time is up mid-call: the try counts, and is logged, as one timed out.
        _log_attempt(delivery, mine, at, None, _since(started), NoAnswer.TIMED_OUT)
        raise
    return _log_attempt(delivery, mine, at, status, _since(started), excerpt)


def _since(started):
    """Milliseconds since `started` (a time.monotonic() reading)."""
    return round((time.monotonic() - started) * 1000)


def _log_attempt(delivery, mine, at, status, milliseconds, excerpt):
    """Log one try of `delivery` made `at` (status code or None, its time in ms, the start
    of the answer or a WebhookAttempt.NoAnswer) and set what comes next: delivered, due again
    later, or given up. `mine` is the delivery while this sender's claim holds. Returns
    whether it was delivered."""
    took = status is not None and 200 <= status < 300
    now = clock.now()
    delays = settings.WEBHOOK_RETRY_DELAYS
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            at=at,
            status_code=status,
            no_answer="" if status is not None else excerpt,
            milliseconds=milliseconds,
            excerpt=excerpt[:EXCERPT_LENGTH] if status is not None else "",
        )
        if took:
            # Taken, whoever holds the claim now: a retry under way would only repeat it.
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                due_at=None, delivered_at=now, gave_up_at=None
            )
            WebhookEndpoint.objects.filter(
                pk=delivery.endpoint_id, failing_since__isnull=False
            ).update(failing_since=None, last_failed_at=None)
            return True
        if delivery.attempts > len(delays):
            log.warning("Webhook %s given up after %s tries", delivery.pk, delivery.attempts)
            mine.update(due_at=None, gave_up_at=now)
        else:
            mine.update(due_at=now + datetime.timedelta(seconds=delays[delivery.attempts - 1]))
        _note_failure(delivery.endpoint_id, now)
    return False


def _call(endpoint, delivery):
    """POST the delivery's payload, signed, to the endpoint; returns (status code, the start of
    the answer) or (None, a WebhookAttempt.NoAnswer). Never raises for the endpoint's faults;
    takes about TIMEOUT plus READ_FOR seconds at most, however slowly the endpoint answers."""
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, separators=(",", ":"))
    sent_at = datetime.datetime.now(datetime.UTC)
    headers = {
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(delivery.message_id, sent_at, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    try:
        address, port = public_address(endpoint.url)
        parts = urllib3.util.parse_url(endpoint.url)
        headers["host"] = parts.netloc
        # The checked address is the one called; the name is kept for TLS (SNI and the
        # certificate's check).
        if parts.scheme == "https":
            name = parts.host.strip("[]")
            pool = urllib3.HTTPSConnectionPool(
                address,
                port,
                server_hostname=name,
                assert_hostname=name,
                timeout=TIMEOUT,
                retries=False,
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, port, timeout=TIMEOUT, retries=False)
        with pool:
            response = pool.urlopen(
                "POST",
                parts.request_uri,
                body=body.encode(),
                headers=headers,
                redirect=False,  # a redirect could lead into a private network
                preload_content=False,
            )
            return response.status, _start_of(response)
    except NotFound:
        return None, NoAnswer.NOT_FOUND
    except Refused:
        return None, NoAnswer.NOT_PUBLIC
    except SoftTimeLimitExceeded:
        raise
    except (urllib3.exceptions.HTTPError, OSError) as error:
        return None, _no_answer(error)


def _start_of(response):
    """The first EXCERPT_LENGTH characters of the answer's body, read for READ_FOR seconds at
    most (an endpoint dribbling its answer holds the sender no longer), as text a database
    column holds (no NUL)."""
    deadline = time.monotonic() + READ_FOR
    read = b""
    try:
        while len(read) < EXCERPT_LENGTH * 4 and time.monotonic() < deadline:
            chunk = response.read1(EXCERPT_LENGTH * 4 - len(read))
            if not chunk:
                break
            read += chunk
    except (urllib3.exceptions.HTTPError, OSError):
        pass  # the status came; the rest of the answer is not needed
    finally:
        response.release_conn()
    return read.decode("utf-8", "replace").replace("\x00", "\ufffd")[:EXCERPT_LENGTH]


def _no_answer(error):
    """Why a call got no answer (a WebhookAttempt.NoAnswer), for the delivery log."""
    if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason:
        error = error.reason
    # Before timeouts: urllib3's NewConnectionError is a kind of ConnectTimeoutError.
    if isinstance(error, (urllib3.exceptions.NewConnectionError, ConnectionError)):
        return NoAnswer.CONNECTION_REFUSED
    if isinstance(error, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return NoAnswer.TIMED_OUT
    if isinstance(error, urllib3.exceptions.SSLError):
        return NoAnswer.TLS_ERROR
    return NoAnswer.NETWORK_ERROR


def _note_failure(endpoint_pk, now):
    """Count a failed try against the endpoint; disable it, and tell its company's Global
    admins, once it has failed every try for settings.WEBHOOK_DISABLE_AFTER_DAYS. A failure
    longer after the last one than the longest wait between tries starts a new streak: an
    endpoint that failed once, then had nothing to do for days, is not disabled for it."""
    endpoint = (
        WebhookEndpoint.objects.select_for_update(of=("self",), no_key=True)
        .select_related("partner")
        .get(pk=endpoint_pk)
    )
    if endpoint.removed_at:
        return
    # Late sweeps and slow calls stretch the waits: an hour of slack over the longest.
    quiet = datetime.timedelta(seconds=max(settings.WEBHOOK_RETRY_DELAYS), hours=1)
    if endpoint.last_failed_at is None or endpoint.last_failed_at < now - quiet:
        endpoint.failing_since = now
    endpoint.last_failed_at = now
    limit = now - datetime.timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS)
    disable = endpoint.disabled_at is None and endpoint.failing_since <= limit
    if disable:
        endpoint.disabled_at = now
    endpoint.save(update_fields=["failing_since", "last_failed_at", "disabled_at"])
    if not disable:
        return
    log.warning("Webhook endpoint %s disabled: every try failed since %s", endpoint.pk, limit)
    for person in people_who_can(endpoint.partner, MANAGE_WEBHOOKS):
        tell(
            person,
            Notice.Kind.WEBHOOK_DISABLED,
            about=f"webhook:{endpoint.pk}:{now.isoformat()}",
            context={
                "endpoint_url": endpoint.url,
                "days": settings.WEBHOOK_DISABLE_AFTER_DAYS,
                "failing_since_at": endpoint.failing_since.isoformat(),
            },
            url=reverse("integrations:webhook", args=[endpoint.pk]),
        )


def redeliver(delivery_pk, endpoint_pk, partner, actor):
    """Make one of the company's deliveries due again now, with fresh tries and the same
    webhook-id; audited. Takes the delivery's pk and its endpoint's. Returns whether it was
    made due (False: it is waiting for a try already). Raises WebhookDelivery.DoesNotExist
    for another company's, or another endpoint's."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_related("endpoint").get(
            pk=delivery_pk,
            endpoint_id=endpoint_pk,
            endpoint__partner=partner,
            endpoint__removed_at__isnull=True,
        )
        made_due = WebhookDelivery.objects.filter(pk=delivery.pk, due_at__isnull=True).update(
            due_at=clock.now(), gave_up_at=None, attempts=0
        )
        if made_due:
            record(
                partner,
                AuditEntry.Action.WEBHOOK_REDELIVERED,
                f"{delivery.event} {delivery.message_id} to {delivery.endpoint.url}",
                actor,
                {"url": delivery.endpoint.url, "webhook_id": delivery.message_id},
            )
            transaction.on_commit(_nudge)
    return bool(made_due)
