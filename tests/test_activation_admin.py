"""Support staff follow and act on activation requests in Django admin."""

import pytest

from activation import services
from activation.models import ActivationEvent, ActivationRequest, Failure
from entitlements.rules import Benefit

State = ActivationRequest.State
LIST = "/admin/activation/activationrequest/"


@pytest.fixture
def pending(alice, contoso, clock):
    offer = contoso.offers.get(level="gold")
    return services.request_activation(offer, Benefit.PRODUCT_SUPPORT, alice)[0]


def act(client, action, *requests, **extra):
    return client.post(
        LIST,
        {"action": action, "_selected_action": [r.pk for r in requests], **extra},
        follow=True,
    )


def test_support_staff_complete_a_request_now(sign_in, support, pending):
    response = act(sign_in(support), "complete_now", pending)
    assert "Completed 1 request(s)." in response.content.decode()
    pending.refresh_from_db()
    assert pending.state == State.ACTIVE
    assert pending.contract.access_id
    moves = pending.events.exclude(from_state="")
    assert [e.actor for e in moves] == [support] * 3


def test_support_staff_reject_with_a_reason_the_partner_reads(sign_in, support, alice, pending):
    client = sign_in(support)
    form = act(client, "reject_with_reason", pending)
    assert "The partner sees this reason" in form.content.decode()
    assert ActivationRequest.objects.get().state == State.SUBMITTED

    act(client, "reject_with_reason", pending, apply="Reject", reason="Membership under review.")
    pending.refresh_from_db()
    assert (pending.state, pending.failure_reason) == (State.REJECTED, "Membership under review.")

    page = sign_in(alice).get("/dashboard/mpn/membership/benefits/technical").content.decode()
    assert "Membership under review." in page


def test_a_rejection_without_a_reason_changes_nothing(sign_in, support, pending):
    response = act(sign_in(support), "reject_with_reason", pending, apply="Reject", reason="")
    assert "This field is required." in response.content.decode()
    pending.refresh_from_db()
    assert pending.state == State.SUBMITTED


def test_support_staff_retry_a_failed_request(sign_in, support, pending):
    with_lock = services._lock(pending.pk)
    services._fail(with_lock, Failure.INTERNAL_ERROR)
    response = act(sign_in(support), "retry", pending)
    assert "Retried 1 request(s)." in response.content.decode()
    pending.refresh_from_db()
    assert pending.state == State.SUBMITTED
    assert pending.events.last().actor.email == "sam@benefits.example"


def test_retrying_a_request_that_has_not_failed_says_so(sign_in, support, pending):
    response = act(sign_in(support), "retry", pending)
    assert "only failed requests can be retried" in response.content.decode()


@pytest.fixture
def fabrikams(bob, clock):
    offer = bob.partner.offers.get()
    return services.request_activation(offer, Benefit.PRODUCT_SUPPORT, bob)[0]


def listed(page, request):
    return f"/admin/activation/activationrequest/{request.pk}/change/" in page


@pytest.mark.parametrize("field", ["access_id", "contract_id"])
def test_support_staff_find_a_request_by_its_ids(sign_in, support, pending, fabrikams, field):
    services.complete_now(pending.pk, None)
    services.complete_now(fabrikams.pk, None)
    value = getattr(ActivationRequest.objects.get(pk=pending.pk).contract, field)
    page = sign_in(support).get(LIST, {"q": value}).content.decode()
    assert listed(page, pending)
    assert not listed(page, fabrikams)


@pytest.mark.parametrize(
    "query", [{"q": "4412345"}, {"q": "Contoso"}, {"state": "in_review"}, {"stage": "in_review"}]
)
def test_support_staff_search_and_filter_requests(sign_in, support, pending, fabrikams, query):
    services.advance_due(pending.pk)  # not due yet: stays submitted
    ActivationRequest.objects.filter(pk=pending.pk).update(due_at=services.clock.now())
    services.advance_due(pending.pk)  # in review now
    page = sign_in(support).get(LIST, query).content.decode()
    assert listed(page, pending)
    assert not listed(page, fabrikams)


def test_the_audit_trail_is_read_only(sign_in, support, pending):
    client = sign_in(support)
    event = ActivationEvent.objects.get()
    assert client.get("/admin/activation/activationevent/").status_code == 200
    assert client.get("/admin/activation/activationevent/add/").status_code == 403
    change = client.post(
        f"/admin/activation/activationevent/{event.pk}/change/", {"note": "edited"}
    )
    assert change.status_code == 403
    delete = client.post(f"/admin/activation/activationevent/{event.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    event.refresh_from_db()
    assert event.note == ""
