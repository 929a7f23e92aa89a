"""The benefits catalogue support staff keep (software, cloud subscriptions, Visual Studio
subscriptions, Go-To-Market offers), and the license keys drawn from it.

A product (software to download and install, or a cloud subscription activated with keys) is
included in offers of a kind, competency and level (`Inclusion`): an offer takes the
inclusions in force on the day it starts, and later changes apply to offers that start later
(DOMAIN.md: an offer's entitlements are fixed when it starts). Keys come from a pool staff load
(`LicenseKey`): a key is drawn once, for one offer of one company, and the first person to see
it is recorded, since a key viewed makes the offer no longer cancellable for a refund (seed
003; later docs).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from benefits_portal.text import at_most
from entitlements.rules import Level, OfferKind

NAME_MAX_LENGTH = 200
INSTRUCTIONS_MAX_LENGTH = 2000
KEY_MAX_LENGTH = 100


class Product(models.Model):
    """A product of the benefits catalogue: software the partner downloads and installs (the
    Software page), a cloud subscription (the Cloud page), a Visual Studio subscription (the
    Visual Studio subscriptions page) or a Go-To-Market offer (the Go-To-Market page, listed
    under its benefit), and how the partner starts using it (seed 003; later docs)."""

    class Area(models.TextChoices):
        SOFTWARE = "software", _("Software")
        CLOUD = "cloud", _("Cloud")
        VISUAL_STUDIO = "visual_studio", _("Visual Studio subscriptions")
        GO_TO_MARKET = "go_to_market", _("Go-To-Market")

    class Delivery(models.TextChoices):
        # Software, and license-based cloud subscriptions: Get keys reveals the keys.
        KEYS = "keys", _("License keys")
        # Azure usage-based subscriptions: a monthly credit a Global admin assigns to a user.
        ASSIGNED_CREDIT = "assigned_credit", _("Monthly credit assigned to a user")
        # Cloud subscriptions that take days to set up, and Go-To-Market offers: through the
        # activation engine.
        PROVISIONED = "provisioned", _("Activated and provisioned")
        # Visual Studio subscriptions: licensed per user, each assigned by a Global admin;
        # the inclusion's license quantity is how many the offer includes.
        ASSIGNED_TO_USERS = "assigned_to_users", _("Assigned to users, one each")

    name = models.CharField(_("name"), max_length=NAME_MAX_LENGTH)
    version = models.CharField(_("version"), max_length=50, blank=True)
    editions = models.CharField(
        _("editions"),
        max_length=NAME_MAX_LENGTH,
        blank=True,
        help_text=_("For example: Standard, Datacenter."),
    )
    area = models.CharField(_("area"), max_length=20, choices=Area.choices, default=Area.SOFTWARE)
    delivery = models.CharField(
        _("delivery"), max_length=20, choices=Delivery.choices, default=Delivery.KEYS
    )
    instructions = models.TextField(
        _("special instructions"),
        max_length=INSTRUCTIONS_MAX_LENGTH,
        blank=True,
        help_text=_(
            "Shown with the keys: what to follow when using them (seed 003). A Go-To-Market "
            "offer's are emailed to the company's marketing contact once it is active."
        ),
    )
    go_to_market_benefit = models.CharField(
        _("Go-To-Market benefit"),
        max_length=NAME_MAX_LENGTH,
        blank=True,
        help_text=_(
            "A Go-To-Market offer's benefit, which the page lists it under: for example Silver "
            "Core, Gold Core, ISV Co-sell ready (seed 003)."
        ),
    )

    class Meta:
        ordering = ["name", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "version"],
                name="one_product_per_name_and_version",
                violation_error_message=_("The catalogue has this product and version already."),
            ),
            models.CheckConstraint(
                condition=~Q(area="software") | Q(delivery="keys"),
                name="software_is_delivered_with_keys",
                violation_error_message=_("Software is delivered with license keys."),
            ),
            models.CheckConstraint(
                condition=Q(area="visual_studio", delivery="assigned_to_users")
                | (~Q(area="visual_studio") & ~Q(delivery="assigned_to_users")),
                name="visual_studio_is_assigned_to_users",
                violation_error_message=_(
                    "Visual Studio subscriptions, and they alone, are assigned to users."
                ),
            ),
            models.CheckConstraint(
                condition=Q(area="go_to_market", delivery="provisioned")
                & ~Q(go_to_market_benefit="")
                | (~Q(area="go_to_market") & Q(go_to_market_benefit="")),
                name="go_to_market_offer_is_activated_under_a_benefit",
                violation_error_message=_(
                    "A Go-To-Market offer, and it alone, has a Go-To-Market benefit; it is "
                    "activated and provisioned."
                ),
            ),
            at_most("name", NAME_MAX_LENGTH, "product_name_length", _("At most 200 characters.")),
            at_most(
                "go_to_market_benefit",
                NAME_MAX_LENGTH,
                "product_go_to_market_benefit_length",
                _("At most 200 characters."),
            ),
            at_most(
                "instructions",
                INSTRUCTIONS_MAX_LENGTH,
                "product_instructions_length",
                _("At most 2000 characters."),
            ),
        ]

    def __str__(self):
        return f"{self.name} {self.version}".strip()


class Inclusion(models.Model):
    """Offers of `kind` (for a competency: `competency`, or every one when empty, at `level`)
    that start on or after `since`, and before `until` when set, include `product`: with `keys`
    license keys each (delivered with keys), `licenses` seats (a cloud subscription's license
    quantity), `monthly_credit` (an Azure usage-based subscription, in US dollars), to be
    activated within `activate_within_days` of the offer's start when set (later docs)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="inclusions")
    kind = models.CharField(_("offer"), max_length=20, choices=OfferKind.choices)
    competency = models.ForeignKey(
        "entitlements.Competency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: every competency at this level."),
    )
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, blank=True)
    keys = models.PositiveSmallIntegerField(_("license keys per offer"), default=1)
    licenses = models.PositiveIntegerField(
        _("license quantity"), null=True, blank=True, help_text=_("Cloud subscriptions' seats.")
    )
    monthly_credit = models.DecimalField(
        _("monthly credit (USD)"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    activate_within_days = models.PositiveSmallIntegerField(
        _("activate within (days)"),
        null=True,
        blank=True,
        help_text=_("From the offer's start; empty: any time while the offer is active."),
    )
    since = models.DateField(_("for offers starting on or after"))
    until = models.DateField(_("and before"), null=True, blank=True)

    class Meta:
        ordering = ["product", "kind", "level", "since"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=OfferKind.ACTION_PACK, competency__isnull=True, level="")
                | Q(kind=OfferKind.COMPETENCY, level__in=[Level.SILVER, Level.GOLD]),
                name="inclusion_competency_has_level_action_pack_has_none",
                violation_error_message=_(
                    "A competency needs a level (Silver or Gold); Microsoft Action Pack has "
                    "neither competency nor level."
                ),
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gt=F("since")),
                name="inclusion_ends_after_it_starts",
                violation_error_message=_("The end must be after the start."),
            ),
        ]

    def __str__(self):
        return f"{self.product}: {self.get_kind_display()} {self.get_level_display()}".strip()


