"""The outbox: one row per person and event, written in the transaction of the change.

The same row is the person's in-portal notice (read_at) and their email (email_due_at,
sent_at, gave_up_at); both are rendered from `context` in the reader's language when shown
or sent, so nothing is written in one language for someone who reads another.

A company's webhook endpoints get their own rows: one WebhookDelivery per endpoint and event,
written in the same transaction, and a WebhookAttempt per try (notices.webhooks).
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from benefits_portal.text import at_most

ABOUT_MAX_LENGTH = 100
URL_MAX_LENGTH = 500


class NoticeQuerySet(models.QuerySet):
    def email_pending(self):
        """Notices whose email is neither sent nor given up yet."""
        return self.filter(sent_at__isnull=True, gave_up_at__isnull=True)

    def of(self, person):
        """`person`'s notices about the company they are in now: an account moved to another
        company neither sees nor is emailed what it was told about the one it left."""
        return (
            self.filter(recipient=person)
            .filter(Q(partner__isnull=True) | Q(partner_id=person.partner_id))
            .exclude(kind__in=EMAIL_ONLY)
        )


class Notice(models.Model):
    """Something a person is told, once: a unique (recipient, kind, about).

    Email states:

        due (email_due_at set) -> claimed (email_due_at pushed a lease ahead) -> sent
             ^____ a failure that may pass: due again later ___/    \\-> given up

    A sender that dies leaves the claim to lapse, and the next sweep sends the email: at least
    once, twice only if a sender dies between sending and recording it.
    """

    class Kind(models.TextChoices):
        IDS_READY = "ids_ready", _("Access ID and Contract ID ready")
        CONTRACT_EXPIRING_30 = "contract_expiring_30", _("Contract ends in 30 days")
        CONTRACT_EXPIRING_7 = "contract_expiring_7", _("Contract ends in 7 days")
        INCIDENTS_LOW = "incidents_low", _("Few incidents left")
        RENEWAL_WINDOW = "renewal_window", _("Renewal window open")
        CASE_REPLY = "case_reply", _("Reply to a case")
        CASE_STATE_CHANGED = "case_state_changed", _("Case state changed")
        ADVISORY_HOURS_EXPIRING = "advisory_hours_expiring", _("Advisory hours expiring")
        INVITATION = "invitation", _("Invitation")
        INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
        ACCESS_REQUESTED = "access_requested", _("Role requested")
        ACCESS_APPROVED = "access_approved", _("Role request approved")
        ACCESS_DECLINED = "access_declined", _("Role request declined")
        ROLES_CHANGED = "roles_changed", _("Roles changed")
        ROLE_LAPSED = "role_lapsed", _("Role ended")
        ACCOUNT_DEACTIVATED = "account_deactivated", _("Account deactivated")
        ACCOUNT_REACTIVATED = "account_reactivated", _("Account reactivated")
        ACCOUNT_REMOVED = "account_removed", _("Removed from the company")
        CANCELLATION_REQUESTED = "cancellation_requested", _("Cancellation requested")
        CANCELLATION_APPROVED = "cancellation_approved", _("Cancellation approved")
        CANCELLATION_DECLINED = "cancellation_declined", _("Cancellation declined")
        CREDIT_ASSIGNED = "credit_assigned", _("Azure credit assigned to you")
        CREDIT_REASSIGNED = "credit_reassigned", _("Azure credit reassigned")
        CLOUD_SUBSCRIPTION_ACTIVE = "cloud_subscription_active", _("Cloud subscription active")
        KEYS_RAN_OUT = "keys_ran_out", _("License keys ran out")
        VISUAL_STUDIO_ASSIGNED = (
            "visual_studio_assigned",
            _("Visual Studio subscription assigned to you"),
        )
        VISUAL_STUDIO_REASSIGNED = (
            "visual_studio_reassigned",
            _("Visual Studio subscription reassigned"),
        )
        GO_TO_MARKET_INSTRUCTIONS = (
            "go_to_market_instructions",
            _("Instructions for a Go-To-Market offer"),
        )
        GO_TO_MARKET_ACTIVE = "go_to_market_active", _("Go-To-Market offer active")
        WEBHOOK_DISABLED = "webhook_disabled", _("Webhook endpoint disabled")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    # The company the person was in when told (empty for someone in none): what they are
    # told about belongs to it, and stays with it if they move.
    partner = models.ForeignKey(
        "entitlements.Partner", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # What the notice is about, e.g. "contract:12": with the kind, one notice per event.
    about = models.CharField(max_length=ABOUT_MAX_LENGTH)
    context = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    url = models.CharField(max_length=URL_MAX_LENGTH, blank=True)
    # A marketing contact's instructions go to the address and in the language given for
    # them (seed 003), not the account's.
    email_to = models.EmailField(
        blank=True, help_text=_("Where the email goes; empty: the recipient's own address.")
    )
    language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("The email's language; empty: the recipient's own."),
    )
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    email_due_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the email is next to be tried; empty once sent or given up."),
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "about"],
                name="one_notice_per_person_and_event",
                violation_error_message=_("This person has been told of this already."),
            ),
            models.CheckConstraint(
                condition=Q(email_due_at__isnull=True)
                | Q(sent_at__isnull=True, gave_up_at__isnull=True),
                name="notice_email_due_only_until_sent",
                violation_error_message=_("An email sent or given up is not due again."),
            ),
            at_most("about", ABOUT_MAX_LENGTH, "notice_about_length", _("At most 100 characters.")),
            at_most("url", URL_MAX_LENGTH, "notice_url_length", _("At most 500 characters.")),
        ]
        indexes = [
            models.Index(
                fields=["email_due_at"],
                condition=Q(email_due_at__isnull=False),
                name="notice_email_due",
            ),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notice_unread",
            ),
            models.Index(fields=["recipient", "-created_at", "-id"], name="notice_newest_first"),
        ]

    def __str__(self):
        return f"{self.kind} {self.about} to {self.recipient_id}"

    @property
    def is_unread(self):
        return self.read_at is None


# Emails to someone who can't sign in to read a notice: an invitee before joining, an account
# deactivated or removed. They are written read, and the notices list leaves them out.
# A marketing contact's Go-To-Market instructions go to their marketing address, and the
# contact may hold no role that opens the page they are about.
EMAIL_ONLY = frozenset(
    {
        Notice.Kind.INVITATION,
        Notice.Kind.ACCOUNT_DEACTIVATED,
        Notice.Kind.ACCOUNT_REMOVED,
        Notice.Kind.GO_TO_MARKET_INSTRUCTIONS,
    }
)
# Emails that go to an account that can no longer sign in, by design.
TO_CLOSED_ACCOUNTS = frozenset({Notice.Kind.ACCOUNT_DEACTIVATED, Notice.Kind.ACCOUNT_REMOVED})


class WebhookEvent(models.TextChoices):
    """What a webhook endpoint may be told of (issue 19), named as Standard Webhooks' `type`."""

    ACTIVATION_STAGE_CHANGED = "activation.stage_changed", _("Activation stage changed")
    ACTIVATION_COMPLETED = "activation.completed", _("Activation completed")
    CONTRACT_LINKED = "contract.linked", _("Contract added to a support account")
    CONTRACT_EXPIRING = "contract.expiring", _("Contract about to end")
    INCIDENTS_RUNNING_OUT = "contract.incidents_running_out", _("Incidents running out")
    CASE_STATE_CHANGED = "case.state_changed", _("Case state changed")


