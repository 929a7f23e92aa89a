"""One call to write the audit log, from every service that changes a company's benefits or
access, inside the same transaction as the change."""

from .models import AuditEntry

Action = AuditEntry.Action


def record(partner, action, subject, actor=None):
    if actor is not None and not actor.is_authenticated:
        actor = None
    AuditEntry.objects.create(
        partner=partner,
        action=action,
        subject=str(subject)[:300],
        actor=actor,
        actor_email=actor.email if actor else "",
    )
