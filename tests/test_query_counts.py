"""Pages run the same number of queries whatever a company holds.

Each test grows one company to 1, 10 and 100 of everything its pages show (offers, their
benefits' activation requests, users with roles, contracts, incidents, audit entries) and
counts the queries of each page at every size. A count that grows with the data is a query
per row: it would make the page slow for the biggest partners first.
"""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activation.models import ActivationEvent, ActivationRequest
from audit.models import AuditEntry
from cases.models import Case
from entitlements.models import Competency, MembershipOffer, Role, RoleAssignment
from entitlements.rules import Benefit, Level, OfferKind
from notices.models import Notice
from notices.services import tell
from support.models import ContractLink, IncidentCredit, ProductVersion, SupportContract
from support.services import record_first_views

from .factories import UserFactory, WebhookEndpointFactory

SIZES = [1, 10, 100]
PAGE_QUERY_LIMIT = 10


class Company:
    """A company grown step by step, holding `size` of everything at each step."""

    def __init__(self, partner, people):
        self.partner = partner
        self.people = people  # who links the contracts and opens the incidents
        self.size = 0
        # A company holds a competency once at a time: the ones it doesn't hold yet, and
        # more like them once the catalogue's run out.
        self.competencies = list(Competency.objects.exclude(offers__partner=partner).order_by("pk"))
        self.version = ProductVersion.objects.select_related("product").first()
        self.today = timezone.localdate()

    def grow_to(self, size):
        for n in range(self.size, size):
            self._add_offer(n)
            self._add_colleague(n)
        self.size = size

    def _add_offer(self, n):
        now = timezone.now()
        # One offer a day back in time, each of a competency of its own.
        if n >= len(self.competencies):
            like = self.competencies[n % len(self.competencies)]
            self.competencies.append(
                Competency.objects.create(name=f"Competency {n}", is_cloud=like.is_cloud)
            )
        offer = MembershipOffer.objects.create(
            partner=self.partner,
            kind=OfferKind.COMPETENCY,
            competency=self.competencies[n],
            level=Level.GOLD if n % 2 else Level.SILVER,
            starts_on=self.today - datetime.timedelta(days=10 + n),
            ends_on=self.today + datetime.timedelta(days=300),
        )
        # Product support: activated, with a contract on everyone's account and incidents.
        done = ActivationRequest.objects.create(
            offer=offer,
            benefit=Benefit.PRODUCT_SUPPORT,
            requested_by=self.people[0],
            state=ActivationRequest.State.ACTIVE,
            requested_at=now,
            completed_at=now,
            expected_at=now,
        )
        ActivationEvent.objects.create(request=done, at=now, to_state=done.state)
        contract = SupportContract.objects.create(
            activation=done,
            partner=self.partner,
            benefit=done.benefit,
            access_id=str(100_000_000 + n),
            contract_id=str(200_000_000 + n),
            starts_on=self.today,
            ends_on=self.today + datetime.timedelta(days=365),
            incidents_total=10,
            incidents_remaining=10,
        )
        ContractLink.objects.bulk_create(
            ContractLink(user=person, contract=contract) for person in self.people
        )
        Case.objects.bulk_create(
            Case(
                partner=self.partner,
                opened_by=self.people[i % len(self.people)],
                contract=contract,
                product=self.version.product,
                product_version=self.version,
                first_response_due=timezone.now(),
                title=f"Incident {i}",
                description="Details",
                severity=Case.Severity.C,
                contact_name="Contact",
                contact_email="contact@example.com",
            )
            for i in range(5)
        )
        IncidentCredit.objects.create(contract=contract, incidents=1, reason="Closed unused")
        # Seen before: a first view is a one-time write (its own test counts it).
        record_first_views(self.people[0], self.partner, [(contract, offer)])
        # Signature Cloud Support: one rejected request, then one pending or failed.
        ActivationRequest.objects.create(
            offer=offer,
            benefit=Benefit.SIGNATURE_CLOUD_SUPPORT,
            state=ActivationRequest.State.REJECTED,
            requested_at=now,
            expected_at=now,
            failure_reason="Not eligible",
        )
        pending = n % 2
        ActivationRequest.objects.create(
            offer=offer,
            benefit=Benefit.SIGNATURE_CLOUD_SUPPORT,
            requested_by=self.people[-1],
            state=ActivationRequest.State.IN_REVIEW if pending else ActivationRequest.State.FAILED,
            requested_at=now,
            in_review_at=now,
            expected_at=now,
            due_at=now + datetime.timedelta(days=1) if pending else None,
            failure_code="" if pending else "too_many_attempts",
            attempts=5,
        )

    def _add_colleague(self, n):
        user = UserFactory(partner=self.partner, two_factor=False)
        role = [Role.GLOBAL_ADMIN, Role.MPN_PARTNER_ADMIN, Role.ADMIN_AGENT][n % 3]
        RoleAssignment.objects.create(user=user, role=role)
        AuditEntry.objects.create(
            partner=self.partner,
            action=AuditEntry.Action.ROLE_GRANTED,
            subject=f"{user.email}: {role}",
            actor=self.people[0],
            actor_email=self.people[0].email,
            facts={"role": role, "email": user.email},
        )
        # The outbox, for its admin change list; the notices page has its own test.
        tell(user, "contract_expiring_7", about=f"contract:{n}", context={"ends_on": self.today})


