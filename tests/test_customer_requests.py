"""Service requests a CSP partner files on a customer's behalf (seed 002: "Report problems on
behalf of a customer"; issue 18): the route each issue goes through, Signature Cloud Support
counted down, a second submission finding the first's request, and the lists they appear in."""

import datetime
import html
import re
import uuid

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from activation import clock
from audit.describe import describe
from audit.models import AuditEntry
from cases import services as cases
from cases.models import Case
from customers import services
from customers.models import Customer, Service, Subscription
from entitlements.models import Role
from entitlements.rules import Benefit

from .factories import PartnerFactory, UserFactory, contract_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def m365(db):
    return Service.objects.create(name="Microsoft 365", portal_url="https://admin.microsoft.com/")


@pytest.fixture
def azure(db):
    return Service.objects.create(name="Microsoft Azure", portal_url="https://portal.azure.com/")


def customer_of(partner, *subscribed, name="Fourth Coffee", domain="fourthcoffee.example"):
    customer = Customer.objects.create(partner=partner, name=name, domain=domain)
    for service in subscribed:
        Subscription.objects.create(customer=customer, service=service)
    return customer


@pytest.fixture
def fourth_coffee(carol, m365, azure):
    return customer_of(carol.partner, m365, azure)


@pytest.fixture
def wingtip(alice, aaron, m365, azure):
    """Contoso's customer: Contoso resells too."""
    alice.partner.is_csp = True
    alice.partner.save()
    return customer_of(alice.partner, azure, m365, name="Wingtip Toys", domain="wingtip.example")


@pytest.fixture
def signature(alice):
    """Contoso's Silver competency's Signature Cloud Support: a 5-pack, counted down."""
    silver = alice.partner.offers.get(level="silver")
    return contract_for(silver, Benefit.SIGNATURE_CLOUD_SUPPORT, alice)


def text_of(response):
    return html.unescape(response.content.decode())


def form(service, category="billing", **more):
    return {
        "service": service.pk,
        "category": category,
        "severity": "C",
        "title": "Invoice lists licences twice",
        "description": "November's invoice lists 25 licences twice.",
        "contact_name": "Ana Bowman",
        "contact_email": "ana@fourthcoffee.example",
        "contact_phone": "",
        "submission_key": str(uuid.uuid4()),
        **more,
    }


def new_request(customer):
    return reverse("customers:new_request", args=[customer.pk])


def test_an_admin_agent_files_a_commercial_request_for_a_customer(
    client, carol, fourth_coffee, m365
):
    client.force_login(carol)
    page = text_of(client.get(new_request(fourth_coffee)))
    assert "on behalf of Fourth Coffee" in page
    assert "Tailspin Toys has no route for technical issues" in page
    response = client.post(new_request(fourth_coffee), form(m365, severity="B"), follow=True)
    case = Case.objects.get()
    assert response.redirect_chain[-1][0] == reverse("cases:case", args=[case.pk])
    assert (case.kind, case.route, case.category) == ("service_request", "commercial", "billing")
    assert (case.partner, case.customer, case.service, case.contract) == (
        carol.partner,
        fourth_coffee,
        m365,
        None,
    )
    assert case.first_response_due == case.opened_at + datetime.timedelta(hours=4)
    text = text_of(response)
    assert f"Request {case.number} filed with Commercial support." in text
    assert "within 4 hours" in text
    assert "Fourth Coffee" in text and "Microsoft 365 · Billing" in text
    entry = AuditEntry.objects.get(action=AuditEntry.Action.SERVICE_REQUEST_FILED)
    assert describe(entry.facts) == (
        f"Service request {case.number}, for Fourth Coffee, Microsoft 365, Commercial support"
    )
    # Listed on the customer's page and across customers.
    customer_page = text_of(client.get(reverse("customers:customer", args=[fourth_coffee.pk])))
    assert case.number in customer_page and "Invoice lists licences twice" in customer_page
    assert case.number in text_of(client.get(reverse("customers:requests")))


def test_a_technical_request_counts_down_signature_cloud_support(
    client, aaron, wingtip, azure, signature
):
    assert signature.incidents_remaining == 5
    client.force_login(aaron)
    page = text_of(client.get(new_request(wingtip)))
    assert "Technical issues go through Signature Cloud Support" in page
    response = client.post(new_request(wingtip), form(azure, "technical", severity="A"))
    case = Case.objects.get()
    assert response.status_code == 302
    assert (case.route, case.contract) == ("signature_cloud_support", signature)
    assert case.first_response_due == case.opened_at + datetime.timedelta(hours=2)
    signature.refresh_from_db()
    assert signature.incidents_remaining == 4
    # The contract's ledger shows the request; closed as a duplicate, it gives it back.
    assert case.number in text_of(client.get(reverse("cases:ledger", args=[signature.pk])))
    cases.change(case.pk, aaron, state="closed", resolution="duplicate")
    signature.refresh_from_db()
    assert signature.incidents_remaining == 5


