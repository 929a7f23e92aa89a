"""Reminders: each once per contract (or offer) and threshold, however many sweeps run."""

import datetime

from django.core import mail
from django.utils.formats import date_format

from entitlements.models import MembershipOffer
from entitlements.rules import Benefit, OfferKind
from notices.models import Notice
from notices.reminders import send_reminders, tell_advisory_hours_expiring
from notices.services import send_pending
from support.models import ContractLink, SupportContract

from .factories import OfferFactory, competency, contract_for

Kind = Notice.Kind


def ending_in(contract, days, clock):
    SupportContract.objects.filter(pk=contract.pk).update(
        starts_on=clock.now().date() - datetime.timedelta(days=300),
        ends_on=clock.now().date() + datetime.timedelta(days=days),
    )


def told(kind=None):
    notices = Notice.objects.exclude(kind=Kind.IDS_READY).order_by("recipient__email", "kind")
    if kind:
        notices = notices.filter(kind=kind)
    return [(n.recipient.email, n.kind) for n in notices]


def ids_ready_emailed():
    """The emails that the contracts' IDs are ready, sent and set aside."""
    send_pending()
    mail.outbox.clear()


def sweep_days(clock, days):
    """Run the reminders, and the outbox's sweep, every 4 hours for `days` days."""
    for _ in range(days * 6):
        clock.advance(hours=4)
        send_reminders()
        send_pending()


def test_a_contract_ending_in_7_days_is_told_once_to_admins_and_its_holders(
    alice, mona, aaron, nora, product_support, clock
):
    ids_ready_emailed()
    ContractLink.objects.create(user=nora, contract=product_support)  # a holder without a role
    ending_in(product_support, 7, clock)
    for _ in range(3):
        send_reminders()
        send_pending()
    assert told() == [
        ("alice@contoso.example", Kind.CONTRACT_EXPIRING_7),
        ("mona@contoso.example", Kind.CONTRACT_EXPIRING_7),
        ("nora@contoso.example", Kind.CONTRACT_EXPIRING_7),
    ]
    assert sorted(m.to[0] for m in mail.outbox) == [
        "alice@contoso.example",
        "mona@contoso.example",
        "nora@contoso.example",
    ]
    assert f"contract {product_support.contract_id} ends on" in mail.outbox[0].subject


def test_each_threshold_once_and_a_contract_found_late_gets_the_nearer_only(
    alice, product_support, signature_5_pack, clock
):
    ids_ready_emailed()
    ending_in(product_support, 31, clock)
    ending_in(signature_5_pack, 5, clock)
    sweep_days(clock, 1)  # product support: 30 days left now
    assert Notice.objects.filter(about=f"contract:{product_support.pk}").count() == 1
    sweep_days(clock, 23)  # 7 days left
    assert [
        n.kind for n in Notice.objects.filter(about=f"contract:{product_support.pk}").order_by("pk")
    ] == [Kind.CONTRACT_EXPIRING_30, Kind.CONTRACT_EXPIRING_7]
    late = Notice.objects.filter(about=f"contract:{signature_5_pack.pk}")
    assert [n.kind for n in late] == [Kind.CONTRACT_EXPIRING_7]
    assert len(mail.outbox) == 3


def test_two_or_fewer_incidents_left_is_told_once_unlimited_never(
    alice, product_support, contoso, clock
):
    unlimited = contract_for(
        contoso.offers.get(level="gold"), Benefit.SIGNATURE_CLOUD_SUPPORT, alice
    )
    assert unlimited.is_unlimited
    ids_ready_emailed()
    SupportContract.objects.filter(pk=product_support.pk).update(incidents_remaining=3)
    send_reminders()
    assert told(Kind.INCIDENTS_LOW) == []
    SupportContract.objects.filter(pk=product_support.pk).update(incidents_remaining=2)
    send_reminders()
    SupportContract.objects.filter(pk=product_support.pk).update(incidents_remaining=1)
    send_reminders()
    assert told(Kind.INCIDENTS_LOW) == [("alice@contoso.example", Kind.INCIDENTS_LOW)]
    send_pending()
    [email] = mail.outbox
    assert email.subject == (
        f"2 incidents left on Microsoft Product Support contract {product_support.contract_id}"
    )


def test_an_offer_in_its_renewal_window_is_told_unless_renewed(alice, mona, bob, clock):
    today = clock.now().date()
    fabrikam_pack = MembershipOffer.objects.get(partner=bob.partner)
    MembershipOffer.objects.filter(pk=fabrikam_pack.pk).update(
        starts_on=today - datetime.timedelta(days=400), ends_on=today - datetime.timedelta(days=1)
    )
    # Contoso's Gold ended 31 days ago (window closed); its Silver ended yesterday but was renewed.
    gold = alice.partner.offers.get(level="gold")
    MembershipOffer.objects.filter(pk=gold.pk).update(
        starts_on=today - datetime.timedelta(days=400), ends_on=today - datetime.timedelta(days=31)
    )
    silver = alice.partner.offers.get(level="silver")
    MembershipOffer.objects.filter(pk=silver.pk).update(
        starts_on=today - datetime.timedelta(days=400), ends_on=today - datetime.timedelta(days=1)
    )
    OfferFactory(
        partner=alice.partner,
        competency=silver.competency,
        level=silver.level,
        starts_on=today,
        ends_on=today + datetime.timedelta(days=365),
    )
    send_reminders()
    send_reminders()
    assert told(Kind.RENEWAL_WINDOW) == [("bob@fabrikam.example", Kind.RENEWAL_WINDOW)]
    send_pending()
    [email] = mail.outbox
    window_ends = today + datetime.timedelta(days=29)
    assert email.subject == f"Renew Microsoft Action Pack by {date_format(window_ends)}"
    assert fabrikam_pack.kind == OfferKind.ACTION_PACK


def test_advisory_hours_expiring_are_told_once_to_admins(alice, mona, aaron, contoso, clock):
    ends = datetime.date(2027, 6, 30)
    for _ in range(2):
        tell_advisory_hours_expiring(contoso, about="advisory-hours:1", hours_left=3, ends_on=ends)
    assert told() == [
        ("alice@contoso.example", Kind.ADVISORY_HOURS_EXPIRING),
        ("mona@contoso.example", Kind.ADVISORY_HOURS_EXPIRING),
    ]
    send_pending()
    assert mail.outbox[0].subject == "3 advisory hours expire on June 30, 2027"


def test_a_contract_followed_by_its_renewals_is_not_told_but_another_competencys_is(
    alice, contoso, product_support, clock
):
    ids_ready_emailed()
    gold = product_support.activation.offer
    # The membership ended yesterday and was renewed today, in its renewal window, while its
    # contract still runs; and another Gold competency has a newer contract of its own.
    today = clock.now().date()
    MembershipOffer.objects.filter(pk=gold.pk).update(
        starts_on=today - datetime.timedelta(days=365), ends_on=today - datetime.timedelta(days=1)
    )
    renewed = OfferFactory(partner=contoso, competency=gold.competency, starts_on=today)
    contract_for(renewed, Benefit.PRODUCT_SUPPORT, alice)
    security = OfferFactory(partner=contoso, competency=competency("Security"))
    other = contract_for(security, Benefit.PRODUCT_SUPPORT, alice)
    ending_in(product_support, 7, clock)
    ending_in(other, 7, clock)
    SupportContract.objects.filter(pk=other.pk).update(starts_on=clock.now().date())
    send_reminders()
    assert set(Notice.objects.exclude(kind=Kind.IDS_READY).values_list("about", flat=True)) == {
        f"contract:{other.pk}"
    }
