"""Writes to partners' data, each in one transaction. The demo data goes through them too."""

from django.db import transaction

from accounts.models import end_sessions

from .models import Role, RoleAssignment


@transaction.atomic
def set_roles(user, roles):
    """Give the user exactly these roles in their company; nothing changes if they already do."""
    wanted = {Role(role) for role in roles}
    if wanted and user.partner_id is None:
        raise ValueError("Roles are held in a company; this account belongs to none.")
    current = set(user.role_assignments.values_list("role", flat=True))
    removed, _ = user.role_assignments.exclude(role__in=wanted).delete()
    if removed:
        # What the account may do just shrank: its open sessions end, so no page it still
        # has open keeps showing what it may no longer see.
        transaction.on_commit(lambda: end_sessions(user))
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(user=user, role=role) for role in wanted - current],
        ignore_conflicts=True,  # a concurrent save of the same role: the constraint keeps one
    )
    if hasattr(user, "_partner_roles"):
        del user._partner_roles