def query_counts(client, visits, company):
    """{(who, url): [queries at each size]}, for visits that all answer 200."""
    counts = {(user.email, url): [] for user, url in visits}
    company.grow_to(SIZES[0])
    for user, url in visits:
        # Once before counting: what a connection prepares once (the benefits' fingerprint
        # statement) is not a query of the page.
        client.force_login(user)
        client.get(url)
    for size in SIZES:
        company.grow_to(size)
        for user, url in visits:
            client.force_login(user)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            counts[user.email, url].append(len(queries))
    return counts


def growing(counts):
    return {visit: each for visit, each in counts.items() if len(set(each)) != 1}


@pytest.fixture
def company(alice, aaron):
    return Company(alice.partner, [alice, aaron])


@pytest.mark.django_db
def test_the_technical_benefits_page_runs_the_same_few_queries_at_any_size(
    client, alice, aaron, company
):
    url = reverse("entitlements:technical_benefits")
    # aaron can't activate: his page names who can.
    counts = query_counts(client, [(alice, url), (aaron, url)], company)
    assert not growing(counts), counts
    assert max(max(each) for each in counts.values()) <= PAGE_QUERY_LIMIT, counts


@pytest.mark.django_db
def test_a_benefit_asked_for_by_htmx_runs_the_same_queries_at_any_size(client, alice, company):
    client.force_login(alice)
    company.grow_to(1)
    offer = MembershipOffer.objects.filter(partner=alice.partner).order_by("-pk").first()
    url = reverse(
        "entitlements:benefit_detail",
        args=[offer.pk, Benefit.PRODUCT_SUPPORT],
    )
    counts = []
    for size in SIZES:
        company.grow_to(size)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200
        counts.append(len(queries))
    assert len(set(counts)) == 1, counts
    assert counts[0] <= PAGE_QUERY_LIMIT


@pytest.mark.django_db
def test_the_support_portal_pages_run_the_same_queries_at_any_size(client, aaron, company):
    version = company.version
    urls = [
        reverse("support:create"),
        f"{reverse('support:create')}?version={version.pk}&support_type=technical",
        reverse("support:incidents"),
    ]
    counts = query_counts(client, [(aaron, url) for url in urls], company)
    assert not growing(counts), counts


@pytest.mark.django_db
def test_the_audit_log_runs_the_same_queries_at_any_size(client, alice, company):
    filtered = f"{reverse('audit:log')}?action=role_granted&person={alice.email}&start=2020-01-01"
    visits = [(alice, reverse("audit:log")), (alice, filtered)]
    counts = query_counts(client, visits, company)
    assert not growing(counts), counts


@pytest.mark.django_db
def test_the_audit_logs_csv_runs_the_same_queries_at_any_size(client, alice, company):
    client.force_login(alice)
    counts = []
    for size in SIZES:
        company.grow_to(size)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("audit:csv"), {"action": "role_granted"})
            lines = b"".join(response.streaming_content).decode().count("\n")
        assert lines > size  # a row each, and the header
        counts.append(len(queries))
    assert len(set(counts)) == 1, counts


@pytest.mark.django_db
def test_every_admin_change_list_runs_the_same_queries_at_any_size(client, support, company):
    urls = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]
    support.is_superuser = True  # every change list, whatever the Support staff group may see
    support.save()
    counts = query_counts(client, [(support, url) for url in urls], company)
    assert not growing(counts), counts


