"""Every change to an activation request: atomic, audited, with side effects after commit.

Web requests, Celery tasks, the beat sweeper and the admin's actions all come through here.
A request is only ever moved while its row is locked, and only if it is still in the state
the mover expects, so a duplicate message, a second worker or a double click changes nothing.
"""

import datetime
import functools
import importlib
import logging

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.models import AuditEntry
from audit.services import record
from benefits_portal import bulk
from entitlements.models import MembershipOffer, offer_title
from entitlements.permissions import (
    RECEIVE_ACTIVATION_NOTICES,
    VIEW_BENEFITS,
    can,
    people_who_can_in,
    read_roles,
)
from entitlements.rules import RENEWAL_WINDOW_DAYS, Benefit
from entitlements.signals import benefit_used
from notices import webhooks
from notices.models import Notice, WebhookEvent
from notices.services import tell_all
from support.models import SupportContract
from support.services import draw_nine_digits

from . import clock
from .models import (
    NOTE_MAX_LENGTH,
    OPEN,
    PENDING,
    ActivationEvent,
    ActivationRequest,
    Failure,
    SweeperRun,
)
from .schedule import STAGES_AFTER_SUBMISSION, add_business_days, retry_delay

log = logging.getLogger(__name__)
State = ActivationRequest.State
Action = AuditEntry.Action

NEXT = {
    State.SUBMITTED: State.IN_REVIEW,
    State.IN_REVIEW: State.PROVISIONING,
    State.PROVISIONING: State.ACTIVE,
}
STAMP = {
    State.IN_REVIEW: "in_review_at",
    State.PROVISIONING: "provisioning_at",
    State.ACTIVE: "completed_at",
}
STAGES_LEFT = {State.SUBMITTED: 3, State.IN_REVIEW: 2, State.PROVISIONING: 1}

# A worker is nudged only for waits up to a minute: Redis redelivers messages with long ETAs,
# and the sweeper moves everything that is due anyway.
NUDGE_HORIZON_SECONDS = 60
# Requests a sweep moves in one transaction: statements per batch, not per request (issue 20).
SWEEP_BATCH_SIZE = 500
CONTRACT_DAYS = 365
# A contract may outlive its offer by the renewal window, no more.
CONTRACT_GRACE_DAYS = RENEWAL_WINDOW_DAYS
IDS = ("access_id", "contract_id")  # a contract's, each unique


class NotActivatable(Exception):
    """The benefit can't be activated now; the message says why, for the partner."""


class PermanentFailure(Exception):
    """Processing can't go on, for the reason given (a Failure)."""


def _due_after(start, stages=1):
    days = settings.ACTIVATION_BUSINESS_DAYS * stages / STAGES_AFTER_SUBMISSION
    return add_business_days(start, days, settings.SIMULATED_DAY_SECONDS)


def _record(request, from_state, actor=None, note="", at=None):
    """Record the request's move from `from_state` to its state now, and tell the company's
    webhook endpoints of it."""
    _record_moves([(request, from_state)], actor, note, at)


def _record_moves(moves, actor=None, note="", at=None):
    """`_record` for a batch: takes a list of (request, from_state); a few statements however
    many moves (bulk.insert, webhooks.announce_all). Returns nothing."""
    at = at or clock.now()
    events = bulk.insert(
        ActivationEvent,
        [
            {
                "request_id": request.pk,
                "at": at,
                "actor_id": actor.pk if actor else None,
                "from_state": from_state,
                "to_state": request.state,
                "note": note[:NOTE_MAX_LENGTH],  # an error's text can be any length
            }
            for request, from_state in moves
        ],
    )
    webhooks.announce_all(
        [
            (
                request.offer.partner_id,
                WebhookEvent.ACTIVATION_COMPLETED
                if request.state == State.ACTIVE
                else WebhookEvent.ACTIVATION_STAGE_CHANGED,
                f"activation:{request.pk}",
                f"activation-event:{event}",
                {
                    "activation_id": request.pk,
                    "offer_id": request.offer_id,
                    "benefit": request.benefit or None,
                    "product": request.product.name if request.product_id else None,
                    "from_state": from_state or None,
                    "state": request.state,
                },
            )
            for (request, from_state), event in zip(moves, events, strict=True)
        ]
    )


