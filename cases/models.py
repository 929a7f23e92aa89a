from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from activation import clock
from benefits_portal.text import at_most
from support.models import phone_number

from . import rules


class CaseQuerySet(models.QuerySet):
    def newest_by_contract(self, contract_ids, count):
        """{contract id: its `count` newest cases, newest first}, for the contracts of the
        `contract_ids` list, in one query whatever their number. A contract without cases is
        left out.

        The ranking is plain SQL: the ORM's window filter costs a page more to compose than
        PostgreSQL takes to run it.
        """
        if not contract_ids:
            return {}
        # Only placeholders are put in the text, one per contract: the values are bound.
        places = ", ".join(["%s"] * len(contract_ids))
        newest = RawSQL(  # noqa: S611
            "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY contract_id "  # noqa: S608
            "ORDER BY opened_at DESC, id DESC) AS place FROM cases_case "
            f"WHERE contract_id IN ({places})) AS ranked WHERE place <= %s",
            (*contract_ids, count),
        )
        by_contract = {}
        for case in self.filter(pk__in=newest).order_by("-opened_at", "-pk"):
            by_contract.setdefault(case.contract_id, []).append(case)
        return by_contract


class Case(models.Model):
    """A request to support: an incident opened under a plan, an advisory request (Technical
    Presales and Deployment services), or a CSP partner's service request on a customer's
    behalf (seed 002). One lifecycle for all of them.

    State: open → in progress → waiting on you → resolved → closed. Support staff move it
    (cases.services.update_by_staff); a partner's note on a case waiting on them moves it back
    to in progress, and a partner may close their case. Resolved and closed cases carry a
    resolution; a duplicate or a product defect gives back what the case used, once.
    """

    class Kind(models.TextChoices):
        INCIDENT = "incident", _("Incident")
        ADVISORY = "advisory", _("Advisory request")
        SERVICE_REQUEST = "service_request", _("Service request")

    class Severity(models.TextChoices):
        A = "A", _("A: critical impact, first response within 2 hours")
        B = "B", _("B: moderate impact, first response within 4 hours")
        C = "C", _("C: minimal impact, first response within 8 hours")

    class SupportType(models.TextChoices):
        TECHNICAL = "technical", _("Technical: something isn't working as expected")
        SETUP = "setup", _("Setup: installing, configuring or upgrading")

    class RequestType(models.TextChoices):
        PRESALES = "presales", _("Presales: planning a solution for a customer")
        DEPLOYMENT = "deployment", _("Deployment: setting up or migrating a solution")

    class Category(models.TextChoices):
        """What a service request is about: billing and subscription management are commercial
        issues, the rest technical (seed 002)."""

        BILLING = "billing", _("Billing")
        SUBSCRIPTION_MANAGEMENT = "subscription_management", _("Subscription management")
        TECHNICAL = "technical", _("Technical")

    class Route(models.TextChoices):
        """The support route a service request went through (seed 002): commercial support
        for every CSP partner; technical support through Signature Cloud Support (included with
        a Gold or Silver competency), Premier or Advanced Support for Partners (paid)."""

        COMMERCIAL = "commercial", _("Commercial support")
        SIGNATURE_CLOUD_SUPPORT = "signature_cloud_support", _("Signature Cloud Support")
        PREMIER = "premier", _("Premier Support for Partners")
        ADVANCED = "advanced", _("Advanced Support for Partners")

    COMMERCIAL_CATEGORIES = (Category.BILLING, Category.SUBSCRIPTION_MANAGEMENT)
    TECHNICAL_ROUTES = (Route.SIGNATURE_CLOUD_SUPPORT, Route.PREMIER, Route.ADVANCED)

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING_ON_YOU = "waiting_on_you", _("Waiting on you")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Resolution(models.TextChoices):
        SOLVED = "solved", _("Solved")
        DUPLICATE = "duplicate", _("Duplicate")
        PRODUCT_DEFECT = "product_defect", _("Product defect")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    FINISHED = (State.RESOLVED, State.CLOSED)

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INCIDENT)
    # The company whose case it is: the contract's for an incident on a contract, else the
    # opener's. Every partner's look-up is scoped by it.
    partner = models.ForeignKey(
        "entitlements.Partner", on_delete=models.PROTECT, related_name="cases"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases"
    )
    contract = models.ForeignKey(
        "support.SupportContract",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        help_text=_(
            "Empty for the Cloud Solution Provider plan, for advisory requests and for service "
            "requests not through Signature Cloud Support."
        ),
    )
    # Incidents and advisory requests are about a product of the support catalogue; a service
    # request is about a customer's subscribed service instead.
    product = models.ForeignKey(
        "support.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("product"),
    )
    product_version = models.ForeignKey(
        "support.ProductVersion", on_delete=models.PROTECT, null=True, blank=True
    )
    # A title reads on one line; a description holds the story, error messages and a short
    # log, about four printed pages. Logs beyond that are attached, not pasted.
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=10_000)
    severity = models.CharField(_("severity"), max_length=1, choices=Severity.choices, blank=True)
    support_type = models.CharField(
        _("support type"), max_length=16, choices=SupportType.choices, blank=True
    )
    request_type = models.CharField(
        _("request type"), max_length=16, choices=RequestType.choices, blank=True
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("customer"),
    )
    service = models.ForeignKey(
        "customers.Service",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("service"),
    )
    category = models.CharField(_("category"), max_length=24, choices=Category.choices, blank=True)
    route = models.CharField(_("support route"), max_length=24, choices=Route.choices, blank=True)
    # The form's one-time key: a second submission of the same form (a double click, a reload)
    # finds the request the first one filed instead of filing and counting another.
    submission_key = models.UUIDField(null=True, blank=True, editable=False)
    # Where and in which language the partner wants the consultant: they route the request.
    country = models.CharField(_("country/region"), max_length=60, blank=True)
    language = models.CharField(
        _("preferred language"), max_length=16, choices=settings.LANGUAGES, blank=True
    )
    contact_name = models.CharField(_("contact name"), max_length=150)
    contact_email = models.EmailField(_("contact email"), max_length=254)
    contact_phone = models.CharField(
        _("contact phone"), max_length=40, blank=True, validators=[phone_number]
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    resolution = models.CharField(
        _("resolution"), max_length=16, choices=Resolution.choices, blank=True
    )
    opened_at = models.DateTimeField(_("opened"), default=clock.now)
    first_response_due = models.DateTimeField(_("first response due"))
    first_responded_at = models.DateTimeField(_("first answered"), null=True, blank=True)
    # Whether hours spent on an advisory request come off the company's allowance: presales
    # does at Action Pack, not at Silver or Gold (DOMAIN.md, entitlements.rules).
    uses_hours = models.BooleanField(_("uses advisory hours"), default=False)
    # The membership year's hours an advisory request counts against.
    allowance = models.ForeignKey(
        "AdvisoryHours", on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["incident", "service_request"], severity__in=["A", "B", "C"])
                | Q(kind="advisory", severity=""),
                name="case_severity_of_its_kind",
                violation_error_message=_(
                    "An incident or a service request has a severity A, B or C; an advisory "
                    "request none."
                ),
            ),
            models.CheckConstraint(
                condition=Q(
                    kind="incident",
                    product__isnull=False,
                    product_version__isnull=False,
                    request_type="",
                )
                | Q(
                    kind="advisory",
                    product__isnull=False,
                    product_version__isnull=True,
                    contract__isnull=True,
                    support_type="",
                    request_type__in=["presales", "deployment"],
                )
                | Q(
                    kind="service_request",
                    product__isnull=True,
                    product_version__isnull=True,
                    customer__isnull=False,
                    service__isnull=False,
                    support_type="",
                    request_type="",
                ),
                name="case_fields_of_its_kind",
                violation_error_message=_(
                    "An incident names a product version; an advisory request names a product, "
                    "a request type and no contract; a service request names a customer and a "
                    "service."
                ),
            ),
            # A commercial issue goes to commercial support, a technical one through a technical
            # route; only Signature Cloud Support uses a contract (seed 002).
            models.CheckConstraint(
                condition=Q(
                    kind="service_request",
                    category__in=["billing", "subscription_management"],
                    route="commercial",
                    contract__isnull=True,
                )
                | Q(
                    kind="service_request",
                    category="technical",
                    route="signature_cloud_support",
                    contract__isnull=False,
                )
                | Q(
                    kind="service_request",
                    category="technical",
                    route__in=["premier", "advanced"],
                    contract__isnull=True,
                )
                | (
                    ~Q(kind="service_request")
                    & Q(customer__isnull=True, service__isnull=True, category="", route="")
                ),
                name="case_route_of_its_category",
                violation_error_message=_(
                    "A service request's commercial issue goes to commercial support, a technical "
                    "one through Signature Cloud Support (with its contract), Premier or Advanced "
                    "Support for Partners."
                ),
            ),
            models.UniqueConstraint(
                fields=["opened_by", "submission_key"],
                name="case_filed_once_per_submission",
                violation_error_message=_("This request was filed already."),
            ),
            models.CheckConstraint(
                condition=Q(state__in=["resolved", "closed"], resolution__gt="")
                | (~Q(state__in=["resolved", "closed"]) & Q(resolution="")),
                name="case_resolution_iff_finished",
                violation_error_message=_("A resolved or closed case has a resolution; no other."),
            ),
            at_most("title", 200, "case_title_length", _("A title is at most 200 characters.")),
            at_most(
                "description",
                10_000,
                "case_description_length",
                _("A description is at most 10,000 characters."),
            ),
            at_most(
                "contact_name",
                150,
                "case_contact_name_length",
                _("A contact name is at most 150 characters."),
            ),
            at_most(
                "contact_email",
                254,
                "case_contact_email_length",
                _("An email address is at most 254 characters."),
            ),
            at_most(
                "contact_phone",
                40,
                "case_contact_phone_length",
                _("A phone number is at most 40 characters."),
            ),
            at_most("country", 60, "case_country_length", _("A country is at most 60 characters.")),
        ]
        indexes = [
            models.Index(fields=["partner", "-opened_at"], name="case_partner_newest"),
            models.Index(
                fields=["customer", "-opened_at"],
                condition=Q(customer__isnull=False),
                name="case_customer_newest",
            ),
        ]

    def __str__(self):
        return f"{self.number}: {self.title}"

    @property
    def number(self):
        """The case number people quote: SR and nine digits, as incidents always had."""
        return f"SR{self.pk:09d}"

    @staticmethod
    def pk_of_number(text):
        """The pk a typed case number names ("SR000000042", "sr42", "42"), or None."""
        text = (text or "").strip().upper().removeprefix("SR")
        return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None

    def target_met(self, now):
        """Whether the first answer came in time (cases.rules.target_met), as of `now`."""
        return rules.target_met(
            self.first_response_due, self.first_responded_at, now, self.state in self.FINISHED
        )

    @property
    def is_incident(self):
        return self.kind == self.Kind.INCIDENT

    @property
    def is_service_request(self):
        return self.kind == self.Kind.SERVICE_REQUEST

    @property
    def about(self):
        """What the case is about, as lists show it: its product's name, or a service
        request's service's (select them with the case)."""
        return self.product.name if self.product_id else self.service.name

    @property
    def is_finished(self):
        return self.state in self.FINISHED

    @property
    def plan_name(self):
        """The plan as the account sees it: the benefit and the last 4 digits of the Contract
        ID, never the whole of it (masked as everywhere in the portal)."""
        if not self.contract_id:
            return _("Cloud Solution Provider")
        return _("%(benefit)s · Contract ID ending %(last4)s") % {
            "benefit": self.contract.get_benefit_display(),
            "last4": self.contract.contract_id[-4:],
        }