@pytest.mark.django_db
def test_first_views_of_any_number_of_contracts_are_one_query(alice, company):
    from entitlements.views import BenefitRow, _ids_not_seen_yet, _with_activations

    counts = []
    for size in SIZES:
        company.grow_to(size)
        AuditEntry.objects.filter(action=AuditEntry.Action.IDS_FIRST_VIEWED).delete()
        offers = MembershipOffer.objects.filter(partner=company.partner).select_related(
            "competency"
        )
        rows = _with_activations(
            [
                BenefitRow(offer, entitlement)
                for offer in offers
                for entitlement in offer.entitlements()
            ]
        )
        shown = _ids_not_seen_yet(rows)
        with CaptureQueriesContext(connection) as queries:
            record_first_views(alice, company.partner, shown)
        counts.append(len(queries))
        assert AuditEntry.objects.filter(action=AuditEntry.Action.IDS_FIRST_VIEWED).count() == size
    assert counts == [1, 1, 1]


@pytest.mark.django_db
def test_the_users_list_runs_the_same_queries_at_any_size(client, alice, mona, ursula, company):
    users = reverse("accounts:users")
    visits = [
        (alice, users),
        (alice, f"{users}?q=example&role=global_admin"),
        (mona, users),  # read-only
        (ursula, f"{users}?page=2"),
    ]
    counts = query_counts(client, visits, company)
    assert not growing(counts), counts
    assert max(max(each) for each in counts.values()) <= PAGE_QUERY_LIMIT, counts


@pytest.mark.django_db
def test_my_access_and_access_requests_run_the_same_queries_at_any_size(client, alice, ursula):
    """A person's own requests on My access, and the open requests their admins decide."""
    from accounts.models import AccessRequest

    partner = alice.partner
    asker = UserFactory(partner=partner, two_factor=False)
    RoleAssignment.objects.create(user=asker, role=Role.USER_ADMIN)  # a role on the page too
    visits = [
        (asker, reverse("accounts:my_access")),
        (alice, reverse("accounts:access_requests")),
        (ursula, reverse("accounts:access_requests")),
    ]
    counts = {visit: [] for visit in visits}
    made = 0
    for size in SIZES:
        for n in range(made, size):
            # The asker's decided requests (one each, as the constraint allows open ones), and
            # an open request of another colleague each.
            AccessRequest.objects.create(
                partner=partner,
                user=asker,
                role=Role.ADMIN_AGENT,
                reason=f"Reason {n}",
                decision=AccessRequest.Decision.DECLINED,
                decided_at=timezone.now(),
                decided_by=alice,
                note=f"Note {n}",
            )
            colleague = UserFactory(partner=partner, two_factor=False)
            AccessRequest.objects.create(
                partner=partner, user=colleague, role=Role.MPN_PARTNER_ADMIN, reason=f"Why {n}"
            )
        made = size
        for user, url in visits:
            client.force_login(user)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            counts[user, url].append(len(queries))
    assert not growing(counts), counts
    assert max(max(each) for each in counts.values()) <= PAGE_QUERY_LIMIT, counts


@pytest.mark.django_db
def test_the_entra_sign_in_page_runs_the_same_queries_at_any_number_of_mappings(client, alice):
    from accounts.models import EntraGroupRole, EntraTenant

    tenant = EntraTenant.objects.create(partner=alice.partner, tenant_id=uuid.uuid4())
    client.force_login(alice)
    url = reverse("accounts:entra")
    client.get(url)
    counts = []
    for size in SIZES:
        EntraGroupRole.objects.bulk_create(
            EntraGroupRole(tenant=tenant, group_id=uuid.uuid4(), role=Role.ADMIN_AGENT)
            for _ in range(size - tenant.group_roles.count())
        )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        assert response.content.decode().count("<code>") == size
        counts.append(len(queries))
    assert len(set(counts)) == 1, counts
    assert counts[0] <= PAGE_QUERY_LIMIT, counts


