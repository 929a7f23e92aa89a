"""The one way to tell someone something, and the delivery of what they are told.

`tell` writes one outbox row (a Notice) in the caller's transaction; once it commits a worker
is nudged to send what is due (`send_pending`), in batches over one connection to the mail
server, claiming rows with SKIP LOCKED and a lease. The state lives in the row, so a broker
that is down or a worker that is killed delays an email and never loses it: the beat's sweep
runs the same `send_pending` every 30 seconds.
"""

import contextlib
import datetime
import logging
from smtplib import SMTPRecipientsRefused

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string

from accounts import emails
from accounts.models import Invitation, invitation_key, invitation_url
from activation import clock
from benefits_portal import bulk
from entitlements.models import Role, offer_title
from entitlements.permissions import ASSIGN_ROLES, VIEW_BENEFITS, can, read_roles
from entitlements.rules import Benefit

from .models import EMAIL_ONLY, TO_CLOSED_ACCOUNTS, Notice

log = logging.getLogger(__name__)

# A sender has this long to send one email it claimed (EMAIL_TIMEOUT bounds it), renewed just
# before each email of a batch; after that the claim lapses and the next sweep sends it, a
# second time only if the first sender did send it after all.
LEASE = datetime.timedelta(seconds=60)
BATCH_SIZE = 20
# Tries of an email the mail server could not take, about 17 hours in all, then given up.
MAX_ATTEMPTS = 12
RETRY_DELAY_MAX = 3 * 3600
# What a recipient must still be allowed when the email goes, for a kind whose email carries
# what only they may see: the IDs go only to someone who may still see them, a request for a
# role (its reason, the requester's address) only to someone who may still decide it.
MUST_STILL_HOLD = {
    Notice.Kind.IDS_READY: VIEW_BENEFITS,
    Notice.Kind.ACCESS_REQUESTED: ASSIGN_ROLES,
    Notice.Kind.CLOUD_SUBSCRIPTION_ACTIVE: VIEW_BENEFITS,
    Notice.Kind.GO_TO_MARKET_ACTIVE: VIEW_BENEFITS,
}


def retry_delay(attempts):
    """Seconds to wait before try number `attempts` + 1: 30 s, doubled each time, at most 3 h."""
    return min(RETRY_DELAY_MAX, 30 * 2 ** max(0, attempts - 1))


def tell(person, kind, *, about, context=None, url="", email_to="", language=""):
    """Tell `person` of an event, once: in the portal's notices and by email.

    Takes the User, a Notice.Kind (or its value), `about`, the event's short key (e.g.
    "contract:12"; with the kind, what makes it one event), `context`, plain values the
    templates templates/notices/<kind>_subject.txt and _message.txt read (dates and times are
    kept as ISO text and read back as such when a key ends in "_on" or "_at"; see `_readable`
    for the other values read back), and `url`, the portal path the notice links to. Call it
    inside the transaction of the change. A kind in EMAIL_ONLY is only emailed: it is written
    read, and the notices list leaves it out.

    Returns True if the row is new, False if the person was told of this event already (the
    unique constraint decides, so retries and racing callers tell once). Raises ValueError
    for an unknown kind. The email is queued once the transaction commits; a broker that is
    down is logged and the sweep sends it.
    """
    notice = Notice(**_notice(person, kind, about, context, url, email_to, language))
    try:
        with transaction.atomic():
            notice.save()
    except IntegrityError:
        if Notice.objects.filter(recipient=person, kind=notice.kind, about=about).exists():
            return False
        raise
    transaction.on_commit(nudge_sender)
    return True


def tell_all(told):
    """`tell` for a batch (the activation drain's): a few statements however many people.

    Takes a list of (person, kind, about, context, url) tuples, each as `tell` takes them.
    Returns nothing: a person told of their event already is not told again (then the batch
    is told one by one). Raises ValueError for an unknown kind.
    """
    if not told:
        return
    try:
        with transaction.atomic():
            bulk.insert(Notice, [_notice(*each) for each in told])
    except IntegrityError:
        for person, kind, about, context, url in told:
            tell(person, kind, about=about, context=context, url=url)
    transaction.on_commit(nudge_sender)


