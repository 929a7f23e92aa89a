"""The company's membership offers, and each offer's page: its benefits and whether, and why
not, it can be cancelled for a refund."""

from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from activation import clock
from entitlements.models import MembershipOffer
from entitlements.permissions import (
    CANCEL_OFFERS,
    VIEW_BENEFITS,
    can,
    capability_required,
    partner_object_or_404,
    people_who_can,
)

from . import services
from .forms import CancellationForm
from .models import CancellationRequest


@require_safe
@capability_required(VIEW_BENEFITS)
def offers(request, partner):
    """Every offer of the company, newest first, with whether a cancellation waits."""
    waiting = CancellationRequest.objects.filter(
        offer=OuterRef("pk"), state=CancellationRequest.State.OPEN
    )
    rows = (
        partner.offers.select_related("competency")
        .annotate(cancellation_waits=Exists(waiting))
        .order_by("-starts_on", "pk")
    )
    context = {"partner": partner, "offers": rows, "today": clock.today()}
    return render(request, "cancellations/offers.html", context)


def _offer_page(request, partner, offer, form=None, status=200):
    today = clock.today()
    requests = offer.cancellation_requests.select_related("requested_by", "decided_by")
    waiting = next((r for r in requests if r.state == CancellationRequest.State.OPEN), None)
    may_cancel = can(request.user, CANCEL_OFFERS)
    context = {
        "partner": partner,
        "offer": offer,
        "today": today,
        "entitlements": offer.entitlements(),
        "requests": requests,
        "waiting": waiting,
        "obstacles": [] if waiting else services.obstacles(offer, today),
        "last_day": services.last_day_to_ask(offer),
        "may_cancel": may_cancel,
        "who_may_cancel": [] if may_cancel else people_who_can(partner, CANCEL_OFFERS),
        "form": form or CancellationForm(),
    }
    return render(request, "cancellations/offer.html", context, status=status)


def _offer_or_404(partner, offer_id):
    return partner_object_or_404(
        MembershipOffer.objects.select_related("competency", "partner"), partner, pk=offer_id
    )


@require_safe
@capability_required(VIEW_BENEFITS)
def offer(request, partner, offer_id):
    """One offer of the company (another company's is a 404)."""
    return _offer_page(request, partner, _offer_or_404(partner, offer_id))


@require_POST
@capability_required(CANCEL_OFFERS)
def request_cancellation(request, partner, offer_id):
    """Ask to cancel the offer for a refund; a refusal is shown on the offer's page with the
    reason as typed."""
    offer = _offer_or_404(partner, offer_id)
    form = CancellationForm(request.POST)
    if not form.is_valid():
        return _offer_page(request, partner, offer, form, status=400)
    try:
        asked = services.request_cancellation(request.user, offer, form.cleaned_data["reason"])
    except services.Refused as refused:
        form.add_error(None, refused.message)
        return _offer_page(request, partner, offer, form, status=409)
    messages.success(
        request,
        _("Your cancellation request %(number)s was sent. Support decides it; you'll be told.")
        % {"number": asked.number},
    )
    return redirect("cancellations:offer", offer.pk)
