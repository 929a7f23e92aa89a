"""Adding contracts to accounts, opening incidents, giving incidents back: each atomic."""

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.models import AuditEntry
from audit.services import record

from . import rules
from .models import ContractLink, Incident, IncidentCredit, ProductVersion, SupportContract

CSP_PLAN = "csp"


class WrongIds(Exception):
    """No contract has both these IDs. Deliberately silent about which one is wrong."""


class PlanUnavailable(Exception):
    """The chosen plan can't be used for this incident; the message says why."""


@dataclass(frozen=True)
class Plan:
    """A plan as the account sees it for one product: a contract, or the CSP plan."""

    contract: SupportContract | None
    availability: rules.Availability

    @property
    def key(self):
        return str(self.contract.pk) if self.contract else CSP_PLAN

    @property
    def name(self):
        if self.contract is None:
            return _("Cloud Solution Provider")
        return self.contract.get_benefit_display()


def add_contract(user, access_id, contract_id):
    """Add the contract with both IDs to the account. Returns (link, created)."""
    contract = SupportContract.objects.filter(access_id=access_id, contract_id=contract_id).first()
    if contract is None:
        raise WrongIds
    try:
        with transaction.atomic():
            link = ContractLink.objects.create(user=user, contract=contract)
            with translation.override(settings.LANGUAGE_CODE):
                subject = f"{contract.get_benefit_display()} {contract.contract_id}: {user.email}"
            record(contract.partner, AuditEntry.Action.CONTRACT_LINKED, subject, user)
            return link, True
    except IntegrityError:
        return ContractLink.objects.select_related("contract").get(
            user=user, contract=contract
        ), False


def version_is_recent(version):
    released = version.product.versions.values_list("released_on", flat=True)
    return rules.is_recent(version.released_on, released)


def plans_for(user, version, today=None):
    """(usable, unavailable) plans of the account for a product version."""
    today = today or timezone.localdate()
    recent = version_is_recent(version)
    usable, unavailable = [], []
    contracts = SupportContract.objects.filter(links__user=user).select_related(
        "partner", "activation__offer__competency"
    )
    for contract in contracts.order_by("ends_on", "pk"):
        plan = Plan(
            contract, rules.plan_availability(contract, version.product.is_cloud, recent, today)
        )
        (usable if plan.availability.usable else unavailable).append(plan)
    if version.product.csp_plan and user.partner and user.partner.is_csp:
        usable.append(Plan(None, rules.Availability(True)))
    return usable, unavailable


def open_incident(user, version, plan_key, **details):
    """Open an incident under a plan, counting it down by one in the same transaction.

    The count-down is a conditional UPDATE: two incidents opened at once on the last one
    cannot both succeed, whatever the timing.
    """
    today = timezone.localdate()
    with transaction.atomic():
        if plan_key == CSP_PLAN:
            if not (version.product.csp_plan and user.partner and user.partner.is_csp):
                raise PlanUnavailable(rules.NOT_FOR_PRODUCT)
            contract = None
        else:
            contract = (
                SupportContract.objects.filter(links__user=user, pk=plan_key)
                .select_for_update(of=("self",))
                .first()
            )
            if contract is None:
                raise PlanUnavailable(_("That support plan is not on your account"))
            availability = rules.plan_availability(
                contract, version.product.is_cloud, version_is_recent(version), today
            )
            if not availability.usable:
                raise PlanUnavailable(availability.reason)
            if contract.incidents_remaining is not None:
                counted = SupportContract.objects.filter(
                    pk=contract.pk, incidents_remaining__gt=0
                ).update(incidents_remaining=F("incidents_remaining") - 1)
                if counted != 1:
                    raise PlanUnavailable(rules.NO_INCIDENTS_REMAINING)
                contract.refresh_from_db(fields=["incidents_remaining"])
        incident = Incident.objects.create(
            opened_by=user, contract=contract, product_version=version, **details
        )
    return incident


def give_back_incidents(contract_id, incidents, reason, given_by):
    """Support staff return incidents to a contract, up to what it started with; audited."""
    reason = reason.strip()
    if incidents < 1 or not reason:
        raise ValueError(_("Give back at least one incident, with a reason."))
    with transaction.atomic():
        contract = SupportContract.objects.select_for_update().get(pk=contract_id)
        if contract.is_unlimited:
            raise ValueError(
                _("%(contract)s is unlimited: nothing to give back.") % {"contract": contract}
            )
        room = contract.incidents_total - contract.incidents_remaining
        if incidents > room:
            raise ValueError(
                ngettext(
                    "%(contract)s has used %(room)s incident; at most %(room)s can be given back.",
                    "%(contract)s has used %(room)s incidents; at most %(room)s can be given back.",
                    room,
                )
                % {"contract": contract, "room": room}
            )
        contract.incidents_remaining += incidents
        contract.save(update_fields=["incidents_remaining"])
        IncidentCredit.objects.create(
            contract=contract, incidents=incidents, reason=reason, given_by=given_by
        )
    return contract


def versions_for_choice():
    return ProductVersion.objects.select_related("product").order_by(
        "product__kind", "product__name", "-released_on"
    )
