"""The Go-To-Market page: the company's marketing contact, its Go-To-Market offers by benefit,
and activating one through the activation engine until it is Active with its expiry (seed
003, "Manage Go-To-Market offers"; issue 17)."""

import datetime
import html

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation
from phonenumber_field.phonenumber import PhoneNumber

from activation import services as activation
from activation.models import ActivationRequest
from audit.models import AuditEntry
from entitlements.models import Role
from entitlements.rules import Level, OfferKind
from marketing import services
from marketing.models import MarketingContact
from notices.models import Notice
from notices.services import send_pending
from software.models import Inclusion, Product

from .factories import OfferFactory, PartnerFactory, UserFactory, competency
from .test_cloud import all_at_once

pytestmark = pytest.mark.django_db

PAGE = reverse("entitlements:go_to_market")
CONTACT = reverse("marketing:contact")
SINCE = datetime.date(2015, 1, 1)


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def go_to_market(benefit, name, *memberships, instructions=""):
    """A Go-To-Market offer of the catalogue under `benefit`, included in offers of
    `memberships` ("gold", "silver", "action_pack")."""
    product = Product.objects.create(
        name=name,
        area="go_to_market",
        delivery="provisioned",
        go_to_market_benefit=benefit,
        instructions=instructions,
    )
    for level in memberships:
        kind = OfferKind.ACTION_PACK if level == "action_pack" else OfferKind.COMPETENCY
        Inclusion.objects.create(
            product=product,
            kind=kind,
            level="" if kind == OfferKind.ACTION_PACK else level,
            keys=0,
            since=SINCE,
        )
    return product


@pytest.fixture
def catalogue(db):
    return {
        "case_study": go_to_market(
            "Gold Core", "Customer case study", "gold", instructions="Call your PMM."
        ),
        "co_sell": go_to_market("ISV Co-sell ready", "Co-sell with Microsoft sellers", "gold"),
        "campaign": go_to_market("Silver Core", "Marketing campaign in a box", "silver", "gold"),
        "listing": go_to_market("Microsoft Action Pack", "Solution finder listing", "action_pack"),
    }


def row_of(partner, product):
    [row] = [
        row
        for _benefit, rows in services.go_to_market(partner)
        for row in rows
        if row.product == product
    ]
    return row


def text_of(response):
    return html.unescape(response.content.decode())


def contact_form(person, **fields):
    return {
        "user": person.pk,
        "email": "marketing@contoso.example",
        "phone": "+81 3 1234 5678",
        "language": "ja",
        "seen": "",
        **fields,
    }


def set_contact(partner, actor, user, email="marketing@contoso.example", language="ja"):
    contact, _changed = services.set_contact(
        partner,
        actor,
        user=user,
        email=email,
        phone=PhoneNumber.from_string("+81312345678"),
        language=language,
        seen=services.version_of(services.contact_of(partner)),
    )
    return contact


def run_to_the_end(clock):
    for _day in range(7):  # three business days, a weekend perhaps among them
        clock.advance(days=1)
        activation.sweep()


# The page


def test_offers_are_listed_under_their_benefit_by_the_companys_level(client, alice, bob, catalogue):
    client.force_login(alice)
    groups = [
        (benefit, [row.product.name for row in rows])
        for benefit, rows in services.go_to_market(alice.partner)
    ]
    assert groups == [
        ("Gold Core", ["Customer case study"]),
        ("ISV Co-sell ready", ["Co-sell with Microsoft sellers"]),
        ("Silver Core", ["Marketing campaign in a box"]),
    ]
    # Included in both of Contoso's memberships, it is listed once, with the higher.
    assert row_of(alice.partner, catalogue["campaign"]).offer.level == Level.GOLD
    text = text_of(client.get(PAGE))
    assert "Gold Core" in text and "Customer case study" in text
    assert "Solution finder listing" not in text
    client.force_login(bob)
    text = text_of(client.get(PAGE))
    assert "Solution finder listing" in text and "Gold Core" not in text


def test_a_company_without_go_to_market_offers_is_told_so(client, bob):
    client.force_login(bob)
    assert "Looks like you don't have any Go-To-Market offers yet" in text_of(client.get(PAGE))


def test_who_may_see_the_page(client, alice, mona, aaron, ursula, nora, carol, catalogue):
    for person, status in [
        (alice, 200),
        (mona, 200),
        (aaron, 200),
        (ursula, 403),
        (nora, 403),
        (carol, 403),
    ]:
        client.force_login(person)
        assert client.get(PAGE).status_code == status, person.email


# The marketing contact


