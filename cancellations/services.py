"""Cancelling a membership offer for a refund: whether it can be, asking, and the decision.

The rule (seed 003; later docs): a refund only within 30 days of purchase (the offer's start),
and only if no benefit of the offer was activated or used and no license key of it was viewed.
Every write locks the offer's row first, as an activation and a first view of a key do
(entitlements.signals.benefit_used is sent with it locked), so a request and a use racing each
other end one way: the request declined, or refused because of the use.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from activation import clock
from activation.models import ActivationRequest
from audit.models import AuditEntry
from audit.services import record
from cases.models import Case
from cloud.models import CreditAssignment
from devtools.models import SubscriptionAssignment
from entitlements.models import MembershipOffer
from entitlements.permissions import CANCEL_OFFERS, can, people_who_can
from entitlements.rules import Benefit
from notices.models import Notice
from notices.services import tell
from software.models import LicenseKey

from .models import TEXT_MAX_LENGTH, CancellationRequest

REFUND_DAYS = 30
Action = AuditEntry.Action
State = CancellationRequest.State

ALREADY = {
    State.APPROVED: gettext_lazy("This request was already approved. Nothing was changed."),
    State.DECLINED: gettext_lazy("This request was already declined. Nothing was changed."),
}


class Refused(Exception):
    """Nothing was done; `message` (in the active language) says why, to whoever asked."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Obstacle:
    """One reason an offer can't be cancelled for a refund: a `code` (cancelled, not_active,
    too_late, activated, key_viewed, credit_assigned, advisory_request) and the reason in the
    active language."""

    code: str
    text: str


def last_day_to_ask(offer):
    """The last day a cancellation of `offer` may be asked for: 30 days after its purchase,
    its start day (seed 003; later docs)."""
    return offer.starts_on + datetime.timedelta(days=REFUND_DAYS)


def _day(value):
    return formats.date_format(value, "DATE_FORMAT")


def _moment(value):
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _who(user):
    return user.display_name if user else _("someone no longer in the company")


def obstacles(offer, today=None, asked_on=None):
    """Why `offer` can't be cancelled for a refund on `today` (default: the clock's day), as a
    list of Obstacle, each use named with who and when; empty when it can be. `asked_on` is
    the day the cancellation was asked for (default `today`): the 30 days are counted to it.
    Runs 5 queries, however much was used (seed 003; later docs)."""
    today = today or clock.today()
    asked_on = asked_on or today
    if offer.cancelled_on:
        return [
            Obstacle(
                "cancelled",
                _("This offer was cancelled on %(day)s.") % {"day": _day(offer.cancelled_on)},
            )
        ]
    found = []
    if today < offer.starts_on:
        found.append(
            Obstacle(
                "not_active",
                _("This offer starts on %(day)s.") % {"day": _day(offer.starts_on)},
            )
        )
    elif today > offer.ends_on:
        found.append(
            Obstacle("not_active", _("This offer ended on %(day)s.") % {"day": _day(offer.ends_on)})
        )
    if asked_on > last_day_to_ask(offer):
        found.append(
            Obstacle(
                "too_late",
                _(
                    "The 30 days to cancel for a refund ended on %(day)s: a refund must be asked "
                    "for within 30 days of purchase."
                )
                % {"day": _day(last_day_to_ask(offer))},
            )
        )
    activations = (
        ActivationRequest.objects.filter(offer=offer)
        .exclude(state=ActivationRequest.State.REJECTED)
        .select_related("requested_by", "product")
        .order_by("requested_at", "pk")
    )
    for activation in activations:
        found.append(
            Obstacle(
                "activated",
                _("On %(moment)s, %(person)s asked to activate %(benefit)s.")
                % {
                    "benefit": (
                        activation.product
                        if activation.product_id
                        else Benefit(activation.benefit).label
                    ),
                    "person": _who(activation.requested_by),
                    "moment": _moment(activation.requested_at),
                },
            )
        )
    viewed = (
        LicenseKey.objects.filter(offer=offer, first_viewed_at__isnull=False)
        .select_related("product", "first_viewed_by")
        .order_by("first_viewed_at", "pk")
    )
    for key in _first_of_each_product(viewed):  # a product's keys are revealed together
        found.append(
            Obstacle(
                "key_viewed",
                _("On %(moment)s, %(person)s viewed a license key of %(product)s.")
                % {
                    "product": key.product,
                    "person": _who(key.first_viewed_by),
                    "moment": _moment(key.first_viewed_at),
                },
            )
        )
    assigned = (
        CreditAssignment.objects.filter(offer=offer)
        .select_related("product", "assigned_by")
        .order_by("assigned_at", "pk")
    )
    for assignment in _first_of_each_product(assigned):
        found.append(
            Obstacle(
                "credit_assigned",
                _("On %(moment)s, %(person)s assigned the monthly credit of %(product)s.")
                % {
                    "moment": _moment(assignment.assigned_at),
                    "person": _who(assignment.assigned_by),
                    "product": assignment.product,
                },
            )
        )
    subscriptions = (
        SubscriptionAssignment.objects.filter(offer=offer)
        .select_related("product", "assigned_by")
        .order_by("assigned_at", "pk")
    )
    for assignment in _first_of_each_product(subscriptions):
        found.append(
            Obstacle(
                "subscription_assigned",
                _("On %(moment)s, %(person)s assigned a %(product)s subscription.")
                % {
                    "moment": _moment(assignment.assigned_at),
                    "person": _who(assignment.assigned_by),
                    "product": assignment.product,
                },
            )
        )
    filed = (
        Case.objects.filter(kind=Case.Kind.ADVISORY, allowance__offer=offer)
        .select_related("opened_by")
        .order_by("opened_at", "pk")
        .first()
    )
    if filed:
        found.append(
            Obstacle(
                "advisory_request",
                _("On %(moment)s, %(person)s filed advisory request %(number)s.")
                % {
                    "moment": _moment(filed.opened_at),
                    "person": _who(filed.opened_by),
                    "number": filed.number,
                },
            )
        )
    return found


