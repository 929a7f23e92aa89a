from django.contrib import messages
from django.shortcuts import redirect
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from entitlements.permissions import ACTIVATE_BENEFITS, capability_required
from entitlements.views import benefit_of_partner_or_404

from . import services
from .models import ActivationRequest

State = ActivationRequest.State


def say_what_activate_did(request, activation, created, name, key, requested):
    """Tell the next page what a click on Activate did: `requested` (the words for a new
    request, of the page's benefit `name`), or that the request already there failed, is
    active or was asked for by whom and when. Used by every page with an Activate button
    (technical benefits, cloud subscriptions, Go-To-Market offers). `key` is the row's
    (`<offer id>-<benefit or product>`): a message true only while the row waits is tagged
    with it, and static/js/portal.js removes it once the row's polling shows it stopped."""
    if created:
        messages.success(request, requested, extra_tags=f"pending-{key}")
    elif activation.state == State.FAILED:
        messages.warning(request, _("This activation failed. Select Try again to start it again."))
    elif activation.state == State.ACTIVE:
        messages.info(request, _("%(benefit)s is already active.") % {"benefit": name})
    else:
        when = formats.date_format(timezone.localtime(activation.requested_at), "DATE_FORMAT")
        if activation.requested_by_id == request.user.pk:
            said = _("Activation was already requested by you on %(when)s.") % {"when": when}
        else:
            who = activation.requested_by.display_name if activation.requested_by else _("someone")
            said = _("Activation was already requested by %(who)s on %(when)s.") % {
                "who": who,
                "when": when,
            }
        messages.info(request, said, extra_tags=f"pending-{key}")


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
    say_what_activate_did(
        request,
        activation,
        created,
        row.benefit.label,
        row.key,
        _(
            "Activation of %(benefit)s requested. "
            "Allow a few days to process your activation request."
        )
        % {"benefit": row.benefit.label},
    )
    return _back_to(row)


@require_POST
@capability_required(ACTIVATE_BENEFITS)
def retry(request, partner, offer_id, benefit):
    row = benefit_of_partner_or_404(partner, offer_id, benefit)
    activation = services.open_request(row.offer, row.benefit)
    if activation is not None and services.retry(activation.pk, request.user):
        messages.success(
            request, _("Activation of %(benefit)s started again.") % {"benefit": row.benefit.label}
        )
    else:
        messages.info(request, _("There is no failed activation to try again."))
    return _back_to(row)