def test_a_global_admin_adds_the_marketing_contact(client, alice, nora, catalogue):
    client.force_login(alice)
    assert "To activate any Go-To-Market offer" in text_of(client.get(PAGE))
    assert "Add marketing contact" in text_of(client.get(CONTACT))
    response = client.post(CONTACT, contact_form(nora), follow=True)
    assert f"{nora.display_name} is your marketing contact" in text_of(response)
    contact = MarketingContact.objects.get(partner=alice.partner)
    assert (contact.user, contact.email, contact.language) == (
        nora,
        "marketing@contoso.example",
        "ja",
    )
    assert contact.phone.as_e164 == "+81312345678"
    text = text_of(client.get(PAGE))
    assert "marketing@contoso.example" in text and "+81 3-1234-5678" in text
    assert "Update" in text and "Change" in text
    entry = AuditEntry.objects.get(action=AuditEntry.Action.MARKETING_CONTACT_SET)
    assert entry.actor == alice and "marketing@contoso.example" in entry.subject


def test_an_mpn_partner_admin_updates_and_changes_it(client, alice, mona, nora, catalogue):
    set_contact(alice.partner, alice, nora)
    client.force_login(mona)
    form = client.get(CONTACT).context["form"]
    assert form.initial["user"] == nora.pk and form.initial["email"] == "marketing@contoso.example"
    seen = form.initial["seen"]
    client.post(CONTACT, contact_form(nora, email="gtm@contoso.example", seen=seen))
    assert MarketingContact.objects.get().email == "gtm@contoso.example"
    # Change starts from no one, to choose someone else.
    assert "user" not in client.get(CONTACT + "?change").context["form"].initial
    seen = services.version_of(services.contact_of(alice.partner))
    client.post(CONTACT, contact_form(alice, email="alice.marketing@contoso.example", seen=seen))
    contact = MarketingContact.objects.get()
    assert contact.user == alice and contact.updated_by == mona
    assert AuditEntry.objects.filter(action=AuditEntry.Action.MARKETING_CONTACT_SET).count() == 3
    assert MarketingContact.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "NORA@contoso.example"}, "Enter an email address other than"),
        ({"email": "not an address"}, "Enter a valid email address"),
        ({"email": ""}, "Enter the email address the instructions go to."),
        ({"phone": "03 1234 5678"}, "Enter the phone number with its country code"),
        ({"phone": "+1 12"}, "Enter the phone number with its country code"),
        ({"phone": ""}, "Enter a phone number for the marketing contact."),
        ({"language": "fr"}, "Choose one of the languages in the list."),
        ({"user": ""}, "Choose one of your company's active users."),
        ({"user": "999999"}, "Choose one of your company's active users."),
    ],
)
def test_a_bad_contact_is_told_plainly_kept_as_typed_and_saves_nothing(
    client, alice, nora, catalogue, fields, message
):
    client.force_login(alice)
    response = client.post(CONTACT, contact_form(nora, **fields))
    assert response.status_code == 400
    assert message in text_of(response)
    for name, typed in fields.items():
        if name in ("email", "phone") and typed:
            assert f'value="{typed}"' in text_of(response)
    assert not MarketingContact.objects.exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.MARKETING_CONTACT_SET).exists()


def test_someone_of_another_company_or_inactive_cant_be_the_contact(
    client, alice, bob, nora, catalogue
):
    nora.is_active = False
    nora.save()
    client.force_login(alice)
    for person in (bob, nora):
        response = client.post(CONTACT, contact_form(person))
        assert "Choose one of your company's active users." in text_of(response)
        with pytest.raises(services.Refused):
            set_contact(alice.partner, alice, person)
    assert not MarketingContact.objects.exists()


def test_a_contact_changed_meanwhile_is_not_overwritten(client, alice, mona, nora, catalogue):
    client.force_login(alice)
    seen = client.get(CONTACT).context["form"].initial["seen"]
    set_contact(alice.partner, mona, mona, email="mona.marketing@contoso.example")
    response = client.post(CONTACT, contact_form(nora, seen=seen))
    text = text_of(response)
    assert response.status_code == 400
    assert "Meanwhile the marketing contact was set to" in text
    assert 'value="marketing@contoso.example"' in text  # what was typed, kept
    assert MarketingContact.objects.get().user == mona
    # Saving again, knowingly, overwrites it.
    seen = response.context["form"].data["seen"]
    client.post(CONTACT, contact_form(nora, seen=seen))
    assert MarketingContact.objects.get().user == nora


