import datetime
from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.text import get_text_list
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from activation import clock
from activation.models import ActivationRequest
from cases.models import Case
from support.services import first_view_recorded, record_first_views

from . import benefits_cache, rules
from .models import MembershipOffer
from .permissions import (
    ACTIVATE_BENEFITS,
    VIEW_BENEFITS,
    can,
    capability_required,
    partner_object_or_404,
    people_who_can,
    roles_that_can,
)
from .rules import Benefit

RECENT_INCIDENTS = 3


@dataclass(frozen=True)
class BenefitRow:
    """One technical support benefit of one offer, with its latest activation request."""

    offer: MembershipOffer
    entitlement: rules.Entitlement
    activation: ActivationRequest | None = None

    @property
    def key(self):
        return f"{self.offer.pk}-{self.entitlement.benefit}"

    @property
    def benefit(self):
        return self.entitlement.benefit

    @property
    def contract(self):
        if self.activation and self.activation.state == ActivationRequest.State.ACTIVE:
            return self.activation.contract
        return None


def benefit_of_partner_or_404(partner, offer_id, benefit):
    """One benefit of one of the partner's offers; anything else, another company's too: 404."""
    offer = partner_object_or_404(
        MembershipOffer.objects.select_related("competency", "partner"), partner, pk=offer_id
    )
    entitlement = offer.entitlement(benefit) if benefit in Benefit.values else None
    if entitlement is None:
        raise Http404("This offer has no such benefit.")
    return BenefitRow(offer, entitlement)


def _with_activations(rows):
    """`rows` with each benefit's latest request, and its contract's last incidents."""
    return _with_last_incidents(_with_latest_requests(rows))


def _with_latest_requests(rows):
    latest = ActivationRequest.objects.annotate(
        ids_first_viewed=first_view_recorded("contract")
    ).latest_by_benefit([row.offer for row in rows])
    return [
        BenefitRow(row.offer, row.entitlement, latest.get((row.offer.pk, row.benefit)))
        for row in rows
    ]


def _with_last_incidents(rows):
    # What Partner Center itself can't show: each contract's last incidents.
    contracts = [row.contract for row in rows if row.contract]
    recent = Case.objects.select_related(
        "opened_by", "product_version__product", "service", "customer"
    ).newest_by_contract([contract.pk for contract in contracts], RECENT_INCIDENTS)
    for contract in contracts:
        contract.recent_incidents = recent.get(contract.pk, [])
    return rows


def _holds_something(row, today):
    """Whether the benefit's latest request is pending or failed, or has a usable contract.
    Its latest alone answers: a benefit has at most one open request (a constraint), and only
    an open one is pending, failed or holds a contract; older ones were rejected."""
    activation = row.activation
    if activation is None:
        return False
    if activation.is_pending or activation.state == ActivationRequest.State.FAILED:
        return True
    return row.contract is not None and row.contract.ends_on >= today


def _ids_not_seen_yet(rows):
    return [
        (row.contract, row.offer)
        for row in rows
        if row.contract and not row.activation.ids_first_viewed
    ]


def _activation_context(request, partner):
    can_activate = can(request.user, ACTIVATE_BENEFITS)
    return {
        "partner": partner,
        "can_activate": can_activate,
        "activators": [] if can_activate else people_who_can(partner, ACTIVATE_BENEFITS),
        "activator_roles": get_text_list(
            [str(role.label) for role in roles_that_can(ACTIVATE_BENEFITS)], gettext("or")
        ),
    }


def _render_benefits(request, partner, open_key=None, csrf_token=None):
    """The page's benefits as HTML, and for how many seconds that HTML stays right."""
    today = clock.today()
    # All the company's offers (a handful a year) and their requests, sorted here: two plain
    # queries cost a page less than one that joins and filters them.
    offers = list(partner.offers.select_related("competency"))
    # Not one cancelled for a refund: its benefits ended that day, and nothing of it was used.
    started = [
        offer
        for offer in offers
        if offer.starts_on <= today and not (offer.cancelled_on and offer.cancelled_on <= today)
    ]
    rows = _with_latest_requests(
        [
            BenefitRow(offer, entitlement)
            for offer in started
            for entitlement in offer.entitlements()
        ]
    )
    # Active offers, ended ones in their renewal window, and ended ones still holding
    # something: a usable contract or a request still pending or failed.
    window_opened_after = today - datetime.timedelta(days=rules.RENEWAL_WINDOW_DAYS)
    holding = {row.offer.pk for row in rows if _holds_something(row, today)}
    shown = [
        offer for offer in started if offer.ends_on >= window_opened_after or offer.pk in holding
    ]
    rows = _with_last_incidents([row for row in rows if row.offer in shown])
    active = [offer for offer in shown if offer.is_active(today)]
    # With nothing to show, the company either never held an offer or its membership ended.
    ended = [offer for offer in (shown or offers) if offer.ends_on < today]
    # Rendered afresh (a cached copy shows the same IDs, whose first view is recorded).
    record_first_views(request.user, partner, _ids_not_seen_yet(rows))
    context = {
        **_activation_context(request, partner),
        "sections": [(offer, [row for row in rows if row.offer == offer]) for offer in shown],
        "held": get_text_list([offer.title for offer in active], gettext("and")),
        "membership_ended": None if active else max(ended, key=lambda o: o.ends_on, default=None),
        "advisory_hours": rules.advisory_hours(
            (offer.kind, offer.level or None) for offer in active
        ),
        "today": today,
        "open_key": open_key,
    }
    if csrf_token:
        context["csrf_token"] = csrf_token
    html = render_to_string("entitlements/_benefits.html", context, request)
    return html, benefits_cache.seconds_to_keep(row.activation for row in rows)


def _render_page(request, partner, open_key=None):
    if open_key is None:
        benefits = benefits_cache.render(
            request,
            partner,
            can(request.user, ACTIVATE_BENEFITS),
            RECENT_INCIDENTS,
            lambda partner, csrf_token: _render_benefits(request, partner, csrf_token=csrf_token),
        )
    else:
        benefits, _ = _render_benefits(request, partner, open_key)
    return render(request, "entitlements/technical_benefits.html", {"benefits": benefits})


@require_GET
@capability_required(VIEW_BENEFITS)
def technical_benefits(request, partner):
    return _render_page(request, partner)


@require_GET
@capability_required(VIEW_BENEFITS)
def benefit_detail(request, partner, offer_id, benefit):
    """One benefit: the page with it expanded, or, asked by htmx, the benefit's row alone."""
    row = benefit_of_partner_or_404(partner, offer_id, benefit)
    if not request.htmx:
        return _render_page(request, partner, open_key=row.key)
    [row] = _with_activations([row])
    record_first_views(request.user, partner, _ids_not_seen_yet([row]))
    context = {**_activation_context(request, partner), "row": row, "today": clock.today()}
    return render(request, "entitlements/_benefit_content.html", context)
