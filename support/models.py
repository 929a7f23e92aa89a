from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from entitlements.rules import Benefit

nine_digits = RegexValidator(r"^[1-9][0-9]{8}$", "A 9-digit number.")


class SupportContractQuerySet(models.QuerySet):
    def for_partner(self, partner):
        return self.filter(partner=partner)


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
    access_id = models.CharField("Access ID", max_length=9, unique=True, validators=[nine_digits])
    contract_id = models.CharField(
        "Contract ID", max_length=9, unique=True, validators=[nine_digits]
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    incidents_total = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty for unlimited."
    )
    incidents_remaining = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty for unlimited."
    )
    pack_name = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SupportContractQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(access_id__regex=r"^[1-9][0-9]{8}$")
                & Q(contract_id__regex=r"^[1-9][0-9]{8}$"),
                name="contract_ids_are_9_digits",
            ),
            models.CheckConstraint(
                condition=Q(incidents_total__isnull=True, incidents_remaining__isnull=True)
                | Q(
                    incidents_total__isnull=False,
                    incidents_remaining__isnull=False,
                    incidents_remaining__lte=models.F("incidents_total"),
                ),
                name="contract_incidents_counted_or_unlimited",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="contract_ends_after_it_starts",
            ),
        ]

    def __str__(self):
        return f"{self.get_benefit_display()} {self.contract_id} ({self.partner.name})"

    @property
    def is_unlimited(self):
        return self.incidents_total is None
