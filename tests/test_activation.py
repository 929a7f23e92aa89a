"""Activation as a state machine, on a clock the tests move: no sleeping."""

import datetime

import pytest
from django.core import mail
from django.db import OperationalError
from django.urls import reverse
from django.utils.formats import date_format

from activation import services
from activation.models import ActivationEvent, ActivationRequest
from entitlements.rules import Benefit
from notices.models import Notice
from notices.services import LEASE, send_pending
from support import services as support_services
from support.models import SupportContract

State = ActivationRequest.State
PAGE = "/dashboard/mpn/membership/benefits/technical"


@pytest.fixture
def gold(contoso):
    return contoso.offers.get(level="gold")


@pytest.fixture
def silver(contoso):
    return contoso.offers.get(level="silver")


def activate_url(offer, benefit="product_support"):
    return reverse("activation:activate", args=[offer.pk, benefit])


def detail_url(offer, benefit="product_support"):
    return reverse("entitlements:benefit_detail", args=[offer.pk, benefit])


def start(offer, user, benefit=Benefit.PRODUCT_SUPPORT):
    request, created = services.request_activation(offer, benefit, user)
    assert created
    return request


def run_days(clock, days):
    """Let `days` days pass, sweeping every hour as beat would."""
    for _ in range(days * 24):
        clock.advance(hours=1)
        services.sweep()


def test_activate_records_who_when_and_shows_it_pending(sign_in, alice, gold, clock):
    client = sign_in(alice)
    response = client.post(activate_url(gold))
    assert response.status_code == 302
    assert response["Location"] == detail_url(gold)

    request = ActivationRequest.objects.get()
    assert (request.offer, request.benefit) == (gold, Benefit.PRODUCT_SUPPORT)
    assert request.requested_by == alice
    assert request.requested_at == clock.now()
    assert request.state == State.SUBMITTED
    # Three business days from Monday 09:00.
    assert request.expected_at == clock.now() + datetime.timedelta(days=3)

    page = client.get(response["Location"]).content.decode()
    assert "Allow a few days to process your activation request." in page
    assert "Activation pending" in page
    assert "by you." in page  # Alice herself asked
    assert "Expected by" in page


def test_it_moves_through_its_stages_one_business_day_each(alice, gold, clock):
    request = start(gold, alice)
    monday = clock.now()
    stamps = []
    for expected in (State.IN_REVIEW, State.PROVISIONING, State.ACTIVE):
        run_days(clock, 1)
        request.refresh_from_db()
        assert request.state == expected
        stamps.append(getattr(request, services.STAMP[expected]))
    assert stamps == [monday + datetime.timedelta(days=d) for d in (1, 2, 3)]
    assert [(e.from_state, e.to_state) for e in request.events.all()] == [
        ("", State.SUBMITTED),
        (State.SUBMITTED, State.IN_REVIEW),
        (State.IN_REVIEW, State.PROVISIONING),
        (State.PROVISIONING, State.ACTIVE),
    ]


def test_nothing_moves_before_it_is_due(alice, gold, clock):
    request = start(gold, alice)
    clock.advance(hours=23, minutes=59)
    assert services.sweep() == 0
    assert services.advance_due(request.pk) is False
    request.refresh_from_db()
    assert request.state == State.SUBMITTED


def test_a_request_made_on_friday_completes_after_the_weekend(alice, gold, clock):
    clock.advance(days=4)  # Friday
    request = start(gold, alice)
    assert request.expected_at.strftime("%A") == "Wednesday"


def test_the_ids_are_nine_digits_and_the_contract_has_its_incidents(alice, gold, clock):
    request = start(gold, alice)
    run_days(clock, 3)
    contract = SupportContract.objects.get(activation=request)
    assert len(contract.access_id) == len(contract.contract_id) == 9
    assert contract.access_id.isdigit() and contract.contract_id.isdigit()
    assert contract.access_id != contract.contract_id
    assert (contract.incidents_total, contract.incidents_remaining) == (20, 20)
    assert contract.partner == gold.partner
    assert contract.starts_on == clock.now().date()


@pytest.mark.parametrize(
    ("level", "benefit", "incidents", "pack"),
    [
        ("silver", Benefit.PRODUCT_SUPPORT, 15, ""),
        ("silver", Benefit.SIGNATURE_CLOUD_SUPPORT, 5, "Signature 5-pack"),
        ("gold", Benefit.SIGNATURE_CLOUD_SUPPORT, None, ""),  # Cloud Platform: unlimited
    ],
)
def test_each_contract_carries_its_entitlement(
    alice, contoso, clock, level, benefit, incidents, pack
):
    request = start(contoso.offers.get(level=level), alice, benefit)
    run_days(clock, 3)
    contract = SupportContract.objects.get(activation=request)
    assert contract.incidents_total == contract.incidents_remaining == incidents
    assert contract.pack_name == pack


