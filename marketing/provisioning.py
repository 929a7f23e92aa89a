"""What the activation engine asks of this room for a Go-To-Market offer it activates
(activation.services.PROVISIONERS): whether it can go on, and, once active, the instructions
emailed to the marketing contact (seed 003) and the people told of activations. Called inside
the engine's transaction, on the request's locked row."""

from django.urls import reverse
from django.utils import timezone

from activation.models import Failure
from activation.services import notice_recipients
from audit.models import AuditEntry
from notices.services import tell
from software import services as software_services

from .models import MarketingContact

ACTIVE_ACTION = AuditEntry.Action.GO_TO_MARKET_OFFER_ACTIVE


def problem(request):
    """Why the request can't go on, or None: the membership offer no longer includes the
    Go-To-Market offer, or the company has no marketing contact to email the instructions to
    (a Failure the partner can mend, then Try again)."""
    if software_services.inclusion_of(request.offer, request.product) is None:
        return Failure.BENEFIT_WITHDRAWN
    contact = _contact(request)
    if contact is None or not contact.is_usable:
        return Failure.NO_MARKETING_CONTACT
    return None


def complete(request, today):
    """An active Go-To-Market offer is its request, active: nothing else is made. Returns the
    marketing contact the instructions go to."""
    return _contact(request)


def _contact(request):
    return (
        MarketingContact.objects.filter(partner=request.offer.partner_id)
        .select_related("user")
        .first()
    )


def instructions_about(request_pk):
    """What the notices of one Go-To-Market activation are about (Notice.about)."""
    return f"go_to_market:{request_pk}"


def tell_complete(request, contact):
    """Email the instructions to the marketing contact, at the address and in the language
    given for them (seed 003), and tell the people told of activations (the Global admins and
    the requester) that the offer is active: one notice each, the contact's instructions
    enough for them."""
    requester = request.requested_by
    context = {
        "product": str(request.product),
        "go_to_market_benefit": request.product.go_to_market_benefit,
        "instructions": request.product.instructions,
        "offer": request.offer.facts,
        "partner": request.offer.partner.name,
        "requested_by": requester.display_name if requester else "",
        "requested_on": timezone.localdate(request.requested_at),
        "expires_on": request.offer.ends_on,
        "contact": contact.user.display_name,
        "contact_email": contact.email,
    }
    url = reverse("entitlements:go_to_market") + f"#offer-{request.offer_id}-{request.product_id}"
    about = instructions_about(request.pk)
    tell(
        contact.user,
        "go_to_market_instructions",
        about=about,
        context=context,
        url=url,
        email_to=contact.email,
        language=contact.language,
    )
    for person in notice_recipients(request):
        if person.pk == contact.user_id:
            continue  # told by the instructions already
        tell(person, "go_to_market_active", about=about, context=context, url=url)