class WebhookEndpoint(models.Model):
    """A URL of the company's own systems that is told of the events it chose, signed with its
    secret (Standard Webhooks). The secret signs, so it is kept as it is; the pages show it
    once, when the endpoint is added."""

    partner = models.ForeignKey(
        "entitlements.Partner", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.CharField(_("URL"), max_length=URL_MAX_LENGTH)  # checked by add_endpoint
    events = models.JSONField(_("events"))  # a list of WebhookEvent values
    secret = models.CharField(max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    # The one-time key of the form that added it: the same form sent twice adds one endpoint
    # and shows its secret both times.
    submission_key = models.UUIDField(null=True, blank=True)
    # Since when every try has failed (empty while the last try succeeded), and the last
    # failure: a failure long after the last one starts a new streak.
    failing_since = models.DateTimeField(null=True, blank=True)
    last_failed_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    # Empty on a disabled endpoint: the portal disabled it, for failing every try for days.
    disabled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Removed by the company: gone from its pages and sent nothing, and deleted with its
    # deliveries by the next hourly clean-up (notices.webhooks.forget_old), once any change
    # that was telling it of an event has committed.
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "url"],
                condition=Q(removed_at__isnull=True),
                name="one_webhook_endpoint_per_url",
                violation_error_message=_("Your company has an endpoint with this URL already."),
            ),
            models.UniqueConstraint(
                fields=["created_by", "submission_key"],
                condition=Q(removed_at__isnull=True),
                name="webhook_endpoint_added_once",
            ),
            models.CheckConstraint(
                condition=~Q(events=[]),
                name="webhook_endpoint_has_an_event",
                violation_error_message=_("Choose at least one event."),
            ),
            at_most("url", URL_MAX_LENGTH, "webhook_url_length", _("At most 500 characters.")),
        ]

    def __str__(self):
        return self.url

    @property
    def event_labels(self):
        """The names of the events it is told of, in the active language."""
        return [event.label for event in WebhookEvent if event.value in self.events]


