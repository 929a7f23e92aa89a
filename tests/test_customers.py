"""A CSP partner's Customers and a customer's Service management: its services with their
management portals, and their health with the service incidents (seed 002; issue 18)."""

import datetime
import html
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from customers import services
from customers.models import Customer, Service, ServiceIncident, Subscription
from entitlements.models import Role

from .factories import PartnerFactory, UserFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = reverse("customers:customers")


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def tailspin(carol):
    return carol.partner


@pytest.fixture
def m365(db):
    return Service.objects.create(name="Microsoft 365", portal_url="https://admin.microsoft.com/")


@pytest.fixture
def azure(db):
    return Service.objects.create(name="Microsoft Azure", portal_url="https://portal.azure.com/")


@pytest.fixture
def fourth_coffee(tailspin, m365, azure):
    customer = Customer.objects.create(
        partner=tailspin, name="Fourth Coffee", domain="fourthcoffee.onmicrosoft.com"
    )
    Subscription.objects.create(customer=customer, service=m365)
    Subscription.objects.create(
        customer=customer, service=azure, portal_url="https://portal.azure.com/#@fourthcoffee"
    )
    return customer


def text_of(response):
    return html.unescape(response.content.decode())


def at(hours_ago):
    return (timezone.now() - datetime.timedelta(hours=hours_ago)).isoformat()


def feed(**incident):
    return {
        "services": [
            {
                "name": "Microsoft 365",
                "health": "degraded",
                "incidents": [
                    {
                        "reference": "EX1",
                        "title": "Shared mailboxes don't open",
                        "impact": "Users see an error opening a shared mailbox.",
                        "started_at": at(3),
                        "updated_at": at(1),
                        "resolved_at": None,
                        **incident,
                    }
                ],
            }
        ]
    }


def test_an_admin_agent_lists_the_customers_and_searches_them(client, carol, fourth_coffee):
    Customer.objects.create(partner=carol.partner, name="Litware", domain="litware.example")
    client.force_login(carol)
    text = text_of(client.get(CUSTOMERS))
    assert "Fourth Coffee" in text and "Litware" in text
    text = text_of(client.get(CUSTOMERS, {"q": "FOURTHCOFFEE.onmicrosoft"}))
    assert "Fourth Coffee" in text and "Litware" not in text
    text = text_of(client.get(CUSTOMERS, {"q": "nobody"}))
    assert "No customer's name or domain contains “nobody”." in text


def test_the_list_is_paginated(client, carol, tailspin):
    Customer.objects.bulk_create(
        Customer(partner=tailspin, name=f"Customer {n:02d}", domain=f"c{n:02d}.example")
        for n in range(30)
    )
    client.force_login(carol)
    first = text_of(client.get(CUSTOMERS))
    assert "Customer 24" in first and "Customer 25" not in first and "Page 1 of 2" in first
    second = text_of(client.get(CUSTOMERS, {"page": 2}))
    assert "Customer 25" in second and "Customer 29" in second and "Previous page" in second


def test_a_customer_page_has_its_services_and_their_health(client, carol, fourth_coffee):
    services.import_health(feed())
    old = feed(reference="OLD", title="Long resolved", started_at=at(24 * 9))
    old["services"][0]["incidents"][0].update(updated_at=at(24 * 8), resolved_at=at(24 * 8))
    services.import_health(old)
    client.force_login(carol)
    text = text_of(client.get(reverse("customers:customer", args=[fourth_coffee.pk])))
    assert "fourthcoffee.onmicrosoft.com" in text
    assert 'href="https://admin.microsoft.com/"' in text  # the service's portal
    assert 'href="https://portal.azure.com/#@fourthcoffee"' in text  # the customer's own
    assert "Degraded" in text and "Shared mailboxes don't open" in text
    assert "Users see an error opening a shared mailbox." in text
    assert "Long resolved" not in text  # resolved over a week ago
    assert "No service incidents in the last 7 days." in text  # Azure


def test_who_may_open_customers(client, carol, alice, aaron, ursula, mona, bob, fourth_coffee):
    client.force_login(carol)
    assert client.get(CUSTOMERS).status_code == 200
    # Contoso and Fabrikam are not in CSP: told so, whatever their role.
    for person in (alice, aaron, bob):
        client.force_login(person)
        response = client.get(CUSTOMERS)
        assert response.status_code == 403
        assert "is not in the Cloud Solution Provider (CSP) program" in text_of(response)
    tailspin = carol.partner
    for role in (Role.USER_ADMIN, Role.MPN_PARTNER_ADMIN):
        person = UserFactory(partner=tailspin, roles=[role])
        client.force_login(person)
        assert client.get(CUSTOMERS).status_code == 403
    admin = UserFactory(partner=tailspin, roles=[Role.GLOBAL_ADMIN])
    client.force_login(admin)
    assert client.get(reverse("customers:customer", args=[fourth_coffee.pk])).status_code == 200