@pytest.mark.django_db
def test_the_notices_page_and_the_bell_run_the_same_queries_at_any_size(client, alice, mona):
    """A person's notices, read and unread, newest first; the bell's count on every page."""
    url = reverse("notices:notices")
    visits = [url, f"{url}?page=2", reverse("accounts:my_access")]
    client.force_login(alice)
    counts = {visit: [] for visit in visits}
    made = 0
    for size in SIZES:
        for n in range(made, size):
            tell(alice, "incidents_low", about=f"contract:{n}", context={"incidents_remaining": 2})
            tell(alice, "renewal_window", about=f"offer:{n}", context={"partner": "Contoso"})
            tell(mona, "incidents_low", about=f"contract:{n}")  # someone else's: not shown
        Notice.objects.filter(recipient=alice, kind="renewal_window").update(read_at=timezone.now())
        made = size
        for visit in visits:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(visit)
            assert response.status_code == 200
            counts[visit].append(len(queries))
    assert not growing(counts), counts
    assert max(max(each) for each in counts.values()) <= PAGE_QUERY_LIMIT, counts


def test_the_case_pages_run_the_same_queries_at_any_size(client, alice, aaron, company):
    from cases import services as cases

    company.grow_to(1)
    case = Case.objects.filter(partner=alice.partner).order_by("pk").first()
    contract = case.contract
    urls = [
        reverse("cases:list"),
        f"{reverse('cases:list')}?q=Incident&state=open&opened_by=me",
        reverse("cases:case", args=[case.pk]),
        reverse("cases:ledger", args=[contract.pk]),
    ]
    counts = {url: [] for url in urls}
    for size in SIZES:
        company.grow_to(size)
        # The case's conversation and the contract's ledger grow with the company.
        while case.entries.count() < size:
            cases.add_note(case.pk, aaron, "More details")
        while contract.credits.count() < size:
            IncidentCredit.objects.create(contract=contract, incidents=1, reason="Goodwill")
            SupportContract.objects.filter(pk=contract.pk).update(incidents_remaining=0)
        client.force_login(alice)
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, url
            counts[url].append(len(queries))
    assert not growing(counts), counts
    assert max(max(each) for each in counts.values()) <= PAGE_QUERY_LIMIT, counts


@pytest.mark.django_db
def test_the_advisory_page_runs_the_same_queries_at_any_number_of_requests(client, alice, support):
    from cases import services as cases

    product = ProductVersion.objects.select_related("product").first().product
    counts = []
    for size in SIZES:
        while Case.objects.filter(kind="advisory").count() < size:
            case = cases.file_advisory_request(
                alice,
                title="Landing zone",
                description="Two regions.",
                product=product,
                request_type="deployment",
                country="Japan",
                language="ja",
                contact_name="Alice",
                contact_email=alice.email,
            )
            cases.record_hours(case.pk, support, Decimal("0.25"))
        client.force_login(alice)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("cases:advisory"))
        assert response.status_code == 200
        counts.append(len(queries))
    assert len(set(counts)) == 1, counts
    assert counts[0] <= PAGE_QUERY_LIMIT, counts


@pytest.mark.django_db
def test_the_membership_offers_pages_run_the_same_queries_at_any_size(
    client, alice, aaron, company
):
    company.grow_to(1)
    first = MembershipOffer.objects.filter(partner=alice.partner).order_by("-pk").first()
    visits = [
        (alice, reverse("cancellations:offers")),
        (aaron, reverse("cancellations:offers")),
        (alice, reverse("cancellations:offer", args=[first.pk])),
        (aaron, reverse("cancellations:offer", args=[first.pk])),  # names who may ask
    ]
    counts = query_counts(client, visits, company)
    assert not growing(counts), counts
    # An offer's page asks what stands in the way of a refund (activations, keys viewed,
    # credits and Visual Studio subscriptions assigned, advisory requests): a query each,
    # whatever their number.
    assert max(max(each) for each in counts.values()) <= PAGE_QUERY_LIMIT + 3, counts


CLOUD_DELIVERIES = ["keys", "assigned_credit", "provisioned"]


