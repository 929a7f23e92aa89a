"""Two incidents opened at once on a plan's last incident: exactly one is opened."""

import pytest
from django.test import Client

from cases.models import Case
from entitlements.rules import Benefit
from support.models import ContractLink, SupportContract

from .factories import UserFactory
from .test_activation_concurrency import all_at_once, signed_in_clients
from .test_support import ADD, contract_for, incident_fields, step2

# These tests flush the database; conftest.reference_data puts back what migrations made.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Up to twenty connections each: one test process runs them one after the other, so that
    # two of them at once never pass PostgreSQL's max_connections (100 by default).
    pytest.mark.xdist_group("many_connections"),
]


@pytest.mark.parametrize("accounts", [1, 8])
def test_the_last_incident_goes_to_exactly_one_of_many_at_once(alice, contoso, accounts):
    from entitlements.rules import Benefit

    contract = contract_for(
        contoso.offers.get(level="silver"), Benefit.SIGNATURE_CLOUD_SUPPORT, alice
    )
    SupportContract.objects.filter(pk=contract.pk).update(incidents_remaining=1)
    users = [UserFactory() for _ in range(accounts)]
    clients = []
    for i in range(8):
        user = users[i % accounts]
        ContractLink.objects.get_or_create(user=user, contract=contract)
        client = Client()
        client.force_login(user)
        clients.append(client)
    url = step2("Azure")

    statuses = all_at_once(
        8, lambda i: clients[i].post(url, incident_fields(contract.pk)).status_code
    )

    # The others are told: the plan is no longer offered (400) or was used up meanwhile (409).
    assert statuses.count(302) == 1
    assert set(statuses) - {302} <= {400, 409}
    assert Case.objects.count() == 1
    contract.refresh_from_db()
    assert contract.incidents_remaining == 0


def test_twenty_wrong_pairs_at_once_get_five_look_ups(bob, alice, contoso):
    """The account's wrong tries are counted before the look-up, atomically: of twenty sent at
    once, five are checked (and found wrong) and the other fifteen are refused unchecked."""
    from entitlements.rules import Benefit

    contract = contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)
    clients = signed_in_clients([bob] * 20)  # twenty tabs of one account
    wrong = {"access_id": contract.access_id, "contract_id": "123456789"}

    statuses = all_at_once(20, lambda i: clients[i].post(ADD, wrong).status_code)

    assert sorted(set(statuses)) == [400, 429]
    assert statuses.count(400) == 5
    assert not ContractLink.objects.exists()


def test_past_an_address_limit_parallel_tries_get_only_its_remaining_look_ups(alice, contoso):
    """Ten accounts behind one address each typed one wrong pair (10 of the address's 20);
    then twenty more arrive at once: ten are looked up, ten are refused unchecked."""
    from entitlements.rules import Benefit

    contract = contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)
    accounts = [UserFactory() for _ in range(10)]
    wrong = {"access_id": contract.access_id, "contract_id": "123456789"}
    for client in signed_in_clients(accounts):
        assert client.post(ADD, wrong).status_code == 400
    clients = signed_in_clients(accounts * 2)

    statuses = all_at_once(20, lambda i: clients[i].post(ADD, wrong).status_code)

    assert statuses.count(400) == 10
    assert statuses.count(429) == 10


def test_two_staff_closing_as_duplicate_at_once_give_the_incident_back_once(
    alice, contoso, support
):
    from support.models import IncidentCredit

    from .test_cases import NO_ENTRIES, open_incident

    contract = contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)
    case = open_incident(alice, contract)
    clients = signed_in_clients([support, support, support, support])
    form = {"state": "closed", "resolution": "duplicate", "severity": "B", **NO_ENTRIES}

    statuses = all_at_once(
        4, lambda i: clients[i].post(f"/admin/cases/case/{case.pk}/change/", form).status_code
    )

    assert statuses == [302] * 4
    assert IncidentCredit.objects.filter(case=case).count() == 1
    contract.refresh_from_db()
    assert contract.incidents_remaining == contract.incidents_total


def test_staff_recording_hours_at_once_never_take_the_company_below_zero(bob, support):
    from decimal import Decimal

    from cases import services
    from cases.models import AdvisoryHours, HoursRecord
    from support.models import Product

    case = services.file_advisory_request(
        bob,
        title="Landing zone",
        description="Two regions.",
        product=Product.objects.get(name="Azure"),
        request_type="presales",
        country="Japan",
        language="ja",
        contact_name="Bob",
        contact_email=bob.email,
    )

    def record(_i):
        try:
            services.record_hours(case.pk, support, Decimal(2))
        except ValueError:
            return "refused"
        return "recorded"

    results = all_at_once(4, record)

    assert results.count("recorded") == 2  # 5 hours: two of 2, then 1 left
    assert AdvisoryHours.objects.get().hours_remaining == 1
    assert HoursRecord.objects.count() == 2
