"""The Technical benefits page states the company's terms, and the rules behind them."""

import datetime
import importlib

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from activation import services
from activation.models import ActivationRequest
from entitlements.models import Competency, MembershipOffer, Role
from entitlements.rules import Benefit, Level
from notices.services import send_pending
from support.models import SupportContract

from .factories import OfferFactory, PartnerFactory, UserFactory, competency
from .test_technical_benefits import PAGE, activate_url, detail_url

pytestmark = pytest.mark.django_db


def main(response):
    assert response.status_code in (200, 403)
    return response.content.decode().split('<main id="main">')[1]


def test_action_pack_says_it_includes_no_cloud_support(sign_in, bob):
    page = main(sign_in(bob).get(PAGE))
    assert "Microsoft Action Pack includes no cloud support." in page
    assert "comes with a Gold or Silver competency" in page


def test_a_competency_offer_says_nothing_of_missing_cloud_support(sign_in, alice):
    assert "includes no cloud support" not in main(sign_in(alice).get(PAGE))


def test_the_page_shows_the_companys_mpn_id_and_csp_status(sign_in, alice, contoso):
    page = main(sign_in(alice).get(PAGE))
    assert "<dt>MPN ID</dt><dd>4412345</dd>" in page
    assert "Not in the CSP program" in page
    contoso.is_csp = True
    contoso.save()
    assert "In the CSP program" in main(sign_in(alice).get(PAGE))


def test_a_csp_only_account_is_told_how_to_become_mpn_associated(sign_in, carol):
    tailspin = carol.partner
    admin = UserFactory(email="gabe@tailspin.example", partner=tailspin, roles=[Role.GLOBAL_ADMIN])
    page = main(sign_in(carol).get(PAGE))
    assert "You must have an MPN associated account." in page
    assert "How an account becomes MPN associated" in page
    assert "7-digit MPN ID is recorded" in page
    assert "In the CSP program" in page
    assert f'href="mailto:{admin.email}"' in page


def test_the_lede_names_what_the_company_holds(sign_in, alice, bob):
    contoso = main(sign_in(alice).get(PAGE))
    assert (
        "membership offers Contoso Ltd holds: Gold Cloud Platform and Silver Data Analytics."
        in contoso
    )
    fabrikam = main(sign_in(bob).get(PAGE))
    assert "membership offers Fabrikam Inc holds: Microsoft Action Pack." in fabrikam
    assert "Gold, Silver and Microsoft Action Pack" not in fabrikam


def test_no_name_takes_an_english_possessive(sign_in, clock, settings):
    settings.SIMULATED_DAY_SECONDS = 1
    northwind = PartnerFactory(name="Northwind Traders")
    offer = OfferFactory(partner=northwind, competency=competency("Datacenter"))
    admin = UserFactory(partner=northwind, roles=[Role.GLOBAL_ADMIN])
    page = main(sign_in(admin).get(PAGE))
    request, _ = services.request_activation(offer, Benefit.PRODUCT_SUPPORT, admin)
    services.complete_now(request.pk, None)
    send_pending()
    [email] = mail.outbox
    for text in (page, email.body):
        assert "Northwind Traders" in text
        assert "Northwind Traders'" not in text and "Northwind Traders’" not in text


# An offer's terms are fixed when it starts.


def activated(offer, benefit, user):
    request, _ = services.request_activation(offer, benefit, user)
    services.complete_now(request.pk, None)
    return SupportContract.objects.get(activation=request)


