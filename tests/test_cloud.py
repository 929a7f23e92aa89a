"""The Cloud page: cloud subscription benefits, Azure credit assigned to a user, and cloud
subscriptions provisioned through the activation engine (seed 003; issue 16, "## Cloud")."""

import datetime
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from activation import services as activation
from activation.models import ActivationRequest
from audit.models import AuditEntry
from cloud import services
from cloud.models import CloudSubscription, CreditAssignment
from entitlements.models import Role
from entitlements.rules import Level, OfferKind
from notices.models import Notice
from notices.services import send_pending
from software.models import Inclusion, LicenseKey, Product

from .factories import UserFactory, pool

LONG_AGO = datetime.date(2000, 1, 1)


def cloud_catalogue():
    """Azure ($150 a month for Gold, $100 for Silver and Action Pack), Microsoft 365 E3
    (provisioned: 25 licenses for Gold, 5 for Action Pack, activated within a year of the
    offer's start) and Dynamics 365 (license keys, Gold): {name: Product}."""
    azure = Product.objects.create(
        name="Microsoft Azure", area="cloud", delivery=Product.Delivery.ASSIGNED_CREDIT
    )
    m365 = Product.objects.create(
        name="Microsoft 365 E3", area="cloud", delivery=Product.Delivery.PROVISIONED
    )
    dynamics = Product.objects.create(
        name="Dynamics 365 Sales", area="cloud", delivery=Product.Delivery.KEYS
    )
    software = Product.objects.create(name="Windows Server", version="2022")
    for level, credit in ((Level.GOLD, 150), (Level.SILVER, 100)):
        Inclusion.objects.create(
            product=azure,
            kind=OfferKind.COMPETENCY,
            level=level,
            monthly_credit=Decimal(credit),
            since=LONG_AGO,
        )
    Inclusion.objects.create(
        product=azure,
        kind=OfferKind.ACTION_PACK,
        monthly_credit=Decimal(100),
        since=LONG_AGO,
    )
    Inclusion.objects.create(
        product=m365,
        kind=OfferKind.COMPETENCY,
        level=Level.GOLD,
        licenses=25,
        activate_within_days=365,
        since=LONG_AGO,
    )
    Inclusion.objects.create(product=m365, kind=OfferKind.ACTION_PACK, licenses=5, since=LONG_AGO)
    Inclusion.objects.create(
        product=dynamics, kind=OfferKind.COMPETENCY, level=Level.GOLD, licenses=10, since=LONG_AGO
    )
    Inclusion.objects.create(
        product=software, kind=OfferKind.COMPETENCY, level=Level.GOLD, since=LONG_AGO
    )
    return {"azure": azure, "m365": m365, "dynamics": dynamics, "software": software}


@pytest.fixture
def catalogue(db):
    return cloud_catalogue()


def row_of(partner, product):
    [row] = [row for row in services.cloud_benefits(partner) if row.product == product]
    return services.with_state([row])[0]


def page(client, user):
    client.force_login(user)
    return client.get(reverse("entitlements:cloud"))


# The list


def test_the_page_lists_each_cloud_product_once_with_the_offer_that_provides_it(
    client, alice, catalogue
):
    response = page(client, alice)
    assert response.status_code == 200
    text = response.content.decode()
    # Azure comes with both of Contoso's offers: the row shows the Gold one's $150.
    assert text.count('class="benefit-name">Microsoft Azure<') == 1
    assert "US$150.00 a month" in text
    assert "Gold Cloud Platform" in text
    assert "25 licenses" in text
    assert "Dynamics 365 Sales" in text
    assert "Windows Server" not in text  # software is the Software page's
    assert "Monthly credit lapses at the end of each month" in text


def test_the_date_before_which_it_must_be_activated_is_the_offers_start_plus_its_days(
    alice, catalogue
):
    row = row_of(alice.partner, catalogue["m365"])
    assert row.activate_before == row.offer.starts_on + datetime.timedelta(days=365)


def test_an_offer_takes_the_inclusions_in_force_on_its_start(alice, catalogue):
    gold = alice.partner.offers.get(level=Level.GOLD)
    Inclusion.objects.filter(product=catalogue["m365"]).update(
        since=gold.starts_on + datetime.timedelta(days=1)
    )
    products = [row.product for row in services.cloud_benefits(alice.partner)]
    assert catalogue["m365"] not in products
    Inclusion.objects.filter(product=catalogue["m365"]).update(since=LONG_AGO, until=gold.starts_on)
    products = [row.product for row in services.cloud_benefits(alice.partner)]
    assert catalogue["m365"] not in products  # until is the first day it no longer applies


def test_a_company_without_cloud_benefits_is_told_so(client, bob, catalogue):
    Inclusion.objects.filter(kind=OfferKind.ACTION_PACK).delete()
    response = page(client, bob)
    assert "include no cloud subscriptions" in response.content.decode()