def test_the_same_values_again_change_nothing(alice, nora, catalogue):
    set_contact(alice.partner, alice, nora)
    contact = services.contact_of(alice.partner)
    _same, changed = services.set_contact(
        alice.partner,
        alice,
        user=nora,
        email=contact.email,
        phone=contact.phone,
        language=contact.language,
        seen="stale",
    )
    assert not changed
    assert AuditEntry.objects.filter(action=AuditEntry.Action.MARKETING_CONTACT_SET).count() == 1


def test_a_company_has_one_marketing_contact_by_the_database(alice, nora, catalogue):
    set_contact(alice.partner, alice, nora)
    with pytest.raises(IntegrityError), transaction.atomic():
        MarketingContact.objects.create(
            partner=alice.partner,
            user=alice,
            email="other@contoso.example",
            phone="+81312345678",
            language="en",
            updated_at=datetime.datetime.now(datetime.UTC),
        )


def test_an_admin_agent_sees_the_contact_but_may_not_set_it(client, alice, aaron, nora, catalogue):
    set_contact(alice.partner, alice, nora)
    client.force_login(aaron)
    text = text_of(client.get(PAGE))
    assert "marketing@contoso.example" in text
    assert "Only a Global admin or MPN partner admin can set the marketing contact." in text
    assert CONTACT not in text
    assert client.get(CONTACT).status_code == 403
    response = client.post(CONTACT, contact_form(aaron, email="x@contoso.example"))
    assert response.status_code == 403
    assert MarketingContact.objects.get().user == nora


# Activating


def test_activate_is_refused_with_the_reason_until_a_contact_is_set(
    client, alice, catalogue, clock
):
    row = row_of(alice.partner, catalogue["case_study"])
    client.force_login(alice)
    url = reverse("marketing:activate", args=[row.offer.pk, row.product.pk])
    response = client.post(url, follow=True)
    text = text_of(response)
    assert "Add a marketing contact first" in text
    assert f'href="{CONTACT}"' in text  # the link to add one, where the reason is read
    assert not ActivationRequest.objects.exists()


def test_activating_goes_through_the_engine_to_active_with_its_expiry(
    client, alice, mona, nora, catalogue, clock
):
    set_contact(alice.partner, alice, nora, email="nora.marketing@contoso.example")
    row = row_of(alice.partner, catalogue["case_study"])
    client.force_login(mona)
    response = client.post(
        reverse("marketing:activate", args=[row.offer.pk, row.product.pk]), follow=True
    )
    assert "It can take several days" in text_of(response)
    request = ActivationRequest.objects.get(product=catalogue["case_study"])
    assert request.benefit == "" and request.state == "submitted"
    row_url = reverse("marketing:row", args=[row.offer.pk, row.product.pk])
    text = text_of(client.get(row_url, HTTP_HX_REQUEST="true"))
    assert "Activation pending" in text and "hx-get" in text
    run_to_the_end(clock)
    request.refresh_from_db()
    assert request.state == "active"
    text = text_of(client.get(row_url, HTTP_HX_REQUEST="true"))
    expires = formats.date_format(row.offer.ends_on, "DATE_FORMAT")
    assert "Active" in text and expires in text and "hx-get" not in text
    # The instructions go to the contact's marketing address, in their language.
    instructions = Notice.objects.get(kind="go_to_market_instructions")
    assert instructions.recipient == nora
    assert {n.recipient.email for n in Notice.objects.filter(kind="go_to_market_active")} == {
        "alice@contoso.example",
        "mona@contoso.example",
    }
    mail.outbox.clear()
    send_pending()
    [to_contact] = [m for m in mail.outbox if m.to == ["nora.marketing@contoso.example"]]
    assert "Call your PMM." in to_contact.body
    assert "市場開拓オファーの手順" in to_contact.subject
    assert not [m for m in mail.outbox if m.to == [nora.email]]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.GO_TO_MARKET_OFFER_ACTIVE).exists()


def test_a_contact_who_left_meanwhile_stops_it_with_the_reason_and_try_again_resumes(
    client, alice, nora, catalogue, clock
):
    set_contact(alice.partner, alice, nora)
    row = row_of(alice.partner, catalogue["co_sell"])
    request, _created = services.activate(row, alice)
    nora.is_active = False
    nora.save()
    run_to_the_end(clock)
    request.refresh_from_db()
    assert request.state == "failed"
    assert "has no marketing contact to email the instructions to" in request.failure_message
    client.force_login(alice)
    retry = reverse("marketing:retry", args=[row.offer.pk, row.product.pk])
    assert "Add a marketing contact first" in text_of(client.post(retry, follow=True))
    assert "no longer an active user of your company" in text_of(client.get(PAGE))
    set_contact(alice.partner, alice, alice, email="alice.marketing@contoso.example")
    assert "started again" in text_of(client.post(retry, follow=True))
    run_to_the_end(clock)
    request.refresh_from_db()
    assert request.state == "active"
    assert Notice.objects.get(kind="go_to_market_instructions").recipient == alice


