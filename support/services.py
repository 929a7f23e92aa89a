"""Adding contracts to accounts, opening incidents, giving incidents back: each atomic."""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, F, OuterRef, Prefetch
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from activation import clock
from audit.models import AuditEntry
from audit.services import entry, record
from cases.models import Case
from cases.rules import first_response_due
from entitlements.rules import OfferKind
from notices import webhooks
from notices.models import Notice, WebhookEvent

from . import rules
from .models import ContractLink, IncidentCredit, ProductVersion, SupportContract

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


@transaction.atomic
def add_contract(user, access_id, contract_id):
    """Add the contract with both IDs to the account, once; audited.

    Takes 9-digit strings. Returns (link, created): created is False when the account had
    it already. Raises WrongIds when no contract has both IDs.
    """
    # Locked, and on PostgreSQL read again after any re-issue holding it commits: the IDs a
    # re-issue just retired add nothing.
    contract = (
        SupportContract.objects.select_for_update(of=("self",))
        .filter(access_id=access_id, contract_id=contract_id)
        .select_related("partner")
        .first()
    )
    if contract is None:
        raise WrongIds
    try:
        with transaction.atomic():
            link = ContractLink.objects.create(user=user, contract=contract)
        added = True
    except IntegrityError:
        # Someone with both IDs tried again: the company's admins see that too.
        link = ContractLink.objects.select_related("contract").get(user=user, contract=contract)
        added = False
    if added:
        webhooks.announce(
            contract.partner_id,
            WebhookEvent.CONTRACT_LINKED,
            subject=f"contract:{contract.pk}",
            key=f"contract-link:{link.pk}",
            data={"contract": contract.pk, "benefit": contract.benefit, "user": user.email},
        )
    record(
        contract.partner,
        AuditEntry.Action.CONTRACT_LINKED if added else AuditEntry.Action.CONTRACT_ADDED_AGAIN,
        _contract_subject(contract, user.email),
        user,
        _contract_facts(contract, user.email),
    )
    return link, added


def draw_nine_digits():
    """A random 9-digit ID (100000000-999999999) for an Access ID or a Contract ID, as in the
    seeds' screenshots. Uniqueness is the columns' constraints' job: callers draw again."""
    return str(100_000_000 + secrets.randbelow(900_000_000))


def _contract_subject(contract, email):
    with translation.override(settings.LANGUAGE_CODE):
        return f"{contract.get_benefit_display()} {contract.contract_id}: {email}"


def _contract_facts(contract, email=None, **more):
    facts = {"benefit": contract.benefit, "contract_id": contract.contract_id, **more}
    if email:
        facts["email"] = email
    return facts


def remove_link(contract, link_id, actor):
    """Take the contract off one account: that account can no longer open incidents on it.

    Takes a contract the caller may manage and the id of one of its links. Returns True if
    the link was removed, False if it was already gone (a second click, another admin).
    Audited in the contract's company's log.
    """
    with transaction.atomic():
        link = (
            ContractLink.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(contract=contract, pk=link_id)
            .first()
        )
        if link is None:
            return False
        link.delete()
        record(
            contract.partner,
            AuditEntry.Action.CONTRACT_UNLINKED,
            _contract_subject(contract, link.user.email),
            actor,
            _contract_facts(contract, link.user.email),
        )
    return True


# Why an account lost its contracts, as remove_links_of is told it; English for the subject.
LINKS_REMOVED_BECAUSE = {
    "moved": "moved to another company",
    "deactivated": "account deactivated",
    "removed": "removed from the company",
}


def remove_links_of(user, actor, why):
    """Take every contract off an account that left its company: `why` is "moved",
    "deactivated" or "removed" (LINKS_REMOVED_BECAUSE).

    Returns how many links were removed; each is audited in its contract's company's log.
    """
    links = list(ContractLink.objects.filter(user=user).select_related("contract__partner", "user"))
    for link in links:
        link.delete()
        record(
            link.contract.partner,
            AuditEntry.Action.CONTRACT_UNLINKED,
            f"{_contract_subject(link.contract, user.email)} ({LINKS_REMOVED_BECAUSE[why]})",
            actor,
            _contract_facts(link.contract, user.email, because=why),
        )
    return len(links)


