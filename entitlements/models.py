from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from benefits_portal.text import digits

from . import rules
from .rules import Level, OfferKind

mpn_id_validator = RegexValidator(r"^[0-9]{7}$", _("An MPN ID is 7 digits."))


class Partner(models.Model):
    """A company: an MPN member, a CSP reseller, or both."""

    name = models.CharField(max_length=200)
    mpn_id = models.CharField(
        _("MPN ID"),
        max_length=7,
        blank=True,
        validators=[mpn_id_validator],
        help_text=_("7 digits. Required for a company associated with MPN."),
    )
    is_mpn_associated = models.BooleanField(
        _("associated with MPN"),
        default=True,
        help_text=_("Member of the Microsoft Partner Network."),
    )
    is_csp = models.BooleanField(
        _("in CSP"),
        default=False,
        help_text=_("In the Cloud Solution Provider (reseller) program."),
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["mpn_id"], condition=~Q(mpn_id=""), name="partner_mpn_id_unique"
            ),
            models.CheckConstraint(
                condition=Q(mpn_id="") | Q(mpn_id__regex=r"^[0-9]{7}$"),
                name="partner_mpn_id_7_digits",
            ),
            models.CheckConstraint(
                condition=Q(is_mpn_associated=False) | ~Q(mpn_id=""),
                name="partner_mpn_member_has_mpn_id",
                violation_error_message=_("A company associated with MPN needs its MPN ID."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.mpn_id})" if self.mpn_id else self.name

    def clean_fields(self, exclude=None):
        # An MPN ID typed with full-width digits or spaces is the same MPN ID.
        self.mpn_id = digits(self.mpn_id)
        super().clean_fields(exclude)


class Role(models.TextChoices):
    GLOBAL_ADMIN = "global_admin", _("Global admin")
    USER_ADMIN = "user_admin", _("User admin")
    MPN_PARTNER_ADMIN = "mpn_partner_admin", _("MPN partner admin")
    ADMIN_AGENT = "admin_agent", _("Admin agent")


class RoleAssignment(models.Model):
    """One role a user holds in their company; a user may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    assigned_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["user", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="role_once_per_user"),
        ]

    def __str__(self):
        return f"{self.user}: {self.get_role_display()}"


class Competency(models.Model):
    name = models.CharField(max_length=100, unique=True)
    is_cloud = models.BooleanField(
        _("cloud competency"),
        default=False,
        help_text=_("Cloud competencies get unlimited Signature Cloud Support."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("competencies")

    def __str__(self):
        return self.name


class MembershipOfferQuerySet(models.QuerySet):
    def active(self, on=None):
        on = on or timezone.localdate()
        return self.filter(starts_on__lte=on, ends_on__gte=on)


class MembershipOffer(models.Model):
    """Microsoft Action Pack, or a competency at Silver or Gold, held for a period."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="offers")
    kind = models.CharField(max_length=20, choices=OfferKind.choices)
    competency = models.ForeignKey(
        Competency, on_delete=models.PROTECT, null=True, blank=True, related_name="offers"
    )
    level = models.CharField(max_length=10, choices=Level.choices, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()

    objects = MembershipOfferQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "level", "competency__name", "starts_on"]  # Gold before Silver
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=OfferKind.ACTION_PACK, competency__isnull=True, level="")
                    | Q(
                        kind=OfferKind.COMPETENCY,
                        competency__isnull=False,
                        level__in=[Level.SILVER, Level.GOLD],
                    )
                ),
                name="offer_competency_has_level_action_pack_has_none",
                violation_error_message=_(
                    "A competency offer needs a competency and a level (Silver or Gold); "
                    "Microsoft Action Pack has neither."
                ),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")),
                name="offer_ends_after_it_starts",
                violation_error_message=_("An offer must end after it starts."),
            ),
            models.UniqueConstraint(
                fields=["partner", "starts_on"],
                condition=Q(kind=OfferKind.ACTION_PACK),
                name="action_pack_once_per_start",
                violation_error_message=_("This company already has Action Pack from that date."),
            ),
            models.UniqueConstraint(
                fields=["partner", "competency", "starts_on"],
                condition=Q(kind=OfferKind.COMPETENCY),
                name="competency_once_per_start",
                violation_error_message=_(
                    "This company already has that competency from that date."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.title}, {self.partner.name}"

    @property
    def title(self):
        if self.kind == OfferKind.ACTION_PACK:
            return str(OfferKind.ACTION_PACK.label)
        # Translators: a competency at a level, e.g. "Gold Cloud Platform".
        return gettext("%(level)s %(competency)s") % {
            "level": self.get_level_display(),
            "competency": gettext(self.competency.name),
        }

    def is_active(self, on=None):
        on = on or timezone.localdate()
        return self.starts_on <= on <= self.ends_on

    def entitlements(self):
        cloud = bool(self.competency and self.competency.is_cloud)
        return rules.technical_support(self.kind, self.level or None, cloud)

    def entitlement(self, benefit):
        cloud = bool(self.competency and self.competency.is_cloud)
        return rules.entitlement(self.kind, self.level or None, cloud, benefit)