def test_who_may_see_the_page(client, alice, mona, aaron, ursula, nora, carol, catalogue):
    for user in (alice, mona, aaron):
        assert page(client, user).status_code == 200
    for user in (ursula, nora, carol):
        assert page(client, user).status_code == 403


def test_only_a_global_admin_sees_the_assign_form(client, alice, mona, catalogue):
    assert "Assign user" in page(client, alice).content.decode()
    text = page(client, mona).content.decode()
    assert "Assign user" not in text
    assert "Only a Global admin can assign it." in text


def test_get_keys_of_a_license_based_subscription_reveals_the_same_keys_every_time(
    client, alice, mona, catalogue
):
    row = row_of(alice.partner, catalogue["dynamics"])
    pool(catalogue["dynamics"], 2, prefix="DYN")
    client.force_login(mona)
    url = reverse("cloud:get_keys", args=[row.offer.pk, row.product.pk])
    response = client.post(url, follow=True)
    [key] = LicenseKey.objects.filter(offer=row.offer, product=catalogue["dynamics"])
    assert key.first_viewed_by == mona
    assert key.key in response.content.decode()
    # Again, and from the page: the same key, nothing more drawn.
    client.post(url)
    assert key.key in page(client, alice).content.decode()
    assert LicenseKey.objects.filter(offer__isnull=False).count() == 1


def test_an_admin_agent_is_told_who_may_get_keys_and_a_post_is_refused(
    client, alice, aaron, catalogue
):
    row = row_of(alice.partner, catalogue["dynamics"])
    pool(catalogue["dynamics"], 2, prefix="DYN")
    text = page(client, aaron).content.decode()
    assert "can get keys." in text
    assert (
        client.post(reverse("cloud:get_keys", args=[row.offer.pk, row.product.pk])).status_code
        == 403
    )
    assert not LicenseKey.objects.filter(offer__isnull=False).exists()


def test_get_keys_with_the_pool_empty_says_so_plainly(client, alice, catalogue):
    row = row_of(alice.partner, catalogue["dynamics"])
    client.force_login(alice)
    url = reverse("cloud:get_keys", args=[row.offer.pk, row.product.pk])
    text = client.post(url, follow=True).content.decode()
    assert "There are no license keys of this product left to give right now." in text


def test_a_product_without_keys_has_no_get_keys(client, alice, catalogue):
    row = row_of(alice.partner, catalogue["m365"])
    client.force_login(alice)
    url = reverse("cloud:get_keys", args=[row.offer.pk, row.product.pk])
    assert client.post(url).status_code == 404


# Azure credit


def test_assigning_yourself_tells_you_with_the_redemption_link(
    client, alice, catalogue, django_capture_on_commit_callbacks
):
    row = row_of(alice.partner, catalogue["azure"])
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("cloud:assign", args=[row.offer.pk, row.product.pk]),
            {"assignee": alice.pk},
            follow=True,
        )
    assert "is assigned to Alice Admin" in response.content.decode()
    assignment = CreditAssignment.objects.get()
    assert assignment.assignee == alice and assignment.monthly_credit == Decimal(150)
    send_pending()
    [email] = mail.outbox
    assert email.to == ["alice@contoso.example"]
    link = reverse("cloud:credit", args=[assignment.redemption_code])
    assert link in email.body
    assert "US$150.00" in email.body
    redemption = client.get(link)
    assert assignment.redemption_code in redemption.content.decode()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.CREDIT_ASSIGNED)
    assert entry.facts["email"] == "alice@contoso.example"


def test_reassigning_takes_it_away_from_the_old_assignee_and_tells_both(
    client, alice, nora, catalogue
):
    row = row_of(alice.partner, catalogue["azure"])
    first, _ = services.assign_credit(row, alice, alice)
    row = row_of(alice.partner, catalogue["azure"])
    second, changed = services.assign_credit(row, nora, alice, seen=first.pk)
    assert changed
    first.refresh_from_db()
    assert first.ended_at is not None
    assert Notice.objects.filter(recipient=nora, kind="credit_assigned").exists()
    told = Notice.objects.get(recipient=alice, kind="credit_reassigned")
    assert told.context["new_assignee"] == nora.display_name
    client.force_login(alice)
    assert client.get(reverse("cloud:credit", args=[first.redemption_code])).status_code == 404
    client.force_login(nora)
    assert client.get(reverse("cloud:credit", args=[second.redemption_code])).status_code == 200
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREDIT_REASSIGNED).count() == 1


def test_the_redemption_page_is_only_the_assignees(client, alice, aaron, bob, catalogue):
    row = row_of(alice.partner, catalogue["azure"])
    assignment, _ = services.assign_credit(row, aaron, alice)
    url = reverse("cloud:credit", args=[assignment.redemption_code])
    for other in (alice, bob):
        client.force_login(other)
        assert client.get(url).status_code == 404