def test_a_request_sent_twice_is_filed_once_and_uses_one_incident(
    client, aaron, wingtip, azure, signature
):
    client.force_login(aaron)
    data = form(azure, "technical")
    first = client.post(new_request(wingtip), data)
    second = client.post(new_request(wingtip), data, follow=True)
    case = Case.objects.get()
    assert first.url == second.redirect_chain[-1][0] == reverse("cases:case", args=[case.pk])
    assert f"No change: request {case.number} was filed already." in text_of(second)
    signature.refresh_from_db()
    assert signature.incidents_remaining == 4
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SERVICE_REQUEST_FILED).count() == 1


def test_the_last_incident_goes_to_one_request_the_other_is_told_and_keeps_its_text(
    client, aaron, wingtip, azure, signature
):
    signature.incidents_remaining = 1
    signature.save()
    client.force_login(aaron)
    # Two pages opened while one incident was left; the second is sent after the first.
    client.post(new_request(wingtip), form(azure, "technical"))
    late = form(azure, "technical", title="Second problem, typed out")
    response = client.post(new_request(wingtip), late)
    assert response.status_code == 400
    text = text_of(response)
    assert "Contoso Ltd has no route for technical issues" in text
    assert "Second problem, typed out" in text
    assert Case.objects.count() == 1
    signature.refresh_from_db()
    assert signature.incidents_remaining == 0


def test_the_service_refuses_a_used_up_signature_contract_chosen_on_a_stale_page(
    aaron, wingtip, azure, signature
):
    wingtip.partner.buys_premier_support = True
    wingtip.partner.save()
    signature.incidents_remaining = 0
    signature.save()
    details = form(azure, "technical")
    details.pop("submission_key")
    details["service"] = azure
    with pytest.raises(services.NoRoute, match="no incidents remaining"):
        services.file_request(
            aaron, wingtip, uuid.uuid4(), Case.Route.SIGNATURE_CLOUD_SUPPORT, **details
        )
    assert not Case.objects.exists()


def test_with_several_technical_routes_the_agent_chooses_one(
    client, aaron, wingtip, azure, signature
):
    contoso = wingtip.partner
    contoso.buys_advanced_support = True
    contoso.save()
    client.force_login(aaron)
    page = text_of(client.get(new_request(wingtip)))
    assert "Signature Cloud Support (5 incidents left)" in page
    assert "Advanced Support for Partners" in page
    response = client.post(new_request(wingtip), form(azure, "technical", route=""))
    assert response.status_code == 400
    assert "Choose the route for a technical issue." in text_of(response)
    response = client.post(new_request(wingtip), form(azure, "technical", route="premier"))
    assert response.status_code == 400
    assert "Contoso Ltd no longer has Premier Support for Partners." in text_of(response)
    response = client.post(new_request(wingtip), form(azure, "technical", route="forged"))
    assert "Choose one of the routes listed." in text_of(response)
    client.post(new_request(wingtip), form(azure, "technical", route="advanced"))
    case = Case.objects.get()
    assert (case.route, case.contract) == ("advanced", None)
    signature.refresh_from_db()
    assert signature.incidents_remaining == 5  # a paid route uses no Signature incident
    # A commercial issue goes to commercial support, whatever route was picked.
    client.post(new_request(wingtip), form(azure, "subscription_management", route="advanced"))
    assert Case.objects.latest("pk").route == "commercial"


def test_bad_input_is_said_field_by_field_and_files_nothing(client, carol, fourth_coffee, m365):
    other = Service.objects.create(name="Dynamics 365", portal_url="https://dynamics.example/")
    client.force_login(carol)
    bad = form(
        other, category="", severity="D", title="  ", contact_email="not an address", route="x"
    )
    response = client.post(new_request(fourth_coffee), bad)
    assert response.status_code == 400
    text = text_of(response)
    for message in (
        "Choose one of the services the customer subscribes to.",
        "Choose what the issue is about.",
        "Choose a severity.",
        "Give the request a title.",
        "Enter a valid email address.",
    ):
        assert message in text
    assert "November&#x27;s invoice" in response.content.decode() or "November's" in text
    assert not Case.objects.exists()


