import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from benefits_portal.text import at_most
from entitlements.rules import Benefit

nine_digits = RegexValidator(r"^[1-9][0-9]{8}$", _("A 9-digit number."))


def phone_number(value):
    """A phone number as people write it: digits with +, spaces, dashes and parentheses, and
    6 to 15 digits (15: the most an international number has, ITU-T E.164)."""
    if not re.fullmatch(r"\+?[0-9 ()\-]+", value):
        raise ValidationError(
            _(
                "Enter a phone number with digits, and only +, spaces, dashes or parentheses, "
                "for example +1 425 555 0100."
            ),
            code="invalid",
        )
    if not 6 <= sum(c.isdigit() for c in value) <= 15:
        raise ValidationError(_("A phone number has 6 to 15 digits."), code="invalid")


class SupportContract(models.Model):
    """The contract an activation produces: its Access ID and Contract ID, dates and incidents.

    Everyone in the company who can see the Technical benefits page sees the IDs; anyone who
    holds both can add the contract to their support account.
    """

    activation = models.OneToOneField(
        "activation.ActivationRequest", on_delete=models.PROTECT, related_name="contract"
    )
    partner = models.ForeignKey(
        "entitlements.Partner", on_delete=models.PROTECT, related_name="support_contracts"
    )
    benefit = models.CharField(max_length=32, choices=Benefit.choices)
    access_id = models.CharField(
        _("Access ID"), max_length=9, unique=True, validators=[nine_digits]
    )
    contract_id = models.CharField(
        _("Contract ID"), max_length=9, unique=True, validators=[nine_digits]
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    incidents_total = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Empty for unlimited.")
    )
    incidents_remaining = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Empty for unlimited.")
    )
    pack_name = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(access_id__regex=r"^[1-9][0-9]{8}$")
                & Q(contract_id__regex=r"^[1-9][0-9]{8}$"),
                name="contract_ids_are_9_digits",
                violation_error_message=_(
                    "An Access ID and a Contract ID are 9 digits each, the first of them not 0."
                ),
            ),
            models.CheckConstraint(
                condition=Q(incidents_total__isnull=True, incidents_remaining__isnull=True)
                | Q(
                    incidents_total__isnull=False,
                    incidents_remaining__isnull=False,
                    incidents_remaining__lte=models.F("incidents_total"),
                ),
                name="contract_incidents_counted_or_unlimited",
                violation_error_message=_(
                    "Incidents remaining must be between 0 and the incidents total; both are "
                    "empty for an unlimited contract."
                ),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="contract_ends_after_it_starts",
                violation_error_message=_("A contract cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.get_benefit_display()} {self.contract_id} ({self.partner.name})"

    @property
    def is_unlimited(self):
        return self.incidents_total is None


class Product(models.Model):
    """A product support requests are about, kept by support staff in admin."""

    class Kind(models.TextChoices):
        ON_PREMISES = "on_premises", _("On-premises")
        CLOUD = "cloud", _("Cloud")

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    csp_plan = models.BooleanField(
        _("Cloud Solution Provider plan"),
        default=False,
        help_text=_("CSP partners may request support for it without a contract (Azure)."),
    )

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name

    @property
    def is_cloud(self):
        return self.kind == self.Kind.CLOUD


class ProductVersion(models.Model):
    """One version of a product. On-premises support covers the newest two: current and
    previous. A cloud product has a single, unnamed version."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="versions")
    name = models.CharField(max_length=60, blank=True)
    released_on = models.DateField(help_text=_("Orders the versions: the newest two are covered."))

    class Meta:
        ordering = ["product__kind", "product__name", "-released_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "name"],
                name="version_once_per_product",
                violation_error_message=_("This product already has a version of that name."),
            ),
        ]

    def __str__(self):
        return f"{self.product.name} {self.name}".strip()


class ContractLink(models.Model):
    """A support contract added to an account with its Access ID and Contract ID.

    Any account holding the two IDs may add the contract, once; several accounts may share it.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contract_links"
    )
    contract = models.ForeignKey(SupportContract, on_delete=models.CASCADE, related_name="links")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-added_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "contract"],
                name="contract_once_per_account",
                violation_error_message=_("This contract is already on this account."),
            ),
        ]

    def __str__(self):
        return f"{self.contract} on {self.user}"


class IncidentCredit(models.Model):
    """Incidents support staff gave back to a contract, and why. The audit trail; never edited."""

    contract = models.ForeignKey(SupportContract, on_delete=models.PROTECT, related_name="credits")
    incidents = models.PositiveIntegerField()
    reason = models.TextField(max_length=1000)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    given_at = models.DateTimeField(auto_now_add=True)
    # The case whose closing gave the incident back (a duplicate, a product defect): one give-
    # back per case, by this column's uniqueness, however many times it is closed.
    case = models.OneToOneField(
        "cases.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incident_given_back",
    )

    class Meta:
        ordering = ["-given_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(incidents__gt=0),
                name="credit_is_positive",
                violation_error_message=_("Give back at least one incident."),
            ),
            at_most(
                "reason",
                1000,
                "credit_reason_length",
                _("A reason is at most 1,000 characters."),
            ),
        ]

    def __str__(self):
        return f"+{self.incidents} to {self.contract}"
