"""The Visual Studio subscriptions page: each offer's subscriptions, who holds them, and a
Global admin assigning and, after 90 days, reassigning them (issue 17)."""

import datetime
import html

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation

from audit.models import AuditEntry
from cancellations import services as cancellations
from cancellations.models import CancellationRequest
from devtools import services
from devtools.models import SubscriptionAssignment
from entitlements.rules import Level, OfferKind
from notices.services import send_pending
from software.models import Inclusion, Product

from .factories import OfferFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("entitlements:visual_studio")
SINCE = datetime.date(2015, 1, 1)


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def visual_studio(name, **licenses_by_level):
    """A Visual Studio subscription product of the catalogue: `licenses_by_level` maps "gold",
    "silver" or "action_pack" to how many each such offer includes."""
    product = Product.objects.create(name=name, area="visual_studio", delivery="assigned_to_users")
    for level, licenses in licenses_by_level.items():
        kind = OfferKind.ACTION_PACK if level == "action_pack" else OfferKind.COMPETENCY
        Inclusion.objects.create(
            product=product,
            kind=kind,
            level="" if kind == OfferKind.ACTION_PACK else level,
            licenses=licenses,
            keys=0,
            since=SINCE,
        )
    return product


@pytest.fixture
def enterprise(contoso):
    return visual_studio("Visual Studio Enterprise", gold=2, silver=1)


@pytest.fixture
def gold(contoso):
    return contoso.offers.get(level=Level.GOLD)


def row_of(partner, offer, product):
    [row] = [
        row
        for row in services.subscriptions(partner)
        if row.offer == offer and row.product == product
    ]
    return row


def assign_url(offer, product, number):
    return reverse("devtools:assign", args=[offer.pk, product.pk, number])


def html_of(response):
    return html.unescape(response.content.decode())


def post_assign(client, offer, product, number, assignee, seen=""):
    """Assign from the page's form; returns the page it lands on (`.content.decode()`)."""
    response = client.post(
        assign_url(offer, product, number), {"assignee": assignee.pk, "seen": seen}, follow=True
    )
    response.content = html.unescape(response.content.decode()).encode()
    return response


# The page


def test_the_page_lists_each_offers_subscriptions_and_who_holds_them(
    client, alice, nora, gold, enterprise
):
    services.assign(row_of(alice.partner, gold, enterprise), 2, nora, alice)
    client.force_login(alice)
    html = client.get(PAGE).content.decode()
    # Gold includes two, Silver one: each offer's own.
    assert html.count('<h2 id="subscriptions-') == 2
    assert "2 subscriptions, 1 assigned" in html
    assert "1 subscription, 0 assigned" in html
    assert f"Assigned to {nora.display_name} ({nora.email})" in html
    assert "Can be reassigned on" in html
    assert html.count(">Assign user</button>") == 2  # the two free ones
    assert reverse("accounts:users") in html  # "if the user isn't listed"


def test_an_mpn_partner_admin_sees_them_told_who_assigns_and_cannot_assign(
    client, alice, mona, nora, gold, enterprise
):
    client.force_login(mona)
    html = client.get(PAGE).content.decode()
    assert "Only a Global admin can assign subscriptions." in html
    assert alice.email in html
    assert ">Assign user</button>" not in html
    response = client.post(assign_url(gold, enterprise, 1), {"assignee": nora.pk})
    assert response.status_code == 403
    assert not SubscriptionAssignment.objects.exists()


def test_a_company_without_subscriptions_is_told_so(client, bob):
    client.force_login(bob)
    html = client.get(PAGE).content.decode()
    assert "Looks like you don't have any Visual Studio subscriptions yet" in html


# Assigning


