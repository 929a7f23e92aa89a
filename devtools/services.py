"""Visual Studio subscriptions: which a company's offers include, and assigning them to its users.

Only a Global admin assigns them (seed 003: "you do need to be the global admin to assign
benefits to employees"); a subscription goes to someone else only once 90 days have passed
since it was assigned (DOMAIN.md, later docs). Every write locks the offer's row first, as the
other benefits' do, so a cancellation asked for meanwhile learns of the use
(entitlements.signals.benefit_used).
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import formats, translation
from django.utils.translation import gettext as _

from activation import clock
from audit.services import Action, record
from entitlements.models import MembershipOffer
from entitlements.rules import level_rank
from entitlements.signals import benefit_used
from notices.models import Notice
from notices.services import tell
from software.models import Inclusion, Product
from software.services import includes

from .models import REASSIGN_AFTER_DAYS, SubscriptionAssignment


class Refused(Exception):
    """The assignment can't be made; the message says why, for the partner."""


@dataclass(frozen=True)
class Seat:
    """Subscription `number` of a product an offer includes, its holder (None: free), and
    whether it may go to someone else on `on` (`may_reassign`)."""

    number: int
    assignment: SubscriptionAssignment | None
    may_reassign: bool = True


def may_reassign(assignment, on):
    """Whether `assignment`'s subscription may go to someone else on `on` (a date): 90 days
    after it was assigned to its holder (DOMAIN.md, later docs), or at once when the holder
    can no longer use it (deactivated, or no longer in the company)."""
    holder = assignment.assignee
    gone = not holder.is_active or holder.partner_id != assignment.offer.partner_id
    return gone or on >= assignment.reassignable_on


@dataclass(frozen=True)
class OfferSubscriptions:
    """The Visual Studio subscriptions of one product that one offer includes: its terms (the
    inclusion in force when the offer started), each subscription, numbered from 1, and who
    holds one of the offer's subscriptions (`taken`: user ids; one each per offer), and whom a
    subscription could go to (`candidates`, filled in by the page)."""

    offer: MembershipOffer
    inclusion: Inclusion
    seats: tuple
    taken: frozenset
    candidates: tuple = ()

    @property
    def product(self):
        return self.inclusion.product

    @property
    def key(self):
        return f"{self.offer.pk}-{self.product.pk}"

    @property
    def assigned(self):
        return sum(1 for seat in self.seats if seat.assignment)


def subscriptions(partner, on=None):
    """The Visual Studio subscriptions of `partner`'s offers active on `on` (default today): a
    list of OfferSubscriptions, the highest offer first (Gold, Silver, Action Pack), then by
    product name. Three queries, however many offers, products and subscriptions."""
    on = on or clock.today()
    offers = list(partner.offers.active(on).select_related("competency"))
    if not offers:
        return []
    inclusions = list(
        Inclusion.objects.filter(
            product__area=Product.Area.VISUAL_STUDIO,
            kind__in={offer.kind for offer in offers},
            licenses__gt=0,
        )
        .select_related("product")
        .order_by("since")
    )
    holders, taken = {}, {}
    current = SubscriptionAssignment.objects.filter(offer__in=offers, ended_at__isnull=True)
    for held in current.select_related("assignee"):
        holders[(held.offer_id, held.product_id, held.number)] = held
        taken.setdefault(held.offer_id, set()).add(held.assignee_id)
    rows = []
    for offer in sorted(offers, key=lambda o: (-level_rank(o.kind, o.level), o.starts_on, o.pk)):
        terms = {}  # the newest inclusion in force for each product
        for inclusion in inclusions:
            if includes(inclusion, offer):
                terms[inclusion.product_id] = inclusion
        for inclusion in sorted(terms.values(), key=lambda i: (i.product.name, i.product.pk)):
            seats = []
            for number in range(1, inclusion.licenses + 1):
                held = holders.get((offer.pk, inclusion.product_id, number))
                if held:
                    held.offer = offer  # the row's own, read once
                seats.append(Seat(number, held, held is None or may_reassign(held, on)))
            seats = tuple(seats)
            rows.append(
                OfferSubscriptions(offer, inclusion, seats, frozenset(taken.get(offer.pk, ())))
            )
    return rows


def subscription_or_404(partner, offer_id, product_id, number):
    """The company's OfferSubscriptions of one product through one of its active offers, if it
    includes subscription `number`; else Http404 (another company's offer looks like none)."""
    for row in subscriptions(partner):
        found = row.offer.pk == offer_id and row.product.pk == product_id
        if found and 1 <= number <= len(row.seats):
            return row
    raise Http404("No such Visual Studio subscription of this company.")


