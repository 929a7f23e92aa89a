from django.contrib import messages
from django.shortcuts import redirect
from django.utils import formats, timezone
from django.views.decorators.http import require_POST

from entitlements.permissions import ACTIVATE_BENEFITS, capability_required
from entitlements.views import benefit_of_partner_or_404

from . import services
from .models import ActivationRequest

State = ActivationRequest.State


def _back_to(row):
    return redirect("entitlements:benefit_detail", offer_id=row.offer.pk, benefit=row.benefit)


@require_POST
@capability_required(ACTIVATE_BENEFITS)
def activate(request, partner, offer_id, benefit):
    row = benefit_of_partner_or_404(partner, offer_id, benefit)
    try:
        activation, created = services.request_activation(row.offer, row.benefit, request.user)
    except services.NotActivatable as refusal:
        messages.error(request, str(refusal))
        return _back_to(row)
    if created:
        messages.success(
            request,
            f"Activation of {row.benefit.label} requested. "
            "Allow a few days to process your activation request.",
        )
    elif activation.state == State.FAILED:
        messages.warning(request, "This activation failed. Select Try again to start it again.")
    elif activation.state == State.ACTIVE:
        messages.info(request, f"{row.benefit.label} is already active.")
    else:
        who = activation.requested_by.display_name if activation.requested_by else "someone"
        when = formats.date_format(timezone.localtime(activation.requested_at), "DATE_FORMAT")
        messages.info(request, f"Activation was already requested by {who} on {when}.")
    return _back_to(row)


@require_POST
@capability_required(ACTIVATE_BENEFITS)
def retry(request, partner, offer_id, benefit):
    row = benefit_of_partner_or_404(partner, offer_id, benefit)
    activation = services.open_request(row.offer, row.benefit)
    if activation is not None and services.retry(activation.pk, request.user):
        messages.success(request, f"Activation of {row.benefit.label} started again.")
    else:
        messages.info(request, "There is no failed activation to try again.")
    return _back_to(row)