def test_the_menu_offers_customers_only_to_those_who_may_open_them(client, carol, alice):
    client.force_login(carol)
    assert f'href="{CUSTOMERS}"' in text_of(client.get(reverse("accounts:my_access")))
    client.force_login(alice)
    assert f'href="{CUSTOMERS}"' not in text_of(client.get(reverse("accounts:my_access")))


def test_another_partners_customer_is_a_404(client, fourth_coffee):
    wingtip = PartnerFactory(name="Wingtip", mpn_id="", is_mpn_associated=False, is_csp=True)
    agent = UserFactory(partner=wingtip, roles=[Role.ADMIN_AGENT])
    client.force_login(agent)
    assert client.get(reverse("customers:customer", args=[fourth_coffee.pk])).status_code == 404
    assert "Fourth Coffee" not in text_of(client.get(CUSTOMERS, {"q": "Fourth"}))


def test_a_partner_has_one_customer_per_domain_in_any_case_by_the_database(fourth_coffee):
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.bulk_create(  # no save(): the constraint alone
            [
                Customer(
                    partner=fourth_coffee.partner,
                    name="Again",
                    domain="FourthCoffee.onmicrosoft.com",
                )
            ]
        )


def test_a_domain_and_a_portal_address_are_validated(tailspin, m365):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        Customer(partner=tailspin, name="Bad", domain="not a domain <>").full_clean()
    assert "domain" in refused.value.message_dict
    m365.portal_url = "javascript:alert(1)"
    with pytest.raises(ValidationError):
        m365.full_clean()
    m365.portal_url = "ftp://admin.microsoft.com/"
    with pytest.raises(ValidationError):
        m365.full_clean()


def test_search_finds_what_an_input_method_typed_in_full_width(client, carol, fourth_coffee):
    client.force_login(carol)
    assert "Fourth Coffee" in text_of(client.get(CUSTOMERS, {"q": "ｆｏｕｒｔｈ"}))


def test_without_an_active_relationship_the_services_cant_be_administered(
    client, carol, fourth_coffee
):
    fourth_coffee.relationship = Customer.Relationship.EXPIRED
    fourth_coffee.save()
    client.force_login(carol)
    text = text_of(client.get(reverse("customers:customer", args=[fourth_coffee.pk])))
    assert "has no active delegated admin relationship with Fourth Coffee" in text
    assert "Manage Microsoft 365" not in text and "Microsoft 365" in text


# The health feed


def test_a_feed_updates_health_and_adds_then_updates_incidents(m365):
    assert services.import_health(feed()) == (1, 1)
    m365.refresh_from_db()
    assert m365.health == "degraded" and m365.health_updated_at is not None
    resolved = feed(updated_at=at(0), resolved_at=at(0))
    resolved["services"][0]["health"] = "healthy"
    services.import_health(resolved)
    [incident] = ServiceIncident.objects.all()
    assert incident.is_resolved
    m365.refresh_from_db()
    assert m365.health == "healthy"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"name": "No such service"}, "no service named 'No such service'"),
        ({"health": "fine"}, "health is one of"),
        ({"incident": {"started_at": "yesterday"}}, "started_at is an ISO 8601 time"),
        ({"incident": {"started_at": "2026-02-30T10:00:00+00:00"}}, "started_at is an ISO"),
        ({"incident": {"updated_at": "2026-11-30T10:00:00"}}, "with its time zone"),
        ({"incident": {"title": ""}}, "title is text of 1 to 200 characters"),
        ({"incident": {"updated_at": at(10)}}, "updated and resolved after it starts"),
        # Far off: it would not even read back from the database.
        ({"incident": {"updated_at": "9999-12-31T23:00:00-05:00"}}, "between 2000 and now"),
        ({"incident": {"started_at": "0001-01-01T00:00:00+05:00"}}, "between 2000 and now"),
        ({"incident": {"resolved_at": at(-24)}}, "between 2000 and now"),  # tomorrow
        ({"incident": {"title": "a\x00b"}}, "can't be stored"),
        ({"incident": {"reference": "\ud800"}}, "can't be stored"),
    ],
)
def test_a_bad_feed_names_every_problem_and_changes_nothing(m365, change, problem):
    bad = feed(**change.get("incident", {}))
    bad["services"][0].update({k: v for k, v in change.items() if k != "incident"})
    with pytest.raises(services.FeedRefused) as refused:
        services.import_health(bad)
    assert any(problem in line for line in refused.value.problems), refused.value.problems
    m365.refresh_from_db()
    assert m365.health == "healthy" and not ServiceIncident.objects.exists()