def _audit(request, action, actor=None, extra="", **facts):
    subject, what = _audit_subject_and_facts(request)
    record(request.offer.partner, action, f"{subject}{extra}", actor, {**what, **facts})


def _audit_row(request, action):
    """`_audit` of a move the processing made (no actor, nothing added), as a row for
    bulk.insert."""
    subject, facts = _audit_subject_and_facts(request)
    return {
        "partner_id": request.offer.partner_id,
        "action": action,
        "subject": subject[:300],
        "actor_id": None,
        "actor_email": "",
        "facts": facts,
    }


def _audit_subject_and_facts(request):
    """The request's audit subject, "<benefit or product>, <offer>", in English (the record
    reads the same to all), and its facts (what it activates, the offer)."""
    offer = request.offer
    if request.product_id:
        with translation.override(settings.LANGUAGE_CODE):
            subject = f"{request.product}, {offer.title}"
        return subject, {"product": request.product.name, "offer": offer.facts}
    subject = _in_english(request.benefit, offer.kind, offer.level, offer.facts["competency"])
    return subject, {"benefit": request.benefit, "offer": offer.facts}


@functools.lru_cache(maxsize=1024)
def _in_english(benefit, kind, level, competency):
    """A technical benefit's audit subject in English: kept, as a drain writes thousands."""
    with translation.override(settings.LANGUAGE_CODE):
        return f"{Benefit(benefit).label}, {offer_title(kind, level, competency)}"


def _nudge(request):
    """Ask a worker to move the request when it is due, once this transaction commits."""
    wait = (request.due_at - clock.now()).total_seconds()
    if wait <= NUDGE_HORIZON_SECONDS:
        pk, countdown = request.pk, max(0.0, wait)
        transaction.on_commit(lambda: _enqueue_advance(pk, countdown))


def _enqueue_advance(pk, countdown):
    from .tasks import advance_activation

    try:
        advance_activation.apply_async((pk,), countdown=countdown)
    except Exception:  # the broker is down: the request is saved and the sweeper will move it
        log.warning("Could not reach the broker; activation %s waits for the sweeper.", pk)


# Requests from the page


def request_activation(offer, benefit, user, product=None):
    """Start activating one benefit: a technical `benefit` of the offer, or (benefit None) a
    cloud `product` whose inclusion in the offer the caller checked (cloud.services).
    Returns (request, created): one open request per benefit, however many clicks or admins;
    the database's constraint decides who was first. Raises NotActivatable, saying why."""
    if product is None and offer.entitlement(benefit) is None:
        raise NotActivatable(_("This offer doesn't include that benefit."))
    now = clock.now()
    if not offer.is_active(clock.today()):
        raise NotActivatable(
            _("%(offer)s is not active, so its benefits can't be activated.")
            % {"offer": offer.title}
        )
    try:
        with transaction.atomic():
            # The offer's row, locked, as a cancellation locks it: an offer cancelled meanwhile
            # is refused, and a cancellation asked for meanwhile learns of this activation.
            locked = MembershipOffer.objects.select_for_update(no_key=True).get(pk=offer.pk)
            if not locked.is_active(clock.today()):
                raise NotActivatable(
                    _("%(offer)s is not active, so its benefits can't be activated.")
                    % {"offer": offer.title}
                )
            request = ActivationRequest.objects.create(
                offer=offer,
                benefit=benefit or "",
                product=product,
                requested_by=user,
                requested_at=now,
                state=State.SUBMITTED,
                due_at=_due_after(now),
                expected_at=_due_after(now, STAGES_AFTER_SUBMISSION),
            )
            _record(request, "", actor=user, at=now)
            _audit(request, Action.ACTIVATION_REQUESTED, user)
            benefit_used.send(
                sender=ActivationRequest,
                offer=locked,
                user=user,
                facts=(
                    {"activation": request.pk, "cloud_product": str(product)}
                    if product
                    else {"activation": request.pk, "benefit": benefit}
                ),
            )
    except IntegrityError:
        existing = open_request(offer, benefit, product)
        if existing is None:
            raise
        return existing, False
    _nudge(request)
    return request, True


