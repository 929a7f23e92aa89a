"""Cancelling a membership offer for a refund: within 30 days of purchase, only while nothing
of it was activated, used or viewed; asked by the company's admins, decided by support staff."""

import datetime
import threading

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from activation.services import NotActivatable, request_activation
from audit.models import AuditEntry
from cancellations import services
from cancellations.models import CancellationRequest
from cases import services as cases
from cloud import services as cloud_services
from entitlements.models import MembershipOffer
from entitlements.rules import Benefit, Level, OfferKind
from entitlements.signals import benefit_used
from notices.models import Notice
from software import services as software_services
from software.models import LicenseKey, Product
from support.models import Product as Product_

from .factories import OfferFactory, competency, pool, software
from .test_cloud import cloud_catalogue

Action = AuditEntry.Action
State = CancellationRequest.State


@pytest.fixture
def fresh(contoso):
    """Contoso's Silver Security, bought five days ago: nothing of it used yet."""
    return OfferFactory(
        partner=contoso,
        competency=competency("Security"),
        level=Level.SILVER,
        starts_on=timezone.localdate() - datetime.timedelta(days=5),
    )


def page(client, offer):
    return client.get(reverse("cancellations:offer", args=[offer.pk]))


def ask(client, offer, reason="We bought the wrong competency."):
    return client.post(reverse("cancellations:request", args=[offer.pk]), {"reason": reason})


def codes(offer):
    return [obstacle.code for obstacle in services.obstacles(offer)]


def view_a_key(offer, person, product_name="Windows Server 2022"):
    """A license key of the offer first viewed by `person`, as the Software page records it."""
    product, _ = Product.objects.get_or_create(name=product_name, version="")
    now = timezone.now()
    with transaction.atomic():
        locked = MembershipOffer.objects.select_for_update(no_key=True).get(pk=offer.pk)
        LicenseKey.objects.create(
            product=product,
            key=f"KEY-{LicenseKey.objects.count()}",
            loaded_at=now,
            offer=offer,
            drawn_at=now,
            first_viewed_by=person,
            first_viewed_at=now,
        )
        benefit_used.send(
            sender=LicenseKey, offer=locked, user=person, facts={"product": str(product)}
        )


# What stands in the way


def test_a_fresh_offer_can_be_cancelled_and_the_page_says_until_when(client, alice, fresh):
    assert services.obstacles(fresh) == []
    client.force_login(alice)
    body = page(client, fresh).content.decode()
    last_day = fresh.starts_on + datetime.timedelta(days=30)
    assert "can be cancelled for a refund until" in body
    assert date_format(last_day) in body
    assert 'name="reason"' in body


def test_an_activated_benefit_stands_in_the_way_naming_who_and_when(client, alice, fresh):
    request_activation(fresh, Benefit.PRODUCT_SUPPORT, alice)
    assert codes(fresh) == ["activated"]
    client.force_login(alice)
    body = page(client, fresh).content.decode()
    assert "can't be cancelled for a refund" in body
    assert "Alice Admin asked to activate Microsoft Product Support." in body
    assert 'name="reason"' not in body


def file_advisory_request(person, offer):
    """An advisory request charged to `offer`'s hours: made the company's latest Gold."""
    MembershipOffer.objects.filter(pk=offer.pk).update(level=Level.GOLD)
    return cases.file_advisory_request(
        person,
        title="Landing zone",
        description="Two regions.",
        product=Product_.objects.get(name="Azure"),
        request_type="deployment",
        country="Japan",
        language="ja",
        contact_name="Alice",
        contact_email=person.email,
    )


def test_a_viewed_key_and_an_advisory_request_stand_in_the_way(alice, fresh):
    view_a_key(fresh, alice)
    case = file_advisory_request(alice, fresh)
    found = services.obstacles(fresh)
    assert [o.code for o in found] == ["key_viewed", "advisory_request"]
    assert found[0].text.endswith(", Alice Admin viewed a license key of Windows Server 2022.")
    assert found[1].text.endswith(f", Alice Admin filed advisory request {case.number}.")


def test_after_30_days_of_purchase_it_is_too_late(contoso):
    offer = contoso.offers.get(level="gold")  # bought 100 days ago
    [obstacle] = services.obstacles(offer)
    assert obstacle.code == "too_late"
    last_day = offer.starts_on + datetime.timedelta(days=30)
    assert f"ended on {date_format(last_day)}:" in obstacle.text