def test_assigning_the_same_person_again_changes_nothing(alice, catalogue):
    row = row_of(alice.partner, catalogue["azure"])
    first, _ = services.assign_credit(row, alice, alice)
    again, changed = services.assign_credit(row_of(alice.partner, catalogue["azure"]), alice, alice)
    assert (again, changed) == (first, False)
    assert Notice.objects.filter(kind="credit_assigned").count() == 1


def test_an_assignment_made_meanwhile_is_not_overwritten(alice, nora, aaron, catalogue):
    row = row_of(alice.partner, catalogue["azure"])
    services.assign_credit(row, nora, alice)  # another admin, a moment ago
    with pytest.raises(services.Refused, match="Meanwhile the credit was assigned to"):
        services.assign_credit(row, aaron, alice, seen=None)  # from a page showing nobody
    assert CreditAssignment.objects.get().assignee == nora


def test_someone_of_another_company_or_inactive_cant_be_assigned(alice, bob, nora, catalogue):
    row = row_of(alice.partner, catalogue["azure"])
    with pytest.raises(services.Refused):
        services.assign_credit(row, bob, alice)
    nora.is_active = False
    nora.save()
    with pytest.raises(services.Refused):
        services.assign_credit(row, nora, alice)
    assert not CreditAssignment.objects.exists()


def test_a_bad_assignee_is_told_plainly_and_changes_nothing(client, alice, bob, catalogue):
    row = row_of(alice.partner, catalogue["azure"])
    client.force_login(alice)
    url = reverse("cloud:assign", args=[row.offer.pk, row.product.pk])
    for data in ({"assignee": bob.pk}, {"assignee": "x"}, {}, {"assignee": alice.pk, "seen": "-1"}):
        response = client.post(url, data, follow=True)
        assert response.status_code == 200
        assert 'class="message error"' in response.content.decode(), data
    assert not CreditAssignment.objects.exists()


def test_only_a_global_admin_may_assign(client, mona, alice, catalogue):
    row = row_of(alice.partner, catalogue["azure"])
    client.force_login(mona)
    url = reverse("cloud:assign", args=[row.offer.pk, row.product.pk])
    assert client.post(url, {"assignee": mona.pk}).status_code == 403
    assert not CreditAssignment.objects.exists()


def test_another_companys_row_is_a_404(client, alice, bob, catalogue):
    row = row_of(alice.partner, catalogue["azure"])
    client.force_login(bob)
    url = reverse("cloud:assign", args=[row.offer.pk, row.product.pk])
    assert client.post(url, {"assignee": bob.pk}).status_code == 404
    assert client.get(reverse("cloud:row", args=[row.offer.pk, row.product.pk])).status_code == 404


def test_the_credit_is_one_assignee_per_offer_and_product_by_the_database(alice, nora, catalogue):
    row = row_of(alice.partner, catalogue["azure"])
    services.assign_credit(row, alice, alice)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAssignment.objects.create(
            offer=row.offer,
            product=row.product,
            assignee=nora,
            assigned_at=datetime.datetime.now(datetime.UTC),
            monthly_credit=1,
        )


# Provisioned subscriptions, through the activation engine


