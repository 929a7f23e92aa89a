"""Which support plan may be used for which product: pure functions, no database."""

from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from entitlements.rules import Benefit

NOT_FOR_PRODUCT = _("Support plan cannot be used for the specified product")
NO_INCIDENTS_REMAINING = _("No incidents remaining")
# Said to someone who chose a plan with none left (a stale page, or another tab took the last).
USED_UP = _("This plan has no incidents remaining.")
RECENT_VERSIONS = 2  # on-premises support covers the current and the previous version


@dataclass(frozen=True)
class Availability:
    """Whether a plan can take an incident, and if not why: `reason` for the list of
    unavailable plans, `refusal` the sentence for someone who chose it all the same, `rule`
    the coverage rule the product falls outside of (empty when the product is not the cause).
    """

    usable: bool
    reason: str = ""
    refusal: str = ""
    rule: str = ""


@dataclass(frozen=True)
class ProductFacts:
    """What the coverage rules need to know of the chosen product version."""

    name: str
    is_cloud: bool
    is_recent: bool
    recent_names: tuple = ()  # the current and the previous version, newest first


def _date(value):
    return formats.date_format(value, "DATE_FORMAT")


def contract_standing(starts_on, ends_on, incidents_remaining, today):
    """Whether a contract can be used at all today, whatever the product."""
    if today > ends_on:
        date = _date(ends_on)
        return Availability(
            False,
            _("Expired on %(date)s") % {"date": date},
            _("This plan expired on %(date)s.") % {"date": date},
        )
    if today < starts_on:
        date = _date(starts_on)
        return Availability(
            False,
            _("Starts on %(date)s") % {"date": date},
            _("This plan starts on %(date)s.") % {"date": date},
        )
    if incidents_remaining == 0:
        return Availability(False, NO_INCIDENTS_REMAINING, USED_UP)
    return Availability(True)


def covers(benefit, product_is_cloud, version_is_recent):
    """Microsoft Product Support: recent on-premises versions. Signature Cloud Support: cloud."""
    if benefit == Benefit.SIGNATURE_CLOUD_SUPPORT:
        return product_is_cloud
    return not product_is_cloud and version_is_recent


def coverage_rule(benefit, product, action_pack=False):
    """The rule that keeps a plan of `benefit` from `product` (ProductFacts), as a sentence;
    "" when the plan covers it. Action Pack has no cloud support; Product Support covers the
    current and the previous on-premises version only (DOMAIN.md, 001: aka.ms/n-1)."""
    if covers(benefit, product.is_cloud, product.is_recent):
        return ""
    if benefit == Benefit.SIGNATURE_CLOUD_SUPPORT:
        return str(_("Signature Cloud Support covers cloud products only."))
    if product.is_cloud:
        if action_pack:
            return str(_("Microsoft Action Pack includes no cloud support."))
        return str(
            _(
                "Microsoft Product Support covers on-premises products only; cloud products "
                "are covered by Signature Cloud Support."
            )
        )
    if len(product.recent_names) == RECENT_VERSIONS:
        current, previous = product.recent_names
        return str(
            _(
                "Only the current and the previous version of an on-premises product are "
                "covered: now %(current)s and %(previous)s."
            )
            % {"current": current, "previous": previous}
        )
    return str(
        _("Only the current and the previous version of an on-premises product are covered.")
    )


def coverage(benefit):
    """What a plan of `benefit` covers, for a sentence such as "It is usable for …"."""
    if benefit == Benefit.SIGNATURE_CLOUD_SUPPORT:
        return str(_("cloud products"))
    return str(_("the current and the previous version of on-premises products"))


def plan_availability(contract, product, today, action_pack=False):
    """Whether `contract` can take an incident about `product` (ProductFacts) today."""
    standing = contract_standing(
        contract.starts_on, contract.ends_on, contract.incidents_remaining, today
    )
    if not standing.usable:
        return standing
    rule = coverage_rule(contract.benefit, product, action_pack)
    if rule:
        return Availability(
            False,
            _("%(reason)s. %(rule)s") % {"reason": NOT_FOR_PRODUCT, "rule": rule},
            _("This plan cannot be used for %(product)s. %(rule)s")
            % {"product": product.name, "rule": rule},
            rule,
        )
    return Availability(True)


def recent(versions):
    """The newest RECENT_VERSIONS of a product's versions, newest first. Takes objects with
    `released_on`."""
    return sorted(versions, key=lambda v: v.released_on, reverse=True)[:RECENT_VERSIONS]
