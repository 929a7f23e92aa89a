"""The outbox: one row per person and event, written in the transaction of the change.

The same row is the person's in-portal notice (read_at) and their email (email_due_at,
sent_at, gave_up_at); both are rendered from `context` in the reader's language when shown
or sent, so nothing is written in one language for someone who reads another.
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