def _first_of_each_product(uses):
    """The first of `uses` (rows with a product_id, in order) for each product: it says when
    the product was first used."""
    first = {}
    for use in uses:
        first.setdefault(use.product_id, use)
    return first.values()


def _lock_offer(offer_pk):
    return (
        MembershipOffer.objects.select_for_update(no_key=True, of=("self",))
        .select_related("partner", "competency")
        .get(pk=offer_pk)
    )


def _clean(text, empty_message):
    text = (text or "").strip()
    if not text:
        raise Refused(empty_message)
    if len(text) > TEXT_MAX_LENGTH:
        raise Refused(_("Write it in 1000 characters or fewer."))
    return text


def request_cancellation(person, offer, reason):
    """`person` asks to cancel `offer`, one of their company's, for a refund, saying why.

    Returns the CancellationRequest, open. Raises Refused (nothing saved) if they may not
    (permissions.CANCEL_OFFERS), the reason is empty or over 1000 characters, the offer can't
    be cancelled (the first of `obstacles`), or a request of it waits already (the
    one_open_cancellation_per_offer constraint decides, so two admins at once make one).
    Audited (CANCELLATION_REQUESTED); support staff who decide are told (a notice each).
    """
    if not can(person, CANCEL_OFFERS) or offer.partner_id != person.partner_id:
        raise Refused(_("You may not cancel this company's offers."))
    reason = _clean(reason, _("Say why you want to cancel the offer."))
    with transaction.atomic():
        offer = _lock_offer(offer.pk)
        found = obstacles(offer)
        if found:
            raise Refused(found[0].text)
        try:
            with transaction.atomic():
                request = CancellationRequest.objects.create(
                    offer=offer,
                    partner=offer.partner,
                    requested_by=person,
                    reason=reason,
                    requested_at=clock.now(),
                )
        except IntegrityError:
            raise Refused(
                _("A cancellation of this offer is already waiting for a decision.")
            ) from None
        _audit(request, Action.CANCELLATION_REQUESTED, person, reason=reason)
        url = reverse("admin:cancellations_cancellationrequest_change", args=[request.pk])
        for staff in deciders():
            tell(
                staff,
                Notice.Kind.CANCELLATION_REQUESTED,
                about=f"cancellation:{request.pk}",
                context=_context(request),
                url=url,
            )
    return request


def deciders():
    """Active support staff who may decide cancellation requests (a User queryset)."""
    return User.objects.staff_who_may("change_cancellationrequest")


