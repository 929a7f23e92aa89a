"""API tokens: created by a Global admin and shown once, kept as a digest, revoked; and the
token a request presents, checked."""

import datetime
import hashlib
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEntry
from audit.services import record

from .models import LONGEST, ApiToken, Scope

PREFIX = "pbp_"
# How often a token's last use is written: once a minute is enough to tell a live token from
# a forgotten one, and spares a write on every request.
LAST_USE_EVERY = datetime.timedelta(minutes=1)


class TokenRefused(Exception):
    """A token can't be created as asked; the message says why."""


def digest_of(raw):
    """The SHA-256 hex digest a token is kept as (a str of 64 characters)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(creator, name, scopes, expires_at):
    """A new token of the creator's company, audited. Takes its name (1 to 100 characters),
    its scopes (Scope values) and when it expires (an aware datetime, within a year).

    Returns (token, raw): raw is the token itself, shown this once and kept nowhere. Raises
    TokenRefused for an expiry past a year or already passed, no scope, or a name a live token
    of the company has."""
    now = timezone.now()
    scopes = sorted(set(scopes))
    if not scopes or not set(scopes) <= set(Scope.values):
        raise TokenRefused(_("Choose at least one scope."))
    if not now < expires_at <= now + LONGEST:
        raise TokenRefused(_("A token expires within a year."))
    raw = PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(
                partner=creator.partner,
                created_by=creator,
                name=name,
                scopes=scopes,
                prefix=raw[: len(PREFIX) + 8],
                digest=digest_of(raw),
                expires_at=expires_at,
            )
            record(
                creator.partner,
                AuditEntry.Action.API_TOKEN_CREATED,
                f"{name} ({token.prefix}): {' '.join(scopes)}",
                creator,
                {"token": name, "scopes": scopes, "ends_on": expires_at.date().isoformat()},
            )
    except IntegrityError:
        raise TokenRefused(
            _(
                "Your company has a token with this name already: choose another name, or "
                "revoke that one first (an expired token keeps its name until it is revoked)."
            )
        ) from None
    return token, raw


def revoke_token(token_pk, partner, actor):
    """Revoke the company's token, once; audited. Returns True if revoked now, False if it was
    revoked already (a double click, another admin). Raises ApiToken.DoesNotExist for another
    company's token."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token_pk, partner=partner)
        if token.revoked_at is not None:
            return False
        token.revoked_at, token.revoked_by = timezone.now(), actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        record(
            partner,
            AuditEntry.Action.API_TOKEN_REVOKED,
            f"{token.name} ({token.prefix})",
            actor,
            {"token": token.name},
        )
    return True


def token_for(raw):
    """The live token `raw` is, with its creator and company, or None: unknown, revoked,
    expired, or its creator no longer an active user of the token's company. Records its use
    (at most once a minute)."""
    if not raw or not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("created_by__partner", "partner")
        .filter(digest=digest_of(raw))
        .first()
    )
    now = timezone.now()
    if token is None or not token.is_live(now):
        return None
    creator = token.created_by
    if not creator.is_active or creator.partner_id != token.partner_id:
        return None
    if token.last_used_at is None or token.last_used_at < now - LAST_USE_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def revoke_tokens_of(user, actor, why):
    """Revoke every live token `user` created: they left the company's active users
    (entitlements.signals.account_left; `why`: "deactivated", "removed", "moved"), and a token
    must not come back with them if they are reactivated. Audited per token. Returns how many."""
    live = list(
        ApiToken.objects.select_for_update(of=("self",))
        .filter(created_by=user, revoked_at__isnull=True)
        .select_related("partner")
    )
    now = timezone.now()
    for token in live:
        token.revoked_at, token.revoked_by = now, actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        record(
            token.partner,
            AuditEntry.Action.API_TOKEN_REVOKED,
            f"{token.name} ({token.prefix}): its creator's account {why}",
            actor,
            {"token": token.name, "because": why},
        )
    return len(live)