def _grow_cloud_catalogue(partner, people, size):
    """`size` cloud products of each delivery, included in every Gold and Silver competency
    offer, and what the company holds of them: each credit assigned, each provisioned
    product's activation pending, active or failed."""
    from cloud.models import CloudSubscription, CreditAssignment
    from software.models import Inclusion, Product

    now = timezone.now()
    offer = partner.offers.filter(level=Level.GOLD).first()
    have = Product.objects.filter(area="cloud").count() // 3
    for n in range(have, size):
        for delivery in CLOUD_DELIVERIES:
            product = Product.objects.create(
                name=f"Cloud {delivery} {n:03}", area="cloud", delivery=delivery
            )
            for level in (Level.GOLD, Level.SILVER):
                Inclusion.objects.create(
                    product=product,
                    kind=OfferKind.COMPETENCY,
                    level=level,
                    licenses=25,
                    monthly_credit=Decimal(100),
                    activate_within_days=365,
                    since=datetime.date(2000, 1, 1),
                )
            if delivery == "assigned_credit":
                CreditAssignment.objects.create(
                    offer=offer,
                    product=product,
                    assignee=people[n % len(people)],
                    assigned_by=people[0],
                    assigned_at=now,
                    monthly_credit=Decimal(100),
                )
            elif delivery == "provisioned":
                state = ["in_review", "active", "failed"][n % 3]
                request = ActivationRequest.objects.create(
                    offer=offer,
                    product=product,
                    requested_by=people[-1],
                    state=state,
                    requested_at=now,
                    in_review_at=now,
                    completed_at=now if state == "active" else None,
                    expected_at=now,
                    due_at=now + datetime.timedelta(days=1) if state == "in_review" else None,
                    failure_code="too_many_attempts" if state == "failed" else "",
                )
                if state == "active":
                    CloudSubscription.objects.create(
                        activation=request,
                        partner=partner,
                        product=product,
                        subscription_id=uuid.uuid4(),
                        licenses=25,
                        starts_on=offer.starts_on,
                        ends_on=offer.ends_on,
                    )


@pytest.mark.django_db
def test_the_cloud_page_runs_the_same_few_queries_at_any_number_of_products(
    client, alice, aaron, support, company
):
    from software.models import Product

    company.grow_to(3)
    url = reverse("entitlements:cloud")
    support.is_superuser = True
    support.save()
    admin_lists = [
        reverse("admin:cloud_creditassignment_changelist"),
        reverse("admin:cloud_cloudsubscription_changelist"),
    ]
    counts = {alice.email: [], aaron.email: [], "row": [], **{u: [] for u in admin_lists}}
    for size in SIZES:
        _grow_cloud_catalogue(alice.partner, [alice, aaron], size)
        product = Product.objects.filter(delivery="provisioned").first()
        offer = alice.partner.offers.filter(level=Level.GOLD).first()
        row = reverse("cloud:row", args=[offer.pk, product.pk])
        for user in (alice, aaron):
            client.force_login(user)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200
            assert response.content.decode().count('class="benefit-name"') == 3 * size
            counts[user.email].append(len(queries))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(row, HTTP_HX_REQUEST="true").status_code == 200
        counts["row"].append(len(queries))
        client.force_login(support)
        for admin_list in admin_lists:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(admin_list).status_code == 200
            counts[admin_list].append(len(queries))
    assert not growing(counts), counts
    # Two more for a Global admin: the company's users, to assign a credit to, and the keys of
    # license-based subscriptions revealed already.
    pages = [counts[alice.email], counts[aaron.email], counts["row"]]
    assert max(max(each) for each in pages) <= PAGE_QUERY_LIMIT + 2, counts


@pytest.mark.django_db
def test_the_software_page_runs_the_same_queries_at_any_number_of_products(
    client, alice, aaron, mona
):
    from django.core.files.base import ContentFile

    from software import services as software_services
    from software.models import Download

    from .factories import pool, software

    gold = alice.partner.offers.get(level=Level.GOLD)
    products = []

    def grow_to(size):
        for n in range(len(products), size):
            product = software(f"Product {n:03d}", keys=2, kind=OfferKind.COMPETENCY, level="gold")
            pool(product, 2)
            for language in ("en", "ja"):
                download = Download(product=product, language=language, operating_system="macos")
                download.file.save(f"p{n}-{language}.txt", ContentFile(b"x"))
            software_services.get_keys(alice, gold, product)  # keys shown on every row
            products.append(product)

    first = f"{reverse('entitlements:software')}"
    grow_to(1)
    row = reverse("software:product", args=[gold.pk, products[0].pk])
    visits = [
        (alice, first),
        (alice, f"{first}?q=product&page=2"),
        (aaron, first),  # can't get keys: told who can
        (mona, f"{row}?language=ja&os=macos"),
    ]
    counts = {(user.email, url): [] for user, url in visits}
    for size in SIZES:
        grow_to(size)
        for user, url in visits:
            client.force_login(user)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200
            counts[user.email, url].append(len(queries))
    assert not growing(counts), counts
    assert max(max(each) for each in counts.values()) <= PAGE_QUERY_LIMIT, counts