class WebhookDelivery(models.Model):
    r"""One event for one endpoint, delivered at least once, in order per subject.

        due (due_at set) -> claimed (due_at pushed a lease ahead) -> delivered
             ^__ a failed try: due again later (notices.webhooks.RETRY_DELAYS) __/  \-> given up

    **Redeliver** makes any delivery due again, with the same webhook-id, so a receiver that
    keeps the ids it has seen processes it once.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    # What the event is about, e.g. "activation:12": deliveries of one subject go in order.
    subject = models.CharField(max_length=ABOUT_MAX_LENGTH)
    # What makes it one event, e.g. "activation-event:40": with the endpoint, one delivery.
    key = models.CharField(max_length=ABOUT_MAX_LENGTH)
    message_id = models.CharField(max_length=40, unique=True)  # the webhook-id header
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "key"], name="one_webhook_delivery_per_event"
            ),
            models.CheckConstraint(
                condition=Q(due_at__isnull=True) | Q(gave_up_at__isnull=True),
                name="webhook_delivery_due_until_given_up",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(due_at__isnull=False), name="webhook_delivery_due"
            ),
            models.Index(
                fields=["endpoint", "subject", "id"],
                condition=Q(delivered_at__isnull=True, gave_up_at__isnull=True),
                name="webhook_delivery_pending",
            ),
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhook_newest_first"),
        ]

    def __str__(self):
        return f"{self.event} {self.subject} to {self.endpoint_id}"

    @property
    def state(self):
        """ "waiting" (for a try), "given_up" or "delivered"."""
        if self.due_at is not None:
            return "waiting"
        return "given_up" if self.gave_up_at else "delivered"


class WebhookAttempt(models.Model):
    """One try of a delivery, as the delivery log shows it."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField()

    class NoAnswer(models.TextChoices):
        CONNECTION_REFUSED = "connection_refused", _("Could not connect")
        TIMED_OUT = "timed_out", _("No answer in time")
        TLS_ERROR = "tls_error", _("Secure connection failed")
        NOT_PUBLIC = "not_public", _("Not a public address: not called")
        NOT_FOUND = "not_found", _("No address found for the host")
        NETWORK_ERROR = "network_error", _("Network error")

    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # Why there was no answer (empty when there was one).
    no_answer = models.CharField(max_length=20, choices=NoAnswer.choices, blank=True)
    milliseconds = models.PositiveIntegerField()
    excerpt = models.CharField(max_length=500, blank=True)  # the start of the answer's body

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status_code__isnull=True, no_answer__gt="")
                | Q(status_code__isnull=False, no_answer=""),
                name="webhook_attempt_answered_or_why_not",
            )
        ]

    def __str__(self):
        return f"{self.delivery_id} at {self.at}: {self.status_code or self.no_answer}"

    @property
    def succeeded(self):
        return self.status_code is not None and 200 <= self.status_code < 300