def test_a_contract_lasts_a_year_but_not_past_the_offer_end_plus_30_days(alice, gold, clock):
    gold.ends_on = clock.now().date() + datetime.timedelta(days=100)
    gold.save()
    request = start(gold, alice)
    run_days(clock, 3)
    assert request.contract.ends_on == gold.ends_on + datetime.timedelta(days=30)

    later = start(gold, alice, Benefit.SIGNATURE_CLOUD_SUPPORT)  # on Thursday
    gold.ends_on = clock.now().date() + datetime.timedelta(days=700)
    gold.save()
    run_days(clock, 5)  # three business days, over a weekend
    later.refresh_from_db()
    assert later.contract.ends_on == later.contract.starts_on + datetime.timedelta(days=365)


def test_a_duplicate_message_or_sweep_changes_nothing_once_active(alice, gold, clock):
    request = start(gold, alice)
    run_days(clock, 3)
    events = request.events.count()
    assert services.advance_due(request.pk) is False
    assert services.sweep() == 0
    assert services.complete_now(request.pk, None) is None
    assert SupportContract.objects.filter(activation=request).count() == 1
    assert request.events.count() == events


def test_every_viewer_sees_the_ids_with_incidents_remaining(sign_in, alice, aaron, gold, clock):
    request = start(gold, alice)
    run_days(clock, 3)
    contract = SupportContract.objects.get(activation=request)
    page = sign_in(aaron).get(PAGE).content.decode()
    assert contract.access_id in page and contract.contract_id in page
    assert f'data-copy="{contract.access_id}"' in page
    assert f'data-copy="{contract.contract_id}"' in page
    assert "20 of 20" in page
    assert ">Active</span>" in page


def test_ids_stay_hidden_from_users_who_cannot_see_the_page(sign_in, alice, nora, gold, clock):
    start(gold, alice)
    run_days(clock, 3)
    page = sign_in(nora).get(PAGE).content.decode()
    assert SupportContract.objects.get().access_id not in page


def test_the_requester_and_global_admins_are_emailed_once(alice, mona, gold, clock):
    start(gold, mona)
    run_days(clock, 3)
    assert send_pending() == 2
    assert send_pending() == 0
    # One email each: each is written in its reader's language.
    assert [message.to for message in mail.outbox] == [
        ["alice@contoso.example"],
        ["mona@contoso.example"],
    ]
    contract = SupportContract.objects.get()
    for message in mail.outbox:
        assert contract.access_id in message.body and contract.contract_id in message.body
        assert detail_url(gold) in message.body


def test_ids_reissued_before_the_email_goes_are_the_ones_it_carries(alice, gold, clock):
    start(gold, alice)
    run_days(clock, 3)
    contract = SupportContract.objects.get()
    old = (contract.access_id, contract.contract_id)
    contract, reissued = support_services.reissue_ids(contract.pk, old[0], alice)
    assert reissued
    assert send_pending() == 1
    [message] = mail.outbox
    assert contract.access_id in message.body and contract.contract_id in message.body
    assert old[0] not in message.body and old[1] not in message.body


def test_an_offer_that_ends_during_processing_fails_with_its_reason(sign_in, alice, gold, clock):
    gold.ends_on = clock.now().date() + datetime.timedelta(days=1)
    gold.save()
    request = start(gold, alice)
    run_days(clock, 3)
    request.refresh_from_db()
    assert request.state == State.FAILED
    assert request.due_at is None
    assert "ended on" in request.failure_reason
    assert not SupportContract.objects.exists()


def test_a_failed_activation_shows_its_reason_and_can_be_tried_again(sign_in, alice, gold, clock):
    gold.ends_on = clock.now().date() + datetime.timedelta(days=1)
    gold.save()
    request = start(gold, alice)
    run_days(clock, 2)  # in review on Tuesday; on Wednesday the offer has ended
    request.refresh_from_db()
    assert (request.state, request.in_review_at is not None) == (State.FAILED, True)

    client = sign_in(alice)
    page = client.get(detail_url(gold)).content.decode()
    assert "Activation failed" in page
    assert f"Gold Cloud Platform ended on {date_format(gold.ends_on)}" in page
    assert ">Try again</button>" not in page  # it would fail the same way

    gold.ends_on += datetime.timedelta(days=365)  # renewed
    gold.save()
    assert ">Try again</button>" in client.get(detail_url(gold)).content.decode()
    client.post(reverse("activation:retry", args=[gold.pk, "product_support"]))
    request.refresh_from_db()
    assert request.state == State.IN_REVIEW  # where it stopped
    run_days(clock, 3)
    request.refresh_from_db()
    assert request.state == State.ACTIVE
    assert SupportContract.objects.filter(activation=request).count() == 1