def test_assigning_tells_the_assignee_in_their_language_and_is_audited(
    client, alice, nora, gold, enterprise, django_capture_on_commit_callbacks
):
    nora.language = "ja"
    nora.save()
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        html = post_assign(client, gold, enterprise, 1, nora).content.decode()
    assert "subscription 1 is assigned to" in html
    held = SubscriptionAssignment.objects.get()
    assert (held.assignee, held.assigned_by, held.number) == (nora, alice, 1)
    [entry] = AuditEntry.objects.filter(action=AuditEntry.Action.VISUAL_STUDIO_ASSIGNED)
    assert entry.actor == alice and nora.email in entry.subject

    send_pending()
    [email] = mail.outbox
    assert email.to == [nora.email]
    assert "Visual Studio Enterprise" in email.subject
    assert "割り当て" in email.subject  # in Nora's language
    assert nora.email in email.body and "https://my.visualstudio.com/" in email.body
    assert PAGE not in email.body  # a page Nora, with no role, couldn't open


def test_a_double_click_assigns_once(client, alice, nora, gold, enterprise):
    client.force_login(alice)
    post_assign(client, gold, enterprise, 1, nora)
    html = post_assign(client, gold, enterprise, 1, nora).content.decode()
    assert "is assigned to" in html and "already" in html
    assert SubscriptionAssignment.objects.count() == 1


def test_a_user_holds_at_most_one_subscription_of_an_offer(client, alice, nora, gold, enterprise):
    client.force_login(alice)
    post_assign(client, gold, enterprise, 1, nora)
    html = post_assign(client, gold, enterprise, 2, nora).content.decode()
    assert "holds a Visual Studio subscription of Gold Cloud Platform already" in html
    assert SubscriptionAssignment.objects.count() == 1
    # The database keeps it so, whoever writes.
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionAssignment.objects.create(
            offer=gold, product=enterprise, number=2, assignee=nora, assigned_at=timezone.now()
        )


def test_the_same_user_may_hold_one_of_each_offer(client, alice, nora, contoso, enterprise):
    client.force_login(alice)
    for offer in contoso.offers.all():
        post_assign(client, offer, enterprise, 1, nora)
    assert SubscriptionAssignment.objects.filter(assignee=nora).count() == 2


def test_reassigning_is_refused_on_day_89_and_allowed_on_day_90(
    client, alice, nora, aaron, gold, enterprise, clock, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    post_assign(client, gold, enterprise, 1, nora)
    first = SubscriptionAssignment.objects.get()

    clock.advance(days=89)
    html = post_assign(client, gold, enterprise, 1, aaron, seen=first.pk).content.decode()
    day_90 = (clock.now() + datetime.timedelta(days=1)).date()
    assert "This subscription can be reassigned on" in html
    assert formats.date_format(day_90, "DATE_FORMAT") in html
    assert SubscriptionAssignment.objects.get(ended_at__isnull=True).assignee == nora

    clock.advance(days=1)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        html = post_assign(client, gold, enterprise, 1, aaron, seen=first.pk).content.decode()
    assert "is assigned to" in html
    assert SubscriptionAssignment.objects.get(ended_at__isnull=True).assignee == aaron
    first.refresh_from_db()
    assert first.ended_at == clock.now()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.VISUAL_STUDIO_REASSIGNED).exists()
    send_pending()
    told = {email.to[0]: email for email in mail.outbox}
    assert "no longer assigned to you" in told[nora.email].subject
    assert aaron.display_name in told[nora.email].body


def test_a_change_made_meanwhile_is_not_overwritten(client, alice, nora, aaron, gold, enterprise):
    client.force_login(alice)
    post_assign(client, gold, enterprise, 1, nora)
    # Another tab still shows it free, and assigns it to Aaron.
    html = post_assign(client, gold, enterprise, 1, aaron, seen="").content.decode()
    assert "Meanwhile the subscription was assigned to" in html
    assert SubscriptionAssignment.objects.get().assignee == nora


@pytest.mark.parametrize("number", [0, 3, 999])
def test_a_subscription_the_offer_doesnt_include_is_not_found(
    client, alice, nora, gold, enterprise, number
):
    client.force_login(alice)
    response = client.post(assign_url(gold, enterprise, number), {"assignee": nora.pk})
    assert response.status_code == 404


