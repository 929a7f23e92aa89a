"""A case's conversation and lifecycle: notes, replies, states, and giving back what a closed
case used. Each action is atomic and locks the case, so a double click or two staff at once end
with one result; the give-back's uniqueness per case is the database's (support.IncidentCredit)."""

import datetime
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from activation import clock
from audit.models import AuditEntry
from audit.services import changes, in_english, record
from entitlements import rules as entitlement_rules
from entitlements.models import MembershipOffer
from entitlements.permissions import FILE_CUSTOMER_REQUESTS, VIEW_COMPANY_CASES, can
from entitlements.signals import benefit_used
from notices import webhooks
from notices.models import WebhookEvent
from notices.reminders import tell_advisory_hours_expiring
from notices.services import tell
from support.models import ContractLink, IncidentCredit, SupportContract

from . import rules
from .models import AdvisoryHours, Case, CaseEntry, HoursRecord

STATE_FIELDS = ["state", "resolution", "severity"]


class CaseClosed(Exception):
    """The case is closed: nothing more is added to it."""


def visible_cases(user):
    """The cases `user` may see: every case of the company for those who may see the company's
    cases (entitlements.permissions.VIEW_COMPANY_CASES), the company's service requests for
    those who file them (FILE_CUSTOMER_REQUESTS: a CSP partner's agents follow each other's),
    and everyone's own. A queryset."""
    if not user.is_authenticated:
        return Case.objects.none()
    # Their own, while they are still of the case's company or hold its contract: someone who
    # left keeps nothing of the company they left.
    holds = Exists(ContractLink.objects.filter(contract=OuterRef("contract"), user=user))
    mine = Q(opened_by=user) & (Q(partner_id=user.partner_id) | holds)
    if user.partner_id is not None and can(user, VIEW_COMPANY_CASES):
        mine |= Q(partner_id=user.partner_id)
    elif user.partner_id is not None and can(user, FILE_CUSTOMER_REQUESTS):
        mine |= Q(partner_id=user.partner_id, kind=Case.Kind.SERVICE_REQUEST)
    return Case.objects.filter(mine)


def filed_once(user, submission_key, file, refusals=()):
    """File a case once per submission of its form. Takes the account, the form's one-time key
    (a UUID, or None), `file` (a function that files the case with that key, in its own
    transaction, and returns it) and the refusals `file` may raise.

    Returns (case, True) when `file` filed it, or (the case this key filed already, False) when
    an earlier submission of the same form did (a double click, a form sent again): this one
    then fails on the key's unique constraint, or is refused for what the first one used (the
    last incident), and rolls back. Raises the refusal or IntegrityError when no case has the
    key."""
    try:
        with transaction.atomic():
            return file(), True
    except (IntegrityError, *refusals):
        earlier = (
            Case.objects.filter(opened_by=user, submission_key=submission_key).first()
            if submission_key is not None
            else None
        )
        if earlier is None:
            raise
        return earlier, False


def filed_already(user, submission_key):
    """The case `user` filed with this form's one-time key (as posted: text, maybe not a
    UUID at all), or None. Asked before a form is checked: a form sent again after the first
    used the last incident must find that case, not be refused for what it used."""
    try:
        key = uuid.UUID(str(submission_key))
    except ValueError:
        return None
    return Case.objects.filter(opened_by=user, submission_key=key).first()


def _locked(case_pk):
    return Case.objects.select_for_update(of=("self",)).select_related("opened_by").get(pk=case_pk)


def add_note(case_pk, author, text):
    """A partner's note on a case. Takes the case's pk (one the author may see: the caller's
    look-up), the author and the text. A case waiting on the partner goes back to in progress,
    and so does a resolved one (the partner says it is not), unless it gave back what it used
    (it stays a duplicate or a product defect). Returns the CaseEntry. Raises CaseClosed on a
    closed case."""
    with transaction.atomic():
        case = _locked(case_pk)
        if case.state == Case.State.CLOSED:
            raise CaseClosed
        entry = CaseEntry.objects.create(case=case, author=author, from_support=False, text=text)
        reopened = case.state == Case.State.RESOLVED and not gave_back(case)
        if case.state == Case.State.WAITING_ON_YOU or reopened:
            from_state = case.state
            case.state, case.resolution = Case.State.IN_PROGRESS, ""
            case.save(update_fields=["state", "resolution"])
            _announce_state(case, from_state)
    return entry