def test_an_admin_agent_sees_activate_but_may_not(client, alice, aaron, nora, catalogue):
    set_contact(alice.partner, alice, nora)
    row = row_of(alice.partner, catalogue["case_study"])
    client.force_login(aaron)
    text = text_of(client.get(PAGE))
    assert "Only a Global admin or MPN partner admin can activate." in text
    url = reverse("marketing:activate", args=[row.offer.pk, row.product.pk])
    assert client.post(url).status_code == 403
    assert not ActivationRequest.objects.exists()


def test_another_companys_offer_is_a_404(client, alice, bob, catalogue):
    theirs = row_of(bob.partner, catalogue["listing"])
    client.force_login(alice)
    for url in (
        reverse("marketing:row", args=[theirs.offer.pk, theirs.product.pk]),
        reverse("marketing:activate", args=[theirs.offer.pk, theirs.product.pk]),
    ):
        method = client.get if url.endswith(str(theirs.product.pk)) else client.post
        assert method(url).status_code == 404
    # Nor a product its own offers don't include.
    gold = alice.partner.offers.get(level=Level.GOLD)
    url = reverse("marketing:activate", args=[gold.pk, catalogue["listing"].pk])
    assert client.post(url).status_code == 404


def test_a_company_in_partner_membership_center_sees_them_and_can_do_nothing(
    client, alice, nora, catalogue
):
    set_contact(alice.partner, alice, nora)
    alice.partner.in_partner_membership_center = True
    alice.partner.save()
    row = row_of(alice.partner, catalogue["case_study"])
    client.force_login(alice)
    text = text_of(client.get(PAGE))
    assert "Partner Membership Center" in text and "Customer case study" in text
    assert "marketing:activate" not in text and ">Activate<" not in text
    assert CONTACT not in text
    url = reverse("marketing:activate", args=[row.offer.pk, row.product.pk])
    assert client.post(url).status_code == 403
    assert client.get(CONTACT).status_code == 403
    assert not ActivationRequest.objects.exists()


def test_a_go_to_market_offer_is_in_the_catalogue_under_a_benefit_by_the_database(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(name="No benefit", area="go_to_market", delivery="provisioned")
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(
            name="Software with a benefit", area="software", go_to_market_benefit="Gold Core"
        )


# Races


@pytest.mark.django_db(transaction=True)
def test_two_admins_adding_the_contact_at_once_make_one_and_the_other_is_told(catalogue):
    contoso = PartnerFactory(name="Contoso Ltd")
    OfferFactory(partner=contoso, competency=competency("Cloud Platform"), level=Level.GOLD)
    admins = [
        UserFactory(partner=contoso, roles=[Role.GLOBAL_ADMIN], email=f"admin{i}@contoso.example")
        for i in range(2)
    ]
    clients = []
    for admin in admins:
        client = Client()
        client.force_login(admin)
        clients.append(client)
    connection.close()
    answers = all_at_once(
        2,
        lambda i: (
            clients[i]
            .post(CONTACT, contact_form(admins[i], email=f"m{i}@contoso.example"))
            .status_code
        ),
    )
    assert sorted(answers) == [302, 400]
    assert MarketingContact.objects.count() == 1
    assert AuditEntry.objects.filter(action=AuditEntry.Action.MARKETING_CONTACT_SET).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_activate_makes_one_request(catalogue):
    contoso = PartnerFactory(name="Contoso Ltd")
    OfferFactory(partner=contoso, competency=competency("Cloud Platform"), level=Level.GOLD)
    admin = UserFactory(partner=contoso, roles=[Role.GLOBAL_ADMIN])
    set_contact(contoso, admin, admin, email="marketing@contoso.example")
    row = row_of(contoso, catalogue["case_study"])
    client = Client()
    client.force_login(admin)
    connection.close()
    url = reverse("marketing:activate", args=[row.offer.pk, row.product.pk])
    answers = all_at_once(5, lambda i: client.post(url).status_code)
    assert answers == [302] * 5
    assert ActivationRequest.objects.filter(product=catalogue["case_study"]).count() == 1


# Found in review: what the first version let through


def test_a_change_made_meanwhile_survives_an_unrelated_refusal_first(
    client, alice, mona, nora, catalogue
):
    client.force_login(alice)
    seen = client.get(CONTACT).context["form"].initial["seen"]
    set_contact(alice.partner, mona, mona, email="mona.marketing@contoso.example")
    refused = client.post(CONTACT, contact_form(nora, email=nora.email, seen=seen))
    assert "Enter an email address other than" in text_of(refused)
    seen = refused.context["form"].data["seen"]
    response = client.post(CONTACT, contact_form(nora, seen=seen))
    assert "Meanwhile the marketing contact was set to" in text_of(response)
    assert MarketingContact.objects.get().user == mona


@pytest.mark.parametrize(
    "address",
    ["nora@ｃｏｎｔｏｓｏ.example", " Nora@CONTOSO.example ", "nora.second@contoso.example"],
)
def test_any_address_the_user_signs_in_with_is_refused_however_typed(
    client, alice, nora, catalogue, address
):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=nora, email="nora.second@contoso.example", verified=True)
    client.force_login(alice)
    response = client.post(CONTACT, contact_form(nora, email=address))
    assert response.status_code == 400
    assert "Enter an email address other than" in text_of(response)
    assert 'aria-invalid="true"' in text_of(response)
    assert not MarketingContact.objects.exists()


