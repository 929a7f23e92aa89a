"""Writes to partners' data, each in one transaction. The demo data goes through them too."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from accounts.models import AccessRequest, Invitation, SignedOut, end_sessions
from audit import services as audit
from audit.models import AuditEntry
from audit.services import record

from .models import MembershipOffer, Partner, Role, RoleAssignment

Action = AuditEntry.Action


@transaction.atomic
def _record_role(partner, action, role, user, actor):
    record(
        partner,
        action,
        f"{Role(role).label}: {user.email}",
        actor,
        {"role": role, "email": user.email},
    )


def set_roles(user, roles, actor=None):
    """Give the user exactly these roles in their company; nothing changes if they already do.
    Each role granted or removed goes in the company's audit log, with who did it."""
    wanted = {Role(role) for role in roles}
    if wanted and user.partner_id is None:
        raise ValueError("Roles are held in a company; this account belongs to none.")
    # A time-boxed grant past its end, not yet swept, is not held: granting it again starts
    # afresh rather than keeping the row that no longer counts.
    user.role_assignments.filter(role__in=wanted, expires_at__lte=timezone.now()).delete()
    current = set(user.role_assignments.values_list("role", flat=True))
    removed, _ = user.role_assignments.exclude(role__in=wanted).delete()
    if removed:
        # What the account may do just shrank: its open sessions end, so no page it still
        # has open keeps showing what it may no longer see.
        transaction.on_commit(lambda: end_sessions(user, SignedOut.ROLES_CHANGED))
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(user=user, role=role) for role in wanted - current],
        ignore_conflicts=True,  # a concurrent save of the same role: the constraint keeps one
    )
    if user.partner_id is not None:
        with translation.override(settings.LANGUAGE_CODE):
            for role in sorted(wanted - current):
                _record_role(user.partner, Action.ROLE_GRANTED, role, user, actor)
            for role in sorted(current - wanted):
                _record_role(user.partner, Action.ROLE_REMOVED, role, user, actor)
    if hasattr(user, "_partner_roles"):
        del user._partner_roles


def withdraw_open_requests(user):
    """The account's open requests for a role end, withdrawn: it left the company they were
    made in (moved or removed), so nobody there should decide them. Returns how many."""
    return AccessRequest.objects.filter(user=user, decided_at=None).update(
        decision=AccessRequest.Decision.WITHDRAWN, decided_at=timezone.now()
    )


@transaction.atomic
def account_moved(user, old_partner, actor=None):
    """The account now belongs to `user.partner` (or to none) instead of `old_partner`.

    Its roles were held in the old company, so they all go (audited there): in the new
    company it starts with none, and its sessions end. Both companies' logs record the move.
    Returns the roles removed.
    """
    removed = sorted(user.role_assignments.values_list("role", flat=True))
    user.role_assignments.all().delete()
    withdraw_open_requests(user)
    # A link sent by the old company must not let the account in anywhere now.
    Invitation.objects.filter(user=user, accepted_at=None, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    with translation.override(settings.LANGUAGE_CODE):
        if old_partner is not None:
            for role in removed:
                _record_role(old_partner, Action.ROLE_REMOVED, role, user, actor)
            to = user.partner.name if user.partner_id else "no company"
            record(
                old_partner,
                Action.ACCOUNT_LEFT,
                f"{user.email} -> {to}",
                actor,
                {"email": user.email, "to": user.partner.name if user.partner_id else ""},
            )
        if user.partner_id is not None:
            came_from = old_partner.name if old_partner else "no company"
            record(
                user.partner,
                Action.ACCOUNT_JOINED,
                f"{user.email} <- {came_from}",
                actor,
                {"email": user.email, "from": old_partner.name if old_partner else ""},
            )
    if hasattr(user, "_partner_roles"):
        del user._partner_roles
    transaction.on_commit(lambda: end_sessions(user, SignedOut.MOVED))
    return removed


OFFER_FIELDS = ["partner", "kind", "competency", "level", "starts_on", "ends_on"]
COMPANY_FIELDS = [
    "name",
    "mpn_id",
    "is_mpn_associated",
    "is_csp",
    "in_partner_membership_center",
    "buys_premier_support",
    "buys_advanced_support",
]


@transaction.atomic
def save_offer(offer, actor=None):
    """Add or change a membership offer (support staff in Django admin, the demo data), and
    audit it in its company's log once: what was added, or which fields changed from what to
    what. An offer moved to another company is audited in both. Saving with nothing changed
    records nothing. Returns the offer; raises what the model's constraints raise."""
    before = None
    if offer.pk is not None:
        before = (
            MembershipOffer.objects.select_for_update(of=("self",))
            .select_related("partner", "competency")
            .filter(pk=offer.pk)
            .first()
        )
    offer.save()
    with translation.override(settings.LANGUAGE_CODE):
        if before is None:
            record(
                offer.partner,
                Action.OFFER_ADDED,
                f"{offer.title}: {offer.starts_on} - {offer.ends_on}",
                actor,
                {
                    "offer": offer.facts,
                    "changes": [
                        ["starts_on", None, offer.starts_on.isoformat()],
                        ["ends_on", None, offer.ends_on.isoformat()],
                    ],
                },
            )
            return offer
        changes = audit.changes(before, offer, OFFER_FIELDS)
        if not changes:
            return offer
        partners = {before.partner_id: before.partner, offer.partner_id: offer.partner}
        for partner in partners.values():
            record(
                partner,
                Action.OFFER_CHANGED,
                f"{before.title}: {audit.in_english(changes)}",
                actor,
                {"offer": before.facts, "changes": changes},
            )
    return offer


@transaction.atomic
def remove_offer(offer, actor=None):
    """Delete a membership offer (support staff in Django admin); audited in its company's log.
    Raises ProtectedError if benefits of it were activated: those offers stay."""
    partner, facts, title = offer.partner, offer.facts, offer.title
    dates = f"{offer.starts_on} - {offer.ends_on}"
    offer.delete()
    with translation.override(settings.LANGUAGE_CODE):
        record(partner, Action.OFFER_REMOVED, f"{title}: {dates}", actor, {"offer": facts})


@transaction.atomic
def save_company(partner, actor=None):
    """Change a company's name, MPN ID, MPN association, CSP status, move from Partner
    Membership Center or paid support routes (support staff in Django admin): what it may use
    depends on them, so each change is in its log, once. A new company's creation is not
    audited: it has no log to read yet. Returns the partner."""
    before = None
    if partner.pk is not None:
        before = Partner.objects.select_for_update().filter(pk=partner.pk).first()
    partner.save()
    if before is not None:
        changes = audit.changes(before, partner, COMPANY_FIELDS)
        if changes:
            record(
                partner,
                Action.COMPANY_CHANGED,
                audit.in_english(changes),
                actor,
                {"changes": changes},
            )
    return partner
