"""What the activation engine asks of the cloud room for a cloud subscription it provisions:
whether the offer still includes the product, the subscription it makes on completing, and
who is told. Called inside the engine's transaction, on the request's locked row."""

import uuid

from django.urls import reverse
from django.utils import timezone

from activation.services import notice_recipients
from notices.services import tell

from . import services
from .models import CloudSubscription


def still_included(request):
    """Whether the request's offer still includes its product (the catalogue for the offer's
    start); False makes the engine stop it with "no longer includes"."""
    return services.inclusion_of(request.offer, request.product) is not None


def subscribe(request, today):
    """The cloud subscription an active request made: one per request (a one-to-one row), with
    the offer's license quantity, from today to the offer's end."""
    return CloudSubscription.objects.create(
        activation=request,
        partner=request.offer.partner,
        product=request.product,
        subscription_id=uuid.uuid4(),
        licenses=getattr(services.inclusion_of(request.offer, request.product), "licenses", None),
        starts_on=today,
        ends_on=max(today, request.offer.ends_on),
    )


def active_about(request_pk):
    """What the notices that a subscription is active are about (Notice.about)."""
    return f"cloud_activation:{request_pk}"


def tell_active(request, subscription):
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
