from django.conf import settings
from django.db import models
from django.db.models.fields.json import KT
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
        CONTRACT_ADDED_AGAIN = "contract_added_again", _("Contract added again (already added)")
        IDS_FIRST_VIEWED = "ids_first_viewed", _("Access ID and Contract ID first viewed")
        INCIDENT_OPENED = "incident_opened", _("Incident opened")
        INCIDENT_CHANGED = "incident_changed", _("Incident changed by support")
        INCIDENTS_GIVEN_BACK = "incidents_given_back", _("Incidents given back")
        OFFER_ADDED = "offer_added", _("Membership offer added")
        OFFER_CHANGED = "offer_changed", _("Membership offer changed")
        OFFER_REMOVED = "offer_removed", _("Membership offer removed")
        COMPANY_CHANGED = "company_changed", _("Company details changed")
        INVITATION_SENT = "invitation_sent", _("User invited")
        INVITATION_REVOKED = "invitation_revoked", _("Invitation revoked")
        INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
        ACCOUNT_REACTIVATED = "account_reactivated", _("Account reactivated")
        ACCOUNT_REMOVED = "account_removed", _("User removed from the company")
        ACCESS_REQUESTED = "access_requested", _("Access requested")
        ACCESS_APPROVED = "access_approved", _("Access request approved")
        ACCESS_DECLINED = "access_declined", _("Access request declined")
        ROLE_LAPSED = "role_lapsed", _("Time-limited role ended")
        ENTRA_CONNECTED = "entra_connected", _("Microsoft Entra ID connected")
        ENTRA_CHANGED = "entra_changed", _("Microsoft Entra ID sign-in changed")
        ENTRA_DISCONNECTED = "entra_disconnected", _("Microsoft Entra ID disconnected")
        CANCELLATION_REQUESTED = "cancellation_requested", _("Cancellation requested")
        CANCELLATION_APPROVED = "cancellation_approved", _("Cancellation approved")
        CANCELLATION_DECLINED = "cancellation_declined", _("Cancellation declined")
        CREDIT_ASSIGNED = "credit_assigned", _("Azure credit assigned")
        CREDIT_REASSIGNED = "credit_reassigned", _("Azure credit reassigned")
        CLOUD_SUBSCRIPTION_ACTIVE = "cloud_subscription_active", _("Cloud subscription active")
        KEYS_VIEWED = "keys_viewed", _("License keys first viewed")
        VISUAL_STUDIO_ASSIGNED = "visual_studio_assigned", _("Visual Studio subscription assigned")
        VISUAL_STUDIO_REASSIGNED = (
            "visual_studio_reassigned",
            _("Visual Studio subscription reassigned"),
        )
        MARKETING_CONTACT_SET = "marketing_contact_set", _("Marketing contact set")
        GO_TO_MARKET_OFFER_ACTIVE = "go_to_market_offer_active", _("Go-To-Market offer active")
        SERVICE_REQUEST_FILED = "service_request_filed", _("Service request filed for a customer")
        API_TOKEN_CREATED = "api_token_created", _("API token created")
        API_TOKEN_REVOKED = "api_token_revoked", _("API token revoked")
        WEBHOOK_ENDPOINT_ADDED = "webhook_endpoint_added", _("Webhook endpoint added")
        WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint_disabled", _("Webhook endpoint disabled")
        WEBHOOK_ENDPOINT_ENABLED = "webhook_endpoint_enabled", _("Webhook endpoint enabled")
        WEBHOOK_ENDPOINT_REMOVED = "webhook_endpoint_removed", _("Webhook endpoint removed")
        WEBHOOK_REDELIVERED = "webhook_redelivered", _("Webhook delivery sent again")

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
    # What happened, as codes and values rather than words, so the log reads in each reader's
    # language (see `details`); `subject` keeps the same in English for support staff.
    facts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["partner", "-at"], name="audit_partner_newest")]
        constraints = [
            # Who first saw a contract's Access ID and Contract ID: one entry per contract
            # and pair of IDs (a re-issue's new pair is seen anew), made so by the database.
            models.UniqueConstraint(
                KT("facts__contract_pk"),
                KT("facts__contract_id"),
                condition=models.Q(action="ids_first_viewed"),
                name="ids_first_viewed_once_per_contract",
                violation_error_message=_("The first view of these IDs is recorded already."),
            ),
        ]
        verbose_name_plural = _("audit entries")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()}: {self.subject}"

    @property
    def details(self):
        """What happened, in the active language; the English subject for entries written
        before facts were kept."""
        from .describe import describe

        return describe(self.facts) if self.facts else self.subject
