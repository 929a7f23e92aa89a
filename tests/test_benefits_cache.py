"""The Technical benefits page reuses what it rendered, and shows any change at once.

These tests commit their data (transaction=True), as real requests see it: the page is reused
only from committed rows.
"""

import datetime
import importlib
import re
import threading
import weakref

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from activation import services as activation
from activation.models import ActivationRequest
from cases.models import Case
from entitlements import benefits_cache
from entitlements.models import Competency, Partner, Role
from entitlements.rules import Benefit
from entitlements.services import set_roles
from support import services as support
from support.models import Product, ProductVersion, SupportContract

from .factories import UserFactory
from .test_technical_benefits import PAGE, activate_url

FINGERPRINT_FUNCTION = importlib.import_module(
    "entitlements.migrations.0010_benefits_fingerprint"
).BENEFITS_FINGERPRINT

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="fingerprints need PostgreSQL; elsewhere the page is rendered for every visit",
    ),
]


def page(client, **headers):
    response = client.get(PAGE, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def without_tokens(html):
    return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", html)


@pytest.fixture
def contract(alice, contoso):
    """Contoso's Gold product support, active, with one incident opened on it."""
    request, _ = activation.request_activation(
        contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice
    )
    activation.complete_now(request.pk, None)
    contract = SupportContract.objects.get(activation=request)
    support.add_contract(alice, contract.access_id, contract.contract_id)
    open_incident(alice, contract, "SQL Server", "2022", "Log shipping stalls")
    return contract


def open_incident(user, contract, product, version, title):
    support.open_incident(
        user,
        ProductVersion.objects.get(product__name=product, name=version),
        contract.pk,
        title=title,
        description="Since this morning.",
        severity="B",
        contact_name=user.display_name,
        contact_email=user.email,
    )


@pytest.fixture
def pending(mona, contoso):
    """Contoso's Silver product support, requested by Mona, days from its next stage."""
    request, _ = activation.request_activation(
        contoso.offers.get(level="silver"), Benefit.PRODUCT_SUPPORT, mona
    )
    return request


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="fingerprints need PostgreSQL; SQLite renders each time",
)
def reads_offers(client):
    """The page's HTML, and whether it read the company's offers (not when reused)."""
    with CaptureQueriesContext(connection) as queries:
        html = page(client)
    return html, any('FROM "entitlements_membershipoffer"' in q["sql"] for q in queries)


def main(html):
    """The page's own content, without the frame (which names the user's company)."""
    return html.split('<main id="main">')[1]


def test_a_page_seen_again_is_not_read_from_the_database_again(sign_in, alice, contract, pending):
    client = sign_in(alice)
    with CaptureQueriesContext(connection) as first_view:
        first, first_read = reads_offers(client)
    with CaptureQueriesContext(connection) as second_view:
        second, second_read = reads_offers(client)
    assert without_tokens(second) == without_tokens(first)
    assert contract.access_id in second and "Activation pending" in second
    assert first_read and not second_read
    assert len(second_view) < len(first_view)


@pytest.mark.parametrize("who", ["alice", "aaron"])
def test_a_page_rendered_for_the_cache_runs_at_most_ten_queries(request, sign_in, contract, who):
    # aaron can't activate: his page also names who can.
    client = sign_in(request.getfixturevalue(who))
    with CaptureQueriesContext(connection) as rendered:
        _, read = reads_offers(client)
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")  # the request's transaction
    queries = [q["sql"] for q in rendered if not q["sql"].startswith(control)]
    assert read and len(queries) <= 10, "\n".join(sql[:70] for sql in queries)


def count_down_with_an_update(contract, **_):
    SupportContract.objects.filter(pk=contract.pk).update(incidents_remaining=7)
    return "7 of 20"


def open_another_incident(contract, alice, **_):
    open_incident(alice, contract, "Windows Server", "2025", "Cluster node won't join")
    return "Cluster node won&#x27;t join"


