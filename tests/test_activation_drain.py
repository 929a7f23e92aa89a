"""The sweep moves a batch of due activations together (issue 20): the same statements for one
request as for many, each request moved once, the IDs unique, and a request that can't move
on stopped alone, saying why."""

import itertools

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from activation import services
from activation.models import ActivationEvent, ActivationRequest, Failure
from audit.models import AuditEntry
from entitlements.models import Level, Role
from entitlements.rules import Benefit
from notices.models import Notice, WebhookDelivery
from support.models import SupportContract

from .factories import OfferFactory, PartnerFactory, UserFactory, WebhookEndpointFactory, competency

State = ActivationRequest.State


def companies_asking(count, first=0):
    """`count` companies (numbered from `first`), each with a Global admin who asked to
    activate Product Support of its Gold competency, and an endpoint told of every activation
    event; their requests."""
    requests = []
    for n in range(first, first + count):
        partner = PartnerFactory(name=f"Drain {n}", mpn_id=f"{5000000 + n}")
        offer = OfferFactory(partner=partner, competency=competency("Security"), level=Level.GOLD)
        admin = UserFactory(
            email=f"admin{n}@drain{n}.example", partner=partner, roles=[Role.GLOBAL_ADMIN]
        )
        WebhookEndpointFactory(
            partner=partner,
            created_by=admin,
            events=["activation.stage_changed", "activation.completed"],
        )
        request, _created = services.request_activation(offer, Benefit.PRODUCT_SUPPORT, admin)
        requests.append(request)
    return requests


def next_business_day(clock):
    clock.advance(days=3 if clock.now().weekday() == 4 else 1)


def sweep_queries(clock):
    """The queries of the sweep that moves everything due a stage on, a day later."""
    next_business_day(clock)
    with CaptureQueriesContext(connection) as queries:
        services.sweep()
    return len(queries)


def test_a_sweep_runs_the_same_statements_for_one_request_as_for_forty(db, clock):
    one = companies_asking(1)
    counts_for_one = [sweep_queries(clock) for _stage in range(3)]
    assert ActivationRequest.objects.get(pk=one[0].pk).state == State.ACTIVE
    companies_asking(40, first=1)
    counts_for_forty = [sweep_queries(clock) for _stage in range(3)]
    assert counts_for_forty == counts_for_one
    assert set(ActivationRequest.objects.values_list("state", flat=True)) == {State.ACTIVE}
    # Each moved once, and everyone who is told was told once.
    assert ActivationEvent.objects.count() == 41 * 4  # asked, then three stages
    assert SupportContract.objects.count() == 41
    assert AuditEntry.objects.filter(action=AuditEntry.Action.IDS_REVEALED).count() == 41
    assert Notice.objects.filter(kind=Notice.Kind.IDS_READY).count() == 41
    assert WebhookDelivery.objects.filter(event="activation.completed").count() == 41
    assert WebhookDelivery.objects.filter(event="activation.stage_changed").count() == 41 * 3


def test_ids_taken_already_or_drawn_twice_in_a_batch_are_drawn_again(db, clock, monkeypatch):
    companies_asking(1)
    for _stage in range(3):
        sweep_queries(clock)
    taken = SupportContract.objects.get()
    companies_asking(3, first=1)
    for _stage in range(2):
        sweep_queries(clock)
    fresh = (str(n) for n in itertools.count(300_000_000))
    # The first draw repeats the taken Access ID and gives two contracts one Contract ID.
    draws = itertools.chain([taken.access_id, "333333333", "444444444", "333333333"], fresh)
    monkeypatch.setattr(services, "draw_nine_digits", lambda: next(draws))
    sweep_queries(clock)
    contracts = SupportContract.objects.exclude(pk=taken.pk)
    assert contracts.count() == 3
    ids = [*contracts.values_list("access_id", flat=True)]
    ids += contracts.values_list("contract_id", flat=True)
    assert len(set(ids)) == 6
    assert not {taken.access_id, taken.contract_id} & set(ids)


def test_a_request_that_cant_move_on_stops_alone_saying_why(db, clock):
    requests = companies_asking(3)
    sweep_queries(clock)
    left = requests[1].offer.partner
    left.is_mpn_associated = False
    left.save()
    for _stage in range(2):
        sweep_queries(clock)
    states = {r.pk: r for r in ActivationRequest.objects.all()}
    assert states[requests[0].pk].state == State.ACTIVE
    assert states[requests[2].pk].state == State.ACTIVE
    assert states[requests[1].pk].state == State.FAILED
    assert states[requests[1].pk].failure_code == Failure.LEFT_MPN
    assert not SupportContract.objects.filter(activation=requests[1]).exists()


