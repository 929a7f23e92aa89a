"""What a company makes of its cloud subscription benefits: Azure credit assigned to a user,
and cloud subscriptions provisioned through the activation engine.

Which cloud products an offer includes is the catalogue's (software.models: Product with
area CLOUD, Inclusion); this room keeps who holds a monthly credit and what a provisioning
produced (seed 003, "Manage cloud services benefits"; later docs).
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

CODE_LENGTH = 20


def new_redemption_code():
    """A code nobody can guess: the assignee's redemption link carries it."""
    return secrets.token_urlsafe(15)  # 20 characters


class CreditAssignment(models.Model):
    """An Azure usage-based subscription's monthly credit, of one offer, assigned to one user.

    The Global admin assigns it ("assign yourself as a user", seed 003) and may reassign it:
    the current assignment ends (`ended_at`) and a new one starts, so the history stays. One
    current assignee per (offer, product) is a database constraint. Each assignment has its
    own redemption code, the key of the assignee's redemption link: the old assignee's link
    stops working when the credit is reassigned.
    """

    offer = models.ForeignKey(
        "entitlements.MembershipOffer", on_delete=models.PROTECT, related_name="credit_assignments"
    )
    product = models.ForeignKey(
        "software.Product", on_delete=models.PROTECT, related_name="credit_assignments"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="azure_credits"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    assigned_at = models.DateTimeField(_("assigned"))
    monthly_credit = models.DecimalField(_("monthly credit (USD)"), max_digits=9, decimal_places=2)
    redemption_code = models.CharField(
        max_length=CODE_LENGTH, unique=True, default=new_redemption_code, editable=False
    )
    ended_at = models.DateTimeField(_("reassigned"), null=True, blank=True)

    class Meta:
        ordering = ["-assigned_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "product"],
                condition=Q(ended_at__isnull=True),
                name="one_credit_assignee_per_offer_and_product",
                violation_error_message=_("This credit is assigned to someone already."),
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("assigned_at")),
                name="credit_assignment_ends_after_it_starts",
                violation_error_message=_("An assignment ends after it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.product} of {self.offer}: {self.assignee}"


class CloudSubscription(models.Model):
    """A cloud subscription the activation engine provisioned: one per activation request."""

    activation = models.OneToOneField(
        "activation.ActivationRequest", on_delete=models.PROTECT, related_name="cloud_subscription"
    )
    partner = models.ForeignKey(
        "entitlements.Partner", on_delete=models.CASCADE, related_name="cloud_subscriptions"
    )
    product = models.ForeignKey("software.Product", on_delete=models.PROTECT, related_name="+")
    subscription_id = models.UUIDField(_("subscription ID"), unique=True)
    licenses = models.PositiveIntegerField(_("license quantity"), null=True, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()

    class Meta:
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="cloud_subscription_ends_after_it_starts",
                violation_error_message=_("A subscription ends after it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.product}, {self.partner} ({self.subscription_id})"