def retitle_an_incident_in_plain_sql(contract, **_):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_case SET title = %s WHERE contract_id = %s",
            ["Log shipping stalls again", contract.pk],
        )
    return "Log shipping stalls again"


def resolve_the_incident(contract, **_):
    incident = Case.objects.get(contract=contract)
    incident.state, incident.resolution = Case.State.RESOLVED, Case.Resolution.SOLVED
    incident.save()
    return "· Resolved"


def delete_the_incident(contract, **_):
    Case.objects.filter(contract=contract).delete()
    return "No incident opened on this contract yet."


def rename_the_product(**_):
    Product.objects.filter(name="SQL Server").update(name="SQL Server Enterprise")
    return "SQL Server Enterprise 2022"


def rename_the_competency(**_):
    Competency.objects.filter(name="Cloud Platform").update(name="Azure Platform")
    return "Gold Azure Platform"


def rename_the_company(contoso, **_):
    contoso.name = "Contoso Group"
    contoso.save()
    return "membership offers Contoso Group holds"


def rename_who_requested(mona, **_):
    mona.first_name, mona.last_name = "Mona", "Lisa"
    mona.save()
    return "by Mona Lisa"


def move_the_pending_request_on(pending, **_):
    activation.complete_now(pending.pk, None)
    active = SupportContract.objects.get(activation=pending)
    return active.access_id