def _notice(person, kind, about, context=None, url="", email_to="", language=""):
    """The outbox row of `tell`, due to be emailed now, as a dict of its fields."""
    kind = Notice.Kind(kind)
    now = clock.now()
    return {
        "recipient_id": person.pk,
        "partner_id": person.partner_id,
        "kind": kind,
        "about": about,
        "context": context or {},
        "url": url,
        "email_to": email_to,
        "language": language,
        "created_at": now,
        "read_at": now if kind in EMAIL_ONLY else None,
        "email_due_at": now,
    }


def nudge_sender():
    """Ask a worker to send the emails that are due. A sender sends every email due, so one
    nudge serves a burst of notices; more are harmless (SKIP LOCKED)."""
    from .tasks import send_pending_notices

    try:
        send_pending_notices.apply_async(priority=settings.NOTICE_EMAIL_PRIORITY)
    except SoftTimeLimitExceeded:
        raise
    except Exception:  # the broker is down: the rows are saved and the sweep sends them
        log.warning("Could not reach the broker; notices wait for the sweep.")


# Reading a notice


def _readable(notice):
    """The notice's context as its templates read it: dates and times as such, a benefit, a
    role and an offer by their names in the active language, an invitation's nonce as its
    link (`url`)."""
    context = {}
    for key, value in (notice.context or {}).items():
        if isinstance(value, str) and key.endswith("_on"):
            with contextlib.suppress(ValueError):
                value = datetime.date.fromisoformat(value)
        elif isinstance(value, str) and key.endswith("_at"):
            with contextlib.suppress(ValueError):
                value = datetime.datetime.fromisoformat(value)
        context[key] = value
    if context.get("role") in Role.values:
        context["role"] = Role(context["role"]).label
    if isinstance(context.get("roles"), list):
        context["roles"] = [Role(role).label for role in context["roles"] if role in Role.values]
    nonce = context.pop("invitation_nonce", None)
    if nonce:
        context["url"] = invitation_url(invitation_key(nonce))
    if context.get("benefit") in Benefit.values:
        context["benefit_name"] = Benefit(context["benefit"]).label
    offer = context.get("offer")
    if isinstance(offer, dict):  # Offer.facts: its title in the reader's language
        context["offer"] = offer_title(offer["kind"], offer["level"], offer["competency"])
    return context


def absolute_url(notice):
    """The notice's link as an email gives it: the portal's address before a path."""
    if notice.url.startswith("/"):
        return settings.PORTAL_URL.rstrip("/") + notice.url
    return notice.url


def title(notice):
    """The notice's title (its email's subject) in the active language, as one line; the
    kind's name if its context can't be written (logged), so one bad row breaks no page."""
    try:
        context = {"notice": notice, **_readable(notice)}
        subject = render_to_string(f"notices/{notice.kind}_subject.txt", context)
    except Exception:
        log.exception("The title of notice %s could not be written", notice.pk)
        return str(Notice.Kind(notice.kind).label)
    return " ".join(subject.split())


def email_of(notice):
    """(subject, body) of the notice's email, in the recipient's language."""
    context = {"notice": notice, "url": absolute_url(notice), **_readable(notice)}
    return emails.render(
        notice.recipient, f"notices/{notice.kind}", context, language=notice.language
    )


# Delivery


class _ServerAway(Exception):
    """The mail server could not take an email: the rest of a round waits for the next."""