def test_another_companys_offer_or_user_changes_nothing(client, alice, bob, gold, enterprise):
    client.force_login(bob)
    response = client.post(assign_url(gold, enterprise, 1), {"assignee": bob.pk})
    assert response.status_code == 404  # Bob's company isn't Contoso
    client.force_login(alice)
    html = post_assign(client, gold, enterprise, 1, bob).content.decode()
    assert "Choose one of your company's active users." in html
    assert not SubscriptionAssignment.objects.exists()


def test_a_deactivated_user_is_not_offered_nor_accepted(client, alice, nora, gold, enterprise):
    nora.is_active = False
    nora.save()
    client.force_login(alice)
    assert nora.email not in client.get(PAGE).content.decode()
    html = post_assign(client, gold, enterprise, 1, nora).content.decode()
    assert "Choose one of your company's active users." in html
    assert not SubscriptionAssignment.objects.exists()


def test_an_offer_that_ended_shows_and_assigns_nothing(client, alice, nora, contoso, enterprise):
    ended = OfferFactory(
        partner=contoso,
        kind=OfferKind.ACTION_PACK,
        level="",
        competency=None,
        starts_on=datetime.date(2020, 1, 1),
        ends_on=datetime.date(2021, 1, 1),
    )
    visual_studio("Visual Studio Professional", action_pack=3)
    client.force_login(alice)
    assert "Professional" not in client.get(PAGE).content.decode()
    professional = Product.objects.get(name__contains="Professional")
    assert client.post(assign_url(ended, professional, 1), {"assignee": nora.pk}).status_code == 404


# A subscription assigned is a benefit used: no refund


def test_an_assignment_stops_a_refund_and_declines_a_waiting_request(
    alice, nora, contoso, enterprise
):
    today = datetime.date.today()
    fresh = OfferFactory(
        partner=contoso,
        kind=OfferKind.ACTION_PACK,
        level="",
        competency=None,
        starts_on=today - datetime.timedelta(days=3),
        ends_on=today + datetime.timedelta(days=362),
    )
    professional = visual_studio("Visual Studio Professional", action_pack=3)
    waiting = cancellations.request_cancellation(alice, fresh, "Bought by mistake")

    services.assign(row_of(contoso, fresh, professional), 1, nora, alice)

    waiting.refresh_from_db()
    assert waiting.state == CancellationRequest.State.DECLINED
    [obstacle] = cancellations.obstacles(fresh)
    assert obstacle.code == "subscription_assigned"
    assert obstacle.text.endswith("Alice Admin assigned a Visual Studio Professional subscription.")


def test_a_new_user_can_be_given_one(client, alice, contoso, gold, enterprise):
    newcomer = UserFactory(email="new@contoso.example", partner=contoso)
    client.force_login(alice)
    assert newcomer.email in client.get(PAGE).content.decode()
    post_assign(client, gold, enterprise, 1, newcomer)
    assert SubscriptionAssignment.objects.get().assignee == newcomer


def test_a_holder_who_left_or_was_deactivated_frees_the_subscription_at_once(
    client, alice, nora, aaron, gold, enterprise, clock
):
    client.force_login(alice)
    post_assign(client, gold, enterprise, 1, nora)
    first = SubscriptionAssignment.objects.get()
    clock.advance(days=10)
    nora.is_active = False
    nora.save()
    html = client.get(PAGE).content.decode()
    assert "Can be reassigned on" not in html
    html = post_assign(client, gold, enterprise, 1, aaron, seen=first.pk).content.decode()
    assert "is assigned to" in html
    assert SubscriptionAssignment.objects.get(ended_at__isnull=True).assignee == aaron


def test_when_everyone_holds_one_no_form_is_offered(client, alice, contoso, gold):
    visual_studio("Visual Studio Enterprise", gold=2)
    product = Product.objects.get(name="Visual Studio Enterprise")
    row = row_of(contoso, gold, product)
    services.assign(row, 1, alice, alice)  # Alice is the company's only user
    client.force_login(alice)
    html = html_of(client.get(PAGE))
    assert "Everyone in your company holds a subscription of this offer already." in html
    assert ">Assign user</button>" not in html