def test_a_technical_request_without_a_route_is_told_why_and_files_nothing(
    client, carol, fourth_coffee, azure
):
    client.force_login(carol)
    response = client.post(new_request(fourth_coffee), form(azure, "technical"))
    assert response.status_code == 400
    assert "Tailspin Toys has no route for technical issues" in text_of(response)
    assert not Case.objects.exists()


def test_who_may_file_and_another_partners_customer_is_a_404(
    client, carol, alice, ursula, mona, bob, fourth_coffee, m365
):
    for refused in (ursula, mona, bob):  # User admin, MPN partner admin, not in CSP
        client.force_login(refused)
        assert client.get(new_request(fourth_coffee)).status_code in (403, 404)
        assert client.post(new_request(fourth_coffee), form(m365)).status_code in (403, 404)
    alice.partner.is_csp = True
    alice.partner.save()
    client.force_login(alice)  # a Global admin of another CSP partner
    assert client.get(new_request(fourth_coffee)).status_code == 404
    assert client.post(new_request(fourth_coffee), form(m365)).status_code == 404
    response = client.get(reverse("customers:requests"), {"customer": fourth_coffee.pk})
    assert response.status_code == 404
    assert not Case.objects.exists()


def test_agents_follow_each_others_requests_not_the_companys_other_cases(
    client, aaron, alice, wingtip, m365
):
    other_agent = UserFactory(partner=alice.partner, roles=[Role.ADMIN_AGENT])
    case, filed = services.file_request(
        other_agent, wingtip, uuid.uuid4(), **fields(m365, title="Licences missing")
    )
    assert filed
    client.force_login(aaron)
    assert client.get(reverse("cases:case", args=[case.pk])).status_code == 200
    assert list(cases.visible_cases(aaron)) == [case]
    listed = text_of(client.get(reverse("cases:list")))
    assert "Licences missing" in listed and "Wingtip Toys" in listed


def fields(service, **more):
    details = form(service, **more)
    details.pop("submission_key")
    details["service"] = service
    return details


def test_the_requests_list_searches_filters_and_pages(client, carol, fourth_coffee, m365):
    litware = customer_of(carol.partner, m365, name="Litware", domain="litware.example")
    for n in range(30):
        customer = litware if n % 3 == 0 else fourth_coffee
        services.file_request(carol, customer, uuid.uuid4(), **fields(m365, title=f"Issue {n}"))
    closed = Case.objects.get(title="Issue 4")
    cases.close(closed.pk, carol)
    client.force_login(carol)
    requests = reverse("customers:requests")
    text = text_of(client.get(requests))
    assert "Issue 29" in text and "Issue 0" not in text and "Page 1 of 2" in text
    text = text_of(client.get(requests, {"q": "litware"}))
    assert text.count("Litware</a>") == 10
    text = text_of(client.get(requests, {"state": "closed"}))
    assert "Issue 4" in text and "Issue 5" not in text
    assert "Issue 4" in text_of(client.get(requests, {"q": closed.number.lower()}))
    text = text_of(client.get(requests, {"customer": litware.pk}))
    assert "Requests for Litware" in text and "Issue 1<" not in text
    response = client.get(requests, {"state": "lost"})
    assert response.status_code == 200 and "Choose a state from the list." in text_of(response)
    assert client.get(requests, {"customer": "x"}).status_code == 404


def test_the_customer_page_offers_new_request_only_with_services(client, carol, m365):
    empty = customer_of(carol.partner)
    client.force_login(carol)
    page = text_of(client.get(reverse("customers:customer", args=[empty.pk])))
    assert "New request" not in page
    page = text_of(client.get(new_request(empty)))
    assert "This customer subscribes to no services yet" in page


