import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.text import get_text_list
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from activation import clock
from activation.models import PENDING, ActivationRequest
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
    latest = ActivationRequest.objects.annotate(
        ids_first_viewed=first_view_recorded("contract")
    ).latest_by_benefit([row.offer for row in rows])
    rows = [
        BenefitRow(row.offer, row.entitlement, latest.get((row.offer.pk, row.benefit)))
        for row in rows
    ]
    # What Partner Center itself can't show: each contract's last incidents.
    contracts = [row.contract for row in rows if row.contract]
    recent = Case.objects.select_related(
        "opened_by", "product_version__product", "service", "customer"
    ).newest_by_contract([contract.pk for contract in contracts], RECENT_INCIDENTS)
    for contract in contracts:
        contract.recent_incidents = recent.get(contract.pk, [])
    return rows


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
    # Active offers, ended ones in their renewal window, and ended ones still holding
    # something: a usable contract or a request still pending or failed. Not one cancelled
    # for a refund: its benefits ended that day, and nothing of it was used.
    window_opened_after = today - datetime.timedelta(days=rules.RENEWAL_WINDOW_DAYS)
    offers = list(
        partner.offers.filter(
            Q(ends_on__gte=window_opened_after)
            | Q(activations__contract__ends_on__gte=today)
            | Q(
                activations__state__in=[*PENDING, ActivationRequest.State.FAILED],
                activations__product__isnull=True,  # a cloud product's is the Cloud page's
            ),
            starts_on__lte=today,
        )
        .exclude(cancelled_on__lte=today)
        .distinct()
        .select_related("competency")
    )
    rows = _with_activations(
        [BenefitRow(offer, entitlement) for offer in offers for entitlement in offer.entitlements()]
    )
    active = [offer for offer in offers if offer.is_active(today)]
    ended = [offer for offer in offers if offer.ends_on < today]
    if not offers:
        # Nothing to show: either the company never held an offer, or its membership ended.
        ended = list(partner.offers.filter(ends_on__lt=today).order_by("-ends_on")[:1])
    # Rendered afresh (a cached copy shows the same IDs, whose first view is recorded).
    record_first_views(request.user, partner, _ids_not_seen_yet(rows))
    context = {
        **_activation_context(request, partner),
        "sections": [(offer, [row for row in rows if row.offer == offer]) for offer in offers],
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