def test_a_competency_marked_cloud_later_leaves_a_started_offer_as_it_was(
    sign_in, alice, contoso, support, clock
):
    silver = contoso.offers.get(level=Level.SILVER)  # Silver Data Analytics, started before
    contract = activated(silver, Benefit.SIGNATURE_CLOUD_SUPPORT, alice)
    assert (contract.incidents_total, contract.pack_name) == (5, "Signature 5-pack")
    SupportContract.objects.filter(pk=contract.pk).update(incidents_remaining=0)

    # Support staff mark Data Analytics a cloud competency, in admin.
    data_analytics = Competency.objects.get(name="Data Analytics")
    staff = sign_in(support)
    support.is_superuser = True
    support.save()
    response = staff.post(
        reverse("admin:entitlements_competency_change", args=[data_analytics.pk]),
        {"name": "Data Analytics", "is_cloud": "on"},
    )
    assert response.status_code == 302
    data_analytics.refresh_from_db()
    assert data_analytics.is_cloud

    page = main(sign_in(alice).get(detail_url(silver, Benefit.SIGNATURE_CLOUD_SUPPORT)))
    silver_part = page[page.index(">Silver Data Analytics</h2>") :]
    assert "Unlimited incidents" not in silver_part
    assert "5 incidents" in silver_part and "Signature 5-pack" in silver_part
    assert "0 of 5" in silver_part and "No incidents remaining" in silver_part
    silver.refresh_from_db()
    assert silver.entitlement(Benefit.SIGNATURE_CLOUD_SUPPORT).pack_name == "Signature 5-pack"

    # An offer that starts afterwards gets the catalogue as it is now.
    fabrikam = PartnerFactory(name="Fabrikam Inc")
    later = OfferFactory(partner=fabrikam, competency=data_analytics, level=Level.SILVER)
    assert later.entitlement(Benefit.SIGNATURE_CLOUD_SUPPORT).is_unlimited


def test_an_offer_not_started_yet_takes_a_catalogue_change(contoso):
    today = timezone.localdate()
    upcoming = OfferFactory(
        partner=PartnerFactory(),
        competency=competency("Messaging"),
        level=Level.GOLD,
        starts_on=today + datetime.timedelta(days=10),
    )
    assert upcoming.cloud_support_incidents == 10
    messaging = Competency.objects.get(name="Messaging")
    messaging.is_cloud = True
    messaging.save()
    upcoming.refresh_from_db()
    assert upcoming.includes_cloud_support and upcoming.cloud_support_incidents is None


def test_the_migration_takes_an_existing_offers_terms_from_its_contract(alice, contoso, clock):
    from django.apps import apps

    silver = contoso.offers.get(level=Level.SILVER)
    activated(silver, Benefit.SIGNATURE_CLOUD_SUPPORT, alice)
    Competency.objects.filter(name="Data Analytics").update(is_cloud=True)
    gold = contoso.offers.get(level=Level.GOLD)
    MembershipOffer.objects.filter(pk__in=[silver.pk, gold.pk]).update(cloud_support_incidents=99)
    migration = importlib.import_module("entitlements.migrations.0005_offer_terms")
    migration.record_terms(apps, None)
    silver.refresh_from_db()
    gold.refresh_from_db()
    assert silver.cloud_support_incidents == 5  # from its contract, not today's catalogue
    assert gold.cloud_support_incidents is None  # Gold Cloud Platform: unlimited


# Ended offers: the renewal window.


def test_an_ended_offer_shows_its_renewal_window_and_last_day(sign_in, alice, contoso, clock):
    today = clock.now().date()
    silver = contoso.offers.get(level=Level.SILVER)
    silver.ends_on = today - datetime.timedelta(days=10)
    silver.save()
    page = main(sign_in(alice).get(PAGE))
    last_day = silver.ends_on + datetime.timedelta(days=30)
    assert f"Ended {date_format(silver.ends_on)}" in page
    assert f"Renew by {date_format(last_day)}" in page