def test_the_30th_day_is_still_in_time_and_the_31st_is_not(fresh):
    last = fresh.starts_on + datetime.timedelta(days=30)
    assert services.obstacles(fresh, today=last) == []
    assert [o.code for o in services.obstacles(fresh, today=last + datetime.timedelta(1))] == [
        "too_late"
    ]


def test_a_rejected_activation_does_not_stand_in_the_way(alice, fresh):
    activation, _ = request_activation(fresh, Benefit.PRODUCT_SUPPORT, alice)
    activation.state = activation.State.REJECTED
    activation.due_at = None
    activation.save()
    assert services.obstacles(fresh) == []


# Asking


def test_an_admin_asks_staff_are_told_and_it_is_audited(client, mona, fresh, support):
    client.force_login(mona)
    response = ask(client, fresh)
    assert response.status_code == 302
    asked = CancellationRequest.objects.get()
    assert (asked.state, asked.requested_by, asked.reason) == (
        State.OPEN,
        mona,
        "We bought the wrong competency.",
    )
    body = client.get(response["Location"]).content.decode()
    assert f"Your cancellation request {asked.number} was sent" in body
    assert "Waiting for a decision" in body
    told = Notice.objects.get(recipient=support)
    assert told.kind == Notice.Kind.CANCELLATION_REQUESTED
    assert told.url == reverse("admin:cancellations_cancellationrequest_change", args=[asked.pk])
    entry = AuditEntry.objects.get(action=Action.CANCELLATION_REQUESTED)
    assert entry.actor == mona and entry.facts["cancellation"] == asked.number


def test_an_empty_or_long_reason_is_refused_and_the_text_kept(client, alice, fresh):
    client.force_login(alice)
    response = ask(client, fresh, "   ")
    assert response.status_code == 400
    assert "Say why you want to cancel the offer." in response.content.decode()
    response = ask(client, fresh, "x" * 1001)
    assert response.status_code == 400
    assert "x" * 1001 in response.content.decode()
    assert not CancellationRequest.objects.exists()


def test_an_offer_that_cannot_be_cancelled_is_refused_with_the_reason_and_text_kept(
    client, alice, contoso
):
    client.force_login(alice)
    response = ask(client, contoso.offers.get(level="gold"), "Please refund us")
    assert response.status_code == 409
    body = response.content.decode()
    assert "The 30 days to cancel for a refund ended on" in body
    assert not CancellationRequest.objects.exists()


def test_a_second_request_while_one_waits_is_refused(client, alice, mona, fresh):
    services.request_cancellation(mona, fresh, "First")
    client.force_login(alice)
    response = ask(client, fresh, "Second")
    assert CancellationRequest.objects.count() == 1
    assert response.status_code == 409
    assert "already waiting for a decision" in response.content.decode()
    with pytest.raises(services.Refused, match="already waiting"):
        services.request_cancellation(alice, fresh, "Third")


def test_the_database_keeps_one_open_request_per_offer(alice, fresh):
    services.request_cancellation(alice, fresh, "First")
    with pytest.raises(IntegrityError), transaction.atomic():
        CancellationRequest.objects.create(
            offer=fresh, partner=fresh.partner, reason="Again", requested_at=timezone.now()
        )


def test_an_admin_agent_sees_the_offer_and_who_may_ask_but_no_form(client, aaron, alice, fresh):
    client.force_login(aaron)
    body = page(client, fresh).content.decode()
    assert "Global admins and MPN partner admins can ask for it:" in body
    assert "Alice Admin" in body
    assert 'name="reason"' not in body
    assert ask(client, fresh).status_code == 403
    with pytest.raises(services.Refused):
        services.request_cancellation(aaron, fresh, "Not mine to ask")
    assert not CancellationRequest.objects.exists()