class LicenseKey(models.Model):
    """One license key of the pool. Free until drawn for an offer (of one company, once: the
    row has one offer); the first person who saw it, and when, kept for refunds."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="keys")
    key = models.CharField(_("license key"), max_length=KEY_MAX_LENGTH, unique=True)
    loaded_at = models.DateTimeField(_("loaded"))
    offer = models.ForeignKey(
        "entitlements.MembershipOffer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="license_keys",
    )
    drawn_at = models.DateTimeField(_("drawn"), null=True, blank=True)
    first_viewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    first_viewed_at = models.DateTimeField(_("first viewed"), null=True, blank=True)

    class Meta:
        ordering = ["product", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(offer__isnull=True, drawn_at__isnull=True)
                | Q(offer__isnull=False, drawn_at__isnull=False),
                name="license_key_drawn_with_its_offer",
                violation_error_message=_("A key is drawn for an offer, with the time."),
            ),
            models.CheckConstraint(
                condition=Q(first_viewed_at__isnull=True) | Q(drawn_at__isnull=False),
                name="license_key_viewed_only_once_drawn",
                violation_error_message=_("A key is seen only once drawn."),
            ),
        ]
        indexes = [
            models.Index(
                fields=["product", "id"], condition=Q(offer__isnull=True), name="license_key_free"
            ),
            models.Index(fields=["offer", "product"], name="license_key_of_offer"),
        ]

    def __str__(self):
        return f"{self.product}: …{self.key[-5:]}"


def download_storage():
    # The portal's own storage, under VAR_DIR and never served by URL: files leave only
    # through software.views.download, which checks the company's entitlement.
    from django.core.files.storage import storages

    return storages["downloads"]


class Download(models.Model):
    """One installation file of a product, in one language for one operating system type: the
    Software page narrows a product's links by the partner's choice of both (seed 003)."""

    class OperatingSystem(models.TextChoices):
        WINDOWS_64 = "windows_x64", _("Windows 64-bit")
        WINDOWS_32 = "windows_x86", _("Windows 32-bit")
        WINDOWS_ARM = "windows_arm64", _("Windows on Arm")
        MACOS = "macos", _("macOS")
        LINUX = "linux", _("Linux")

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="downloads")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    operating_system = models.CharField(
        _("operating system type"), max_length=20, choices=OperatingSystem.choices
    )
    file = models.FileField(_("file"), storage=download_storage, upload_to="software/%Y/%m/")
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0, editable=False)

    class Meta:
        ordering = ["product", "language", "operating_system"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "language", "operating_system"],
                name="one_download_per_product_language_and_os",
                violation_error_message=_(
                    "This product has a file for this language and operating system already."
                ),
            )
        ]

    def __str__(self):
        return f"{self.product} ({self.language}, {self.get_operating_system_display()})"

    def save(self, *args, **kwargs):
        if self.file:
            self.size = self.file.size
        super().save(*args, **kwargs)

    @property
    def filename(self):
        return self.file.name.rsplit("/", 1)[-1]


class KeyGrant(models.Model):
    """The one set of keys of one offer for one product. `software.services.get_keys` creates
    it, or locks it, before drawing keys, so double clicks and two admins at once draw one set:
    a second row for the same offer and product is refused by the database."""

    offer = models.ForeignKey(
        "entitlements.MembershipOffer", on_delete=models.PROTECT, related_name="key_grants"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="key_grants")
    created_at = models.DateTimeField(_("first asked"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "product"], name="one_key_grant_per_offer_and_product"
            )
        ]

    def __str__(self):
        return f"{self.offer}: {self.product}"


class KeyShortage(models.Model):
    """A company asked for a product's keys and the pool had too few: raised to support staff
    (told, and listed in admin), open until the keys are drawn. One open shortage per offer and
    product, however many times the partner asks."""

    offer = models.ForeignKey(
        "entitlements.MembershipOffer", on_delete=models.CASCADE, related_name="key_shortages"
    )
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="key_shortages")
    wanted = models.PositiveSmallIntegerField(_("keys wanted"))
    free = models.PositiveIntegerField(_("free keys then"))
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    asked_at = models.DateTimeField(_("asked"))
    resolved_at = models.DateTimeField(_("keys drawn"), null=True, blank=True)

    class Meta:
        ordering = ["-asked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "product"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_key_shortage_per_offer_and_product",
            )
        ]

    def __str__(self):
        return f"{self.offer}: {self.product}"