def test_the_database_keeps_a_service_request_whole(carol, fourth_coffee, m365, azure):
    opened = timezone.now()
    base = {
        "kind": "service_request",
        "partner": carol.partner,
        "opened_by": carol,
        "customer": fourth_coffee,
        "service": m365,
        "category": "billing",
        "route": "commercial",
        "severity": "C",
        "title": "t",
        "description": "d",
        "contact_name": "n",
        "contact_email": "n@example.com",
        "first_response_due": opened,
    }
    for broken in (
        {"customer": None},
        {"service": None},
        {"severity": ""},
        {"route": "premier"},  # a billing issue through a technical route
        {"category": "technical", "route": "commercial"},
        {"category": "technical", "route": "signature_cloud_support"},  # without its contract
        {"category": ""},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Case.objects.create(**(base | broken))
    key = uuid.uuid4()
    Case.objects.create(**base, submission_key=key)
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(**base, submission_key=key)


def test_an_incident_names_no_customer(alice, wingtip):
    from .test_cases import open_incident

    gold = alice.partner.offers.get(level="gold")
    incident = open_incident(alice, contract_for(gold, Benefit.PRODUCT_SUPPORT, alice))
    incident.customer = wingtip
    with pytest.raises(IntegrityError), transaction.atomic():
        incident.save()


def test_filed_requests_have_their_first_response_target_from_the_clock(carol, fourth_coffee, m365):
    case, _filed = services.file_request(carol, fourth_coffee, uuid.uuid4(), **fields(m365))
    assert case.first_response_due - case.opened_at == datetime.timedelta(hours=8)
    assert abs(case.opened_at - clock.now()) < datetime.timedelta(minutes=1)


def test_a_csp_partner_not_in_mpn_has_only_commercial_support(db, m365):
    tailspin = PartnerFactory(name="Tailspin", mpn_id="", is_mpn_associated=False, is_csp=True)
    routes = services.support_routes(tailspin)
    assert routes.technical_routes == [] and not routes.technical


def test_support_staff_answer_a_service_request_in_admin(
    client, support, carol, fourth_coffee, m365
):
    from notices.models import Notice

    case, _filed = services.file_request(carol, fourth_coffee, uuid.uuid4(), **fields(m365))
    client.force_login(support)
    listed = text_of(client.get(reverse("admin:cases_case_changelist"), {"q": "Fourth"}))
    assert case.number in listed and "Microsoft 365" in listed
    change = reverse("admin:cases_case_change", args=[case.pk])
    page = text_of(client.get(change))
    assert "Fourth Coffee" in page and "Commercial support" in page
    response = client.post(
        change,
        {
            "state": "open",
            "resolution": "",
            "severity": "C",
            "reply": "The second charge is refunded.",
            "shown": "open||C",
            "entries-TOTAL_FORMS": "0",
            "entries-INITIAL_FORMS": "0",
            "hours-TOTAL_FORMS": "0",
            "hours-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "in_progress" and case.first_responded_at is not None
    assert Notice.objects.filter(recipient=carol, kind="case_reply").exists()


def test_two_submissions_of_one_form_at_once_file_one_request(aaron, wingtip, azure, signature):
    """Both got past the page's check before either was filed: the key's unique constraint,
    or the last incident the first one used, sends the second to the first's request."""
    signature.incidents_remaining = 1
    signature.save()
    key = uuid.uuid4()
    details = fields(azure, category="technical")
    first, filed = services.file_request(aaron, wingtip, key, **details)
    assert filed
    again, filed = services.file_request(aaron, wingtip, key, **details)
    assert (again, filed) == (first, False)
    signature.incidents_remaining = 3
    signature.save()
    again, filed = services.file_request(aaron, wingtip, key, **details)
    assert (again, filed) == (first, False)
    signature.refresh_from_db()
    assert signature.incidents_remaining == 3 and Case.objects.count() == 1


def test_the_technical_benefits_page_lists_a_request_with_its_service_and_customer(
    client, alice, aaron, wingtip, azure, signature
):
    case, _filed = services.file_request(
        aaron, wingtip, uuid.uuid4(), **fields(azure, category="technical", title="VMs stuck")
    )
    client.force_login(alice)
    page = reverse("entitlements:technical_benefits")
    text = text_of(client.get(page))
    assert f"{case.number} · VMs stuck · Microsoft Azure · Wingtip Toys" in text
    assert "None" not in text.split(case.number, 1)[1].split("</li>", 1)[0]


def test_a_used_up_signature_contract_is_said_so_not_to_be_activated(
    client, aaron, wingtip, azure, signature
):
    signature.incidents_remaining = 0
    signature.save()
    client.force_login(aaron)
    text = text_of(client.get(reverse("customers:customer", args=[wingtip.pk])))
    assert "Signature Cloud Support, included with your competency: no incidents remaining." in text
    assert "not activated yet" not in text
    assert "Contoso Ltd has no route for technical issues left" in text
    response = client.post(new_request(wingtip), form(azure, "technical"))
    assert response.status_code == 400
    assert "its Signature Cloud Support contract has no incidents remaining" in text_of(response)


def test_an_admin_agents_case_list_names_who_opened_a_colleagues_request(
    client, aaron, alice, wingtip, m365
):
    services.file_request(alice, wingtip, uuid.uuid4(), **fields(m365, title="Seats missing"))
    client.force_login(aaron)
    text = text_of(client.get(reverse("cases:list")))
    assert "and your company's service requests for its customers" in text
    assert "Seats missing" in text and alice.display_name in text
    assert 'name="opened_by"' in text


def test_a_route_gone_since_the_page_was_shown_is_refused_not_swapped(
    client, aaron, wingtip, azure, signature
):
    contoso = wingtip.partner
    contoso.buys_premier_support = True
    contoso.save()
    signature.incidents_remaining = 1
    signature.save()
    client.force_login(aaron)
    assert "Signature Cloud Support (1 incident left)" in text_of(client.get(new_request(wingtip)))
    # A colleague takes the last incident; this page still offers Signature Cloud Support.
    services.file_request(aaron, wingtip, uuid.uuid4(), **fields(azure, category="technical"))
    late = form(azure, "technical", route="signature_cloud_support", title="Late one")
    response = client.post(new_request(wingtip), late)
    assert response.status_code == 400
    text = text_of(response)
    assert "Signature Cloud Support can't take this request" in text
    assert "Choose another route." in text and "Late one" in text
    assert not Case.objects.filter(title="Late one").exists()  # not filed through Premier
    # With one route the page chose it for the agent: gone meanwhile, it is refused too.
    page = text_of(client.get(new_request(wingtip)))
    assert 'type="hidden" name="route" value="premier"' in page
    contoso.buys_premier_support = False
    contoso.save()
    response = client.post(new_request(wingtip), late | {"route": "premier"})
    assert response.status_code == 400
    assert "has no route for technical issues left" in text_of(response)


def test_a_commercial_issue_ignores_whatever_route_was_left_checked(
    client, carol, fourth_coffee, m365
):
    client.force_login(carol)
    response = client.post(new_request(fourth_coffee), form(m365, route="no-such-route"))
    assert response.status_code == 302
    assert Case.objects.get().route == "commercial"


def test_a_subscription_removed_meanwhile_is_said_and_the_text_kept(
    client, carol, fourth_coffee, m365
):
    client.force_login(carol)
    client.get(new_request(fourth_coffee))
    fourth_coffee.subscriptions.all().delete()
    response = client.post(new_request(fourth_coffee), form(m365, title="Typed with care"))
    assert response.status_code == 400
    text = text_of(response)
    assert "Choose one of the services the customer subscribes to." in text
    assert "Typed with care" in text and "subscribes to no services yet" in text


def test_a_mangled_one_time_key_still_files_the_request(client, carol, fourth_coffee, m365):
    client.force_login(carol)
    response = client.post(new_request(fourth_coffee), form(m365, submission_key="\x00"))
    assert response.status_code == 302 and Case.objects.count() == 1


def test_without_a_delegated_admin_relationship_a_request_is_filed_and_the_page_says_so(
    client, carol, fourth_coffee, m365
):
    fourth_coffee.relationship = Customer.Relationship.EXPIRED
    fourth_coffee.save()
    client.force_login(carol)
    text = text_of(client.get(new_request(fourth_coffee)))
    assert "Tailspin Toys has no active delegated admin relationship with Fourth Coffee" in text
    assert client.post(new_request(fourth_coffee), form(m365)).status_code == 302


def test_a_form_sent_again_with_changes_keeps_them_and_files_a_new_request_only_when_asked(
    client, carol, fourth_coffee, m365
):
    client.force_login(carol)
    first = form(m365)
    client.post(new_request(fourth_coffee), first)
    case = Case.objects.get()
    edited = first | {"title": "Invoice lists licences three times"}
    response = client.post(new_request(fourth_coffee), edited)
    assert response.status_code == 409
    text = text_of(response)
    assert f"This page filed {case.number} already; your changes are kept below." in text
    assert "Invoice lists licences three times" in text
    assert Case.objects.count() == 1
    fresh = re.search(r'name="submission_key" value="([^"]+)"', text)[1]
    assert fresh != first["submission_key"]
    client.post(new_request(fourth_coffee), edited | {"submission_key": fresh})
    assert Case.objects.count() == 2


def test_a_request_without_a_service_is_said_and_files_nothing(client, carol, fourth_coffee, m365):
    client.force_login(carol)
    response = client.post(new_request(fourth_coffee), form(m365) | {"service": ""})
    assert response.status_code == 400
    assert "Choose the service the issue is with." in text_of(response)
    assert not Case.objects.exists()
