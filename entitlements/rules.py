"""What each membership offer entitles a partner to: pure functions, no database.

From Partner Center's documents, per active offer:

- Microsoft Product Support, recent on-premises products only: 10 incidents with Action Pack,
  15 with a Silver competency, 20 with a Gold one.
- Signature Cloud Support, cloud products only: none with Action Pack; unlimited with a cloud
  competency; otherwise 5 incidents at Silver ("Signature 5-pack") and 10 at Gold ("10-pack").
- Technical Presales and Deployment services: 5 advisory hours with Action Pack (presales
  deducts hours), 20 at Silver and 50 at Gold (presales unlimited).
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# Names as stored; shown translated (gettext_noop marks them for the catalogs).
CLOUD_COMPETENCIES = [
    gettext_noop("Security"),
    gettext_noop("Cloud Business Applications"),
    gettext_noop("Cloud Platform"),
    gettext_noop("Cloud Productivity"),
    gettext_noop("Enterprise Mobility Management"),
    gettext_noop("Small and Midmarket Cloud Solutions"),
]
OTHER_COMPETENCIES = [
    gettext_noop("Application Development"),
    gettext_noop("Application Integration"),
    gettext_noop("Collaboration and Content"),
    gettext_noop("Communications"),
    gettext_noop("Data Analytics"),
    gettext_noop("Data Platform"),
    gettext_noop("Datacenter"),
    gettext_noop("DevOps"),
    gettext_noop("Enterprise Resource Planning"),
    gettext_noop("Messaging"),
    gettext_noop("Project and Portfolio Management"),
    gettext_noop("Windows and Devices"),
]


class OfferKind(models.TextChoices):
    ACTION_PACK = "action_pack", _("Microsoft Action Pack")
    COMPETENCY = "competency", _("Competency")


class Level(models.TextChoices):
    SILVER = "silver", _("Silver")
    GOLD = "gold", _("Gold")


class Benefit(models.TextChoices):
    """The technical support benefits that are activated one by one."""

    PRODUCT_SUPPORT = "product_support", _("Microsoft Product Support")
    SIGNATURE_CLOUD_SUPPORT = "signature_cloud_support", _("Signature Cloud Support")


UNLIMITED = None  # an incident count of None means the plan never counts down
# The renewal window opens the day after an offer ends and lasts 30 days; benefits stay usable
# until its last day (DOMAIN.md, later docs). A support contract ends by then at the latest.
RENEWAL_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Entitlement:
    benefit: Benefit
    incidents: int | None
    pack_name: str = ""

    @property
    def is_unlimited(self):
        return self.incidents is UNLIMITED


@dataclass(frozen=True)
class AdvisoryHours:
    """Technical Presales and Deployment services: a company-wide allowance of hours."""

    hours: int
    presales_unlimited: bool


PRODUCT_SUPPORT_INCIDENTS = {None: 10, Level.SILVER: 15, Level.GOLD: 20}
SIGNATURE_PACK_INCIDENTS = {Level.SILVER: 5, Level.GOLD: 10}
ADVISORY_HOURS = {
    None: AdvisoryHours(hours=5, presales_unlimited=False),
    Level.SILVER: AdvisoryHours(hours=20, presales_unlimited=True),
    Level.GOLD: AdvisoryHours(hours=50, presales_unlimited=True),
}


def _level_of(kind, level):
    if kind == OfferKind.ACTION_PACK:
        return None
    if level not in (Level.SILVER, Level.GOLD):
        raise ValueError(f"A competency is held at Silver or Gold, not {level!r}.")
    return Level(level)


def technical_support(kind, level=None, cloud_competency=False):
    """The technical support benefits of one offer, in the order the page lists them."""
    level = _level_of(kind, level)
    benefits = [Entitlement(Benefit.PRODUCT_SUPPORT, PRODUCT_SUPPORT_INCIDENTS[level])]
    if level is None:
        return benefits  # Action Pack has no cloud support.
    incidents = UNLIMITED if cloud_competency else SIGNATURE_PACK_INCIDENTS[level]
    benefits.append(Entitlement(Benefit.SIGNATURE_CLOUD_SUPPORT, incidents, pack_name(incidents)))
    return benefits


def pack_name(cloud_support_incidents):
    """Signature Cloud Support's name for a counted plan ("Signature 5-pack"); "" if unlimited."""
    if cloud_support_incidents is UNLIMITED:
        return ""
    return f"Signature {cloud_support_incidents}-pack"


def recorded_support(product_support_incidents, includes_cloud_support, cloud_support_incidents):
    """The technical support benefits of an offer as recorded on it when it started, in the
    order the page lists them. An offer keeps these terms whatever the catalogue says later
    (DOMAIN.md: an offer's entitlements are fixed when it starts)."""
    benefits = [Entitlement(Benefit.PRODUCT_SUPPORT, product_support_incidents)]
    if includes_cloud_support:
        benefits.append(
            Entitlement(
                Benefit.SIGNATURE_CLOUD_SUPPORT,
                cloud_support_incidents,
                pack_name(cloud_support_incidents),
            )
        )
    return benefits


def advisory_hours(offers):
    """The company's advisory hours, given (kind, level) of each active offer.

    Hours come with the company's membership level and are not added up across offers: a
    company with two Gold competencies has Gold's 50 hours, not 100. None without an offer.
    """
    levels = [_level_of(kind, level) for kind, level in offers]
    if not levels:
        return None
    return ADVISORY_HOURS[max(levels, key=LEVEL_RANK.__getitem__)]


# Membership levels, lowest first: Action Pack (None), Silver, Gold.
LEVEL_RANK = {None: 0, Level.SILVER: 1, Level.GOLD: 2}


def level_rank(kind, level):
    """0 for Action Pack, 1 for Silver, 2 for Gold: how an offer's membership ranks. Raises
    ValueError for a competency without Silver or Gold."""
    return LEVEL_RANK[_level_of(kind, level)]