def test_activating_goes_through_the_engine_to_a_subscription(
    client, alice, mona, catalogue, clock
):
    row = row_of(alice.partner, catalogue["m365"])
    client.force_login(mona)
    response = client.post(
        reverse("cloud:activate", args=[row.offer.pk, row.product.pk]), follow=True
    )
    assert "Allow a few days" in response.content.decode()
    request = ActivationRequest.objects.get(product=catalogue["m365"])
    assert request.benefit == "" and request.state == "submitted"
    text = client.get(
        reverse("cloud:row", args=[row.offer.pk, row.product.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Activation pending" in text and "hx-get" in text
    for _day in range(7):  # three business days, a weekend perhaps among them
        clock.advance(days=1)
        activation.sweep()
    request.refresh_from_db()
    assert request.state == "active"
    subscription = CloudSubscription.objects.get(activation=request)
    assert subscription.licenses == 25
    assert subscription.ends_on == row.offer.ends_on
    told = set(
        Notice.objects.filter(kind="cloud_subscription_active").values_list(
            "recipient__email", flat=True
        )
    )
    assert told == {"alice@contoso.example", "mona@contoso.example"}
    text = client.get(
        reverse("cloud:row", args=[row.offer.pk, row.product.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert str(subscription.subscription_id) in text and "hx-get" not in text
    assert (
        AuditEntry.objects.filter(action=AuditEntry.Action.CLOUD_SUBSCRIPTION_ACTIVE).count() == 1
    )


def test_activating_after_the_date_it_had_to_be_activated_by_is_refused(client, alice, catalogue):
    gold = alice.partner.offers.get(level=Level.GOLD)
    Inclusion.objects.filter(product=catalogue["m365"]).update(activate_within_days=10)
    client.force_login(alice)
    response = client.post(
        reverse("cloud:activate", args=[gold.pk, catalogue["m365"].pk]), follow=True
    )
    assert "had to be activated before" in response.content.decode()
    assert not ActivationRequest.objects.exists()


def test_an_admin_agent_may_not_activate(client, aaron, alice, catalogue):
    row = row_of(alice.partner, catalogue["m365"])
    client.force_login(aaron)
    assert (
        client.post(reverse("cloud:activate", args=[row.offer.pk, row.product.pk])).status_code
        == 403
    )
    assert not ActivationRequest.objects.exists()


def test_a_product_the_offer_no_longer_includes_fails_with_the_reason(alice, catalogue, clock):
    row = row_of(alice.partner, catalogue["m365"])
    request, _ = services.activate(row, alice)
    Inclusion.objects.filter(product=catalogue["m365"]).delete()
    clock.advance(days=2)
    activation.sweep()
    request.refresh_from_db()
    assert request.state == "failed"
    assert "no longer includes Microsoft 365 E3" in request.failure_message


def test_a_failed_cloud_activation_can_be_tried_again(client, alice, catalogue, clock):
    row = row_of(alice.partner, catalogue["m365"])
    request, _ = services.activate(row, alice)
    inclusions = list(Inclusion.objects.filter(product=catalogue["m365"]).values())
    Inclusion.objects.filter(product=catalogue["m365"]).delete()
    clock.advance(days=2)
    activation.sweep()
    Inclusion.objects.bulk_create(Inclusion(**values) for values in inclusions)
    client.force_login(alice)
    response = client.post(reverse("cloud:retry", args=[row.offer.pk, row.product.pk]), follow=True)
    assert "started again" in response.content.decode()
    request.refresh_from_db()
    assert request.state == "submitted"


def test_technical_benefits_and_cloud_products_are_separate_requests(alice, catalogue, clock):
    from entitlements.rules import Benefit

    row = row_of(alice.partner, catalogue["m365"])
    cloud, created = services.activate(row, alice)
    technical, created_too = activation.request_activation(
        row.offer, Benefit.PRODUCT_SUPPORT, alice
    )
    assert created and created_too and cloud != technical
    again, created = services.activate(row, alice)
    assert (again, created) == (cloud, False)


# Races


def all_at_once(count, action):
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait()
            return action(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.django_db(transaction=True)
def test_two_admins_assigning_at_once_make_one_assignee(contoso, catalogue):
    admins = [
        UserFactory(partner=contoso, roles=[Role.GLOBAL_ADMIN], email=f"admin{i}@contoso.example")
        for i in range(2)
    ]
    row = row_of(contoso, catalogue["azure"])
    clients = []
    for admin in admins:
        client = Client()
        client.force_login(admin)
        clients.append(client)
    connection.close()
    url = reverse("cloud:assign", args=[row.offer.pk, row.product.pk])
    all_at_once(2, lambda i: clients[i].post(url, {"assignee": admins[i].pk}))
    assert CreditAssignment.objects.count() == 1
    assert Notice.objects.filter(kind="credit_assigned").count() == 1
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREDIT_ASSIGNED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_activate_makes_one_request(contoso, catalogue):
    admin = UserFactory(partner=contoso, roles=[Role.GLOBAL_ADMIN])
    row = row_of(contoso, catalogue["m365"])
    client = Client()
    client.force_login(admin)
    connection.close()
    url = reverse("cloud:activate", args=[row.offer.pk, row.product.pk])
    answers = all_at_once(5, lambda i: client.post(url).status_code)
    assert answers == [302] * 5
    assert ActivationRequest.objects.filter(product=catalogue["m365"]).count() == 1


def test_the_audit_log_says_who_was_assigned_the_credit_and_who_had_it(
    client, alice, nora, catalogue
):
    row = row_of(alice.partner, catalogue["azure"])
    first, _ = services.assign_credit(row, alice, alice)
    services.assign_credit(row_of(alice.partner, catalogue["azure"]), nora, alice, seen=first.pk)
    client.force_login(alice)
    text = client.get(reverse("audit:log")).content.decode()
    assert "Azure credit reassigned" in text
    assert "previously alice@contoso.example" in text
    assert "Microsoft Azure" in text


def test_a_subscription_email_goes_only_to_someone_who_may_still_see_it(
    alice, mona, catalogue, clock
):
    row = row_of(alice.partner, catalogue["m365"])
    request, _ = services.activate(row, mona)
    activation.complete_now(request.pk, None)
    mona.role_assignments.all().delete()
    send_pending()
    assert [email.to for email in mail.outbox] == [["alice@contoso.example"]]
