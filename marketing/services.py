"""The Go-To-Market page's offers and marketing contact, and every change to them: atomic,
audited, told through the outbox.

Seed 003, "Manage Go-To-Market offers": the offers a company's level and competencies include
are listed under their benefit (Silver Core, Gold Core, ISV Co-sell ready...); a marketing
contact must be assigned before any is activated; activating "can take several days" (the
activation engine, the same as technical benefits'), emails the instructions to the contact,
and ends with Status Active and an Expires date.
"""

import itertools
import unicodedata
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from activation import clock
from activation import services as activation
from activation.models import ActivationRequest
from audit.services import Action, record
from entitlements.models import MembershipOffer
from entitlements.rules import level_rank
from notices.services import tell
from software import services as software_services
from software.models import Inclusion, Product

from .models import MarketingContact

AREA = Product.Area.GO_TO_MARKET


class Refused(Exception):
    """The change can't be made; the message says why, for the partner; `field`, the form's
    field it is about, if one."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class ChangedMeanwhile(Refused):
    """Someone else changed the contact since the form was shown; saving again overwrites it."""


@dataclass(frozen=True)
class GoToMarketOffer:
    """One Go-To-Market offer of the company: the membership offer that provides it, its terms
    (the catalogue's inclusion for that offer's start) and its latest activation request."""

    product: Product
    offer: MembershipOffer
    inclusion: Inclusion
    activation: ActivationRequest | None = None

    @property
    def key(self):
        return f"{self.offer.pk}-{self.product.pk}"

    @property
    def is_active(self):
        return self.activation is not None and self.activation.state == "active"

    @property
    def expires_on(self):
        """The date it can be used until once active (seed 003, the Expires column): the end of
        the membership offer that provides it; None until it is active."""
        return self.offer.ends_on if self.is_active else None


def go_to_market(partner, on=None):
    """The Go-To-Market offers of `partner`'s memberships active on `on` (today), with each
    one's latest activation: a list of (benefit name, [GoToMarketOffer]), the benefits of the
    highest membership first, then by name, and each benefit's offers by name. A product two
    memberships include is listed once, with the higher membership
    (software.services.entitled_products). Three queries, whatever the company holds."""
    entitled = software_services.entitled_products(partner, area=AREA, on=on)
    offers = {row.offer.pk: row.offer for row in entitled}.values()
    latest = ActivationRequest.objects.latest_by_product(offers) if entitled else {}
    rows = [
        GoToMarketOffer(
            row.product, row.offer, row.inclusion, latest.get((row.offer.pk, row.product.pk))
        )
        for row in entitled
    ]
    rows.sort(key=lambda row: (row.product.go_to_market_benefit, row.product.name))
    groups = [
        (benefit, list(group))
        for benefit, group in itertools.groupby(
            rows, key=lambda row: row.product.go_to_market_benefit
        )
    ]
    # The highest membership's benefits first (Gold Core before Silver Core), then by name.
    groups.sort(key=lambda group: -max(level_rank(r.offer.kind, r.offer.level) for r in group[1]))
    return groups


def offer_or_404(partner, offer_id, product_id):
    """The company's Go-To-Market offer of that membership offer and product, with its latest
    activation. Raises Http404 for another company's offer, one not active, or a product it
    doesn't include."""
    for _benefit, rows in go_to_market(partner):
        for row in rows:
            if row.offer.pk == offer_id and row.product.pk == product_id:
                return row
    raise Http404("No such Go-To-Market offer of this company.")


def contact_of(partner):
    """The company's marketing contact, with its user; None if none was assigned."""
    return MarketingContact.objects.filter(partner=partner).select_related("user").first()


def version_of(contact):
    """What a form shows of the contact it edits (its last change's time, as text; "" for
    none), so a change made meanwhile by someone else is noticed, not overwritten."""
    return contact.updated_at.isoformat() if contact else ""