def approve(staff, request, note=""):
    """Support staff approve the request: the offer and its benefits end today (its
    `cancelled_on`). Returns the request.

    Raises Refused if it was decided already (the first decision stands), or if the offer
    can no longer be cancelled (a benefit used meanwhile; the 30 days are counted to the day
    it was asked for), or the note is over 1000 characters. Audited (CANCELLATION_APPROVED);
    the requester and the company's admins who may cancel are told.
    """
    note = (note or "").strip()
    if len(note) > TEXT_MAX_LENGTH:
        raise Refused(_("Write it in 1000 characters or fewer."))
    with transaction.atomic():
        offer = _lock_offer(request.offer_id)
        request = _open_or_refuse(request)
        today = clock.today()
        found = obstacles(offer, today, asked_on=timezone.localdate(request.requested_at))
        if found:
            raise Refused(
                _("This cancellation can't be approved: %(why)s Decline it, saying why.")
                % {"why": " ".join(obstacle.text for obstacle in found)}
            )
        offer.cancelled_on = today
        offer.save(update_fields=["cancelled_on"])
        _decide(request, State.APPROVED, staff, note)
    return request


def decline(staff, request, note):
    """Support staff decline the request, saying why in `note` (the partner reads it).
    Returns the request. Raises Refused if it was decided already, or the note is empty or
    over 1000 characters. Audited (CANCELLATION_DECLINED); the partner's side is told."""
    note = _clean(note, _("Say why the cancellation is declined: the partner reads it."))
    with transaction.atomic():
        _lock_offer(request.offer_id)
        request = _open_or_refuse(request)
        _decide(request, State.DECLINED, staff, note)
    return request


def decline_on_use(sender, offer, user, facts, **kwargs):
    """Decline the offer's open cancellation, if any, because a benefit of it was just used
    (the receiver of entitlements.signals.benefit_used; issue: "viewing a key while a request
    is open declines it automatically, with the reason"). Runs in the transaction of the use,
    with the offer locked; returns nothing."""
    request = (
        CancellationRequest.objects.select_for_update()
        .filter(offer=offer, state=State.OPEN)
        .first()
    )
    if request is not None:
        _decide(request, State.DECLINED, None, "", used={**facts, "by": _who(user)})


def _open_or_refuse(request):
    locked = CancellationRequest.objects.select_for_update().get(pk=request.pk)
    if locked.state != State.OPEN:
        raise Refused(ALREADY[locked.state])
    return locked


def _decide(request, state, staff, note, used=None):
    request.state = state
    request.decided_at = clock.now()
    request.decided_by = staff
    request.note = note
    request.used = used or {}
    request.save(update_fields=["state", "decided_at", "decided_by", "note", "used"])
    action = (
        Action.CANCELLATION_APPROVED if state == State.APPROVED else Action.CANCELLATION_DECLINED
    )
    _audit(request, action, staff, note=note, **({"used": used} if used else {}))
    kind = (
        Notice.Kind.CANCELLATION_APPROVED
        if state == State.APPROVED
        else Notice.Kind.CANCELLATION_DECLINED
    )
    used = used or {}
    context = {
        **_context(request),
        "note": note,
        "benefit": used.get("benefit", ""),
        "used_product": used.get("product", ""),
        "used_cloud": used.get("cloud_product", ""),
        "used_credit": used.get("credit", ""),
        "used_request": used.get("advisory_request", ""),
        "used_by": used.get("by", ""),
    }
    url = reverse("cancellations:offer", args=[request.offer_id])
    told = {request.requested_by} | set(people_who_can(request.partner, CANCEL_OFFERS))
    for person in told:
        if person is not None and person.is_active and person.partner_id == request.partner_id:
            tell(person, kind, about=f"cancellation:{request.pk}", context=context, url=url)


def _context(request):
    return {
        "number": request.number,
        "offer": request.offer.facts,
        "partner": request.partner.name,
        "requested_by": _who(request.requested_by),
        "reason": request.reason,
    }


def _audit(request, action, actor, **facts):
    with translation.override(settings.LANGUAGE_CODE):  # the log's summary, for staff
        record(
            request.partner,
            action,
            f"{request.number}: {request.offer.title}",
            actor,
            {"offer": request.offer.facts, "cancellation": request.number, **facts},
        )