def open_request(offer, benefit, product=None):
    """The open (pending, active or failed) request of the offer's technical `benefit`, or of
    its cloud `product` (benefit None); None if there is none."""
    return (
        ActivationRequest.objects.filter(
            offer=offer, benefit=benefit or "", product=product, state__in=OPEN
        )
        .select_related("requested_by", "product")
        .first()
    )


def retry(request_id, actor):
    """Start a failed request again where it stopped. False if it isn't failed (any more)."""
    with transaction.atomic():
        request = _lock(request_id, state=State.FAILED)
        if request is None:
            return False
        now = clock.now()
        if request.provisioning_at:
            request.state = State.PROVISIONING
        elif request.in_review_at:
            request.state = State.IN_REVIEW
        else:
            request.state = State.SUBMITTED
        request.due_at = now
        request.expected_at = _due_after(now, STAGES_LEFT[request.state] - 1)
        request.attempts = 0
        request.failure_code = request.failure_reason = ""
        request.failure_facts = {}
        request.save()
        _record(request, State.FAILED, actor=actor, note="Retried", at=now)
        _audit(request, Action.ACTIVATION_RETRIED, actor)
        _nudge(request)
    return True


def reject(request_id, reason, actor):
    """Support staff refuse a request; the partner reads the reason and may ask again."""
    reason = reason.strip()
    if not reason:
        raise ValueError("A rejection needs a reason the partner can read.")
    with transaction.atomic():
        request = _lock(request_id, state__in=[*PENDING, State.FAILED])
        if request is None:
            return False
        from_state = request.state
        request.state = State.REJECTED
        request.due_at = None
        request.failure_code = ""
        request.failure_facts = {}
        request.failure_reason = reason
        request.save()
        _record(request, from_state, actor=actor, note=reason)
        _audit(request, Action.ACTIVATION_REJECTED, actor, extra=f": {reason}", reason=reason)
    return True


def complete_now(request_id, actor):
    """Fast-forward a pending request through its remaining stages. Returns its final state."""
    with transaction.atomic():
        request = _lock(request_id, state__in=PENDING)
        if request is None:
            return None
        while request.state in PENDING:
            if not _advance_locked(
                request, actor=actor, note="Completed now by support", nudge=False
            ):
                break
        return request.state


# Processing: tasks and the sweeper


def _lock(request_id, **state):
    """The request's row, locked for this transaction, or None if another holds it or it is
    no longer in the expected state."""
    return (
        ActivationRequest.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("offer__partner", "offer__competency", "requested_by", "product")
        .filter(pk=request_id, **state)
        .first()
    )


def advance_due(request_id):
    """Move one request a stage on if it is due. Safe to call any number of times."""
    with transaction.atomic():
        request = _lock(request_id, state__in=PENDING)
        if request is None:
            return False
        if request.due_at > clock.now():
            _nudge(request)  # delivered early: ask again for the right time
            return False
        return _advance_locked(request)


def sweep(batch_size=SWEEP_BATCH_SIZE):
    """Move every due request a stage on; returns how many moved. Rows a worker holds right
    now are skipped: that worker is moving them. Each batch stamps SweeperRun, the record
    the health endpoint reads to tell that the sweeper runs."""
    moved = 0
    while True:
        with transaction.atomic():
            due = list(
                ActivationRequest.objects.due(clock.now())
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("offer__partner", "offer__competency", "requested_by", "product")
                .order_by("due_at")[:batch_size]
            )
            moved += _advance_batch(due)
        # Batch by batch, so a long sweep through a backlog still shows it is alive.
        SweeperRun.record(moved)
        if len(due) < batch_size:
            break
    return moved


