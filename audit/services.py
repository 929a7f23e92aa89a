"""One call to write the audit log, from every service that changes a company's benefits or
access, inside the same transaction as the change."""

from django.db import models

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


def fact(value):
    """A field's value as the log keeps it: a date as ISO text, a related row by its name, or
    the value as it is."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, models.Model):
        return getattr(value, "name", str(value))
    return value


def changes(before, after, fields):
    """[[field, old, new], ...] for each of `fields` that differs between two copies of a
    row, values as `fact` keeps them: the "changes" of an entry's facts."""
    return [
        [field, fact(getattr(before, field)), fact(getattr(after, field))]
        for field in fields
        if getattr(before, field) != getattr(after, field)
    ]


def in_english(changes):
    """`changes` as an entry's English subject: "field old -> new; ..."."""
    return "; ".join(f"{field} {old} -> {new}" for field, old, new in changes)