def set_contact(partner, actor, *, user, email, phone, language, seen):
    """Add, update or change `partner`'s marketing contact: `user`, one of its active users;
    `email`, the address the instructions go to, other than the one `user` signs in with (seed
    003); `phone` (a PhoneNumber); `language`, a code of settings.LANGUAGES; `seen`, the
    version_of the contact the actor saw.

    Returns (contact, changed): the same values again change nothing. Raises Refused for a user
    outside the company or inactive, or an address they sign in with (nothing is saved);
    ChangedMeanwhile for a contact changed since `seen` (the message says who set what). One
    row per company (a constraint); each change is audited."""
    if user.partner_id != partner.pk or not user.is_active:
        raise Refused(_("Choose one of your company's active users."), field="user")
    email = normalized(email)
    addresses = EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    signs_in_with = {normalized(address).casefold() for address in [user.email, *addresses]}
    if email.casefold() in signs_in_with:
        raise Refused(
            _("Enter an email address other than %(email)s, which %(who)s signs in with.")
            % {"email": user.email, "who": user.display_name},
            field="email",
        )
    wanted = {"user": user, "email": email, "phone": phone, "language": language}
    with transaction.atomic():
        current = (
            MarketingContact.objects.select_for_update()
            .filter(partner=partner)
            .select_related("user")
            .first()
        )
        if current and all(getattr(current, name) == value for name, value in wanted.items()):
            return current, False
        if version_of(current) != seen:
            raise _changed_meanwhile(current)
        previous = _facts(current) if current else None
        now = clock.now()
        if current is None:
            try:
                with transaction.atomic():
                    contact = MarketingContact.objects.create(
                        partner=partner, **wanted, updated_at=now, updated_by=actor
                    )
            except IntegrityError:
                # Another admin added the company's first contact at this very moment, or the
                # same admin clicked twice: the same values are no change.
                theirs = contact_of(partner)
                if all(getattr(theirs, name) == value for name, value in wanted.items()):
                    return theirs, False
                raise _changed_meanwhile(theirs) from None
        else:
            contact = current
            for name, value in wanted.items():
                setattr(contact, name, value)
            contact.updated_at, contact.updated_by = now, actor
            contact.save()
        subject = f"{user.email}: {email}, {phone.as_international}, {language}"
        if previous:
            subject += f" (previously {previous['user']}: {previous['email']})"
        record(
            partner,
            Action.MARKETING_CONTACT_SET,
            subject,
            actor,
            {**_facts(contact), "previous": previous},
        )
    return contact, True


def _facts(contact):
    return {
        "user": contact.user.email,
        "email": contact.email,
        "phone": contact.phone.as_e164,
        "language": contact.language,
    }


def normalized(email):
    """`email` as the mail server reads it: full-width characters typed through an input
    method made plain (NFKC), the domain lower-cased, so the same mailbox compares equal."""
    local, _at, domain = unicodedata.normalize("NFKC", email.strip()).rpartition("@")
    return f"{local}@{domain.lower()}" if local else email.strip()


def _changed_meanwhile(current):
    if current is None:
        return ChangedMeanwhile(
            _("The marketing contact was changed meanwhile. Check, and save again.")
        )
    return ChangedMeanwhile(
        _(
            "Meanwhile the marketing contact was set to %(who)s (%(email)s). Check, and save "
            "again if you wish."
        )
        % {"who": current.user.display_name, "email": current.email}
    )


def activate(row, user):
    """Ask the activation engine to activate `row` (a GoToMarketOffer). Returns (request,
    created): one open request per membership offer and product (the engine's constraint).
    Raises Refused while the company has no marketing contact who can receive the
    instructions (seed 003); activation.services' NotActivatable for an offer not active."""
    _need_contact(row.offer.partner)
    return activation.request_activation(row.offer, None, user, product=row.product)


def retry(row, user):
    """Start `row`'s failed activation again where it stopped (activation.services.retry).
    False if it has none failed (any more). Raises Refused as `activate` does."""
    _need_contact(row.offer.partner)
    failed = activation.open_request(row.offer, None, row.product)
    return failed is not None and activation.retry(failed.pk, user)


def send_instructions(row):
    """Email the instructions of `row` (an active GoToMarketOffer) to the company's marketing
    contact as it is now. Returns (contact, sent): sent False when this contact, at this
    address, was sent them already (one email per activation and version of the contact).
    Raises Refused for an offer not active or without a contact who can receive them."""
    if not row.is_active:
        raise Refused(_("%(product)s is not active yet.") % {"product": row.product})
    contact = _need_contact(row.offer.partner)
    with transaction.atomic():
        return contact, tell_instructions(row.activation, contact)


def instructions_about(request_pk, contact):
    """What the instructions of one activation, sent to one version of the contact, are
    about (Notice.about): a new contact or address may be sent them again, the same not."""
    return f"go_to_market:{request_pk}:{contact.pk}:{contact.updated_at.timestamp():.6f}"


def tell_instructions(request, contact):
    """Write the email of `request`'s instructions (an active Go-To-Market activation) to
    `contact`'s marketing address, in their preferred language (seed 003), in the caller's
    transaction. Email only: the contact needs no role to read it. Returns whether it is new."""
    return tell(
        contact.user,
        "go_to_market_instructions",
        about=instructions_about(request.pk, contact),
        context=instructions_context(request, contact),
        email_to=contact.email,
        language=contact.language,
    )


def instructions_context(request, contact):
    """What the Go-To-Market notices of `request` say: plain values (notices.services.tell)."""
    requester = request.requested_by
    return {
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


def _need_contact(partner):
    """The company's marketing contact, if still an active user of it. Raises Refused."""
    contact = contact_of(partner)
    if contact is None or not contact.is_usable:
        raise Refused(
            _(
                "Add a marketing contact first: they receive the instructions for using your "
                "Go-To-Market offers."
            )
        )
    return contact