def reissue_ids(contract_pk, seen_access_id, actor, draw=None):
    """Give the contract a new Access ID and Contract ID and take it off every account.

    `seen_access_id` is the Access ID the admin saw when asking: if the contract has been
    re-issued since (a double click, two admins at once), nothing changes and
    (contract, False) is returned; else (contract, True). `draw` returns a candidate
    9-digit ID (tests pass their own); the IDs stay unique by the columns' constraints.
    Audited in the company's log, with how many accounts lost the contract.
    """
    draw = draw or draw_nine_digits
    with transaction.atomic():
        contract = (
            SupportContract.objects.select_for_update(of=("self",))
            .select_related("partner")
            .get(pk=contract_pk)
        )
        if contract.access_id != seen_access_id:
            return contract, False
        old_contract_id = contract.contract_id
        for _attempt in range(5):
            contract.access_id, contract.contract_id = draw(), draw()
            try:
                with transaction.atomic():
                    contract.save(update_fields=["access_id", "contract_id"])
                break
            except IntegrityError:
                continue  # an ID already taken: draw again
        else:
            raise IntegrityError("No free Access ID and Contract ID after 5 draws.")
        dropped, _ = contract.links.all().delete()
        # An email of the IDs not sent yet must carry the new ones, not the retired ones.
        from activation.services import ids_ready_about  # activation imports this module

        not_sent = Notice.objects.filter(
            kind=Notice.Kind.IDS_READY, about=ids_ready_about(contract.activation_id)
        ).email_pending()
        for notice in not_sent.select_for_update():
            notice.context |= {"access_id": contract.access_id, "contract_id": contract.contract_id}
            notice.save(update_fields=["context"])
        with translation.override(settings.LANGUAGE_CODE):
            subject = (
                f"{contract.get_benefit_display()} {old_contract_id} -> {contract.contract_id}; "
                f"removed from {dropped} account(s)"
            )
        record(
            contract.partner,
            AuditEntry.Action.CONTRACT_IDS_REISSUED,
            subject,
            actor,
            _contract_facts(contract, accounts_removed=dropped),
        )
    return contract, True


def contracts_with_holders(partner):
    """The company's contracts, newest first, each with its links (and their accounts and
    companies) prefetched: the same three queries for any number of contracts and holders."""
    return (
        SupportContract.objects.filter(partner=partner)
        .select_related("activation__offer__competency")
        .prefetch_related(
            Prefetch(
                "links",
                queryset=ContractLink.objects.select_related("user__partner").order_by(
                    "added_at", "pk"
                ),
            )
        )
    )


def product_facts(version):
    """What the coverage rules need of a product version (one query: its product's
    versions)."""
    newest = rules.recent(version.product.versions.all())
    return rules.ProductFacts(
        name=str(version),
        is_cloud=version.product.is_cloud,
        is_recent=version.pk in {v.pk for v in newest},
        recent_names=tuple(str(v) for v in newest),
    )


def is_action_pack(contract):
    """Whether the contract comes from Microsoft Action Pack, which has no cloud support."""
    return contract.activation.offer.kind == OfferKind.ACTION_PACK


def plans_for(user, version, today=None):
    """(usable, unavailable) plans of the account for a product version: Plans, each with
    its availability for that version (support.rules)."""
    today = today or timezone.localdate()
    product = product_facts(version)
    usable, unavailable = [], []
    contracts = SupportContract.objects.filter(links__user=user).select_related(
        "partner", "activation__offer__competency"
    )
    for contract in contracts.order_by("ends_on", "pk"):
        plan = Plan(
            contract,
            rules.plan_availability(contract, product, today, is_action_pack(contract)),
        )
        (usable if plan.availability.usable else unavailable).append(plan)
    if version.product.csp_plan and user.partner and user.partner.is_csp:
        usable.append(Plan(None, rules.Availability(True)))
    return usable, unavailable