def reply(case_pk, staff, text, waiting_on_you=False):
    """Support staff answer a case: the entry is timestamped and attributed, the first answer
    stamps when the case was first answered (its target met or not), an open case goes to in
    progress, and `waiting_on_you` asks the partner for something. The opener is told.
    Returns the CaseEntry. Raises CaseClosed on a closed case."""
    with transaction.atomic():
        case = _locked(case_pk)
        if case.state == Case.State.CLOSED:
            raise CaseClosed
        entry = CaseEntry.objects.create(case=case, author=staff, from_support=True, text=text)
        fields = []
        if case.first_responded_at is None:
            case.first_responded_at = entry.created_at
            fields.append("first_responded_at")
        if waiting_on_you:
            state = Case.State.WAITING_ON_YOU
        elif case.state in (Case.State.OPEN, Case.State.WAITING_ON_YOU):
            state = Case.State.IN_PROGRESS
        else:
            state = case.state  # in progress, or resolved: a reply doesn't reopen it
        from_state = case.state
        if state != case.state:
            case.state = state
            fields.append("state")
        if fields:
            case.save(update_fields=fields)
        if state != from_state:
            _announce_state(case, from_state)
        _tell_opener(case, entry)
    return entry


def change(case_pk, actor, state=None, resolution=None, severity=None):
    """Support staff move a case: its state, the resolution a resolved or closed case needs,
    and an incident's severity. Takes the case's pk and what staff changed (None: as it is
    now, so a page opened earlier moves nothing staff did not touch); returns (case, changed).

    A closed case stays as it was closed. Resolving or closing as a duplicate or a product
    defect gives back what the case used (cases.rules.gives_back), once: the case is locked and
    the give-back's row is unique per case. Audited in the company's log. Raises ValueError, with a
    message for staff, for a resolution missing, for a closed case, and for a case that gave
    back what it used and would no longer be a duplicate or a product defect.
    """
    with transaction.atomic():
        case = _locked(case_pk)
        before = Case.objects.get(pk=case.pk)
        state = state or case.state
        resolution = case.resolution if resolution is None else resolution
        finished = state in Case.FINISHED
        if finished and not resolution:
            raise ValueError(_("Choose a resolution for a resolved or closed case."))
        if not finished:
            resolution = ""
        case.state, case.resolution = state, resolution
        fields = list(STATE_FIELDS)
        if severity and case.severity and severity != case.severity:
            case.severity = severity
            if case.first_responded_at is None:
                # The target follows the severity until the first answer.
                case.first_response_due = rules.first_response_due(
                    case.kind, severity, case.opened_at
                )
                fields.append("first_response_due")
        changed = changes(before, case, STATE_FIELDS)
        if not changed:
            return case, False
        if before.state == Case.State.CLOSED:
            raise ValueError(
                _("%(case)s is closed: nothing on it changes. Ask the partner to open a new case.")
                % {"case": before.number}
            )
        if gave_back(case) and not (finished and rules.gives_back(resolution)):
            raise ValueError(
                _(
                    "%(case)s gave back what it used as a duplicate or a product defect: it stays "
                    "so. Ask the partner to open a new case."
                )
                % {"case": before.number}
            )
        case.save(update_fields=fields)
        if before.state != case.state:
            _tell_state(case, actor)
            _announce_state(case, before.state)
        record(
            case.partner,
            AuditEntry.Action.INCIDENT_CHANGED,
            f"case {case.number}: {in_english(changed)}",
            actor,
            {"incident": case.number, "changes": changed},
        )
        if finished and rules.gives_back(resolution):
            if case.kind != Case.Kind.ADVISORY:
                _give_back(case, actor)
            else:
                _give_hours_back(case, actor)
    return case, True


def gave_back(case):
    """Whether the case gave back its incident or its hours (one query)."""
    if case.kind != Case.Kind.ADVISORY:
        return IncidentCredit.objects.filter(case=case).exists()
    return case.hours.filter(given_back=True).exists()


def close(case_pk, user):
    """The partner closes their case: a resolved case keeps its resolution, any other is
    withdrawn. Returns True if it was closed now, False if it was closed already."""
    with transaction.atomic():
        case = _locked(case_pk)
        if case.state == Case.State.CLOSED:
            return False
        resolution = case.resolution or Case.Resolution.WITHDRAWN
        from_state = case.state
        case.state, case.resolution = Case.State.CLOSED, resolution
        case.save(update_fields=["state", "resolution"])
        _announce_state(case, from_state)
        record(
            case.partner,
            AuditEntry.Action.INCIDENT_CHANGED,
            f"case {case.number}: closed by the partner ({resolution})",
            user,
            {"incident": case.number, "changes": [["state", "", "closed"]]},
        )
    return True