def test_only_a_failed_activation_can_be_retried(alice, gold, clock):
    request = start(gold, alice)
    assert services.retry(request.pk, alice) is False
    request.refresh_from_db()
    assert request.state == State.SUBMITTED


def test_a_rejected_request_shows_the_reason_and_may_be_asked_again(
    sign_in, alice, gold, clock, db
):
    request = start(gold, alice)
    assert services.reject(request.pk, "This MPN ID is under review.", None)
    client = sign_in(alice)
    page = client.get(detail_url(gold)).content.decode()
    assert "Activation rejected:</strong> This MPN ID is under review." in page
    assert ">Activate</button>" in page

    client.post(activate_url(gold))
    assert ActivationRequest.objects.filter(offer=gold, state=State.SUBMITTED).count() == 1


def test_a_rejection_needs_a_reason(alice, gold, clock):
    request = start(gold, alice)
    with pytest.raises(ValueError, match="reason"):
        services.reject(request.pk, "   ", None)


def test_a_double_click_makes_one_request(sign_in, alice, gold, clock):
    client = sign_in(alice)
    client.post(activate_url(gold))
    response = client.post(activate_url(gold), follow=True)
    assert ActivationRequest.objects.count() == 1
    assert "Activation was already requested by you on" in response.content.decode()


def test_an_expired_offer_cannot_be_activated(sign_in, alice, contoso, clock):
    from .factories import OfferFactory

    expired = OfferFactory(partner=contoso, action_pack=True, expired=True)
    response = sign_in(alice).post(activate_url(expired), follow=True)
    assert "is not active, so its benefits can" in response.content.decode()
    assert not ActivationRequest.objects.exists()


def test_a_transient_error_is_retried_with_backoff(alice, gold, clock, monkeypatch):
    request = start(gold, alice)
    run_days(clock, 2)
    real_issue = services._issue_contracts
    # Once for the sweep's batch, once more for the request alone.
    failures = iter([OperationalError("connection reset")] * 2)

    def flaky(*args):
        error = next(failures, None)
        if error:
            raise error
        return real_issue(*args)

    monkeypatch.setattr(services, "_issue_contracts", flaky)
    clock.advance(days=1)
    services.sweep()
    request.refresh_from_db()
    assert (request.state, request.attempts) == (State.PROVISIONING, 1)
    assert request.due_at == clock.now() + datetime.timedelta(seconds=2)

    clock.advance(seconds=2)
    services.sweep()
    request.refresh_from_db()
    assert (request.state, request.attempts) == (State.ACTIVE, 0)


def test_a_step_that_keeps_failing_ends_as_failed(alice, gold, clock, monkeypatch, settings):
    settings.ACTIVATION_MAX_ATTEMPTS = 3
    request = start(gold, alice)

    def broken(request, today):
        raise OperationalError("still down")

    monkeypatch.setattr(services, "_problem", broken)
    run_days(clock, 2)
    request.refresh_from_db()
    assert request.state == State.FAILED
    assert request.failure_reason.startswith("Processing stopped after 3 attempts")
    assert "still down" in request.events.last().note