@pytest.mark.django_db
def test_the_visual_studio_page_runs_the_same_queries_at_any_number_of_subscriptions(
    client, alice, aaron, support
):
    from devtools import services as devtools

    from .test_visual_studio import visual_studio

    gold = alice.partner.offers.get(level=Level.GOLD)
    people = []

    def grow_to(size):
        # `size` products, each with `size` subscriptions in Gold, all of the first assigned.
        have = len(people)
        for n in range(have, size):
            visual_studio(f"Visual Studio {n:03d}", gold=size, silver=1)
            people.append(UserFactory(partner=alice.partner))
        from software.models import Inclusion

        Inclusion.objects.filter(product__area="visual_studio", level=Level.GOLD).update(
            licenses=size
        )
        [first, *_] = [r for r in devtools.subscriptions(alice.partner) if r.offer == gold]
        for seat in first.seats:
            if seat.assignment is None:
                devtools.assign(first, seat.number, people[seat.number - 1], alice)

    staff_list = reverse("admin:devtools_subscriptionassignment_changelist")
    counts = {alice.email: [], aaron.email: [], staff_list: []}
    for size in SIZES:
        grow_to(size)
        for user in (alice, aaron):
            client.force_login(user)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse("entitlements:visual_studio"))
            assert response.status_code == 200
            assert response.content.decode().count("Assigned to ") >= size
            counts[user.email].append(len(queries))
        client.force_login(support)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(staff_list).status_code == 200
        counts[staff_list].append(len(queries))
    assert not growing(counts), counts
    pages = [counts[alice.email], counts[aaron.email]]
    assert max(max(each) for each in pages) <= PAGE_QUERY_LIMIT, counts


@pytest.mark.django_db
def test_the_go_to_market_page_runs_the_same_queries_at_any_number_of_offers(
    client, alice, aaron, nora, support, clock
):
    from activation import services as activation
    from marketing import services as marketing

    from .test_go_to_market import go_to_market, set_contact

    set_contact(alice.partner, alice, nora)
    made = 0

    def grow_to(size):
        # `size` Go-To-Market offers under up to ten benefits, each activated to the end.
        nonlocal made
        for n in range(made, size):
            product = go_to_market(f"Benefit {n % 10}", f"Offer {n:03d}", "gold", "silver")
            row = [
                row
                for _benefit, rows in marketing.go_to_market(alice.partner)
                for row in rows
                if row.product == product
            ][0]
            request, _created = marketing.activate(row, alice)
            activation.complete_now(request.pk, None)
        made = size

    staff_list = reverse("admin:marketing_marketingcontact_changelist")
    counts = {alice.email: [], aaron.email: [], staff_list: []}
    for size in SIZES:
        grow_to(size)
        for user in (alice, aaron):
            client.force_login(user)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse("entitlements:go_to_market"))
            assert response.status_code == 200
            assert response.content.decode().count("status-active") == size
            counts[user.email].append(len(queries))
        client.force_login(support)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(staff_list).status_code == 200
        counts[staff_list].append(len(queries))
    assert not growing(counts), counts
    pages = [counts[alice.email], counts[aaron.email]]
    assert max(max(each) for each in pages) <= PAGE_QUERY_LIMIT, counts