def test_another_companys_offer_is_a_404(client, bob, fresh):
    client.force_login(bob)
    assert page(client, fresh).status_code == 404
    assert ask(client, fresh).status_code == 404
    assert not CancellationRequest.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_two_admins_asking_at_once_make_one_request(alice, mona, fresh):
    outcomes = []
    barrier = threading.Barrier(2)

    def ask_as(person):
        barrier.wait()
        try:
            outcomes.append(services.request_cancellation(person, fresh, "Refund").pk)
        except services.Refused as refused:
            outcomes.append(str(refused))
        finally:
            connection.close()

    threads = [threading.Thread(target=ask_as, args=(person,)) for person in (alice, mona)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert CancellationRequest.objects.count() == 1
    assert sorted(map(type, outcomes), key=str) == [int, str]


# Deciding


def test_approval_ends_the_offer_today_and_the_partner_side_is_told(alice, mona, fresh, support):
    asked = services.request_cancellation(mona, fresh, "Wrong competency")
    services.approve(support, asked, "Refund on its way")
    fresh.refresh_from_db()
    assert fresh.cancelled_on == timezone.localdate()
    assert not fresh.is_active()
    assert fresh not in MembershipOffer.objects.active()
    with pytest.raises(NotActivatable):
        request_activation(fresh, Benefit.PRODUCT_SUPPORT, alice)
    told = Notice.objects.filter(kind=Notice.Kind.CANCELLATION_APPROVED)
    assert sorted(told.values_list("recipient__email", flat=True)) == [alice.email, mona.email]
    assert AuditEntry.objects.filter(action=Action.CANCELLATION_APPROVED, actor=support).exists()
    assert [o.code for o in services.obstacles(fresh)] == ["cancelled"]


def test_a_decision_is_made_once(mona, fresh, support):
    asked = services.request_cancellation(mona, fresh, "Wrong competency")
    services.approve(support, asked)
    with pytest.raises(services.Refused, match="already approved"):
        services.decline(support, asked, "Changed my mind")
    with pytest.raises(services.Refused, match="already approved"):
        services.approve(support, asked)
    assert Notice.objects.filter(kind=Notice.Kind.CANCELLATION_APPROVED).count() == 1


def test_declining_needs_a_note_the_partner_reads(client, mona, fresh, support):
    asked = services.request_cancellation(mona, fresh, "Wrong competency")
    with pytest.raises(services.Refused, match="Say why"):
        services.decline(support, asked, "  ")
    services.decline(support, asked, "Bought through a distributor: ask them.")
    fresh.refresh_from_db()
    assert fresh.cancelled_on is None and fresh.is_active()
    client.force_login(mona)
    body = page(client, fresh).content.decode()
    assert "Bought through a distributor: ask them." in body
    assert 'name="reason"' in body  # it may be asked again, within the 30 days


def test_an_advisory_request_filed_while_a_cancellation_waits_declines_it(alice, mona, fresh):
    asked = services.request_cancellation(mona, fresh, "Wrong competency")
    case = file_advisory_request(alice, fresh)
    asked.refresh_from_db()
    assert asked.state == State.DECLINED
    assert asked.used_text() == f"Advisory request {case.number} was filed by Alice Admin."


def test_a_cancelled_offer_takes_no_advisory_request(alice, mona, fresh, support):
    MembershipOffer.objects.filter(pk=fresh.pk).update(level=Level.GOLD)
    services.approve(support, services.request_cancellation(mona, fresh, "Wrong competency"))
    case = file_advisory_request(alice, fresh)
    assert case.allowance.offer != fresh  # charged to the offer still held


def test_a_cancelled_renewal_leaves_the_renewal_reminder_of_the_offer_it_renewed(
    contoso, mona, support
):
    from notices.reminders import _offers_in_renewal_window

    today = timezone.localdate()
    old = OfferFactory(
        partner=contoso,
        competency=competency("DevOps"),
        starts_on=today - datetime.timedelta(days=370),
    )
    renewal = OfferFactory(
        partner=contoso,
        competency=competency("DevOps"),
        starts_on=today - datetime.timedelta(days=2),
    )
    assert old not in _offers_in_renewal_window(today)  # renewed
    services.approve(support, services.request_cancellation(mona, renewal, "Not renewing"))
    assert old in _offers_in_renewal_window(today)


def test_a_request_asked_in_time_may_be_approved_after_the_30_days(mona, fresh, support, clock):
    asked = services.request_cancellation(mona, fresh, "Wrong competency")
    clock.advance(days=40)
    services.approve(support, asked)
    asked.refresh_from_db()
    assert asked.state == State.APPROVED


# Used while waiting: declined by itself


def test_activating_while_a_request_waits_declines_it_with_the_reason(client, alice, mona, fresh):
    asked = services.request_cancellation(mona, fresh, "Wrong competency")
    request_activation(fresh, Benefit.SIGNATURE_CLOUD_SUPPORT, alice)
    asked.refresh_from_db()
    assert asked.state == State.DECLINED and asked.decided_by is None
    assert asked.used == {
        "activation": asked.used["activation"],
        "benefit": "signature_cloud_support",
        "by": "Alice Admin",
    }
    told = Notice.objects.get(kind=Notice.Kind.CANCELLATION_DECLINED, recipient=mona)
    assert told.context["used_by"] == "Alice Admin"
    client.force_login(mona)
    body = page(client, fresh).content.decode()
    assert "Declined by itself" in body
    assert "Signature Cloud Support was activated by Alice Admin." in body


def test_viewing_a_key_while_a_request_waits_declines_it(alice, mona, fresh):
    asked = services.request_cancellation(mona, fresh, "Wrong competency")
    view_a_key(fresh, alice)
    asked.refresh_from_db()
    assert asked.state == State.DECLINED
    assert asked.used_text() == "A license key of Windows Server 2022 was viewed by Alice Admin."
    entry = AuditEntry.objects.get(action=Action.CANCELLATION_DECLINED)
    assert entry.actor is None and entry.facts["used"]["product"] == "Windows Server 2022"


def test_a_use_of_another_offer_leaves_the_request_waiting(alice, mona, fresh, contoso):
    asked = services.request_cancellation(mona, fresh, "Wrong competency")
    request_activation(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)
    asked.refresh_from_db()
    assert asked.state == State.OPEN


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_an_activation_racing_a_request_ends_one_way(alice, mona, fresh):
    barrier = threading.Barrier(2)

    def activate():
        barrier.wait()
        try:
            request_activation(fresh, Benefit.PRODUCT_SUPPORT, alice)
        finally:
            connection.close()

    def cancel():
        barrier.wait()
        try:
            services.request_cancellation(mona, fresh, "Refund")
        except services.Refused:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=activate), threading.Thread(target=cancel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The activation stands; a request, if made, was declined by it or refused because of it.
    assert fresh.activations.count() == 1
    assert not CancellationRequest.objects.filter(state=State.OPEN).exists()


# Support staff in admin


def test_staff_approve_from_the_admin_page(client, mona, fresh, support):
    asked = services.request_cancellation(mona, fresh, "Wrong competency")
    client.force_login(support)
    url = reverse("admin:cancellations_cancellationrequest_change", args=[asked.pk])
    body = client.get(url).content.decode()
    assert "Yes: nothing stands in the way." in body
    response = client.post(url, {"decision": "approve", "note": "Refunded"})
    assert response.status_code == 302
    asked.refresh_from_db()
    assert (asked.state, asked.decided_by, asked.note) == (State.APPROVED, support, "Refunded")


def test_staff_declining_without_a_note_see_why_and_keep_nothing(client, mona, fresh, support):
    asked = services.request_cancellation(mona, fresh, "Wrong competency")
    client.force_login(support)
    url = reverse("admin:cancellations_cancellationrequest_change", args=[asked.pk])
    response = client.post(url, {"decision": "decline", "note": ""})
    assert response.status_code == 200
    assert "Say why the cancellation is declined" in response.content.decode()
    asked.refresh_from_db()
    assert asked.state == State.OPEN


def test_staff_without_the_permission_cannot_decide(client, mona, fresh, support):
    asked = services.request_cancellation(mona, fresh, "Wrong competency")
    support.groups.clear()
    support.user_permissions.add(Permission.objects.get(codename="view_cancellationrequest"))
    client.force_login(support)
    url = reverse("admin:cancellations_cancellationrequest_change", args=[asked.pk])
    client.post(url, {"decision": "approve", "note": ""})
    asked.refresh_from_db()
    assert asked.state == State.OPEN
    assert list(services.deciders()) == []


# The list of offers


def test_the_offers_list_shows_each_offer_its_state_and_a_waiting_request(
    client, alice, mona, fresh, contoso
):
    services.request_cancellation(mona, fresh, "Wrong competency")
    OfferFactory(partner=contoso, competency=competency("DevOps"), expired=True)
    client.force_login(alice)
    body = client.get(reverse("cancellations:offers")).content.decode()
    assert body.count("<tr>") == 5  # the header and four offers
    assert "Silver Security" in body and "Cancellation requested" in body
    assert "Ended" in body


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(reason=st.text(max_size=1200))
def test_any_reason_is_answered_without_an_error(client, alice, fresh, reason):
    client.force_login(alice)
    response = ask(client, fresh, reason)
    assert response.status_code in (302, 400, 409)
    CancellationRequest.objects.all().delete()


def test_a_cancelled_offer_leaves_the_technical_benefits_page_and_gets_no_renewal_reminder(
    client, alice, mona, fresh, support
):
    from notices.reminders import _offers_in_renewal_window

    services.approve(support, services.request_cancellation(mona, fresh, "Wrong competency"))
    client.force_login(alice)
    body = client.get(reverse("entitlements:technical_benefits")).content.decode()
    assert "Gold Cloud Platform" in body and "Silver Security" not in body
    fresh.refresh_from_db()
    after_its_end = fresh.ends_on + datetime.timedelta(days=2)
    assert not fresh.in_renewal_window(after_its_end)
    assert fresh not in _offers_in_renewal_window(after_its_end)


def test_each_offer_on_the_technical_benefits_page_links_to_its_page(client, aaron, contoso):
    client.force_login(aaron)
    body = client.get(reverse("entitlements:technical_benefits")).content.decode()
    for offer in contoso.offers.all():
        assert f'href="{reverse("cancellations:offer", args=[offer.pk])}"' in body


# Cloud benefits


def cloud_row(offer, product):
    """`offer`'s cloud benefit of `product`, as the Cloud page would offer it."""
    return cloud_services.CloudBenefit(offer, software_services.inclusion_of(offer, product))


def test_a_credit_assigned_stands_in_the_way_and_declines_a_waiting_request(alice, mona, fresh):
    azure = cloud_catalogue()["azure"]
    asked = services.request_cancellation(mona, fresh, "Wrong competency")
    cloud_services.assign_credit(cloud_row(fresh, azure), mona, alice)
    asked.refresh_from_db()
    assert asked.state == State.DECLINED
    assert asked.used_text() == "Alice Admin assigned the monthly credit of Microsoft Azure."
    [obstacle] = services.obstacles(fresh)
    assert obstacle.code == "credit_assigned"
    assert obstacle.text.endswith(", Alice Admin assigned the monthly credit of Microsoft Azure.")


def test_a_cloud_subscription_activated_stands_in_the_way_by_its_name(alice, mona, fresh):
    MembershipOffer.objects.filter(pk=fresh.pk).update(level=Level.GOLD)
    fresh.refresh_from_db()
    m365 = cloud_catalogue()["m365"]
    asked = services.request_cancellation(mona, fresh, "Wrong competency")
    cloud_services.activate(cloud_row(fresh, m365), alice)
    asked.refresh_from_db()
    assert asked.used_text() == "Microsoft 365 E3 was activated by Alice Admin."
    [obstacle] = services.obstacles(fresh)
    assert obstacle.text.endswith(", Alice Admin asked to activate Microsoft 365 E3.")


def test_a_cancelled_offers_credit_cannot_be_assigned(alice, mona, fresh, support):
    azure = cloud_catalogue()["azure"]
    services.approve(support, services.request_cancellation(mona, fresh, "Wrong competency"))
    fresh.refresh_from_db()
    with pytest.raises(cloud_services.Refused, match="is not active"):
        cloud_services.assign_credit(cloud_row(fresh, azure), mona, alice)


def test_getting_keys_while_a_request_waits_declines_it(alice, mona, fresh):
    product = software("Visio", kind=OfferKind.COMPETENCY, level=Level.SILVER)
    pool(product, 3)
    asked = services.request_cancellation(mona, fresh, "Wrong competency")
    [key] = software_services.get_keys(alice, fresh, product)
    asked.refresh_from_db()
    assert asked.state == State.DECLINED
    assert asked.used_text() == "A license key of Visio 2022 was viewed by Alice Admin."
    assert [o.code for o in services.obstacles(fresh)] == ["key_viewed"]
    # The same keys again: no second view, nothing more to decline.
    assert software_services.get_keys(mona, fresh, product) == [key]


def test_a_cancelled_offer_reveals_no_keys(alice, mona, fresh, support):
    product = software("Visio", kind=OfferKind.COMPETENCY, level=Level.SILVER)
    pool(product, 3)
    services.approve(support, services.request_cancellation(mona, fresh, "Wrong competency"))
    with pytest.raises(Http404):
        software_services.get_keys(alice, fresh, product)
    assert not LicenseKey.objects.filter(offer=fresh).exists()