def _give_back(case, actor):
    """Return the incident a case used to its contract, once per case (the credit's unique
    case column), never above what the contract started with. Returns the credit or None."""
    if case.contract_id is None:
        return None  # the CSP plan and advisory requests count no incidents
    reason = Case.Resolution(case.resolution).label
    try:
        with transaction.atomic():
            credit = IncidentCredit.objects.create(
                contract_id=case.contract_id,
                case=case,
                incidents=1,
                reason=f"{case.number}: {reason}",
                given_by=actor,
            )
            # Unlimited contracts count nothing; a full one has nothing to take back.
            counted = SupportContract.objects.filter(
                pk=case.contract_id,
                incidents_total__isnull=False,
                incidents_remaining__lt=F("incidents_total"),
            ).update(incidents_remaining=F("incidents_remaining") + 1)
            if counted != 1:
                raise _NothingToGiveBack
    except (IntegrityError, _NothingToGiveBack):
        return None  # given back already, by an earlier close of this case
    record(
        case.partner,
        AuditEntry.Action.INCIDENTS_GIVEN_BACK,
        f"case {case.number} +1: {case.resolution}",
        actor,
        {"incident": case.number, "incidents": 1, "reason": case.resolution},
    )
    return credit


class _NothingToGiveBack(Exception):
    pass


class NoAdvisoryHours(Exception):
    """The company has no active membership offer, so no advisory hours."""


def this_year(partner, today=None):
    """The company's advisory hours now, as (allowance, offer, hours):

    - allowance: what its active offers give (entitlements.rules.advisory_hours), an
      entitlements.rules.AdvisoryHours, or None without an active offer;
    - offer: the active offer whose membership year the hours belong to, the highest level's
      (the hours are that level's), the latest ending of those; None without one;
    - hours: that year's AdvisoryHours row, None before the year's first request.
    Two queries.
    """
    active = list(partner.offers.active(today or clock.today()))
    if not active:
        return None, None, None
    allowance = entitlement_rules.advisory_hours((o.kind, o.level or None) for o in active)
    offer = max(active, key=lambda o: (entitlement_rules.level_rank(o.kind, o.level), o.ends_on))
    return allowance, offer, AdvisoryHours.objects.filter(offer=offer).first()


def file_advisory_request(user, **details):
    """Any user of an MPN company files an advisory request; it has its case number at once.

    Takes the account and the request's fields (title, description, product, request_type,
    country, language, contact_*). Returns the Case. Presales uses hours at Action Pack only
    (DOMAIN.md). The company's allowance is written with its first request. Raises
    NoAdvisoryHours without an active offer.
    """
    allowance, offer, _hours = this_year(user.partner)
    if allowance is None:
        raise NoAdvisoryHours
    opened_at = clock.now()
    with transaction.atomic():
        # The offer's row, locked, as a cancellation locks it: an offer cancelled meanwhile
        # has no hours, and a cancellation asked for meanwhile learns of this request.
        offer = MembershipOffer.objects.select_for_update(no_key=True).get(pk=offer.pk)
        if not offer.is_active(clock.today()):
            raise NoAdvisoryHours
        # One row per membership year, whoever files the year's first request at once.
        hours, _created = AdvisoryHours.objects.get_or_create(
            offer=offer,
            defaults={
                "partner": user.partner,
                "hours_total": allowance.hours,
                "hours_remaining": allowance.hours,
            },
        )
        presales = details.get("request_type") == Case.RequestType.PRESALES
        case = Case.objects.create(
            kind=Case.Kind.ADVISORY,
            partner=user.partner,
            opened_by=user,
            allowance=hours,
            uses_hours=not (presales and allowance.presales_unlimited),
            opened_at=opened_at,
            first_response_due=rules.first_response_due("advisory", "", opened_at),
            **details,
        )
        benefit_used.send(
            sender=Case, offer=offer, user=user, facts={"advisory_request": case.number}
        )
        return case