def assign(row, number, assignee, actor, seen=None):
    """Assign subscription `number` of `row` (an OfferSubscriptions) to `assignee`, one of the
    company's active users; reassigning ends the current holder's assignment.

    `seen` is the pk of the assignment the actor saw (None: it was free): if someone changed it
    meanwhile, nothing changes and Refused says how it stands now. Assigning the current holder
    again changes nothing. Returns (assignment, changed). Raises Refused when the assignee is
    not an active user of the company or holds a subscription of the offer already (a
    constraint decides), the offer is no longer active, or the holder got it less than 90 days
    ago and can still use it (DOMAIN.md, later docs; the message gives the first day it can
    be). The new holder is told; an old holder is told they no longer hold it. Audited.
    """
    offer, product = row.offer, row.product
    if assignee.partner_id != offer.partner_id or not assignee.is_active:
        raise Refused(_("Choose one of your company's active users."))
    with transaction.atomic():
        locked = MembershipOffer.objects.select_for_update(no_key=True).get(pk=offer.pk)
        if not locked.is_active(clock.today()):
            raise Refused(
                _("%(offer)s is not active, so its benefits can't be assigned.")
                % {"offer": offer.title}
            )
        current = (
            SubscriptionAssignment.objects.select_for_update()
            .filter(offer=offer, product=product, number=number, ended_at__isnull=True)
            .select_related("assignee")
            .first()
        )
        if current and current.assignee_id == assignee.pk:
            return current, False
        if (current.pk if current else None) != seen:
            raise _changed_meanwhile(current)
        if current and not may_reassign(current, clock.today()):
            raise Refused(
                _(
                    "This subscription can be reassigned on %(day)s: %(days)s days after it was "
                    "assigned to %(who)s."
                )
                % {
                    "day": formats.date_format(current.reassignable_on, "DATE_FORMAT"),
                    "days": REASSIGN_AFTER_DAYS,
                    "who": current.assignee.display_name,
                }
            )
        now = clock.now()
        try:
            with transaction.atomic():
                if current:
                    current.ended_at = now
                    current.save(update_fields=["ended_at"])
                assignment = SubscriptionAssignment.objects.create(
                    offer=offer,
                    product=product,
                    number=number,
                    assignee=assignee,
                    assigned_by=actor,
                    assigned_at=now,
                )
        except IntegrityError:
            # The subscription is locked, so the constraint that failed is the holder's.
            raise Refused(
                _("%(who)s holds a Visual Studio subscription of %(offer)s already.")
                % {"who": assignee.display_name, "offer": offer.title}
            ) from None
        _audit(row, number, assignment, current, actor)
        if current is None:
            benefit_used.send(
                sender=SubscriptionAssignment,
                offer=locked,
                user=actor,
                facts={"subscription": str(product), "assignee": assignee.display_name},
            )
        _tell(row, assignment, current, actor)
    return assignment, True


def _changed_meanwhile(current):
    if current is None:
        return Refused(
            _("The subscription was changed meanwhile: nobody holds it now. Choose again.")
        )
    return Refused(
        _(
            "Meanwhile the subscription was assigned to %(who)s. Check, and choose again if "
            "you wish."
        )
        % {"who": current.assignee.display_name}
    )


def _audit(row, number, assignment, previous, actor):
    with translation.override(settings.LANGUAGE_CODE):
        subject = f"{row.product} #{number}, {row.offer.title}: {assignment.assignee.email}"
    facts = {
        "product": row.product.name,
        "offer": row.offer.facts,
        "subscription": number,
        "email": assignment.assignee.email,
    }
    if previous:
        subject += f" (previously {previous.assignee.email})"
        facts["previous"] = previous.assignee.email
    action = Action.VISUAL_STUDIO_REASSIGNED if previous else Action.VISUAL_STUDIO_ASSIGNED
    record(row.offer.partner, action, subject, actor, facts)


def _tell(row, assignment, previous, actor):
    context = {
        "product": str(row.product),
        "offer": row.offer.facts,
        "partner": row.offer.partner.name,
        "assigned_by": actor.display_name if actor else "",
        "email": assignment.assignee.email,
        "reassignable_on": assignment.reassignable_on,
    }
    # No link to the portal's page: holders are often people with no role, who can't open it;
    # the subscription is used in Visual Studio itself.
    tell(
        assignment.assignee,
        Notice.Kind.VISUAL_STUDIO_ASSIGNED,
        about=f"visual_studio:{assignment.pk}",
        context=context,
    )
    if previous:
        tell(
            previous.assignee,
            Notice.Kind.VISUAL_STUDIO_REASSIGNED,
            about=f"visual_studio:{previous.pk}",
            context={**context, "new_assignee": assignment.assignee.display_name},
        )