def send_pending(batch_size=BATCH_SIZE):
    """Email every notice that is due (new, or waiting for a retry, or whose sender died),
    over one connection to the mail server; returns how many were sent. Rows another sender
    holds are skipped: it is sending them. A mail server that is away ends the round at its
    first failure; the rest of the batch is tried once its lease lapses, each email's tries
    counted only when it is tried."""
    sent = 0
    connection = get_connection()
    try:
        while True:
            round_sent, more = _send_a_batch(batch_size, connection)
            sent += round_sent
            if not more:
                return sent
    finally:
        connection.close()


def _send_a_batch(batch_size, connection):
    """Claim up to `batch_size` due notices and email them over `connection`; returns (how
    many were sent, whether there may be more to send)."""
    lease_end = clock.now() + LEASE
    with transaction.atomic():
        batch = list(
            Notice.objects.filter(email_due_at__lte=clock.now())
            .select_for_update(skip_locked=True)
            .order_by("email_due_at", "pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        # Each claimed email's try is counted now, in one statement, not as it goes: an email
        # that kills its sender still uses up its tries.
        Notice.objects.filter(pk__in=batch).update(
            email_due_at=lease_end, attempts=F("attempts") + 1
        )
    claimed = Notice.objects.filter(pk__in=batch, email_due_at=lease_end)
    notices = list(claimed.select_related("recipient__partner").order_by("email_due_at", "pk"))
    read_roles([notice.recipient for notice in notices])  # for `_stale`, in one query
    sent = 0
    for tried, notice in enumerate(notices):
        try:
            sent += _send(notice, lease_end, connection)
        except _ServerAway:
            # The rest wait for the next round, their claim lapsing; not tried, not counted.
            untried = [later.pk for later in notices[tried + 1 :]]
            Notice.objects.filter(pk__in=untried, email_due_at=lease_end).update(
                attempts=F("attempts") - 1
            )
            return sent, False
    return sent, len(batch) == batch_size


def _send(notice, lease_end, connection):
    """Try the notice's email once over `connection`, if this sender's claim (`lease_end`)
    still holds; True if sent. Raises _ServerAway when the mail server could not take it
    (tried again later)."""
    if lease_end - clock.now() < LEASE / 2:
        # A slow batch: this email's claim starts again, if it is still this sender's. While
        # a claim is fresh no other sender can hold the row, so no statement is needed.
        renewed = clock.now() + LEASE
        if not Notice.objects.filter(pk=notice.pk, email_due_at=lease_end).update(
            email_due_at=renewed
        ):
            return False  # too slow: the lease lapsed and another sender took it
        lease_end = renewed
    attempts = notice.attempts  # this try counted when claimed
    mine = Notice.objects.filter(pk=notice.pk, email_due_at=lease_end)
    if attempts > MAX_ATTEMPTS:
        # Every try so far ended with its sender (killed, out of time) before a result.
        log.error("Notice %s: given up after %s tries that never ended", notice.pk, attempts - 1)
        mine.update(email_due_at=None, gave_up_at=clock.now(), last_error="No try ended")
        return False
    person = notice.recipient
    stale = _stale(notice, person)
    if stale:
        log.info("Notice %s to %s not emailed: %s", notice.pk, person.pk, stale)
        mine.update(email_due_at=None, gave_up_at=clock.now(), last_error=stale)
        return False
    try:
        subject, body = email_of(notice)
    except Exception as error:
        # A fault of this notice's own (its template, its context): the others go on.
        log.exception("Notice %s could not be written", notice.pk)
        _try_later(mine, notice, attempts, error)
        return False
    try:
        EmailMessage(
            subject, body, to=[notice.email_to or person.email], connection=connection
        ).send()
    except SoftTimeLimitExceeded:
        raise  # the task's time is up: the lease lapses and the next sweep sends it
    except SMTPRecipientsRefused as error:
        if not _refused_for_good(error):
            # 4xx (greylisted, mailbox busy): the address may take it later.
            _try_later(mine, notice, attempts, error)
            return False
        log.error("Notice %s: the mail server refused %s; not tried again", notice.pk, person)
        mine.update(email_due_at=None, gave_up_at=clock.now(), last_error=repr(error)[:200])
        return False
    except Exception as error:
        _try_later(mine, notice, attempts, error)
        raise _ServerAway from error
    # A sender too slow for its lease may have been overtaken: the email went twice at worst.
    return bool(mine.update(email_due_at=None, sent_at=clock.now(), last_error=""))


def try_again(person, kind, abouts):
    """Make the given-up, unsent emails of `person`'s notices of `kind` about any of `abouts`
    (a list of `about` keys) due again now, with fresh tries; returns how many. For a reason
    to give up that has passed (an invitee reactivated)."""
    return (
        Notice.objects.filter(recipient=person, kind=kind, about__in=abouts, sent_at__isnull=True)
        .exclude(gave_up_at__isnull=True)
        .update(gave_up_at=None, last_error="", attempts=0, email_due_at=clock.now())
    )


def _stale(notice, person):
    """Why the notice's email should no longer go to `person` (the User it is for), or ""."""
    if not person.is_active and notice.kind not in TO_CLOSED_ACCOUNTS:
        return "Account inactive"
    if notice.partner_id is not None and notice.partner_id != person.partner_id:
        # Moved to another company since: what is told belongs to the one they left.
        return "Left the company"
    needed = MUST_STILL_HOLD.get(notice.kind)
    if needed and not can(person, needed):
        return "No longer allowed"
    if notice.kind == Notice.Kind.INVITATION:
        invitation = notice.context.get("invitation")
        if not Invitation.objects.filter(pk=invitation, accepted_at=None, revoked_at=None).exists():
            return "Invitation no longer open"  # sent again, withdrawn or used meanwhile
    return ""


def _refused_for_good(error):
    """Whether every refusal in an SMTPRecipientsRefused is permanent: a 5xx reply (RFC 5321
    4.2.1; 4xx replies are transient)."""
    return all(code >= 500 for code, _message in error.recipients.values())


def _try_later(mine, notice, attempts, error):
    """Make the email due again after `retry_delay`, or give it up after MAX_ATTEMPTS."""
    if attempts >= MAX_ATTEMPTS:
        log.error("Notice %s: given up after %s tries (%r)", notice.pk, attempts, error)
        mine.update(email_due_at=None, gave_up_at=clock.now(), last_error=repr(error)[:200])
    else:
        log.warning("Notice %s: try %s failed (%r)", notice.pk, attempts, error)
        due = clock.now() + datetime.timedelta(seconds=retry_delay(attempts))
        mine.update(email_due_at=due, last_error=repr(error)[:200])


# In the portal


def unread_count(person):
    """How many of `person`'s notices are unread: read from the user's own query when it
    carried the count (accounts.backends.PER_REQUEST_FACTS), else counted."""
    if hasattr(person, "unread_notices"):
        return person.unread_notices
    return Notice.objects.of(person).filter(read_at__isnull=True).count()


def unread_count_expression():
    """The count of a user's unread notices, as an expression of a User query."""
    unread = (
        Notice.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
        .filter(Q(partner__isnull=True) | Q(partner=OuterRef("partner_id")))
        .order_by()
        .values("recipient")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(unread), 0)


def mark_read(person, notice_pk):
    """Mark one of `person`'s notices read; returns the notice. Raises Notice.DoesNotExist for
    a notice that is not theirs. Reading it again changes nothing."""
    notice = Notice.objects.of(person).get(pk=notice_pk)
    if notice.read_at is None:
        Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=clock.now())
    return notice


def mark_all_read(person, up_to=None):
    """Mark `person`'s unread notices read, those up to the notice pk `up_to` (the newest
    they were shown: one that came after stays unread) or all; returns how many."""
    unread = Notice.objects.of(person).filter(read_at__isnull=True)
    if up_to is not None:
        unread = unread.filter(pk__lte=up_to)
    return unread.update(read_at=clock.now())