def test_the_row_polls_while_pending_and_stops_once_active(client, alice, gold, clock):
    client.force_login(alice)
    start(gold, alice)
    fragment = client.get(detail_url(gold), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment
    assert 'hx-trigger="load delay:30s"' in fragment  # the next stage is a day away
    assert "Submitted" in fragment

    clock.advance(hours=23, minutes=59, seconds=50)
    fragment = client.get(detail_url(gold), headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="load delay:10s"' in fragment  # and now it is near

    run_days(clock, 3)
    fragment = client.get(detail_url(gold), headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in fragment
    assert SupportContract.objects.get().access_id in fragment


def test_without_javascript_a_reload_shows_the_same(client, alice, gold, clock):
    client.force_login(alice)
    start(gold, alice)
    run_days(clock, 1)
    page = client.get(PAGE).content.decode()
    assert "Activation pending · In review" in page


def test_the_timeline_shows_each_stage_with_its_time(client, alice, gold, clock):
    client.force_login(alice)
    start(gold, alice)
    run_days(clock, 2)
    page = client.get(detail_url(gold)).content.decode()
    timeline = page[page.index('class="timeline"') :]
    assert timeline.count('class="done"') == 3  # submitted, in review, provisioning
    for stage in ("Submitted", "In review", "Provisioning", "Active"):
        assert stage in timeline


def test_every_change_is_in_the_audit_trail(alice, gold, clock):
    request = start(gold, alice)
    services.reject(request.pk, "Not eligible", alice)
    event = ActivationEvent.objects.filter(request=request).last()
    assert (event.actor, event.from_state, event.to_state, event.note) == (
        alice,
        State.SUBMITTED,
        State.REJECTED,
        "Not eligible",
    )


def test_a_mail_server_that_is_away_delays_the_notice_without_losing_it(
    alice, gold, clock, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    request = start(gold, alice)
    run_days(clock, 3)
    assert send_pending() == 0
    request.refresh_from_db()
    assert request.state == State.ACTIVE
    [notice] = Notice.objects.all()
    assert (notice.sent_at, notice.gave_up_at, notice.attempts) == (None, None, 1)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_pending() == 0  # not again at once: the next try waits a little
    clock.advance(seconds=31)
    assert send_pending() == 1
    notice.refresh_from_db()
    assert notice.sent_at == clock.now()
    assert len(mail.outbox) == 1


def test_an_ended_offer_keeps_showing_its_usable_contract(sign_in, alice, gold, clock):
    request = start(gold, alice)
    run_days(clock, 3)
    gold.ends_on = clock.now().date() - datetime.timedelta(days=1)
    gold.save()
    page = sign_in(alice).get(PAGE).content.decode()
    assert f"Ended {date_format(gold.ends_on)}" in page
    assert request.contract.access_id in page  # usable for 30 days after its offer
    other = detail_url(gold, "signature_cloud_support")
    assert "can no longer be activated" in sign_in(alice).get(other).content.decode()


def test_a_contract_past_its_end_says_so(sign_in, alice, gold, clock):
    start(gold, alice)
    run_days(clock, 3)
    SupportContract.objects.update(
        ends_on=clock.now().date() - datetime.timedelta(days=1),
        starts_on=clock.now().date() - datetime.timedelta(days=2),
    )
    page = sign_in(alice).get(PAGE).content.decode()
    assert ">Contract expired</span>" in page


def test_a_requester_who_left_the_company_is_not_emailed(alice, mona, gold, clock):
    start(gold, mona)
    run_days(clock, 3)
    mona.role_assignments.all().delete()
    send_pending()
    assert [message.to for message in mail.outbox] == [["alice@contoso.example"]]


def test_an_offer_that_no_longer_includes_the_benefit_fails_with_the_reason(alice, silver, clock):
    request = start(silver, alice, Benefit.SIGNATURE_CLOUD_SUPPORT)
    silver.kind, silver.competency, silver.level = "action_pack", None, ""
    silver.save()
    run_days(clock, 1)
    request.refresh_from_db()
    assert request.state == State.FAILED
    assert (
        request.failure_reason
        == "Microsoft Action Pack no longer includes Signature Cloud Support."
    )


def test_an_unexpected_error_fails_at_once_and_can_be_retried(alice, gold, clock, monkeypatch):
    request = start(gold, alice)
    real_check = services._problem

    def bug(request, today):
        raise KeyError("surprise")

    monkeypatch.setattr(services, "_problem", bug)
    run_days(clock, 1)
    request.refresh_from_db()
    assert (request.state, request.attempts) == (State.FAILED, 0)
    assert "error on our side" in request.failure_reason
    assert "surprise" in request.events.last().note

    monkeypatch.setattr(services, "_problem", real_check)  # fixed
    assert services.retry(request.pk, None)
    run_days(clock, 3)
    request.refresh_from_db()
    assert request.state == State.ACTIVE


def test_a_notice_claimed_by_a_sender_that_died_is_sent_once_the_claim_lapses(alice, gold, clock):
    start(gold, alice)
    run_days(clock, 3)
    # A sender claimed it and was killed before sending.
    Notice.objects.update(email_due_at=clock.now() + LEASE, attempts=1)
    assert send_pending() == 0  # another sender may be sending it
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert send_pending() == 1
    assert len(mail.outbox) == 1
