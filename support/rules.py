"""Which support plan may be used for which product: pure functions, no database."""

from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from entitlements.rules import Benefit

NOT_FOR_PRODUCT = _("Support plan cannot be used for the specified product")
NO_INCIDENTS_REMAINING = _("No incidents remaining")
RECENT_VERSIONS = 2  # on-premises support covers the current and the previous version


@dataclass(frozen=True)
class Availability:
    usable: bool
    reason: str = ""


def _date(value):
    return formats.date_format(value, "DATE_FORMAT")


def contract_standing(starts_on, ends_on, incidents_remaining, today):
    """Whether a contract can be used at all today, whatever the product."""
    if today > ends_on:
        return Availability(False, _("Expired on %(date)s") % {"date": _date(ends_on)})
    if today < starts_on:
        return Availability(False, _("Starts on %(date)s") % {"date": _date(starts_on)})
    if incidents_remaining == 0:
        return Availability(False, NO_INCIDENTS_REMAINING)
    return Availability(True)


def covers(benefit, product_is_cloud, version_is_recent):
    """Microsoft Product Support: recent on-premises versions. Signature Cloud Support: cloud."""
    if benefit == Benefit.SIGNATURE_CLOUD_SUPPORT:
        return product_is_cloud
    return not product_is_cloud and version_is_recent


def plan_availability(contract, product_is_cloud, version_is_recent, today):
    standing = contract_standing(
        contract.starts_on, contract.ends_on, contract.incidents_remaining, today
    )
    if not standing.usable:
        return standing
    if not covers(contract.benefit, product_is_cloud, version_is_recent):
        return Availability(False, NOT_FOR_PRODUCT)
    return Availability(True)


def is_recent(version_released_on, all_released_on):
    """True for the newest RECENT_VERSIONS versions of a product."""
    newest = sorted(all_released_on, reverse=True)[:RECENT_VERSIONS]
    return version_released_on in newest
