"""Asking for a role, deciding the request, and time-boxed grants lapsing: the writes behind
My access and Access requests. Views, admin and the sweeper all call these.

Each function is atomic, locks what it decides on, audits in the company's log and tells the
people concerned through the outbox (notices.services.tell: a notice, and an email in
each one's language), in the same transaction.
Who may decide is entitlements.permissions.may_decide's answer, asked again here so that a
caller other than the page can't skip it.
"""

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry
from audit.services import record
from entitlements import permissions
from entitlements.models import Role, RoleAssignment
from notices.models import Notice
from notices.services import tell

from .models import AccessRequest, SignedOut, end_sessions

log = logging.getLogger(__name__)
Action = AuditEntry.Action

REASON_MAX = 1000
NOTE_MAX = 1000
# An approval may be time-boxed to 1 to 365 days (issue "People and access": beyond Partner
# Center); longer than a year is a permanent grant in all but name.
DAYS_MIN, DAYS_MAX = 1, 365
# Grants lapsed per transaction: short locks, and a crash loses little work.
LAPSE_BATCH = 100


class Refused(Exception):
    """The action was not done; `message` (translatable) says why, for the person who asked."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# What a second decision is told: the first one stands.
ALREADY = {
    AccessRequest.Decision.APPROVED: _("This request was already approved. Nothing was changed."),
    AccessRequest.Decision.DECLINED: _("This request was already declined. Nothing was changed."),
    AccessRequest.Decision.WITHDRAWN: _("This request was withdrawn. Nothing was changed."),
}


def _forget_roles(user):
    if hasattr(user, "_partner_roles"):
        del user._partner_roles


def deciders_of(access_request):
    """The company's active people who may decide `access_request` (may_decide), in name
    order: its Global admins, and its User admins when the role is one they may grant."""
    candidates = permissions.people_who_can(access_request.partner, permissions.ASSIGN_ROLES)
    return [
        person
        for person in candidates
        if person.pk != access_request.user_id and permissions.may_decide(person, access_request)
    ]


def request_access(user, role, reason):
    """`user` asks for `role` in their company, giving `reason` (1 to 1000 characters).

    Returns the new AccessRequest; audited (ACCESS_REQUESTED) and emailed to everyone who may
    decide it. Raises Refused: no company, an unknown role, a role already held, no reason or
    one too long, or an open request for the same role already (the constraint
    one_open_access_request_per_user_and_role, so two clicks at once make one request).
    """
    reason = (reason or "").strip()
    if user.partner_id is None:
        raise Refused(_("Roles are held in a company, and your account belongs to none."))
    if role not in Role.values:
        raise Refused(_("Choose one of the roles listed."))
    if not reason:
        raise Refused(_("Say why you need this role."))
    if len(reason) > REASON_MAX:
        raise Refused(_("Say why in 1000 characters or fewer."))
    role = Role(role)
    _forget_roles(user)
    if role in permissions.roles_of(user):
        raise Refused(_("You already have this role."))
    try:
        with transaction.atomic():
            access_request = AccessRequest.objects.create(
                partner=user.partner, user=user, role=role, reason=reason
            )
            with translation.override(settings.LANGUAGE_CODE):
                record(
                    user.partner,
                    Action.ACCESS_REQUESTED,
                    f"{role.label}: {user.email}",
                    user,
                    {"role": role.value, "email": user.email, "reason": reason},
                )
            for person in deciders_of(access_request):
                tell(
                    person,
                    Notice.Kind.ACCESS_REQUESTED,
                    about=f"access_request:{access_request.pk}",
                    context={
                        "requester": user.display_name,
                        "requester_email": user.email,
                        "role": role.value,
                        "reason": reason,
                    },
                    url=reverse("accounts:access_requests"),
                )
    except IntegrityError:
        raise Refused(
            _("You have already asked for this role. Your request is waiting for a decision.")
        ) from None
    return access_request


def _locked_open(access_request):
    """The request's row, locked; Refused if someone decided or withdrew it meanwhile."""
    locked = (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("user", "partner")
        .get(pk=access_request.pk)
    )
    if locked.decided_at is not None:
        raise Refused(ALREADY[locked.decision])
    return locked


def _clean_note(note):
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise Refused(_("Write the note in 1000 characters or fewer."))
    return note


def _may_decide_or_refuse(actor, locked):
    if not permissions.may_decide(actor, locked):
        raise Refused(_("You may not decide requests for this role."))
    if locked.user.partner_id != locked.partner_id or not locked.user.is_active:
        raise Refused(_("This person is no longer an active user of your company."))


