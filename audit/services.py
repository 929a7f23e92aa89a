"""One call to write the audit log, from every service that changes a company's benefits or
access, inside the same transaction as the change."""

from .models import AuditEntry

Action = AuditEntry.Action


def entry(partner, action, subject, actor=None, facts=None):
    """An unsaved AuditEntry: `subject` in English for support staff, `facts` (codes and
    names, see audit.describe) for the company's own log in each reader's language."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    return AuditEntry(
        partner=partner,
        action=action,
        subject=str(subject)[:300],
        actor=actor,
        actor_email=actor.email if actor else "",
        facts=facts or {},
    )


def record(partner, action, subject, actor=None, facts=None):
    """Write one entry of `partner`'s log (see `entry`). Returns it."""
    audit_entry = entry(partner, action, subject, actor, facts)
    audit_entry.save()
    return audit_entry