@pytest.mark.django_db
def test_the_customers_pages_run_the_same_queries_at_any_number_of_customers_and_incidents(
    client, carol
):
    from customers import services
    from customers.models import Customer, Service, ServiceIncident, Subscription

    tailspin = carol.partner
    customer = Customer.objects.create(partner=tailspin, name="Fourth Coffee", domain="fc.example")
    made = 0

    def grow_to(size):
        # `size` customers, and the first subscribing to `size` services, each with an
        # incident open and one resolved yesterday.
        nonlocal made
        now = timezone.now()
        for n in range(made, size):
            Customer.objects.create(partner=tailspin, name=f"Customer {n:03d}", domain=f"{n}.ex")
            service = Service.objects.create(name=f"Service {n:03d}", portal_url="https://x.ex/")
            Subscription.objects.create(customer=customer, service=service)
            for reference, resolved in ((f"O{n}", None), (f"R{n}", now)):
                ServiceIncident.objects.create(
                    service=service,
                    reference=reference,
                    title="Slow",
                    impact="Slow",
                    started_at=now - datetime.timedelta(days=1),
                    updated_at=now,
                    resolved_at=resolved,
                )
            # And a service request about it, filed on the customer's behalf.
            services.file_request(
                carol,
                customer,
                uuid.uuid4(),
                service=service,
                category="billing",
                severity="C",
                title=f"Request {n}",
                description="Billed twice.",
                contact_name="Ana",
                contact_email="ana@fc.example",
                contact_phone="",
            )
        made = size

    pages = {
        "list": reverse("customers:customers"),
        "customer": reverse("customers:customer", args=[customer.pk]),
        "requests": reverse("customers:requests"),
        "customer's requests": reverse("customers:requests") + f"?customer={customer.pk}",
        "new request": reverse("customers:new_request", args=[customer.pk]),
        "cases": reverse("cases:list"),
    }
    counts = {name: [] for name in pages}
    client.force_login(carol)
    for size in SIZES:
        grow_to(size)
        shown = {}
        for name, url in pages.items():
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200
            counts[name].append(len(queries))
            shown[name] = response.content.decode()
        assert shown["customer"].count('class="service-incident"') == 2 * size
        assert shown["requests"].count(">SR0") == min(size, 25)
    assert not growing(counts), counts
    assert max(max(each) for each in counts.values()) <= PAGE_QUERY_LIMIT, counts


@pytest.mark.django_db
def test_the_api_tokens_page_runs_the_same_queries_at_any_number_of_tokens(client, alice):
    from api import services as api_services

    made, counts = 0, {"tokens": []}
    client.force_login(alice)
    for size in SIZES:
        for n in range(made, size):
            api_services.create_token(
                alice, f"Token {n}", ["benefits:read"], timezone.now() + datetime.timedelta(30)
            )
        made = size
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("integrations:tokens"))
        assert response.status_code == 200
        assert response.content.decode().count("Revoke<span") == size
        counts["tokens"].append(len(queries))
    assert not growing(counts), counts
    assert max(counts["tokens"]) <= PAGE_QUERY_LIMIT, counts


@pytest.mark.django_db
def test_the_api_lists_run_the_same_queries_at_any_size(client, alice, company):
    from api import services as api_services

    _token, raw = api_services.create_token(
        alice,
        "counts",
        ["benefits:read", "support:read"],
        timezone.now() + datetime.timedelta(days=1),
    )
    headers = {"Authorization": f"Bearer {raw}"}
    paths = ["offers", "activations", "contracts", "cases", "advisory-hours"]
    counts = {path: [] for path in paths}
    client.get("/api/v1/offers", headers=headers)  # the token's first use is recorded once
    for size in SIZES:
        company.grow_to(size)
        for path in paths:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"/api/v1/{path}", headers=headers)
            assert response.status_code == 200, (path, response.content)
            counts[path].append(len(queries))
    assert not growing(counts), counts
    assert max(max(each) for each in counts.values()) <= PAGE_QUERY_LIMIT, counts


@pytest.mark.django_db
def test_the_webhook_pages_run_the_same_queries_at_any_number_of_endpoints_and_deliveries(
    client, alice
):

    first = WebhookEndpointFactory(created_by=alice)
    made, counts = 0, {"endpoints": [], "log": []}
    client.force_login(alice)
    for size in SIZES:
        for n in range(made, size):
            if n:
                WebhookEndpointFactory(created_by=alice)
            delivery = first.deliveries.create(
                event="case.state_changed",
                subject=f"case:{n}",
                key=f"k{n}",
                message_id=f"msg_{n}",
                payload={},
                created_at=timezone.now(),
                due_at=timezone.now() if n % 2 else None,
            )
            for status in (500, 204):
                delivery.attempt_log.create(at=timezone.now(), status_code=status, milliseconds=9)
        made, shown = size, {}
        for name, url in (
            ("endpoints", reverse("integrations:webhooks")),
            ("log", reverse("integrations:webhook", args=[first.pk])),
        ):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200
            counts[name].append(len(queries))
            shown[name] = response.content.decode()
        assert shown["endpoints"].count('<td class="url">') == size
        assert shown["log"].count('class="delivery"') == min(size, 20)
    assert not growing(counts), counts
    assert max(max(each) for each in counts.values()) <= PAGE_QUERY_LIMIT, counts
