"""Writes to partners' data, each in one transaction. The demo data goes through them too."""

from django.conf import settings
from django.db import transaction
from django.utils import translation

from accounts.models import SignedOut, end_sessions
from audit.models import AuditEntry
from audit.services import record

from .models import Role, RoleAssignment

Action = AuditEntry.Action


@transaction.atomic
def set_roles(user, roles, actor=None):
    """Give the user exactly these roles in their company; nothing changes if they already do.
    Each role granted or removed goes in the company's audit log, with who did it."""
    wanted = {Role(role) for role in roles}
    if wanted and user.partner_id is None:
        raise ValueError("Roles are held in a company; this account belongs to none.")
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
                record(
                    user.partner, Action.ROLE_GRANTED, f"{Role(role).label}: {user.email}", actor
                )
            for role in sorted(current - wanted):
                record(
                    user.partner, Action.ROLE_REMOVED, f"{Role(role).label}: {user.email}", actor
                )
    if hasattr(user, "_partner_roles"):
        del user._partner_roles


@transaction.atomic
def account_moved(user, old_partner, actor=None):
    """The account now belongs to `user.partner` (or to none) instead of `old_partner`.

    Its roles were held in the old company, so they all go (audited there): in the new
    company it starts with none, and its sessions end. Both companies' logs record the move.
    Returns the roles removed.
    """
    removed = sorted(user.role_assignments.values_list("role", flat=True))
    user.role_assignments.all().delete()
    with translation.override(settings.LANGUAGE_CODE):
        if old_partner is not None:
            for role in removed:
                record(old_partner, Action.ROLE_REMOVED, f"{Role(role).label}: {user.email}", actor)
            to = user.partner.name if user.partner_id else "no company"
            record(old_partner, Action.ACCOUNT_LEFT, f"{user.email} -> {to}", actor)
        if user.partner_id is not None:
            came_from = old_partner.name if old_partner else "no company"
            record(user.partner, Action.ACCOUNT_JOINED, f"{user.email} <- {came_from}", actor)
    if hasattr(user, "_partner_roles"):
        del user._partner_roles
    transaction.on_commit(lambda: end_sessions(user, SignedOut.MOVED))
    return removed
