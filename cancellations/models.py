"""Requests to cancel a membership offer for a refund, decided by support staff."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from benefits_portal.text import at_most
from entitlements.rules import Benefit

TEXT_MAX_LENGTH = 1000
AT_MOST = _("At most 1000 characters.")


class CancellationRequest(models.Model):
    """A company's request to cancel one of its offers for a refund (seed 003: "request the
    cancellation through a service request"; later docs: decided by Microsoft).

        open -> approved (the offer ends that day)
             -> declined (by staff, or by itself when a benefit of the offer is used meanwhile)

    One open request per offer, and one approval: constraints.
    """

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for a decision")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")

    offer = models.ForeignKey(
        "entitlements.MembershipOffer",
        on_delete=models.PROTECT,
        related_name="cancellation_requests",
    )
    # The offer's company, for scoping every lookup to it (permissions.partner_object_or_404).
    partner = models.ForeignKey(
        "entitlements.Partner", on_delete=models.CASCADE, related_name="cancellation_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cancellation_requests",
    )
    reason = models.TextField(_("reason"), max_length=TEXT_MAX_LENGTH)
    requested_at = models.DateTimeField(_("requested"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    # Empty for a request declined by itself (a benefit used while it waited).
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(
        _("note to the partner"),
        max_length=TEXT_MAX_LENGTH,
        blank=True,
        help_text=_("Why it was declined, or anything the partner should know."),
    )

    # For a request declined by itself: what was used while it waited, as plain values
    # ({"benefit": ..., "by": ...} or {"product": ..., "by": ...}), read in each reader's words.
    used = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["offer"],
                condition=Q(state="open"),
                name="one_open_cancellation_per_offer",
                violation_error_message=_(
                    "A cancellation of this offer is already waiting for a decision."
                ),
            ),
            models.UniqueConstraint(
                fields=["offer"],
                condition=Q(state="approved"),
                name="an_offer_is_cancelled_once",
                violation_error_message=_("This offer was cancelled already."),
            ),
            models.CheckConstraint(
                condition=Q(state="open", decided_at__isnull=True)
                | (~Q(state="open") & Q(decided_at__isnull=False)),
                name="cancellation_decided_when_not_open",
                violation_error_message=_("A decided request has its decision's time."),
            ),
            at_most(
                "reason",
                TEXT_MAX_LENGTH,
                "cancellation_reason_length",
                _("At most 1000 characters."),
            ),
            at_most(
                "note", TEXT_MAX_LENGTH, "cancellation_note_length", _("At most 1000 characters.")
            ),
        ]
        indexes = [models.Index(fields=["state", "requested_at"], name="cancellation_waiting")]

    def __str__(self):
        return f"{self.offer} ({self.get_state_display()})"

    def used_text(self):
        """What was used while the request waited, in the active language; "" if nothing."""
        who = self.used.get("by", "")
        if self.used.get("benefit") in Benefit.values:
            return _("%(benefit)s was activated by %(person)s.") % {
                "benefit": Benefit(self.used["benefit"]).label,
                "person": who,
            }
        if self.used.get("cloud_product"):
            return _("%(benefit)s was activated by %(person)s.") % {
                "benefit": self.used["cloud_product"],
                "person": who,
            }
        if self.used.get("credit"):
            return _("%(person)s assigned the monthly credit of %(product)s.") % {
                "product": self.used["credit"],
                "person": who,
            }
        if self.used.get("product"):
            return _("A license key of %(product)s was viewed by %(person)s.") % {
                "product": self.used["product"],
                "person": who,
            }
        if self.used.get("advisory_request"):
            return _("Advisory request %(number)s was filed by %(person)s.") % {
                "number": self.used["advisory_request"],
                "person": who,
            }
        return ""

    @property
    def number(self):
        """The request's number, as the partner and staff quote it."""
        return f"CR{self.pk:07d}"
