"""A Cloud Solution Provider partner's customers, the services they subscribe to, and those
services' health (seed 002: "Providing technical support to customers").

Support staff keep all of it in admin: the customers and their services as the partner's
reseller records say, and the service health feed (each service's state and its incidents),
typed in or imported as JSON (customers.services.import_health).
"""

from django.core.validators import DomainNameValidator, URLValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from benefits_portal.text import at_most

NAME_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 2000
URL_MAX_LENGTH = 2000
# A management portal is a web address: never a script or another scheme in a link.
https_only = URLValidator(schemes=["https"])


class Service(models.Model):
    """A Microsoft online service customers subscribe to (Azure, Microsoft 365, Dynamics 365...),
    its management portal, and its health as the feed says."""

    class Health(models.TextChoices):
        HEALTHY = "healthy", _("Healthy")
        DEGRADED = "degraded", _("Degraded")
        INTERRUPTION = "interruption", _("Service interruption")

    name = models.CharField(_("name"), max_length=NAME_MAX_LENGTH, unique=True)
    portal_url = models.URLField(
        _("management portal"),
        max_length=URL_MAX_LENGTH,
        validators=[https_only],
        help_text=_("Where a customer's subscription is administered."),
    )
    health = models.CharField(
        _("health"), max_length=16, choices=Health.choices, default=Health.HEALTHY
    )
    health_updated_at = models.DateTimeField(_("health updated"), null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ServiceIncident(models.Model):
    """A service incident of the health feed: what is affected, since when, and when it was
    last updated and resolved. Its reference is the feed's own (e.g. "MO123456")."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="incidents")
    reference = models.CharField(_("reference"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=NAME_MAX_LENGTH)
    impact = models.TextField(_("user impact"), max_length=TEXT_MAX_LENGTH)
    started_at = models.DateTimeField(_("start"))
    updated_at = models.DateTimeField(_("last update"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(updated_at__gte=F("started_at"))
                & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("started_at"))),
                name="service_incident_times_in_order",
                violation_error_message=_("An incident is updated and resolved after it starts."),
            ),
            at_most(
                "impact",
                TEXT_MAX_LENGTH,
                "service_incident_impact_length",
                _("At most 2000 characters."),
            ),
        ]

    def __str__(self):
        return f"{self.reference}: {self.title}"

    @property
    def is_resolved(self):
        return self.resolved_at is not None


class Customer(models.Model):
    """A company a CSP partner resells to: its name, its primary domain, and whether the
    partner holds a delegated admin relationship with it (seed 002: admin agents administer
    the customer's services on its behalf)."""

    class Relationship(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("relationship", "Active")
        EXPIRED = "expired", pgettext_lazy("relationship", "Expired")
        NONE = "none", pgettext_lazy("relationship", "None")

    partner = models.ForeignKey(
        "entitlements.Partner", on_delete=models.CASCADE, related_name="customers"
    )
    name = models.CharField(_("name"), max_length=NAME_MAX_LENGTH)
    domain = models.CharField(
        _("primary domain"),
        max_length=253,
        validators=[DomainNameValidator(accept_idna=False)],
        help_text=_("For example fourthcoffee.onmicrosoft.com."),
    )
    relationship = models.CharField(
        _("delegated admin relationship"),
        max_length=10,
        choices=Relationship.choices,
        default=Relationship.ACTIVE,
    )
    services = models.ManyToManyField(
        Service, through="Subscription", related_name="customers", blank=True
    )

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                "partner",
                Lower("domain"),
                name="one_customer_per_partner_and_domain",
                violation_error_message=_("This partner has a customer with this domain already."),
            ),
        ]
        indexes = [models.Index(fields=["partner", "name"], name="customer_by_partner_name")]

    def __str__(self):
        return f"{self.name} ({self.domain})"

    def save(self, *args, **kwargs):
        self.domain = self.domain.strip().lower()  # a domain is the same in any case
        super().save(*args, **kwargs)

    @property
    def may_be_administered(self):
        """Whether the partner may administer the customer's services: only through an active
        delegated admin relationship (seed 002)."""
        return self.relationship == self.Relationship.ACTIVE


class Subscription(models.Model):
    """A customer's subscription to a service, and where it is administered (a recorded
    address; the portal calls no real management portal)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="subscriptions")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="subscriptions")
    portal_url = models.URLField(
        _("management portal"),
        max_length=URL_MAX_LENGTH,
        blank=True,
        validators=[https_only],
        help_text=_("This customer's own address; empty: the service's."),
    )

    class Meta:
        ordering = ["service__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "service"],
                name="one_subscription_per_customer_and_service",
                violation_error_message=_("This customer subscribes to this service already."),
            ),
        ]

    def __str__(self):
        return f"{self.customer}: {self.service}"

    @property
    def management_url(self):
        return self.portal_url or self.service.portal_url