def open_incident(user, version, plan_key, **details):
    """Open an incident under a plan, counting it down by one in the same transaction.

    Takes the account, a ProductVersion, a plan's key (a contract's pk, or CSP_PLAN) and the
    incident's fields. Returns the incident, a cases.Case, with its first-response target
    (cases.rules). Raises PlanUnavailable, with the true reason, when the plan is not on the
    account or can't take this incident. The count-down is a
    conditional UPDATE: two incidents opened at once on the last one cannot both succeed,
    whatever the timing.
    """
    today = timezone.localdate()
    with transaction.atomic():
        if plan_key == CSP_PLAN:
            if not (user.partner and user.partner.is_csp):
                raise PlanUnavailable(_("Your company is not a Cloud Solution Provider."))
            if not version.product.csp_plan:
                raise PlanUnavailable(
                    _("The Cloud Solution Provider plan cannot be used for %(product)s.")
                    % {"product": version}
                )
            contract = None
        else:
            contract = (
                SupportContract.objects.filter(links__user=user, pk=plan_key)
                .select_related("activation__offer")
                .select_for_update(of=("self",))
                .first()
            )
            if contract is None:
                raise PlanUnavailable(_("That support plan is not on your account."))
            availability = rules.plan_availability(
                contract, product_facts(version), today, is_action_pack(contract)
            )
            if not availability.usable:
                raise PlanUnavailable(availability.refusal)
            if contract.incidents_remaining is not None:
                counted = SupportContract.objects.filter(
                    pk=contract.pk, incidents_remaining__gt=0
                ).update(incidents_remaining=F("incidents_remaining") - 1)
                if counted != 1:
                    raise PlanUnavailable(rules.USED_UP)
                contract.refresh_from_db(fields=["incidents_remaining"])
        opened_at = clock.now()
        incident = Case.objects.create(
            kind=Case.Kind.INCIDENT,
            partner=contract.partner if contract is not None else user.partner,
            opened_by=user,
            contract=contract,
            product=version.product,
            product_version=version,
            opened_at=opened_at,
            first_response_due=first_response_due("incident", details["severity"], opened_at),
            **details,
        )
        if contract is not None:
            record(
                contract.partner,
                AuditEntry.Action.INCIDENT_OPENED,
                f"{_contract_subject(contract, user.email)}; incident {incident.number}",
                user,
                _contract_facts(contract, user.email, incident=incident.number),
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
        record(
            contract.partner,
            AuditEntry.Action.INCIDENTS_GIVEN_BACK,
            f"{_contract_subject(contract, '')} +{incidents}: {reason}",
            given_by,
            _contract_facts(contract, incidents=incidents, reason=reason),
        )
    return contract


def first_view_recorded(contract):
    """An expression: whether the first view of the IDs of the contract at the path
    `contract` (from the queryset's model) is in the audit log. Read with the page's rows, so
    a page whose IDs were all seen before writes nothing and asks nothing more."""
    return Exists(
        AuditEntry.objects.alias(
            seen_pk=KT("facts__contract_pk"), seen_id=KT("facts__contract_id")
        ).filter(
            action=AuditEntry.Action.IDS_FIRST_VIEWED,
            seen_pk=Cast(OuterRef(f"{contract}__pk"), CharField()),
            seen_id=OuterRef(f"{contract}__contract_id"),
        )
    )


def record_first_views(user, partner, shown):
    """Record `user` as the first to see the Access ID and Contract ID of the contracts a page
    shows them: `shown` is (contract or None, its offer) pairs of `partner`'s benefits.

    Only the first view of each contract's pair of IDs is kept, in the company's audit log:
    its unique constraint on (contract, Contract ID) of that action makes any later view, or
    a second one at the same moment, a conflict the insert skips. At most one query, however
    many contracts. Returns nothing.
    """
    entries = [
        entry(
            partner,
            AuditEntry.Action.IDS_FIRST_VIEWED,
            _contract_subject(contract, user.email),
            user,
            _contract_facts(contract, user.email, contract_pk=str(contract.pk), offer=offer.facts),
        )
        for contract, offer in shown
        if contract is not None
    ]
    if entries:
        AuditEntry.objects.bulk_create(entries, ignore_conflicts=True)


def versions_for_choice():
    return ProductVersion.objects.select_related("product").order_by(
        "product__kind", "product__name", "-released_on"
    )
