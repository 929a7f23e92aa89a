"""What the activation engine asks of the cloud room for a cloud subscription it provisions
(activation.services.PROVISIONERS): whether the offer still includes the product, the
subscription it makes on completing, and who is told. Called inside the engine's transaction,
on the request's locked row."""

import uuid

from django.urls import reverse
from django.utils import timezone

from activation.models import Failure
from activation.services import notice_recipients
from audit.models import AuditEntry
from notices.services import tell
from software import services as software_services

from .models import CloudSubscription

Action = AuditEntry.Action


ACTIVE_ACTION = Action.CLOUD_SUBSCRIPTION_ACTIVE


def problem(request):
    """Why the request can't go on, or None: the offer no longer includes its product (the
    catalogue for the offer's start)."""
    if software_services.inclusion_of(request.offer, request.product) is None:
        return Failure.BENEFIT_WITHDRAWN
    return None


def complete(request, today):
    """The cloud subscription an active request made: one per request (a one-to-one row), with
    the offer's license quantity, from today to the offer's end."""
    inclusion = software_services.inclusion_of(request.offer, request.product)
    return CloudSubscription.objects.create(
        activation=request,
        partner=request.offer.partner,
        product=request.product,
        subscription_id=uuid.uuid4(),
        licenses=getattr(inclusion, "licenses", None),
        starts_on=today,
        ends_on=max(today, request.offer.ends_on),
    )


def active_about(request_pk):
    """What the notices that a subscription is active are about (Notice.about)."""
    return f"cloud_activation:{request_pk}"


def tell_complete(request, subscription):
    """Tell the people told of activations (the Global admins and the requester, as for the
    Access ID and Contract ID) that the subscription is active: one notice each."""
    requester = request.requested_by
    context = {
        "product": str(request.product),
        "offer": request.offer.facts,
        "partner": request.offer.partner.name,
        "requested_by": requester.display_name if requester else "",
        "requested_on": timezone.localdate(request.requested_at),
        "subscription_id": str(subscription.subscription_id),
        "licenses": subscription.licenses,
        "starts_on": subscription.starts_on,
        "ends_on": subscription.ends_on,
    }
    url = reverse("entitlements:cloud") + f"#cloud-{request.offer_id}-{request.product_id}"
    for person in notice_recipients(request):
        tell(
            person,
            "cloud_subscription_active",
            about=active_about(request.pk),
            context=context,
            url=url,
        )
