import contextlib
import datetime

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.db.models import Func, Q
from django.utils import formats, timezone
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
    # Seed 003: a company not yet invited to move from Partner Membership Center keeps managing
    # its membership benefits there, and activates technical benefits outside Partner Center.
    in_partner_membership_center = models.BooleanField(
        _("not yet moved from Partner Membership Center"),
        default=False,
        help_text=_(
            "Its membership benefits are still managed in Partner Membership Center (PMC): its "
            "Benefits pages say so, and nothing can be activated, assigned, cancelled or have "
            "its keys revealed here. Clear it once the company has moved to Partner Center."
        ),
    )

    # Seed 002: a CSP partner's technical support for its customers goes through Premier or
    # Advanced Support for Partners (both paid) when support staff record that it buys them.
    buys_premier_support = models.BooleanField(
        _("buys Premier Support for Partners"),
        default=False,
        help_text=_("A paid route for its CSP customers' technical issues."),
    )
    buys_advanced_support = models.BooleanField(
        _("buys Advanced Support for Partners"),
        default=False,
        help_text=_("A paid route for its CSP customers' technical issues."),
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["mpn_id"],
                condition=~Q(mpn_id=""),
                name="partner_mpn_id_unique",
                violation_error_message=_("Another company already has this MPN ID."),
            ),
            models.CheckConstraint(
                condition=Q(mpn_id="") | Q(mpn_id__regex=r"^[0-9]{7}$"),
                name="partner_mpn_id_7_digits",
                violation_error_message=_("An MPN ID is 7 digits."),
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
    # A grant approved for a number of days lapses then: the sweeper removes it, and until it
    # runs the role no longer counts (permissions.roles_of). Empty: held until taken away.
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"],
                name="role_once_per_user",
                violation_error_message=_("This account already holds this role."),
            ),
        ]

    def __str__(self):
        return f"{self.user}: {self.get_role_display()}"