def test_a_company_whose_only_offer_ended_is_told_when_its_membership_ended(sign_in, clock):
    today = clock.now().date()
    northwind = PartnerFactory(name="Northwind Traders")
    recent = OfferFactory(partner=northwind, ends_on=today - datetime.timedelta(days=10))
    admin = UserFactory(partner=northwind, roles=[Role.GLOBAL_ADMIN])
    page = main(sign_in(admin).get(PAGE))
    assert f"Your membership ended on {date_format(recent.ends_on)}." in page
    last_day = recent.ends_on + datetime.timedelta(days=30)
    assert f"Renew by {date_format(last_day)}" in page
    assert "signed in using the wrong account" not in page

    MembershipOffer.objects.filter(pk=recent.pk).update(
        starts_on=today - datetime.timedelta(days=500), ends_on=today - datetime.timedelta(days=100)
    )
    page = main(sign_in(admin).get(PAGE))
    assert "Looks like you don't have any benefits yet" in page
    ended = date_format(today - datetime.timedelta(days=100))
    assert f"Your membership ended on {ended}." in page
    assert "Its renewal window closed on" in page
    assert "signed in using the wrong account" not in page


# A failure keeps the facts of its moment.


def test_a_failure_reason_keeps_the_end_date_it_failed_on(sign_in, alice, contoso, clock):
    gold = contoso.offers.get(level=Level.GOLD)
    gold.ends_on = clock.now().date() + datetime.timedelta(days=1)
    gold.save()
    ended = date_format(gold.ends_on)
    request, _ = services.request_activation(gold, Benefit.PRODUCT_SUPPORT, alice)
    for _day in range(3):
        clock.advance(days=1)
        services.sweep()
    request.refresh_from_db()
    assert request.state == ActivationRequest.State.FAILED

    gold.ends_on += datetime.timedelta(days=365)  # renewed since
    gold.save()
    page = main(sign_in(alice).get(detail_url(gold, Benefit.PRODUCT_SUPPORT)))
    assert f"Gold Cloud Platform ended on {ended}, before the activation completed." in page
    assert date_format(gold.ends_on) not in page.split("Activation failed:")[1][:200]


def test_the_migration_reads_the_facts_back_from_the_english_reason(alice, contoso):
    from django.apps import apps

    gold = contoso.offers.get(level=Level.GOLD)
    now = timezone.now()
    request = ActivationRequest.objects.create(
        offer=gold,
        benefit=Benefit.PRODUCT_SUPPORT,
        requested_by=alice,
        state=ActivationRequest.State.FAILED,
        requested_at=now,
        expected_at=now,
        failure_code="offer_ended",
        failure_reason=(
            "Gold Cloud Platform ended on Nov. 28, 2027, before the activation completed."
        ),
    )
    migration = importlib.import_module("activation.migrations.0007_failure_facts")
    migration.keep_facts(apps, None)
    request.refresh_from_db()
    assert request.failure_facts["ended"] == "2027-11-28"
    assert "Nov. 28, 2027" in request.failure_message


# A person's own name reads "you".


def test_a_requester_reads_you_and_a_colleague_reads_the_name(sign_in, alice, mona, contoso, clock):
    gold = contoso.offers.get(level=Level.GOLD)
    client = sign_in(alice)
    client.post(activate_url(gold, Benefit.PRODUCT_SUPPORT))
    page = main(client.get(PAGE))
    assert "by you." in page and "by Alice Admin" not in page
    again = main(client.post(activate_url(gold, Benefit.PRODUCT_SUPPORT), follow=True))
    assert "Activation was already requested by you on" in again

    colleague = sign_in(mona)
    page = main(colleague.get(PAGE))
    assert "by Alice Admin." in page and "by you" not in page
    again = main(colleague.post(activate_url(gold, Benefit.PRODUCT_SUPPORT), follow=True))
    assert "Activation was already requested by Alice Admin on" in again


def test_the_allow_a_few_days_banner_names_the_row_it_waits_on(sign_in, alice, contoso, clock):
    # The page removes it by this name once the row stops waiting (a browser test watches it).
    gold = contoso.offers.get(level=Level.GOLD)
    client = sign_in(alice)
    page = main(client.post(activate_url(gold, Benefit.PRODUCT_SUPPORT), follow=True))
    key = f"{gold.pk}-{Benefit.PRODUCT_SUPPORT}"
    assert f'class="message pending-{key} success"' in page
    assert "Allow a few days" in page
