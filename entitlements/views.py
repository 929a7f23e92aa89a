from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import rules
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


@dataclass(frozen=True)
class BenefitRow:
    """One technical support benefit of one offer: what the page lists and activates."""

    offer: MembershipOffer
    entitlement: rules.Entitlement

    @property
    def key(self):
        return f"{self.offer.pk}-{self.entitlement.benefit}"

    @property
    def benefit(self):
        return self.entitlement.benefit


def _offer_and_benefit_or_404(partner, offer_id, benefit):
    offer = partner_object_or_404(
        MembershipOffer.objects.select_related("competency"), partner, pk=offer_id
    )
    entitlement = offer.entitlement(benefit) if benefit in Benefit.values else None
    if entitlement is None:
        raise Http404("This offer has no such benefit.")
    return BenefitRow(offer, entitlement)


def _render_page(request, partner, open_key=None):
    offers = list(
        MembershipOffer.objects.for_partner(partner).active().select_related("competency")
    )
    sections = [(offer, [BenefitRow(offer, e) for e in offer.entitlements()]) for offer in offers]
    can_activate = can(request.user, ACTIVATE_BENEFITS)
    context = {
        "partner": partner,
        "sections": sections,
        "advisory_hours": rules.advisory_hours(
            (offer.kind, offer.level or None) for offer in offers
        ),
        "can_activate": can_activate,
        "activators": [] if can_activate else people_who_can(partner, ACTIVATE_BENEFITS),
        "activator_roles": " or ".join(role.label for role in roles_that_can(ACTIVATE_BENEFITS)),
        "open_key": open_key,
    }
    return render(request, "entitlements/technical_benefits.html", context)


@require_GET
@capability_required(VIEW_BENEFITS)
def technical_benefits(request, partner):
    return _render_page(request, partner)


@require_GET
@capability_required(VIEW_BENEFITS)
def benefit_detail(request, partner, offer_id, benefit):
    row = _offer_and_benefit_or_404(partner, offer_id, benefit)
    return _render_page(request, partner, open_key=row.key)


@require_POST
@capability_required(ACTIVATE_BENEFITS)
def activate(request, partner, offer_id, benefit):
    row = _offer_and_benefit_or_404(partner, offer_id, benefit)
    messages.info(
        request, f"Activation of {row.entitlement.benefit.label} opens in the next release."
    )
    return redirect("entitlements:benefit_detail", offer_id=row.offer.pk, benefit=row.benefit)


@require_GET
@login_required
def not_available_yet(request, title):
    return render(request, "entitlements/not_available_yet.html", {"title": title})