def _advance_batch(requests):
    """Move `requests` (due, their rows held by this transaction) a stage on; returns how
    many moved.

    Technical benefits still entitled move together, set-wise: their contracts, state
    changes, events, webhooks, audit entries and notices take a few statements for the whole
    batch (issue 20). The rest, and all of them if moving together fails, move one by one
    (`_advance_locked`), which says why each stops.
    """
    today = clock.today()
    together = [request for request in requests if _may_move_together(request, today)]
    one_by_one = set(requests) - set(together)  # rows are equal by pk
    moved = sum(_advance_locked(request) for request in requests if request in one_by_one)
    if not together:
        return moved
    try:
        with transaction.atomic():
            _move_together(together)
    except Exception:
        log.warning("A batch of %s activations moves one by one", len(together), exc_info=True)
        for request in together:
            request.refresh_from_db()
        return moved + sum(_advance_locked(request) for request in together)
    for request in together:
        if request.state != State.ACTIVE:
            _nudge(request)
    return moved + len(together)


def _may_move_together(request, today):
    """Whether `request` is a technical benefit nothing stops."""
    try:
        return not request.product_id and _problem(request, today) is None
    except Exception:
        return False  # moved alone, which says what went wrong


def _move_together(requests):
    """One stage on for each of `requests`, technical benefits that `_problem` lets through,
    in statements per batch, not per request. Raises what the database raises, and
    PermanentFailure(NO_IDS) when no unique IDs could be drawn."""
    now = clock.now()
    moves = [(request, request.state) for request in requests]
    completing = [request for request in requests if NEXT[request.state] == State.ACTIVE]
    contracts = _issue_contracts(completing)
    for from_state in {from_state for _request, from_state in moves}:
        group = [request for request, before in moves if before == from_state]
        to_state = NEXT[from_state]
        changes = {"state": to_state, STAMP[to_state]: now, "attempts": 0, "updated_at": now}
        if to_state == State.ACTIVE:
            changes["due_at"] = None
        else:
            changes["due_at"] = _due_after(now)
            changes["expected_at"] = _due_after(now, STAGES_LEFT[to_state])
        ActivationRequest.objects.filter(pk__in=[request.pk for request in group]).update(**changes)
        for request in group:
            for field, value in changes.items():
                setattr(request, field, value)
    _record_moves(moves, at=now)
    bulk.insert(AuditEntry, [_audit_row(request, Action.IDS_REVEALED) for request in completing])
    _tell_ids_ready(list(zip(completing, contracts, strict=True)))


# Errors worth trying again: the database or the network was away for a moment.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, OSError)


def _advance_locked(request, actor=None, note="", nudge=True):
    """One stage on, for a request whose row this transaction holds. True if it moved."""
    now = clock.now()
    from_state = request.state
    try:
        with transaction.atomic():
            problem = _problem(request, clock.today())
            if problem:
                raise PermanentFailure(problem)
            request.state = NEXT[from_state]
            setattr(request, STAMP[request.state], now)
            if request.state == State.ACTIVE:
                made = _complete(request, now)
                request.due_at = None
            else:
                request.due_at = _due_after(now)
                request.expected_at = _due_after(now, STAGES_LEFT[request.state])
            request.attempts = 0
            request.save()
            _record(request, from_state, actor=actor, note=note, at=now)
            if request.state == State.ACTIVE:
                _told_complete(request, made, actor)
    except PermanentFailure as failure:
        request.refresh_from_db()
        _fail(request, failure.args[0], actor=actor, at=now)
        return False
    except TRANSIENT_ERRORS as error:
        request.refresh_from_db()
        _note_transient_failure(request, error, now)
        return False
    except Exception as error:
        # A fault of ours, not of the moment: trying again would fail the same way.
        log.exception("Activation %s failed", request.pk)
        request.refresh_from_db()
        _fail(request, Failure.INTERNAL_ERROR, actor=actor, at=now, note=f"Error: {error!r}")
        return False
    if request.state != State.ACTIVE and nudge:
        _nudge(request)
    return True


# The rooms that make what an activation of a catalogue product makes, by the product's area:
# cloud subscriptions (issue 16) and Go-To-Market offers (issue 17) go through this engine too.
# Each module has `problem(request)` (a Failure that stops it, or None), `complete(request,
# today)` (what it makes), `tell_complete(request, made)` and ACTIVE_ACTION (its audit).
PROVISIONERS = {"cloud": "cloud.provisioning", "go_to_market": "marketing.provisioning"}


