"""API tokens a Global admin creates for the company's own tooling, and the Idempotency-Key
each activation asked for through the API was created under."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from benefits_portal.text import at_most

# An API token lives at most a year (issue 19), as Partner Center's own app secrets do.
LONGEST = datetime.timedelta(days=366)


class Scope(models.TextChoices):
    """What a token may do; each is also bounded by its creator's own roles
    (entitlements.permissions.SCOPE_CAPABILITIES)."""

    BENEFITS_READ = "benefits:read", _("Read membership offers, benefits and activations")
    ACTIVATIONS_WRITE = "activations:write", _("Activate benefits")
    SUPPORT_READ = "support:read", _("Read contracts, cases and advisory hours")
    SUPPORT_WRITE = "support:write", _("Open cases and add notes")


class ApiToken(models.Model):
    """A personal or service token: shown once when created, kept only as its SHA-256 digest.

    Requests with it act for `partner` and never beyond what `created_by` may do at the time
    of the request: a creator who loses a role, or leaves, takes the token's power along."""

    partner = models.ForeignKey(
        "entitlements.Partner", on_delete=models.CASCADE, related_name="api_tokens"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    scopes = models.JSONField(_("scopes"))  # a list of Scope values
    # The token's first characters, shown in lists so people tell their tokens apart.
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # At most a year (LONGEST) is the form's and the service's: date arithmetic in a
            # check would not read the same on SQLite.
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")),
                name="api_token_expires_after_creation",
                violation_error_message=_("A token expires after it is created."),
            ),
            models.CheckConstraint(
                condition=~Q(scopes=[]),
                name="api_token_has_a_scope",
                violation_error_message=_("Choose at least one scope."),
            ),
            models.UniqueConstraint(
                "partner",
                "name",
                condition=Q(revoked_at__isnull=True),
                name="one_live_api_token_per_name",
                violation_error_message=_("Your company has a token with this name already."),
            ),
            at_most("name", 100, "api_token_name_length", _("At most 100 characters.")),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def is_live(self, now):
        return self.revoked_at is None and now < self.expires_at


class IdempotencyKey(models.Model):
    """An activation asked for through the API under an Idempotency-Key: the same key again
    answers with the same activation; another request body under it is refused (422)."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="idempotency")
    key = models.CharField(max_length=255)
    # SHA-256 of the request body as parsed (its fields, sorted): the same request sent again.
    body_digest = models.CharField(max_length=64)
    activation = models.ForeignKey(
        "activation.ActivationRequest", on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="one_request_per_idempotency_key")
        ]

    def __str__(self):
        return f"{self.key} → {self.activation_id}"
