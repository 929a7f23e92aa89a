"""Who holds each Visual Studio subscription of a company's offers.

How many subscriptions an offer includes is the catalogue's (software.models: a Product of area
VISUAL_STUDIO and its Inclusion's license quantity). A subscription is licensed per user and
must be assigned to be active; a Global admin assigns it, and may reassign it once 90 days have
passed since it was assigned (seed 003; DOMAIN.md, later docs).
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

REASSIGN_AFTER_DAYS = 90


class SubscriptionAssignment(models.Model):
    """Subscription `number` (1, 2, ...) of `product` that `offer` includes, held by `assignee`
    from `assigned_at` until `ended_at` (it was reassigned): rows are never changed otherwise,
    so the history stays. The database keeps one holder per subscription and at most one
    subscription of an offer per user (issue 17)."""

    offer = models.ForeignKey(
        "entitlements.MembershipOffer",
        on_delete=models.PROTECT,
        related_name="visual_studio_assignments",
    )
    product = models.ForeignKey("software.Product", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField(_("subscription"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visual_studio"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    assigned_at = models.DateTimeField(_("assigned"))
    ended_at = models.DateTimeField(_("reassigned"), null=True, blank=True)

    class Meta:
        ordering = ["-assigned_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "product", "number"],
                condition=Q(ended_at__isnull=True),
                name="one_holder_per_visual_studio_subscription",
                violation_error_message=_("This subscription is assigned to someone already."),
            ),
            models.UniqueConstraint(
                fields=["offer", "assignee"],
                condition=Q(ended_at__isnull=True),
                name="one_visual_studio_subscription_per_user_and_offer",
                violation_error_message=_(
                    "This user holds a Visual Studio subscription of this offer already."
                ),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="visual_studio_subscription_numbered_from_1"
            ),
        ]

    def __str__(self):
        return f"{self.offer}: {self.product} #{self.number} ({self.assignee_id})"

    @property
    def reassignable_on(self):
        """The first day it may go to someone else: 90 days after it was assigned to its
        holder (DOMAIN.md, later docs), in the portal's time zone."""
        assigned_on = timezone.localdate(self.assigned_at)
        return assigned_on + datetime.timedelta(days=REASSIGN_AFTER_DAYS)
