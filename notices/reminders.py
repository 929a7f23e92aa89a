"""Reminders: contracts about to end, incidents running out, renewal windows, advisory hours.

`send_reminders` runs every hour (beat) and tells whoever should know of what is due today by
the one clock. It can run any number of times: each reminder is one Notice per person and
event, a unique row (notices.models), so a second run tells nobody again.

Who is told: the company's people who receive reminders (permissions.RECEIVE_REMINDERS: Global
admins and MPN partner admins, who may activate and renew) and, for a contract, the accounts
that added it to their support account (ContractLink), who use its incidents.
"""

import datetime
import math

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse

from activation import clock
from entitlements.models import MembershipOffer
from entitlements.permissions import RECEIVE_REMINDERS, people_who_can
from entitlements.rules import RENEWAL_WINDOW_DAYS, OfferKind
from support.models import ContractLink, SupportContract

from . import webhooks
from .models import Notice, WebhookEvent
from .services import tell

Kind = Notice.Kind
# Thresholds of a contract's end, nearest first (issue "Reminders and notices": "in 30 and in
# 7 days"): a contract gets the nearest threshold reached, so one first seen 5 days before its
# end gets the 7-day reminder only.
EXPIRY_THRESHOLDS = [(7, Kind.CONTRACT_EXPIRING_7), (30, Kind.CONTRACT_EXPIRING_30)]
# What a company's webhook endpoints are told of each of these reminders.
WEBHOOK_EVENTS = {
    Kind.CONTRACT_EXPIRING_30: WebhookEvent.CONTRACT_EXPIRING,
    Kind.CONTRACT_EXPIRING_7: WebhookEvent.CONTRACT_EXPIRING,
    Kind.INCIDENTS_LOW: WebhookEvent.INCIDENTS_RUNNING_OUT,
}
# "2 or fewer incidents left" (the same issue), on a contract with counted incidents.
FEW_INCIDENTS = 2


def send_reminders():
    """Tell of every reminder due today (the one clock); returns how many people were told
    something new. Idempotent: the constraint on Notice makes each reminder once."""
    today = clock.today()
    told = 0
    receivers = _Receivers()
    for limit, kind in EXPIRY_THRESHOLDS:
        for contract in _not_told(_contracts_ending(today, limit), kind, "contract"):
            told += _tell_about_contract(contract, kind, receivers)
    few = _not_told(_contracts_with_few_incidents(today), Kind.INCIDENTS_LOW, "contract")
    for contract in few:
        told += _tell_about_contract(contract, Kind.INCIDENTS_LOW, receivers)
    for offer in _not_told(_offers_in_renewal_window(today), Kind.RENEWAL_WINDOW, "offer"):
        with transaction.atomic():
            for person in receivers.of(offer.partner_id, offer.partner):
                told += tell(
                    person,
                    Kind.RENEWAL_WINDOW,
                    about=f"offer:{offer.pk}",
                    context={
                        "offer": offer.facts,
                        "partner": offer.partner.name,
                        "ended_on": offer.ends_on,
                        "window_ends_on": offer.ends_on
                        + datetime.timedelta(days=RENEWAL_WINDOW_DAYS),
                    },
                    url=reverse("entitlements:technical_benefits"),
                )
    return told


def tell_advisory_hours_expiring(partner, *, about, hours_left, ends_on):
    """Tell the company's people who receive reminders that advisory hours will lapse unused.

    Takes the Partner, `about` (the hours' own key, e.g. "advisory-hours:<offer pk>"), the
    hours left and the date they lapse. Returns how many were told for the first time. Meant
    for the advisory hours' own sweep (cases), which knows when hours lapse; call it in a
    transaction of that sweep, any number of times.
    """
    told = 0
    for person in people_who_can(partner, RECEIVE_REMINDERS):
        told += tell(
            person,
            Kind.ADVISORY_HOURS_EXPIRING,
            about=about,
            # A whole number, rounded up (half an hour left is not none): the templates count
            # it, and a Decimal would be stored as text.
            context={
                "partner": partner.name,
                "hours_left": math.ceil(hours_left),
                "ends_on": ends_on,
            },
            url=reverse("entitlements:technical_benefits"),
        )
    return told


