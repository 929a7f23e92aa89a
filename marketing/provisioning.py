"""What the activation engine asks of this room for a Go-To-Market offer it activates
(activation.services.PROVISIONERS): whether it can go on, and, once active, the instructions
emailed to the marketing contact (seed 003) and the people told of activations. Called inside
the engine's transaction, on the request's locked row."""

from django.urls import reverse

from activation.models import Failure
from activation.services import notice_recipients
from audit.models import AuditEntry
from notices.services import tell
from software import services as software_services

from . import services

ACTIVE_ACTION = AuditEntry.Action.GO_TO_MARKET_OFFER_ACTIVE


def problem(request):
    """Why the request can't go on, or None: the membership offer no longer includes the
    Go-To-Market offer, or the company has no marketing contact to email the instructions to
    (a Failure the partner can mend, then Try again)."""
    if software_services.inclusion_of(request.offer, request.product) is None:
        return Failure.BENEFIT_WITHDRAWN
    contact = services.contact_of(request.offer.partner)
    if contact is None or not contact.is_usable:
        return Failure.NO_MARKETING_CONTACT
    return None


def complete(request, today):
    """An active Go-To-Market offer is its request, active: nothing else is made. Returns the
    marketing contact the instructions go to."""
    return services.contact_of(request.offer.partner)


def tell_complete(request, contact):
    """Email the instructions to the marketing contact (services.tell_instructions), and tell
    the people told of activations (the Global admins and the requester) that the offer is
    active: one notice each, the contact's instructions enough for them."""
    services.tell_instructions(request, contact)
    context = services.instructions_context(request, contact)
    url = reverse("entitlements:go_to_market") + f"#offer-{request.offer_id}-{request.product_id}"
    for person in notice_recipients(request):
        if person.pk == contact.user_id:
            continue
        tell(
            person, "go_to_market_active", about=active_about(request.pk), context=context, url=url
        )


def active_about(request_pk):
    """What the notices that a Go-To-Market offer is active are about (Notice.about)."""
    return f"go_to_market:{request_pk}"
