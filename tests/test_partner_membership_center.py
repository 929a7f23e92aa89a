"""A company not yet moved from Partner Membership Center (seed 003): its Benefits pages say its
benefits are managed there and how to activate technical benefits outside Partner Center, offer
no action, and refuse a forged one; support staff clear the flag when it moves, audited."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from activation.models import ActivationRequest
from audit.models import AuditEntry
from cancellations.models import CancellationRequest
from cases.models import Case
from cloud.models import CreditAssignment
from devtools.models import SubscriptionAssignment
from entitlements.rules import Benefit, Level
from software.models import LicenseKey

from .factories import pool
from .test_cloud import cloud_catalogue
from .test_technical_benefits import PAGE, activate_url
from .test_visual_studio import visual_studio

pytestmark = pytest.mark.django_db

SAYS = "The membership benefits of Contoso Ltd are still managed in Partner Membership Center"
HOW = "To activate your technical benefits, you need to contact another resource"
PAGES = [
    PAGE,
    reverse("entitlements:software"),
    reverse("entitlements:cloud"),
    reverse("entitlements:visual_studio"),
    reverse("cancellations:offers"),
]


@pytest.fixture
def in_pmc(contoso):
    contoso.in_partner_membership_center = True
    contoso.save()
    return contoso


@pytest.fixture
def catalogue(contoso):
    products = cloud_catalogue()
    products["visual_studio"] = visual_studio("Visual Studio Enterprise", gold=2)
    pool(products["software"], 3)
    pool(products["dynamics"], 3, prefix="DYN")
    return products


@pytest.mark.parametrize("path", PAGES)
def test_every_benefits_page_says_where_the_benefits_are_managed_and_offers_no_action(
    client, alice, aaron, in_pmc, catalogue, path
):
    for person in (alice, aaron):
        client.force_login(person)
        html = client.get(path).content.decode()
        assert SAYS in html and HOW in html
        assert "partner-membership-center-tech-benefits-activate" in html
        for action in ("Activate", "Get keys", "Assign user", "Request cancellation"):
            assert f">{action}</button>" not in html, (person, action)
        # Nobody is pointed at a role that can't act here either.
        assert "can activate" not in html and "can get keys" not in html


def test_an_offer_young_enough_to_cancel_offers_no_request(client, alice, contoso):
    offer = contoso.offers.get(level=Level.GOLD)
    offer.starts_on = timezone.localdate() - datetime.timedelta(days=5)
    offer.save()
    url = reverse("cancellations:offer", args=[offer.pk])
    client.force_login(alice)
    assert ">Request cancellation</button>" in client.get(url).content.decode()

    contoso.in_partner_membership_center = True
    contoso.save()
    html = client.get(url).content.decode()
    assert SAYS in html
    assert ">Request cancellation</button>" not in html


def test_advisory_requests_are_filed_outside_partner_center_too(client, nora, in_pmc):
    client.force_login(nora)
    response = client.get(reverse("cases:advisory"))
    assert response.status_code == 403
    assert SAYS in response.content.decode()
    response = client.post(reverse("cases:advisory"), {"title": "Help", "description": "Plan"})
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_forged_actions_are_refused_with_the_reason_and_change_nothing(
    client, alice, in_pmc, catalogue
):
    gold = in_pmc.offers.get(level=Level.GOLD)
    client.force_login(alice)
    cloud_row = [gold.pk, catalogue["m365"].pk]
    forged = [
        activate_url(gold, Benefit.PRODUCT_SUPPORT),
        reverse("cloud:activate", args=cloud_row),
        reverse("cloud:assign", args=[gold.pk, catalogue["azure"].pk]),
        reverse("cloud:get_keys", args=[gold.pk, catalogue["dynamics"].pk]),
        reverse("software:get_keys", args=[gold.pk, catalogue["software"].pk]),
        reverse("cancellations:request", args=[gold.pk]),
        reverse("devtools:assign", args=[gold.pk, catalogue["visual_studio"].pk, 1]),
    ]
    for url in forged:
        response = client.post(url, {"assignee": alice.pk, "reason": "Bought twice"})
        assert response.status_code == 403, url
        assert SAYS in response.content.decode(), url
    assert not ActivationRequest.objects.exists()
    assert not CreditAssignment.objects.exists()
    assert not LicenseKey.objects.filter(offer__isnull=False).exists()
    assert not CancellationRequest.objects.exists()
    assert not SubscriptionAssignment.objects.exists()


def test_support_staff_clear_the_flag_when_the_company_moves_and_the_move_is_audited(
    client, support, alice, in_pmc
):
    client.force_login(alice)
    assert ">Activate</button>" not in client.get(PAGE).content.decode()

    client.force_login(support)
    url = reverse("admin:entitlements_partner_change", args=[in_pmc.pk])
    form = {
        "name": "Contoso Ltd",
        "mpn_id": "4412345",
        "is_mpn_associated": "on",
        "offers-TOTAL_FORMS": "0",
        "offers-INITIAL_FORMS": "0",
    }
    assert client.post(url, form).status_code == 302
    in_pmc.refresh_from_db()
    assert not in_pmc.in_partner_membership_center
    [moved] = AuditEntry.objects.filter(partner=in_pmc, action=AuditEntry.Action.COMPANY_CHANGED)
    assert moved.actor == support
    assert moved.subject == "in_partner_membership_center True -> False"

    client.force_login(alice)
    log = client.get(reverse("audit:log")).content.decode()
    assert "Not yet moved from Partner Membership Center" in log
    html = client.get(PAGE).content.decode()
    assert SAYS not in html
    assert ">Activate</button>" in html