class _Receivers:
    """people_who_can(partner, RECEIVE_REMINDERS), asked once per company per run."""

    def __init__(self):
        self.known = {}

    def of(self, partner_id, partner):
        if partner_id not in self.known:
            self.known[partner_id] = list(people_who_can(partner, RECEIVE_REMINDERS))
        return self.known[partner_id]


def _not_told(queryset, kind, prefix):
    """The rows of `queryset` nobody has been told `kind` of yet (Notice.about is
    "<prefix>:<pk>"): each reminder is told to everyone at once, in one transaction, so an
    hourly run looks only at what is new. The constraint still decides who is told."""
    about = Concat(Value(f"{prefix}:"), Cast(OuterRef("pk"), CharField()))
    return queryset.exclude(Exists(Notice.objects.filter(kind=kind, about=about)))


def _current_contracts():
    """Contracts not yet followed by a newer one of the same benefit from a renewal of the same
    membership (same kind, same competency): the newer one is the one to use."""
    newer = SupportContract.objects.filter(
        Q(activation__offer__competency=OuterRef("activation__offer__competency"))
        | Q(activation__offer__kind=OfferKind.ACTION_PACK),
        partner=OuterRef("partner"),
        benefit=OuterRef("benefit"),
        activation__offer__kind=OuterRef("activation__offer__kind"),
        starts_on__gt=OuterRef("starts_on"),
    )
    return SupportContract.objects.exclude(Exists(newer))


def _contracts_ending(today, limit):
    """Contracts ending within `limit` days; within the nearer threshold, only that one's."""
    nearer = max((other for other, _kind in EXPIRY_THRESHOLDS if other < limit), default=-1)
    return (
        _current_contracts()
        .filter(
            ends_on__gt=today + datetime.timedelta(days=nearer),
            ends_on__lte=today + datetime.timedelta(days=limit),
        )
        .select_related("partner")
        .order_by("pk")
    )


def _contracts_with_few_incidents(today):
    return (
        _current_contracts()
        .filter(
            ends_on__gte=today,
            incidents_total__isnull=False,
            incidents_remaining__lte=FEW_INCIDENTS,
        )
        .select_related("partner")
        .order_by("pk")
    )


def _offers_in_renewal_window(today):
    """Offers whose renewal window (DOMAIN.md: the day after the end, 30 days) holds today,
    and that the company has not renewed: no offer of the same kind and competency started
    since."""
    renewed = MembershipOffer.objects.filter(
        Q(competency=OuterRef("competency")) | Q(kind=OfferKind.ACTION_PACK),
        partner=OuterRef("partner"),
        kind=OuterRef("kind"),
        starts_on__gt=OuterRef("starts_on"),
        cancelled_on__isnull=True,  # a renewal cancelled for a refund renewed nothing
    )
    return (
        MembershipOffer.objects.filter(
            ends_on__lt=today,
            ends_on__gte=today - datetime.timedelta(days=RENEWAL_WINDOW_DAYS),
            cancelled_on__isnull=True,  # cancelled for a refund: nothing to renew
        )
        .exclude(Exists(renewed))
        .select_related("partner", "competency")
        .order_by("pk")
    )


def _tell_about_contract(contract, kind, receivers):
    """Tell the contract's company's receivers and its holders, once each; returns how many
    were told for the first time."""
    people = {person.pk: person for person in receivers.of(contract.partner_id, contract.partner)}
    holders = ContractLink.objects.filter(
        contract=contract, user__is_active=True, user__partner_id=contract.partner_id
    ).select_related("user")
    for link in holders:
        people.setdefault(link.user_id, link.user)
    context = {
        "benefit": contract.benefit,
        "partner": contract.partner.name,
        "contract_id": contract.contract_id,
        "ends_on": contract.ends_on,
        "incidents_remaining": contract.incidents_remaining,
    }
    told = 0
    with transaction.atomic():
        for person in people.values():
            told += tell(
                person,
                kind,
                about=f"contract:{contract.pk}",
                context=context,
                url=reverse("support:contracts"),
            )
        webhooks.announce(
            contract.partner_id,
            WEBHOOK_EVENTS[kind],
            subject=f"contract:{contract.pk}",
            key=f"{kind}:contract:{contract.pk}",
            data={
                "contract": contract.pk,
                "benefit": contract.benefit,
                "ends_on": contract.ends_on,
                "days_left": (contract.ends_on - clock.today()).days,
                "incidents_remaining": contract.incidents_remaining,
            },
        )
    return told
