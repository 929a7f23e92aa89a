"""The company's marketing contact, who receives the instructions of its Go-To-Market offers.

Which Go-To-Market offers a company's memberships include is the catalogue's (software.models:
a Product of area GO_TO_MARKET, listed under its Go-To-Market benefit, and its Inclusion);
activating one goes through the activation engine (activation.services). Seed 003, "Manage
Go-To-Market offers": "To activate any go-to-market offer or program, you must first assign a
company marketing contact."
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField


class MarketingContact(models.Model):
    """One per company (the database's constraint): a user of the company, the address their
    Go-To-Market instructions go to (other than the one they sign in with, seed 003), a phone
    number and the language they prefer. Changed in place; every change is audited."""

    partner = models.OneToOneField(
        "entitlements.Partner", on_delete=models.CASCADE, related_name="marketing_contact"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    email = models.EmailField(_("email address"))
    phone = PhoneNumberField(_("contact phone"))
    language = models.CharField(_("preferred language"), max_length=10, choices=settings.LANGUAGES)
    updated_at = models.DateTimeField(_("updated"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(email="") & ~Q(phone="") & ~Q(language=""),
                name="marketing_contact_complete",
                violation_error_message=_(
                    "A marketing contact has an email address, a phone number and a language."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.user} <{self.email}>, {self.partner}"

    @property
    def is_usable(self):
        """Whether the instructions can go to this contact: still an active user of the
        company."""
        return self.user.is_active and self.user.partner_id == self.partner_id