def _provisioner(request):
    """The room's module for `request`'s product, imported when used, since those rooms build
    on this one. Raises KeyError for a product of another area (a fault of ours)."""
    return importlib.import_module(PROVISIONERS[request.product.area])


def _complete(request, now):
    """What an activation makes when it completes: a technical benefit its support contract
    with the IDs; a catalogue product what its room makes."""
    if request.product_id:
        return _provisioner(request).complete(request, clock.today())
    return _issue_contracts([request])[0]


def _told_complete(request, made, actor):
    """Audit the completion and tell those who are told, in the completing transaction."""
    if request.product_id:
        provisioner = _provisioner(request)
        _audit(request, provisioner.ACTIVE_ACTION, actor)
        provisioner.tell_complete(request, made)
    else:
        _audit(request, Action.IDS_REVEALED, actor)
        _tell_ids_ready([(request, made)])


def _problem(request, today):
    """Why `request` can't move on any more (a Failure), or None: its benefit or product
    withdrawn, its company out of MPN, its offer ended."""
    offer = request.offer
    if request.product_id:
        problem = _provisioner(request).problem(request)
        if problem:
            return problem
    elif offer.entitlement(request.benefit) is None:
        return Failure.BENEFIT_WITHDRAWN
    if not offer.partner.is_mpn_associated:
        return Failure.LEFT_MPN
    if not offer.is_active(today):
        return Failure.OFFER_ENDED
    return None


def _note_transient_failure(request, error, now):
    request.attempts += 1
    if request.attempts >= settings.ACTIVATION_MAX_ATTEMPTS:
        log.error("Activation %s failed for good after %s tries", request.pk, request.attempts)
        _fail(request, Failure.TOO_MANY_ATTEMPTS, at=now, note=f"Last error: {error!r}")
        return
    log.warning(
        "Activation %s: try %s failed (%r); will retry", request.pk, request.attempts, error
    )
    request.due_at = now + datetime.timedelta(seconds=retry_delay(request.attempts))
    request.expected_at = max(
        request.expected_at, _due_after(request.due_at, STAGES_LEFT[request.state] - 1)
    )
    request.save(update_fields=["attempts", "due_at", "expected_at", "updated_at"])
    _nudge(request)


def _fail(request, failure, actor=None, at=None, note=""):
    """Stop the request. The partner reads the reason in their language; the record keeps
    it in English for support staff."""
    from_state = request.state
    request.state = State.FAILED
    request.due_at = None
    request.failure_code = failure
    request.failure_facts = request.facts_now()
    with translation.override("en"):
        request.failure_reason = str(request.failure_message)
    request.save()
    _record(request, from_state, actor=actor, note=note or request.failure_reason, at=at)
    _audit(
        request,
        Action.ACTIVATION_FAILED,
        actor,
        extra=f": {request.failure_reason}",
        failure=failure,
        failure_params={
            "ended": request.offer.ends_on.isoformat(),
            "partner": request.offer.partner.name,
            "attempts": request.attempts,
        },
    )


def _issue_contracts(requests):
    """The support contracts of `requests` (technical benefits completing now), with their
    Access IDs and Contract IDs: one per request, ever, in one statement for the batch.
    Returns them in the requests' order. A drawn ID that is taken already, or drawn twice,
    is drawn again (`_draw_ids`), up to 5 times; then raises PermanentFailure(NO_IDS)."""
    if not requests:
        return []
    starts_on = clock.today()
    created_at = timezone.now()
    rows = []
    for request in requests:
        entitlement = request.offer.entitlement(request.benefit)
        ends_on = min(
            starts_on + datetime.timedelta(days=CONTRACT_DAYS),
            request.offer.ends_on + datetime.timedelta(days=CONTRACT_GRACE_DAYS),
        )
        rows.append(
            {
                "activation_id": request.pk,
                "partner_id": request.offer.partner_id,
                "benefit": request.benefit,
                "starts_on": starts_on,
                "ends_on": ends_on,
                "incidents_total": entitlement.incidents,
                "incidents_remaining": entitlement.incidents,
                "pack_name": entitlement.pack_name,
                "created_at": created_at,
            }
        )
    taken = set()
    for _attempt in range(5):
        drawn = _draw_ids(rows, taken)
        taken = {
            id_
            for pair in SupportContract.objects.filter(
                Q(access_id__in=drawn) | Q(contract_id__in=drawn)
            ).values_list(*IDS)
            for id_ in pair
        }
        if taken & drawn:
            continue  # those are drawn again
        try:
            with transaction.atomic():
                keys = bulk.insert(SupportContract, rows)
        except IntegrityError:
            if SupportContract.objects.filter(activation__in=requests).exists():
                raise  # never a second contract for one request
            continue  # taken meanwhile: the next round finds them taken
        contracts = [SupportContract(id=key, **row) for key, row in zip(keys, rows, strict=True)]
        for contract in contracts:  # as saved: an update if saved again
            contract._state.adding, contract._state.db = False, "default"
        return contracts
    raise PermanentFailure(Failure.NO_IDS)


