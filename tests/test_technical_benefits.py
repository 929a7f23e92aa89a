"""The Technical benefits page as each role, each kind of company and a visitor see it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from entitlements.models import Role
from entitlements.rules import Benefit

from .factories import OfferFactory, PartnerFactory, UserFactory, contract_for
from .test_cases import open_incident

PAGE = "/dashboard/mpn/membership/benefits/technical"


def activate_url(offer, benefit):
    return reverse("activation:activate", args=[offer.pk, benefit])


def detail_url(offer, benefit):
    return reverse("entitlements:benefit_detail", args=[offer.pk, benefit])


def test_the_page_lives_at_partner_centers_address():
    assert reverse("entitlements:technical_benefits") == PAGE


def test_a_global_admin_sees_every_benefit_with_its_quantity(sign_in, alice):
    response = sign_in(alice).get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    offers = page.index('<section class="offer"')  # after the lede, which names them too
    gold, silver = (
        page.index("Gold Cloud Platform", offers),
        page.index("Silver Data Analytics", offers),
    )
    assert gold < silver
    gold_part, silver_part = page[gold:silver], page[silver:]
    assert "Microsoft Product Support" in gold_part and "20 incidents" in gold_part
    assert "Signature Cloud Support" in gold_part and "Unlimited incidents" in gold_part
    assert "15 incidents" in silver_part
    assert "5 incidents" in silver_part and "Signature 5-pack" in silver_part
    assert page.count('class="benefit"') == 4
    assert "50 advisory hours" in page
    assert "Presales consultations are unlimited" in page


def test_each_of_the_four_benefits_has_its_own_activate_button(sign_in, alice, contoso):
    page = sign_in(alice).get(PAGE).content.decode()
    for offer in contoso.offers.all():
        for benefit in ("product_support", "signature_cloud_support"):
            assert f'action="{activate_url(offer, benefit)}"' in page
    assert "disabled" not in page


def test_an_mpn_partner_admin_can_activate_too(sign_in, mona):
    page = sign_in(mona).get(PAGE).content.decode()
    assert page.count(">Activate</button>") == 4
    assert "disabled" not in page


def test_an_admin_agent_sees_disabled_buttons_and_who_can_activate(sign_in, aaron, alice, mona):
    response = sign_in(aaron).get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<button type="button" class="primary" disabled') == 4
    assert "/activate" not in page
    assert "Only a Global admin or MPN partner admin can activate benefits" in page
    assert "alice@contoso.example" in page and "mona@contoso.example" in page


@pytest.mark.parametrize("who", ["ursula", "nora"])
def test_a_user_without_a_viewing_role_is_told_why_and_whom_to_ask(
    request, sign_in, who, alice, mona
):
    response = sign_in(request.getfixturevalue(who)).get(PAGE)
    assert response.status_code == 403
    page = response.content.decode()
    assert "you may not have the correct user roles" in page.lower()
    assert "Contact your Partner Center Global admin" in page
    assert "alice@contoso.example" in page
    assert "mona@contoso.example" not in page  # an MPN partner admin can't grant roles
    assert "Microsoft Product Support" not in page


def test_the_role_message_names_the_users_own_roles(sign_in, ursula):
    assert "Your roles: User admin." in sign_in(ursula).get(PAGE).content.decode()


def test_a_csp_only_company_is_not_authorized(sign_in, carol):
    response = sign_in(carol).get(PAGE)
    assert response.status_code == 403
    page = response.content.decode()
    assert "You are not authorized for this action" in page
    assert "You must have an MPN associated account" in page


def test_support_staff_have_no_company_benefits(sign_in, db):
    staff = UserFactory(partner=None, is_staff=True)
    response = sign_in(staff).get(PAGE)
    assert response.status_code == 403
    assert "You are not authorized for this action" in response.content.decode()


def test_a_company_without_any_offer_has_no_benefits_yet(sign_in, db):
    northwind = PartnerFactory(name="Northwind Traders")
    admin = UserFactory(partner=northwind, roles=[Role.GLOBAL_ADMIN])
    response = sign_in(admin).get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Looks like you don't have any benefits yet" in page
    assert "you may have signed in using the wrong account" in page
    assert "Sign in with another account" in page
    assert ">Activate</button>" not in page


def test_offers_count_from_their_first_to_their_last_day(sign_in, db):
    today = timezone.localdate()
    partner = PartnerFactory()
    OfferFactory(partner=partner, starts_on=today - datetime.timedelta(days=365), ends_on=today)
    OfferFactory(
        partner=partner,
        action_pack=True,
        starts_on=today + datetime.timedelta(days=1),
        ends_on=today + datetime.timedelta(days=366),
    )
    page = sign_in(UserFactory(partner=partner, roles=[Role.GLOBAL_ADMIN])).get(PAGE)
    page = page.content.decode()
    assert ">Gold Cloud Platform</h2>" in page
    assert ">Microsoft Action Pack</h2>" not in page


def test_action_pack_brings_on_premises_support_and_five_hours(sign_in, bob):
    page = sign_in(bob).get(PAGE).content.decode()
    assert ">Microsoft Action Pack</h2>" in page
    assert "10 incidents" in page
    assert 'benefit-name">Signature Cloud Support' not in page
    assert "5 advisory hours" in page
    assert "Presales consultations are deducted from your hours" in page


def test_a_signed_out_visitor_is_sent_to_sign_in(client, db):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={PAGE}"


def test_a_benefit_opens_expanded_at_its_own_address(sign_in, alice, contoso):
    offer = contoso.offers.get(level="silver")
    page = sign_in(alice).get(detail_url(offer, "signature_cloud_support")).content.decode()
    assert f'id="benefit-{offer.pk}-signature_cloud_support" open' in page
    assert page.count('_support" open>') == 1


def test_another_companys_benefit_is_not_found(sign_in, alice, bob):
    bobs_offer = bob.partner.offers.get()
    assert sign_in(alice).get(detail_url(bobs_offer, "product_support")).status_code == 404


def test_another_companys_benefit_cannot_be_activated(sign_in, alice, bob):
    response = sign_in(alice).post(activate_url(bob.partner.offers.get(), "product_support"))
    assert response.status_code == 404


@pytest.mark.parametrize("benefit", ["signature_cloud_support", "no_such_benefit"])
def test_a_benefit_the_offer_does_not_include_is_not_found(sign_in, bob, benefit):
    response = sign_in(bob).get(detail_url(bob.partner.offers.get(), benefit))
    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()


def test_an_admin_agent_cannot_activate_by_posting_either(sign_in, aaron, contoso):
    response = sign_in(aaron).post(activate_url(contoso.offers.first(), "product_support"))
    assert response.status_code == 403


def test_the_frame_has_the_benefits_navigation_and_the_account_menu(sign_in, alice):
    page = sign_in(alice).get(PAGE).content.decode()
    for item in ("Software", "Cloud", "Visual Studio subscriptions", "Go-To-Market"):
        assert f">{item}</a>" in page
    assert 'aria-current="page">Technical benefits</a>' in page
    assert 'aria-label="Account"' in page
    assert "Sign in with another account" in page
    assert "Contoso Ltd" in page


def test_an_unknown_address_gets_the_portals_own_not_found_page(sign_in, alice):
    response = sign_in(alice).get("/dashboard/no/such/page")
    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()


def test_a_benefits_own_address_keeps_technical_benefits_selected(sign_in, alice, contoso):
    offer = contoso.offers.first()
    page = sign_in(alice).get(
        reverse("entitlements:benefit_detail", args=[offer.pk, "product_support"])
    )
    assert 'aria-current="page">Technical benefits</a>' in page.content.decode()


def test_each_contract_lists_its_own_last_three_incidents(sign_in, alice, contoso):
    gold = contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)
    silver = contract_for(contoso.offers.get(level="silver"), Benefit.PRODUCT_SUPPORT, alice)
    for title in ("Gold first", "Gold second", "Gold third", "Gold fourth"):
        open_incident(alice, gold, title=title)
    open_incident(alice, silver, title="Silver only")
    page = sign_in(alice).get(PAGE).content.decode()

    def row(contract):
        start = page.index(f'id="benefit-{contract.activation.offer_id}-product_support"')
        return page[start : page.index("</details>", start)]

    newest_first = ["Gold fourth", "Gold third", "Gold second"]
    places = [row(gold).find(title) for title in newest_first]
    assert -1 not in places and places == sorted(places)
    assert "Gold first" not in row(gold) and "Silver only" not in row(gold)
    assert "Silver only" in row(silver) and "Gold" not in row(silver).split("Last incidents")[1]