def record_hours(case_pk, staff, hours):
    """Support staff record hours spent on an advisory request. A request that uses hours
    takes them off the company's allowance with a conditional update: hours remaining never go
    below zero, whoever records at once. Returns the HoursRecord. Raises ValueError, with a
    message for staff, when the company has fewer hours left or the case is no advisory
    request."""
    with transaction.atomic():
        case = _locked(case_pk)
        if case.kind != Case.Kind.ADVISORY:
            raise ValueError(_("Hours are recorded on advisory requests only."))
        if case.state == Case.State.CLOSED:
            raise CaseClosed
        if gave_back(case):
            raise ValueError(
                _("%(case)s gave its hours back: record no more on it.") % {"case": case.number}
            )
        if case.uses_hours:
            counted = AdvisoryHours.objects.filter(
                pk=case.allowance_id, hours_remaining__gte=hours
            ).update(hours_remaining=F("hours_remaining") - hours)
            if counted != 1:
                left = (
                    AdvisoryHours.objects.filter(pk=case.allowance_id)
                    .values_list("hours_remaining", flat=True)
                    .first()
                )
                raise ValueError(
                    _("%(partner)s has %(left)s advisory hours left: %(hours)s can't be recorded.")
                    % {"partner": case.partner, "left": left or 0, "hours": hours}
                )
        return HoursRecord.objects.create(
            case=case, hours=hours, counted=case.uses_hours, recorded_by=staff
        )


def _give_hours_back(case, actor):
    """Give back the hours an advisory request used, once per case (a partial unique
    constraint on the give-back row). Returns the HoursRecord or None."""
    used = sum(r.hours for r in case.hours.filter(counted=True, given_back=False))
    if not used:
        return None
    try:
        with transaction.atomic():
            record_row = HoursRecord.objects.create(
                case=case, hours=-used, counted=True, given_back=True, recorded_by=actor
            )
            AdvisoryHours.objects.filter(pk=case.allowance_id).update(
                hours_remaining=F("hours_remaining") + used
            )
    except IntegrityError:
        return None  # given back already
    return record_row


def _tell_state(case, actor):
    """Tell the case's opener, through the outbox, that support moved their case to another
    state (one notice per move: the move's time is in what it is about)."""
    if actor == case.opened_by or not _opener_may_see(case):
        return False
    return tell(
        case.opened_by,
        "case_state_changed",
        about=f"case:{case.pk}:{case.state}:{clock.now().isoformat()}",
        context={
            "number": case.number,
            "title": case.title,
            "state": case.state,
            "resolution": case.resolution,
        },
        url=case_url(case),
    )


def _announce_state(case, from_state):
    """Tell the company's webhook endpoints that the case moved from `from_state` to its
    state now (one event per move)."""
    webhooks.announce(
        case.partner_id,
        WebhookEvent.CASE_STATE_CHANGED,
        subject=f"case:{case.pk}",
        key=f"case:{case.pk}:{from_state}>{case.state}:{clock.now().isoformat()}",
        data={
            "case": case.pk,
            "number": case.number,
            "kind": case.kind,
            "from_state": from_state,
            "state": case.state,
            "resolution": case.resolution,
        },
    )


def case_url(case):
    return reverse("cases:case", args=[case.pk])


def _opener_may_see(case):
    return visible_cases(case.opened_by).filter(pk=case.pk).exists()


def _tell_opener(case, entry):
    """Tell the case's opener of a reply, through the outbox, in this transaction, if they may
    still see the case. Returns whether they were told (once per reply)."""
    if not _opener_may_see(case):
        return False
    return tell(
        case.opened_by,
        "case_reply",
        about=f"case-entry:{entry.pk}",
        context={
            "number": case.number,
            "title": case.title,
            "state": case.state,
            "text": entry.text,
        },
        url=case_url(case),
    )


# Advisory hours lapse with their membership year: a reminder this many days before.
HOURS_EXPIRING_DAYS = 30


def remind_hours_expiring(today=None):
    """Tell the companies whose advisory hours lapse within HOURS_EXPIRING_DAYS with hours
    still left, used or not (notices.reminders.tell_advisory_hours_expiring: once per
    membership year, however many runs). Returns how many people were told for the first
    time. Two queries per company whose offer ends in the window."""
    today = today or clock.today()
    soon = today + datetime.timedelta(days=HOURS_EXPIRING_DAYS)
    ending = MembershipOffer.objects.active(today).filter(
        ends_on__lte=soon, partner__is_mpn_associated=True
    )
    partners = {offer.partner_id: offer.partner for offer in ending.select_related("partner")}
    told = 0
    for partner in partners.values():
        allowance, offer, hours = this_year(partner, today)
        if offer is None or offer.ends_on > soon:
            continue  # another offer carries the hours on
        left = hours.hours_remaining if hours else allowance.hours
        if left <= 0:
            continue
        with transaction.atomic():
            told += tell_advisory_hours_expiring(
                partner, about=f"advisory-hours:{offer.pk}", hours_left=left, ends_on=offer.ends_on
            )
    return told
