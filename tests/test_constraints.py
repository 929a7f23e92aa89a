"""The database's constraints, and what staff read when they meet one: words, never a name.

One Microsoft Action Pack per company at a time, and a competency's periods never overlap (at
either level): an exclusion constraint on PostgreSQL, model validation everywhere, the admin
naming the offer already held.
"""

import datetime
import html
import threading

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import BaseConstraint
from django.test import Client
from django.utils import timezone

from accounts.models import User
from entitlements.models import MembershipOffer, Partner
from entitlements.rules import Level, OfferKind

from .factories import OfferFactory, PartnerFactory, UserFactory, competency

PROJECT_APPS = {"accounts", "entitlements", "activation", "support", "audit"}
OFFERS = "/admin/entitlements/membershipoffer/"


def today():
    return timezone.localdate()


def days(n):
    return today() + datetime.timedelta(days=n)


def page_text(response):
    return html.unescape(response.content.decode())


def test_every_constraint_of_every_model_has_its_own_message():
    constraints = [
        (model.__name__, constraint)
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS
        for constraint in model._meta.constraints
    ]
    assert len(constraints) > 20  # the walk found them
    default = BaseConstraint.default_violation_error_message
    without = [
        f"{model}.{constraint.name}"
        for model, constraint in constraints
        if constraint.violation_error_message in (None, default)
        or constraint.name in str(constraint.violation_error_message)
    ]
    assert without == []


def offer_form(partner, *, kind=OfferKind.ACTION_PACK, competency=None, level="", **dates):
    return {
        "partner": partner.pk,
        "kind": kind,
        "competency": competency.pk if competency else "",
        "level": level,
        "starts_on": dates.get("starts_on", today()).isoformat(),
        "ends_on": dates.get("ends_on", days(365)).isoformat(),
    }


def test_admin_refuses_a_second_action_pack_overlapping_the_first(sign_in, support, bob):
    fabrikam = bob.partner
    held = fabrikam.offers.get()
    response = sign_in(support).post(f"{OFFERS}add/", offer_form(fabrikam, starts_on=days(30)))

    assert response.status_code == 200
    page = page_text(response)
    assert "This company already holds Microsoft Action Pack from" in page
    assert held.starts_on.strftime("%Y") in page
    assert "action_pack_periods_do_not_overlap" not in page
    assert fabrikam.offers.count() == 1


def test_admin_refuses_an_overlapping_period_of_the_same_competency_at_either_level(
    sign_in, support, contoso
):
    cloud = competency("Cloud Platform")
    response = sign_in(support).post(
        f"{OFFERS}add/",
        offer_form(
            contoso,
            kind=OfferKind.COMPETENCY,
            competency=cloud,
            level=Level.SILVER,
            starts_on=days(200),
            ends_on=days(565),
        ),
    )
    assert response.status_code == 200
    assert "This company already holds Gold Cloud Platform from" in page_text(response)
    assert contoso.offers.filter(competency=cloud).count() == 1


def test_admin_accepts_a_renewal_after_the_period_and_another_competency_meanwhile(
    sign_in, support, contoso
):
    gold = contoso.offers.get(level=Level.GOLD)
    client = sign_in(support)
    renewal = offer_form(
        contoso,
        kind=OfferKind.COMPETENCY,
        competency=gold.competency,
        level=Level.GOLD,
        starts_on=gold.ends_on + datetime.timedelta(days=1),
        ends_on=gold.ends_on + datetime.timedelta(days=366),
    )
    other = offer_form(
        contoso, kind=OfferKind.COMPETENCY, competency=competency("Security"), level=Level.SILVER
    )
    assert client.post(f"{OFFERS}add/", renewal).status_code == 302
    assert client.post(f"{OFFERS}add/", other).status_code == 302
    assert client.post(f"{OFFERS}add/", offer_form(contoso)).status_code == 302  # Action Pack
    assert contoso.offers.count() == 5


def test_moving_an_offers_dates_onto_another_is_refused_even_with_its_terms_frozen(
    sign_in, support, alice, contoso, clock
):
    from activation import services
    from entitlements.rules import Benefit

    old = OfferFactory(partner=contoso, action_pack=True, starts_on=days(-500), ends_on=days(-135))
    current = OfferFactory(partner=contoso, action_pack=True, starts_on=days(-100))
    services.request_activation(current, Benefit.PRODUCT_SUPPORT, alice)  # terms now frozen
    response = sign_in(support).post(
        f"{OFFERS}{old.pk}/change/",
        {"starts_on": old.starts_on.isoformat(), "ends_on": days(-50).isoformat()},
    )
    assert response.status_code == 200
    assert "This company already holds Microsoft Action Pack from" in page_text(response)
    old.refresh_from_db()
    assert old.ends_on == days(-135)