@transaction.atomic
def approve(actor, access_request, note="", days=None):
    """`actor` approves the request: the requester gets the role, for `days` days (1 to 365)
    or, with None, until someone takes it away.

    Decided once: the row is locked, and a request already decided or withdrawn is Refused,
    as is an actor who may not decide it (permissions.may_decide), a requester who left the
    company or was deactivated, a bad number of days or a note over 1000 characters. A role
    the requester already holds keeps the later of its two ends. Audited (ACCESS_APPROVED,
    and ROLE_GRANTED for a new role); the requester is told (a notice and an email). Returns
    the request.
    """
    note = _clean_note(note)
    if days is not None and not (isinstance(days, int) and DAYS_MIN <= days <= DAYS_MAX):
        raise Refused(_("Enter a number of days from 1 to 365, or leave it empty."))
    locked = _locked_open(access_request)
    _may_decide_or_refuse(actor, locked)
    now = timezone.now()
    ends = now + datetime.timedelta(days=days) if days else None
    user, role = locked.user, Role(locked.role)
    # A grant that lapsed and waits for the sweeper is not held: it starts afresh.
    RoleAssignment.objects.filter(user=user, role=role, expires_at__lte=now).delete()
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user, role=role, defaults={"expires_at": ends}
    )
    if not created:
        assignment = RoleAssignment.objects.select_for_update().get(pk=assignment.pk)
        if assignment.expires_at is not None:
            assignment.expires_at = None if ends is None else max(assignment.expires_at, ends)
            assignment.save(update_fields=["expires_at"])
    locked.decision = AccessRequest.Decision.APPROVED
    locked.decided_at = now
    locked.decided_by = actor
    locked.note = note
    locked.days = days
    locked.save(update_fields=["decision", "decided_at", "decided_by", "note", "days"])
    facts = {"role": role.value, "email": user.email}
    with translation.override(settings.LANGUAGE_CODE):
        if created:
            record(locked.partner, Action.ROLE_GRANTED, f"{role.label}: {user.email}", actor, facts)
        record(
            locked.partner,
            Action.ACCESS_APPROVED,
            f"{role.label}: {user.email}" + (f" ({days} days)" if days else ""),
            actor,
            {**facts, "days": days, "note": note},
        )
    _forget_roles(user)
    tell(
        user,
        Notice.Kind.ACCESS_APPROVED,
        about=f"access_request:{locked.pk}",
        context={
            "role": role.value,
            "ends_at": assignment.expires_at,
            "note": note,
            "decided_by": actor.display_name,
        },
        url=reverse("accounts:my_access"),
    )
    return locked


@transaction.atomic
def decline(actor, access_request, note=""):
    """`actor` declines the request, with an optional `note` (up to 1000 characters) for the
    requester. Refused as `approve` is. Audited (ACCESS_DECLINED); the requester is told
    (a notice and an email). Returns the request."""
    note = _clean_note(note)
    locked = _locked_open(access_request)
    if not permissions.may_decide(actor, locked):
        raise Refused(_("You may not decide requests for this role."))
    locked.decision = AccessRequest.Decision.DECLINED
    locked.decided_at = timezone.now()
    locked.decided_by = actor
    locked.note = note
    locked.save(update_fields=["decision", "decided_at", "decided_by", "note"])
    role, user = Role(locked.role), locked.user
    with translation.override(settings.LANGUAGE_CODE):
        record(
            locked.partner,
            Action.ACCESS_DECLINED,
            f"{role.label}: {user.email}",
            actor,
            {"role": role.value, "email": user.email, "note": note},
        )
    tell(
        user,
        Notice.Kind.ACCESS_DECLINED,
        about=f"access_request:{locked.pk}",
        context={"role": role.value, "note": note, "decided_by": actor.display_name},
        url=reverse("accounts:my_access"),
    )
    return locked


@transaction.atomic
def withdraw(user, access_request):
    """`user` withdraws their own open request; Refused if it is someone else's or was
    decided meanwhile. Not audited: nobody's access changed, and the request no longer shows
    to the people who would have decided it. Returns the request."""
    locked = _locked_open(access_request)
    if locked.user_id != user.pk:
        raise Refused(_("Only the person who asked can withdraw a request."))
    locked.decision = AccessRequest.Decision.WITHDRAWN
    locked.decided_at = timezone.now()
    locked.decided_by = user
    locked.save(update_fields=["decision", "decided_at", "decided_by"])
    return locked


def lapse_grants(now=None):
    """Remove every role whose time-boxed grant ended by `now` (default: now): the sweeper's
    job (accounts.tasks.lapse_grants, on beat).

    Each removal is audited (ROLE_LAPSED) in the company's log, the person's sessions end
    (SignedOut.ROLES_CHANGED) and they are told (notices). Rows are claimed with
    SELECT ... FOR UPDATE SKIP LOCKED in batches, so two sweepers at once lapse each grant
    once. Returns how many grants lapsed.
    """
    now = now or timezone.now()
    lapsed = 0
    while True:
        with transaction.atomic():
            batch = list(
                RoleAssignment.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(expires_at__lte=now)
                .select_related("user__partner")
                .order_by("expires_at", "pk")[:LAPSE_BATCH]
            )
            for assignment in batch:
                _lapse(assignment)
        lapsed += len(batch)
        if len(batch) < LAPSE_BATCH:
            return lapsed


def _lapse(assignment):
    user, role, assignment_pk = assignment.user, Role(assignment.role), assignment.pk
    assignment.delete()
    if user.partner_id is not None:
        with translation.override(settings.LANGUAGE_CODE):
            record(
                user.partner,
                Action.ROLE_LAPSED,
                f"{role.label}: {user.email}",
                None,
                {"role": role.value, "email": user.email},
            )
    transaction.on_commit(lambda: end_sessions(user, SignedOut.ROLES_CHANGED))
    tell(
        user,
        Notice.Kind.ROLE_LAPSED,
        about=f"role_assignment:{assignment_pk}",
        context={"role": role.value},
        url=reverse("accounts:my_access"),
    )
    log.info("Role %s of %s lapsed", role.value, user.pk)