def test_a_batch_that_fails_midway_leaves_nothing_behind_and_each_moves_once(
    db, clock, monkeypatch
):
    requests = companies_asking(3)
    for _stage in range(2):
        sweep_queries(clock)
    real_record = services._record_moves
    calls = []

    def fails_for_the_batch(moves, *args, **kwargs):
        calls.append(len(moves))
        if len(moves) > 1:  # the batch's contracts and states are written by now
            raise OperationalError("connection reset")
        return real_record(moves, *args, **kwargs)

    monkeypatch.setattr(services, "_record_moves", fails_for_the_batch)
    sweep_queries(clock)
    assert calls == [3, 1, 1, 1]  # the batch, then each alone
    assert SupportContract.objects.count() == 3
    for request in requests:
        request.refresh_from_db()
        assert request.state == State.ACTIVE
        assert request.events.filter(to_state=State.ACTIVE).count() == 1
    assert Notice.objects.filter(kind=Notice.Kind.IDS_READY).count() == 3


@pytest.mark.parametrize("still_may_see", [True, False])
def test_the_requester_is_told_only_if_they_may_still_see_the_ids(db, clock, still_may_see):
    partner = PartnerFactory(name="Drain", mpn_id="5100000")
    offer = OfferFactory(partner=partner, competency=competency("Security"), level=Level.GOLD)
    UserFactory(email="ga@drain.example", partner=partner, roles=[Role.GLOBAL_ADMIN])
    mona = UserFactory(email="mona@drain.example", partner=partner, roles=[Role.MPN_PARTNER_ADMIN])
    services.request_activation(offer, Benefit.PRODUCT_SUPPORT, mona)
    if not still_may_see:
        mona.role_assignments.all().delete()
    for _stage in range(3):
        sweep_queries(clock)
    told = set(Notice.objects.values_list("recipient__email", flat=True))
    expected = {"ga@drain.example", "mona@drain.example"} if still_may_see else {"ga@drain.example"}
    assert told == expected


def test_someone_who_moved_company_is_not_told_their_old_companys_ids(db, clock):
    """Their request in each company completing in one batch: only the company they are in
    now tells them its IDs (a batch once let the new request vouch for the old)."""
    alpha = PartnerFactory(name="Alpha", mpn_id="6100001")
    beta = PartnerFactory(name="Beta", mpn_id="6100002")
    in_alpha = OfferFactory(partner=alpha, competency=competency("Security"), level=Level.GOLD)
    in_beta = OfferFactory(partner=beta, competency=competency("Security"), level=Level.GOLD)
    UserFactory(email="ga@alpha.example", partner=alpha, roles=[Role.GLOBAL_ADMIN])
    UserFactory(email="ga@beta.example", partner=beta, roles=[Role.GLOBAL_ADMIN])
    mover = UserFactory(email="mover@x.example", partner=beta, roles=[Role.MPN_PARTNER_ADMIN])
    in_beta_request, _ = services.request_activation(in_beta, Benefit.PRODUCT_SUPPORT, mover)
    mover.role_assignments.all().delete()
    mover.partner = alpha
    mover.save()
    mover.role_assignments.create(role=Role.MPN_PARTNER_ADMIN)
    in_alpha_request, _ = services.request_activation(in_alpha, Benefit.PRODUCT_SUPPORT, mover)
    for _stage in range(3):
        sweep_queries(clock)
    told = set(Notice.objects.values_list("recipient__email", "about"))
    assert told == {
        ("ga@alpha.example", f"activation:{in_alpha_request.pk}"),
        ("mover@x.example", f"activation:{in_alpha_request.pk}"),
        ("ga@beta.example", f"activation:{in_beta_request.pk}"),
    }


def test_when_no_free_ids_can_be_drawn_the_request_fails_saying_why(db, clock, monkeypatch):
    companies_asking(1)
    for _stage in range(3):
        sweep_queries(clock)
    taken = SupportContract.objects.get()
    requests = companies_asking(2, first=1)
    for _stage in range(2):
        sweep_queries(clock)
    monkeypatch.setattr(services, "draw_nine_digits", lambda: taken.access_id)
    sweep_queries(clock)
    for request in requests:
        request.refresh_from_db()
        assert (request.state, request.failure_code) == (State.FAILED, Failure.NO_IDS)
    assert SupportContract.objects.count() == 1