class Competency(models.Model):
    name = models.CharField(max_length=100, unique=True)
    is_cloud = models.BooleanField(
        _("cloud competency"),
        default=False,
        help_text=_(
            "Cloud competencies get unlimited Signature Cloud Support. A change applies to "
            "offers that start afterwards; offers already started keep their terms."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("competencies")

    def __str__(self):
        return self.name

    @transaction.atomic
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # Offers of this competency that have not started yet take the catalogue as it is now;
        # those already started keep the terms they started with (DOMAIN.md).
        for offer in self.offers.filter(starts_on__gt=timezone.localdate()):
            offer.competency = self
            offer.record_terms()
            offer.save(update_fields=TERMS)


class DateRange(Func):
    """PostgreSQL's daterange(lower, upper, bounds)."""

    function = "DATERANGE"
    output_field = DateRangeField()


class NoOverlappingPeriods(ExclusionConstraint):
    """No two offers matching `condition` and equal in `fields` whose periods, from
    `starts_on` to `ends_on` inclusive, share a day.

    On PostgreSQL it is an exclusion constraint (a GiST index, with btree_gist for the equal
    columns). Other databases have no exclusion constraints: there no SQL is written (Django's
    own ExclusionConstraint would write PostgreSQL's syntax into any database's schema) and
    the rule is model validation only. Validation is the same query everywhere, and names the
    offer already held in the reader's words.
    """

    def __init__(self, *, fields, name, condition, violation_error_message):
        self.fields = tuple(fields)
        super().__init__(
            name=name,
            expressions=[
                (
                    DateRange("starts_on", "ends_on", RangeBoundary(True, True)),
                    RangeOperators.OVERLAPS,
                ),
                *((field, RangeOperators.EQUAL) for field in self.fields),
            ],
            condition=condition,
            violation_error_message=violation_error_message,
        )

    def deconstruct(self):
        path, _, _ = super().deconstruct()
        return (
            path,
            (),
            {
                "fields": self.fields,
                "name": self.name,
                "condition": self.condition,
                "violation_error_message": self.violation_error_message,
            },
        )

    def constraint_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        """Raise ValidationError naming the overlapping offer, if there is one.

        Fields left out of a form (`exclude`) are checked all the same: they hold the saved
        values, and a change of dates must not reach the database's constraint unchecked.
        """
        values = {
            field: getattr(instance, model._meta.get_field(field).attname) for field in self.fields
        }
        if instance.starts_on is None or instance.ends_on is None or None in values.values():
            return  # the missing field has its own error
        if not self.condition.check(
            instance._get_field_expression_map(meta=model._meta), using=using
        ):
            return
        others = model._default_manager.using(using).filter(
            self.condition,
            starts_on__lte=instance.ends_on,
            ends_on__gte=instance.starts_on,
            **{model._meta.get_field(field).attname: value for field, value in values.items()},
        )
        if not instance._state.adding and instance.pk is not None:
            others = others.exclude(pk=instance.pk)
        held = others.order_by("starts_on").first()
        if held is not None:
            raise ValidationError(
                self.violation_error_message,
                code="overlap",
                params={
                    "offer": held.title,
                    "starts_on": formats.date_format(held.starts_on, "DATE_FORMAT"),
                    "ends_on": formats.date_format(held.ends_on, "DATE_FORMAT"),
                },
            )


# An offer's technical support terms, recorded on it when it starts.
TERMS = ["product_support_incidents", "includes_cloud_support", "cloud_support_incidents"]


def offer_title(kind, level, competency):
    """An offer's name in the active language: "Microsoft Action Pack", or a competency at a
    level. Level and competency name are both in the reader's language (the catalogs hold
    every competency of rules.py), never one translated beside one left in English."""
    if kind == OfferKind.ACTION_PACK:
        return str(OfferKind.ACTION_PACK.label)
    # Translators: a competency at a level, e.g. "Gold Cloud Platform".
    return gettext("%(level)s %(competency)s") % {
        "level": Level(level).label if level in Level.values else level,
        "competency": gettext(competency),
    }


class MembershipOfferQuerySet(models.QuerySet):
    def active(self, on=None):
        """Offers whose benefits can be used on `on` (default today): started, not ended, and
        not cancelled on or before that day."""
        on = on or timezone.localdate()
        return self.filter(starts_on__lte=on, ends_on__gte=on).exclude(cancelled_on__lte=on)

    def bulk_create(self, objs, *args, **kwargs):
        """As Django's, with each new offer's terms recorded, as save() records them."""
        objs = list(objs)
        for offer in objs:
            if offer.product_support_incidents is None:
                offer.record_terms()
        return super().bulk_create(objs, *args, **kwargs)


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
    # The terms the offer started with, from the catalogue of that day (`record_terms`).
    product_support_incidents = models.PositiveSmallIntegerField(
        _("Microsoft Product Support incidents"), editable=False
    )
    includes_cloud_support = models.BooleanField(
        _("includes Signature Cloud Support"), editable=False
    )
    cloud_support_incidents = models.PositiveSmallIntegerField(
        _("Signature Cloud Support incidents"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Empty for unlimited."),
    )

    # Cancelled for a refund (cancellations app): the offer and its benefits end that day.
    cancelled_on = models.DateField(_("cancelled on"), null=True, blank=True, editable=False)

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
                condition=Q(includes_cloud_support=True) | Q(cloud_support_incidents__isnull=True),
                name="offer_cloud_incidents_only_with_cloud_support",
                violation_error_message=_(
                    "An offer without Signature Cloud Support has no cloud support incidents."
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
            # Two overlapping Action Packs would double the company's incidents.
            NoOverlappingPeriods(
                fields=["partner"],
                condition=Q(kind=OfferKind.ACTION_PACK),
                name="action_pack_periods_do_not_overlap",
                violation_error_message=_(
                    "This company already holds %(offer)s from %(starts_on)s to %(ends_on)s. "
                    "A company holds one Microsoft Action Pack at a time."
                ),
            ),
            # A competency held once at a time, whatever the level (Silver or Gold).
            NoOverlappingPeriods(
                fields=["partner", "competency"],
                condition=Q(kind=OfferKind.COMPETENCY),
                name="competency_periods_do_not_overlap",
                violation_error_message=_(
                    "This company already holds %(offer)s from %(starts_on)s to %(ends_on)s. "
                    "A competency's periods may not overlap, at either level."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.title}, {self.partner.name}"

    def save(self, *args, **kwargs):
        if self._terms_due():
            self.record_terms()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], *TERMS}
        super().save(*args, **kwargs)
        self._saved_terms_source = self._terms_source()

    def clean_fields(self, exclude=None):
        # The terms follow from what the offer is: recorded before they are validated. An
        # offer that isn't valid yet (a competency without a level) gets its own errors.
        if self._terms_due():
            with contextlib.suppress(ValueError, Competency.DoesNotExist):
                self.record_terms()
        super().clean_fields(exclude)

    @classmethod
    def from_db(cls, db, field_names, values):
        offer = super().from_db(db, field_names, values)
        offer._saved_terms_source = offer._terms_source()
        return offer

    def record_terms(self):
        """Fix the offer's technical support terms from the catalogue as it is now: its kind,
        level and whether its competency is a cloud one (rules.technical_support). Later
        changes to the catalogue leave them as they are (DOMAIN.md: an offer's entitlements
        are fixed when it starts). Sets the fields; the caller saves."""
        cloud = bool(self.competency_id and self.competency.is_cloud)
        support = {
            item.benefit: item
            for item in rules.technical_support(self.kind, self.level or None, cloud)
        }
        self.product_support_incidents = support[rules.Benefit.PRODUCT_SUPPORT].incidents
        cloud_support = support.get(rules.Benefit.SIGNATURE_CLOUD_SUPPORT)
        self.includes_cloud_support = cloud_support is not None
        self.cloud_support_incidents = cloud_support.incidents if cloud_support else None

    def _terms_source(self):
        return (self.kind, self.level, self.competency_id)

    def _terms_due(self):
        """Terms are recorded when the offer is made, and again only if support staff correct
        what it is (admin allows that only before any benefit was activated)."""
        return self.product_support_incidents is None or self._terms_source() != getattr(
            self, "_saved_terms_source", self._terms_source()
        )

    def validate_constraints(self, exclude=None):
        # Two staff saving overlapping offers of one company at once would each validate
        # before the other's row exists, and the second would meet the database's constraint
        # instead of these words. Locking the company's row for the rest of the transaction
        # makes the second wait and then see the first. (SQLite's transactions are serialized
        # already and ignore the lock.)
        if self.partner_id and transaction.get_connection().in_atomic_block:
            list(
                Partner.objects.select_for_update(no_key=True)
                .filter(pk=self.partner_id)
                .values_list("pk")
            )
        super().validate_constraints(exclude)

    @property
    def title(self):
        return offer_title(self.kind, self.level, self.competency.name if self.competency else "")

    @property
    def facts(self):
        """The offer as the audit log keeps it: codes and names, shown in each reader's words."""
        return {
            "kind": self.kind,
            "level": self.level,
            "competency": self.competency.name if self.competency else "",
        }

    def is_active(self, on=None):
        on = on or timezone.localdate()
        cancelled = self.cancelled_on is not None and self.cancelled_on <= on
        return self.starts_on <= on <= self.ends_on and not cancelled

    @property
    def renewal_last_day(self):
        """The last day of the renewal window: 30 days from the day after the offer ends
        (DOMAIN.md, later docs). Its benefits stay usable until then."""
        return self.ends_on + datetime.timedelta(days=rules.RENEWAL_WINDOW_DAYS)

    def in_renewal_window(self, on=None):
        on = on or timezone.localdate()
        return self.cancelled_on is None and self.ends_on < on <= self.renewal_last_day

    def entitlements(self):
        """The offer's technical support benefits (rules.Entitlement), as recorded when it
        started: what the page, its contracts and Support for Business all go by. An offer
        not saved yet reads them from the catalogue as it is now."""
        if self.product_support_incidents is None:
            self.record_terms()
        return rules.recorded_support(
            self.product_support_incidents,
            self.includes_cloud_support,
            self.cloud_support_incidents,
        )

    def entitlement(self, benefit):
        """One benefit of the offer's recorded terms, or None when the offer lacks it."""
        for item in self.entitlements():
            if item.benefit == benefit:
                return item
        return None