def end_the_silver_offer(contoso, **_):
    contoso.offers.filter(level="silver").update(
        ends_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    return "Ended "


@pytest.mark.parametrize(
    "change",
    [
        count_down_with_an_update,
        open_another_incident,
        retitle_an_incident_in_plain_sql,
        resolve_the_incident,
        delete_the_incident,
        rename_the_product,
        rename_the_competency,
        rename_the_company,
        rename_who_requested,
        move_the_pending_request_on,
        end_the_silver_offer,
    ],
)
def test_any_change_shows_at_once(sign_in, alice, mona, contoso, contract, pending, change):
    client = sign_in(alice)
    page(client)
    _, read = reads_offers(client)
    assert not read  # reused
    shown = change(contract=contract, pending=pending, alice=alice, mona=mona, contoso=contoso)
    assert shown in main(page(client))


def test_who_can_activate_is_told_as_roles_change(sign_in, aaron, alice, nora, contoso):
    client = sign_in(aaron)
    assert "alice@contoso.example" in page(client)
    set_roles(nora, [Role.MPN_PARTNER_ADMIN])
    assert "nora@contoso.example" in page(client)
    newcomer = UserFactory(email="nadia@contoso.example", partner=contoso)
    set_roles(newcomer, [Role.GLOBAL_ADMIN])
    assert "nadia@contoso.example" in page(client)
    alice.is_active = False
    alice.save()
    assert "alice@contoso.example" not in page(client)


def test_an_admin_agent_and_a_global_admin_each_get_their_own_page(sign_in, alice, aaron):
    admin, agent = Client(), Client()
    admin.force_login(alice)
    agent.force_login(aaron)
    assert page(admin).count(">Activate</button>") == 4
    agent_page = page(agent)
    assert "disabled" in agent_page and "<form" not in agent_page.split("<main")[1]
    assert page(admin).count(">Activate</button>") == 4


def test_each_company_sees_its_own_ids_only(contract, alice, bob):
    contoso_admin, fabrikam_admin = Client(), Client()
    contoso_admin.force_login(alice)
    fabrikam_admin.force_login(bob)
    assert contract.access_id in page(contoso_admin)
    fabrikam = page(fabrikam_admin)
    assert contract.access_id not in fabrikam and "Contoso" not in fabrikam


def test_each_language_gets_its_own_page(sign_in, alice):
    client = sign_in(alice)
    assert "Not activated" in page(client, **{"Accept-Language": "en"})
    with translation.override("ja"):
        not_activated = translation.gettext("Not activated")
    japanese = page(client, **{"Accept-Language": "ja"})
    assert not_activated in japanese and "Not activated" not in japanese
    assert "Not activated" in page(client, **{"Accept-Language": "en"})


def test_the_requester_reads_you_and_colleagues_read_the_name_from_the_cache(
    sign_in, alice, mona, pending
):
    # Mona asked: her page says "by you"; Alice's, read after it, names Mona.
    for who, sees, not_sees in [
        (mona, "by you.", f"by {mona.display_name}"),
        (alice, f"by {mona.display_name}.", "by you."),
        (mona, "by you.", f"by {mona.display_name}"),
    ]:
        client = Client()
        client.force_login(who)
        html = main(page(client))
        assert sees in html and not_sees not in html


def test_a_reused_page_carries_each_visitors_own_form_token(alice, mona, contoso):
    first = Client(enforce_csrf_checks=True)
    first.force_login(alice)
    page(first)
    second = Client(enforce_csrf_checks=True)
    second.force_login(mona)
    offer = contoso.offers.get(level="gold")
    action = activate_url(offer, Benefit.PRODUCT_SUPPORT)
    form = page(second).split(f'action="{action}"')[1]
    token = re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', form).group(1)
    response = second.post(action, {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert ActivationRequest.objects.get(offer=offer).requested_by == mona


def test_with_the_cache_down_the_page_is_still_shown(sign_in, alice, contract, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
        }
    }
    client = sign_in(alice)
    assert contract.access_id in page(client)
    SupportContract.objects.filter(pk=contract.pk).update(incidents_remaining=3)
    assert "3 of 20" in page(client)


def test_a_page_read_after_writing_in_the_same_transaction_is_not_reused(sign_in, alice, contract):
    client = sign_in(alice)
    with transaction.atomic():
        SupportContract.objects.filter(pk=contract.pk).update(incidents_remaining=9)
        assert "9 of 20" in page(client)
        # The same transaction writes the same row again: the row's xmin doesn't change.
        SupportContract.objects.filter(pk=contract.pk).update(incidents_remaining=8)
        assert "8 of 20" in page(client)


def test_a_pending_row_near_its_next_stage_keeps_its_countdown_right(
    sign_in, alice, contoso, clock
):
    request, _ = activation.request_activation(
        contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice
    )
    client = sign_in(alice)
    clock.at = request.due_at - datetime.timedelta(seconds=20)
    assert 'hx-trigger="load delay:20s"' in page(client)
    clock.advance(seconds=15)
    assert 'hx-trigger="load delay:5s"' in page(client)


def test_a_new_day_shows_without_any_change(sign_in, alice, contoso, clock):
    contoso.offers.filter(level="silver").update(ends_on=clock.at.date())
    client = sign_in(alice)
    assert "Renew by" not in page(client)
    clock.advance(days=1)
    assert "Renew by" in page(client)  # Silver Data Analytics has ended


def test_a_company_renamed_while_its_page_is_read_shows_its_new_name(
    sign_in, alice, contoso, monkeypatch
):
    def rename_elsewhere():
        Partner.objects.filter(pk=contoso.pk).update(name="Contoso Group")
        connection.close()  # this thread's own

    fingerprint = benefits_cache._key

    def renamed_just_before(*args):
        # Committed after the request loaded the user and their company, before the
        # fingerprint: what is stored under the new fingerprint must show the new name.
        monkeypatch.setattr(benefits_cache, "_key", fingerprint)
        other = threading.Thread(target=rename_elsewhere)
        other.start()
        other.join()
        return fingerprint(*args)

    monkeypatch.setattr(benefits_cache, "_key", renamed_just_before)
    client = sign_in(alice)
    assert "membership offers Contoso Group holds" in main(page(client))
    assert "membership offers Contoso Group holds" in main(page(client))


def test_the_page_is_reused_with_no_statement_prepared_on_the_server(sign_in, alice):
    """A pooler in transaction mode (PgBouncer 1.18) sends each transaction to any server
    session, where a statement prepared by another is unknown (issue 20)."""
    client = sign_in(alice)
    page(client)
    with CaptureQueriesContext(connection) as queries:
        _, read = reads_offers(client)
    assert not read
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith(("PREPARE", "EXECUTE"))]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone() == (0,)


@pytest.fixture
def fingerprint_reading():
    """`replace(old, new)` recreates benefits_fingerprint() with a part of its text replaced;
    the function is put back as its migration made it afterwards."""

    def replace(old, new):
        assert old in FINGERPRINT_FUNCTION
        with connection.cursor() as cursor:
            cursor.execute(FINGERPRINT_FUNCTION.replace(old, new))

    yield replace
    with connection.cursor() as cursor:
        cursor.execute(FINGERPRINT_FUNCTION)


def test_where_the_fingerprint_cant_be_read_the_page_is_rendered(
    sign_in, alice, contract, monkeypatch, fingerprint_reading
):
    """A managed database may deny what the fingerprint reads (pg_control_system())."""
    monkeypatch.setattr(benefits_cache, "_readable", weakref.WeakKeyDictionary())
    fingerprint_reading("pg_control_system()", "no_such_function()")
    client = sign_in(alice)
    for _visit in range(2):
        html, read = reads_offers(client)
        assert contract.access_id in html and read


def test_on_a_standby_with_no_identity_to_key_by_the_page_is_rendered(
    sign_in, alice, contract, fingerprint_reading
):
    fingerprint_reading("pg_is_in_recovery()", "true")
    client = sign_in(alice)
    html, read = reads_offers(client)
    assert contract.access_id in html and read
    _, read = reads_offers(client)
    assert read


def test_a_company_that_moves_from_partner_membership_center_sees_it_at_once(
    client, aaron, contoso
):
    from entitlements.services import save_company

    contoso.in_partner_membership_center = True
    save_company(contoso)
    client.force_login(aaron)
    for _ in range(2):  # the second is reused
        assert "still managed in Partner Membership Center" in page(client)

    contoso.in_partner_membership_center = False
    save_company(contoso)
    assert "still managed in Partner Membership Center" not in page(client)


def test_a_service_request_on_signature_cloud_support_shows_its_changes_at_once(
    sign_in, alice, aaron, contoso
):
    """A request filed for a CSP customer names no product version but a service and a
    customer: its changes, and theirs, reach the page as an incident's do."""
    import uuid

    from customers import services as customers
    from customers.models import Customer, Service, Subscription

    contoso.is_csp = True
    contoso.save()
    azure = Service.objects.create(name="Microsoft Azure", portal_url="https://portal.azure.com/")
    wingtip = Customer.objects.create(partner=contoso, name="Wingtip Toys", domain="wt.example")
    Subscription.objects.create(customer=wingtip, service=azure)
    request, _ = activation.request_activation(
        contoso.offers.get(level="silver"), Benefit.SIGNATURE_CLOUD_SUPPORT, alice
    )
    activation.complete_now(request.pk, None)
    case, _filed = customers.file_request(
        aaron,
        wingtip,
        uuid.uuid4(),
        service=azure,
        category="technical",
        severity="A",
        title="VMs stuck",
        description="d",
        contact_name="Kai",
        contact_email="kai@wt.example",
        contact_phone="",
    )
    client = sign_in(alice)
    assert f"{case.number} · VMs stuck · Microsoft Azure · Wingtip Toys" in page(client)
    _, read = reads_offers(client)
    assert not read  # reused
    case.state = Case.State.IN_PROGRESS
    case.save()
    assert "· In progress" in main(page(client))
    Customer.objects.filter(pk=wingtip.pk).update(name="Wingtip Toys Group")
    assert "Microsoft Azure · Wingtip Toys Group" in main(page(client))