def test_a_feed_with_one_incident_twice_is_refused(m365):
    twice = feed()
    twice["services"][0]["incidents"] *= 2
    with pytest.raises(services.FeedRefused, match="more than once"):
        services.import_health(twice)


def test_support_staff_import_a_feed_file_in_admin(client, support, m365):
    client.force_login(support)
    url = reverse("admin:customers_service_import")
    upload = SimpleUploadedFile("feed.json", json.dumps(feed()).encode(), "application/json")
    response = client.post(url, {"file": upload}, follow=True)
    assert "1 service's health updated; 1 incident added or updated." in text_of(response)
    assert ServiceIncident.objects.count() == 1
    for content in (b"{not json", b"[" * 3000 + b"]" * 3000):
        broken = SimpleUploadedFile("feed.json", content, "application/json")
        response = client.post(url, {"file": broken})
        assert response.status_code == 200
        assert "Nothing was imported" in text_of(response)
        assert "Not UTF-8 JSON" in text_of(response)
    assert ServiceIncident.objects.count() == 1
    # A byte-order mark, as some editors save UTF-8, is fine.
    marked = SimpleUploadedFile("feed.json", b"\xef\xbb\xbf" + json.dumps(feed()).encode())
    assert "1 incident added or updated" in text_of(client.post(url, {"file": marked}, follow=True))


def test_a_feed_with_one_service_twice_is_refused(m365):
    twice = feed()
    twice["services"] *= 2
    with pytest.raises(services.FeedRefused, match="in the feed more than once"):
        services.import_health(twice)


# Support routes (seed 002): commercial for every CSP partner; technical through Signature
# Cloud Support, or Premier / Advanced Support for Partners when the company buys them.


def test_a_partner_without_a_technical_route_is_told_so(client, carol, fourth_coffee):
    client.force_login(carol)
    text = text_of(client.get(reverse("customers:customer", args=[fourth_coffee.pk])))
    assert "Commercial support, for billing and subscription management" in text
    assert "Tailspin Toys has no route for technical issues" in text


def test_signature_cloud_support_and_paid_routes_are_the_technical_ones(client, alice, m365):
    from entitlements.rules import Benefit

    from .factories import contract_for

    contoso = alice.partner
    contoso.is_csp = True
    contoso.save()
    customer = Customer.objects.create(partner=contoso, name="Wingtip", domain="wingtip.example")
    client.force_login(alice)
    page = reverse("customers:customer", args=[customer.pk])
    assert "included with your competency but not activated yet" in text_of(client.get(page))
    contoso.buys_premier_support = True
    contoso.save()
    gold = contoso.offers.get(level="gold")
    contract = contract_for(gold, Benefit.SIGNATURE_CLOUD_SUPPORT, alice)
    text = text_of(client.get(page))
    left = contract.incidents_remaining
    assert "Technical support through Signature Cloud Support" in text
    assert left is None or f"{left} incident" in text
    assert "Technical support through Premier Support for Partners." in text
    assert "has no route for technical issues" not in text
    contract.starts_on -= datetime.timedelta(days=400)
    contract.ends_on = timezone.localdate() - datetime.timedelta(days=1)  # ended: no longer
    contract.save()
    contoso.buys_premier_support = False
    contoso.save()
    gold.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    gold.save(update_fields=["ends_on"])
    contoso.offers.exclude(pk=gold.pk).delete()
    assert "has no route for technical issues" in text_of(client.get(page))


def test_recording_a_paid_route_is_audited(support, tailspin):
    from audit.models import AuditEntry
    from entitlements.services import save_company

    tailspin.buys_advanced_support = True
    save_company(tailspin, support)
    entry = AuditEntry.objects.filter(partner=tailspin).latest("pk")
    assert entry.action == AuditEntry.Action.COMPANY_CHANGED
    assert entry.subject == "buys_advanced_support False -> True"