def _draw_ids(rows, taken):
    """Give each contract row an Access ID and a Contract ID (support.services.draw_nine_digits)
    where it has none, or one in `taken` (a set of IDs); none twice in the batch as far as 5
    draws an ID allow. Returns the set of the batch's IDs."""
    drawn = set()
    for row in rows:
        for field in IDS:
            for _draw in range(5):
                id_ = row.get(field)
                if id_ is not None and id_ not in taken and id_ not in drawn:
                    break
                row[field] = draw_nine_digits()
            drawn.add(row[field])
    return drawn


# Notices


def notice_recipients(request):
    """The people told that `request`'s IDs are ready: the company's users who receive
    activation notices (permissions.RECEIVE_ACTIVATION_NOTICES: its Global admins) and the
    requester if they may still see the IDs; a list of User, by email."""
    return _recipients([request])[request.pk]


def _recipients(requests):
    """`notice_recipients` of each of `requests`, in two queries: {request pk: [User]}."""
    holders = people_who_can_in(
        {request.offer.partner_id for request in requests}, RECEIVE_ACTIVATION_NOTICES
    )
    # A requester is told only while in the company whose IDs these are, and still allowed
    # to see them; each request's own copy of its requester is the one asked.
    requesters = {
        request.pk: request.requested_by
        for request in requests
        if request.requested_by and request.requested_by.partner_id == request.offer.partner_id
    }
    read_roles(list(requesters.values()))
    recipients = {}
    for request in requests:
        people = {person.pk: person for person in holders.get(request.offer.partner_id, ())}
        requester = requesters.get(request.pk)
        if requester is not None:
            requester.partner = request.offer.partner  # theirs: the same company
            if can(requester, VIEW_BENEFITS):
                people[requester.pk] = requester
        recipients[request.pk] = sorted(people.values(), key=lambda person: person.email)
    return recipients


def ids_ready_about(request_pk):
    """What the notices that a request's IDs are ready are about (Notice.about)."""
    return f"activation:{request_pk}"


def _tell_ids_ready(completed):
    """Tell each of `notice_recipients` that the IDs are ready, in the transaction that
    completes the activations: takes a list of (request, its contract); one notice per person
    and request (the outbox's constraint), written in one statement, emailed in each person's
    language by the notices' workers."""
    recipients = _recipients([request for request, _contract in completed])
    told = []
    for request, contract in completed:
        requester = request.requested_by
        context = {
            "benefit": request.benefit,
            "offer": request.offer.facts,
            "partner": request.offer.partner.name,
            "requested_by": requester.display_name if requester else "",
            "requested_on": timezone.localdate(request.requested_at),
            "access_id": contract.access_id,
            "contract_id": contract.contract_id,
            "incidents": contract.incidents_total,
            "starts_on": contract.starts_on,
            "ends_on": contract.ends_on,
        }
        url = reverse("entitlements:benefit_detail", args=[request.offer_id, request.benefit])
        about = ids_ready_about(request.pk)
        told += [
            (person, Notice.Kind.IDS_READY, about, context, url)
            for person in recipients[request.pk]
        ]
    tell_all(told)