class CaseEntry(models.Model):
    """One entry of a case's conversation: a partner's note or a support engineer's reply."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="entries")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    from_support = models.BooleanField(default=False)
    text = models.TextField(max_length=10_000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "case entries"
        constraints = [
            at_most(
                "text", 10_000, "case_entry_text_length", _("A note is at most 10,000 characters.")
            ),
        ]

    def __str__(self):
        return f"{self.case.number} #{self.pk}"


class AdvisoryHours(models.Model):
    """A company's advisory hours (Technical Presales and Deployment services) for one
    membership year: the allowance its best active offer gives (entitlements.rules.
    advisory_hours) and what is left. They lapse with that offer (`ends_on`); a request filed
    after it counts against the next offer's. Written with the year's first request; counted
    down by support staff recording hours."""

    partner = models.ForeignKey(
        "entitlements.Partner", on_delete=models.CASCADE, related_name="advisory_hours"
    )
    # The offer whose membership gives the hours: they last as long as it does.
    offer = models.OneToOneField(
        "entitlements.MembershipOffer", on_delete=models.CASCADE, related_name="advisory_hours"
    )
    hours_total = models.DecimalField(max_digits=6, decimal_places=2)
    hours_remaining = models.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        verbose_name_plural = "advisory hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(hours_remaining__gte=0, hours_remaining__lte=models.F("hours_total")),
                name="advisory_hours_between_0_and_total",
                violation_error_message=_(
                    "Hours remaining are between 0 and the company's advisory hours."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.partner}: {self.hours_remaining} of {self.hours_total}"

    @property
    def ends_on(self):
        return self.offer.ends_on


class HoursRecord(models.Model):
    """Hours support staff spent on an advisory request, or the hours a request closed as a
    duplicate or a product defect gave back (negative, once per case). Never edited."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="hours")
    hours = models.DecimalField(max_digits=6, decimal_places=2)
    # Whether the hours came off the company's allowance: presales at Silver and Gold don't.
    counted = models.BooleanField()
    given_back = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(given_back=True),
                name="hours_given_back_once_per_case",
                violation_error_message=_("This case's hours were already given back."),
            ),
            models.CheckConstraint(
                condition=Q(given_back=False, hours__gt=0) | Q(given_back=True, hours__lte=0),
                name="hours_spent_positive_given_back_not",
                violation_error_message=_("Record more than 0 hours."),
            ),
        ]

    def __str__(self):
        return f"{self.case.number}: {self.hours} h"
