from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """Something that happened to a company's benefits or access: who, what, when. Never edited."""

    class Action(models.TextChoices):
        ACTIVATION_REQUESTED = "activation_requested", _("Activation requested")
        IDS_REVEALED = "ids_revealed", _("Access ID and Contract ID revealed")
        ACTIVATION_FAILED = "activation_failed", _("Activation failed")
        ACTIVATION_RETRIED = "activation_retried", _("Activation retried")
        ACTIVATION_REJECTED = "activation_rejected", _("Activation rejected")
        CONTRACT_LINKED = "contract_linked", _("Contract added to an account")
        ROLE_GRANTED = "role_granted", _("Role granted")
        ROLE_REMOVED = "role_removed", _("Role removed")
        CONTRACT_UNLINKED = "contract_unlinked", _("Contract removed from an account")
        CONTRACT_IDS_REISSUED = "contract_ids_reissued", _("Access ID and Contract ID re-issued")
        ACCOUNT_JOINED = "account_joined", _("Account moved into the company")
        ACCOUNT_LEFT = "account_left", _("Account moved out of the company")
        ACCOUNT_DEACTIVATED = "account_deactivated", _("Account deactivated")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PASSWORD_LINK_SENT = "password_link_sent", _("Password link sent")
        EMAIL_ADDED = "email_added", _("Email address added")
        EMAIL_REMOVED = "email_removed", _("Email address removed")
        EMAIL_CHANGED = "email_changed", _("Sign-in email changed")
        TWO_FACTOR_ADDED = "two_factor_added", _("Two-factor authentication added")
        TWO_FACTOR_REMOVED = "two_factor_removed", _("Two-factor authentication removed")

    partner = models.ForeignKey(
        "entitlements.Partner", on_delete=models.CASCADE, related_name="audit_entries"
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the portal itself did it."),
    )
    actor_email = models.EmailField(blank=True, help_text=_("Kept if the account is deleted."))
    action = models.CharField(max_length=32, choices=Action.choices)
    subject = models.CharField(max_length=300)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["partner", "-at"], name="audit_partner_newest")]
        verbose_name_plural = _("audit entries")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()}: {self.subject}"