def test_model_validation_refuses_the_overlap_on_every_database(contoso):
    offer = MembershipOffer(
        partner=contoso, kind=OfferKind.ACTION_PACK, starts_on=days(0), ends_on=days(10)
    )
    offer.full_clean()  # no Action Pack yet
    offer.save()
    second = MembershipOffer(
        partner=contoso, kind=OfferKind.ACTION_PACK, starts_on=days(10), ends_on=days(20)
    )
    with pytest.raises(ValidationError, match="already holds Microsoft Action Pack"):
        second.full_clean()  # the periods share their last and first day


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_on_postgresql_the_database_itself_refuses_the_overlap(contoso):
    MembershipOffer.objects.create(
        partner=contoso, kind=OfferKind.ACTION_PACK, starts_on=days(0), ends_on=days(10)
    )
    with (
        pytest.raises(IntegrityError, match="action_pack_periods_do_not_overlap"),
        transaction.atomic(),
    ):
        MembershipOffer.objects.create(
            partner=contoso, kind=OfferKind.ACTION_PACK, starts_on=days(5), ends_on=days(50)
        )
    silver = dict(kind=OfferKind.COMPETENCY, competency=competency("Cloud Platform"))
    with (
        pytest.raises(IntegrityError, match="competency_periods_do_not_overlap"),
        transaction.atomic(),
    ):
        MembershipOffer.objects.create(
            partner=contoso,
            level=Level.SILVER,
            starts_on=days(100),
            ends_on=days(400),
            **silver,
        )


def save_at_once(user, forms):
    """Post each form to the offer's add page from its own thread, all at the same moment;
    returns [(status, page text)]."""
    start = threading.Barrier(len(forms))
    answers = []

    def save(form):
        try:
            client = Client()
            client.force_login(user)
            start.wait()
            response = client.post(f"{OFFERS}add/", form)
            answers.append((response.status_code, page_text(response)))
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(form,)) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.django_db(transaction=True)
def test_two_staff_saving_overlapping_action_packs_at_once_save_one_and_tell_the_other(support):
    fabrikam = PartnerFactory(name="Fabrikam Inc")
    forms = [
        offer_form(fabrikam, starts_on=days(0), ends_on=days(365)),
        offer_form(fabrikam, starts_on=days(1), ends_on=days(366)),  # not the same start date
    ]
    for _ in range(3):  # a race: run it a few times
        MembershipOffer.objects.filter(partner=fabrikam).delete()
        answers = save_at_once(support, forms)

        assert sorted(status for status, _ in answers) == [200, 302]
        refused = next(page for status, page in answers if status == 200)
        assert "This company already holds Microsoft Action Pack from" in refused
        assert MembershipOffer.objects.filter(partner=fabrikam).count() == 1


def partner_form(**fields):
    return {
        "name": "Second Company",
        "mpn_id": "",
        "is_mpn_associated": "on",
        "offers-TOTAL_FORMS": "0",
        "offers-INITIAL_FORMS": "0",
        **fields,
    }


def test_admin_says_in_words_that_another_company_has_the_mpn_id(sign_in, support, contoso):
    response = sign_in(support).post(
        "/admin/entitlements/partner/add/", partner_form(mpn_id=contoso.mpn_id)
    )
    assert response.status_code == 200
    page = page_text(response)
    assert "Another company already has this MPN ID." in page
    assert "partner_mpn_id_unique" not in page
    assert not Partner.objects.filter(name="Second Company").exists()


def test_admin_says_in_words_that_an_email_is_taken_in_another_case(sign_in, support, alice):
    aaron = UserFactory(email="aaron@contoso.example", partner=alice.partner)
    response = sign_in(support).post(
        f"/admin/accounts/user/{aaron.pk}/change/",
        {
            "email": "Alice@Contoso.example",
            "first_name": aaron.first_name,
            "last_name": aaron.last_name,
            "partner": aaron.partner_id,
            "is_active": "on",
            "date_joined_0": aaron.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": aaron.date_joined.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 200
    page = page_text(response)
    assert "An account with this email address already exists." in page
    assert "user_email_unique_ignoring_case" not in page
    assert User.objects.get(pk=aaron.pk).email == "aaron@contoso.example"