def test_a_phone_extension_is_refused_rather_than_dropped(client, alice, nora, catalogue):
    client.force_login(alice)
    response = client.post(CONTACT, contact_form(nora, phone="+81 3 1234 5678 ext. 99"))
    assert "Enter the phone number without an extension." in text_of(response)
    assert not MarketingContact.objects.exists()


def test_the_instructions_go_again_to_a_new_contact_and_once_to_each(
    client, alice, nora, catalogue, clock
):
    set_contact(alice.partner, alice, nora, email="nora.marketing@contoso.example")
    row = row_of(alice.partner, catalogue["case_study"])
    request, _created = services.activate(row, alice)
    run_to_the_end(clock)
    instructions = Notice.objects.filter(kind="go_to_market_instructions")
    assert [n.email_to for n in instructions] == ["nora.marketing@contoso.example"]
    # Email only: a contact without a role has no notice linking to a page they can't open.
    assert not Notice.objects.of(nora).exists()
    client.force_login(alice)
    again = reverse("marketing:send_instructions", args=[row.offer.pk, row.product.pk])
    assert "went to nora.marketing@contoso.example already" in text_of(
        client.post(again, follow=True)
    )
    set_contact(alice.partner, alice, nora, email="gtm@contoso.example")
    assert "on their way to gtm@contoso.example" in text_of(client.post(again, follow=True))
    assert sorted(n.email_to for n in instructions.all()) == [
        "gtm@contoso.example",
        "nora.marketing@contoso.example",
    ]
    mail.outbox.clear()
    send_pending()
    assert sorted(m.to[0] for m in mail.outbox if "Call your PMM." in m.body) == [
        "gtm@contoso.example",
        "nora.marketing@contoso.example",
    ]


def test_instructions_of_an_offer_not_active_are_refused(client, alice, nora, catalogue):
    set_contact(alice.partner, alice, nora)
    row = row_of(alice.partner, catalogue["case_study"])
    client.force_login(alice)
    url = reverse("marketing:send_instructions", args=[row.offer.pk, row.product.pk])
    assert "is not active yet" in text_of(client.post(url, follow=True))
    assert not Notice.objects.exists()


def test_a_company_in_partner_membership_center_is_not_told_to_add_a_contact(
    client, alice, catalogue
):
    alice.partner.in_partner_membership_center = True
    alice.partner.save()
    client.force_login(alice)
    assert "you must first assign a company marketing contact" not in text_of(client.get(PAGE))


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_assign_user_saves_once_and_says_so_both_times(catalogue):
    contoso = PartnerFactory(name="Contoso Ltd")
    OfferFactory(partner=contoso, competency=competency("Cloud Platform"), level=Level.GOLD)
    admin = UserFactory(partner=contoso, roles=[Role.GLOBAL_ADMIN])
    client = Client()
    client.force_login(admin)
    connection.close()
    form = contact_form(admin, email="marketing@contoso.example")
    answers = all_at_once(2, lambda i: client.post(CONTACT, form).status_code)
    assert answers == [302, 302]  # neither click is told of a change made "meanwhile"
    assert MarketingContact.objects.count() == 1
    assert AuditEntry.objects.filter(action=AuditEntry.Action.MARKETING_CONTACT_SET).count() == 1
