"""A company's Global admins see who holds each of its support contracts, remove a holder, and
re-issue a contract's IDs; support staff do both in Django admin. All of it audited."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEntry
from entitlements.rules import Benefit
from support.models import ContractLink

from .factories import PartnerFactory, UserFactory
from .test_support import ADD, add, contract_for, incident_fields, step2

HOLDERS = "/dashboard/mpn/membership/benefits/contracts"
Action = AuditEntry.Action


@pytest.fixture
def contract(alice, contoso):
    return contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)


@pytest.fixture
def holders(contract, aaron):
    """Aaron of Contoso and Oscar, a consultant of another company, hold the contract."""
    oscar = UserFactory(
        email="oscar@consulting.example", partner=PartnerFactory(name="Oscar Consulting")
    )
    for user in (aaron, oscar):
        ContractLink.objects.create(user=user, contract=contract)
    return aaron, oscar


def remove_url(contract, link):
    return reverse("remove_contract_holder", args=[contract.pk, link.pk])


def test_a_global_admin_sees_who_holds_each_contract(sign_in, alice, contract, holders):
    page = sign_in(alice).get(HOLDERS).content.decode()
    assert "aaron@contoso.example" in page
    assert "oscar@consulting.example" in page
    assert "Outside your company: Oscar Consulting" in page
    assert contract.contract_id in page


def test_removing_a_holder_stops_its_incidents(sign_in, alice, contract, holders, contoso):
    aaron, oscar = holders
    link = ContractLink.objects.get(user=oscar)
    response = sign_in(alice).post(remove_url(contract, link), follow=True)
    assert "That account can no longer open incidents" in response.content.decode()
    assert not ContractLink.objects.filter(user=oscar).exists()
    assert ContractLink.objects.filter(user=aaron).exists()
    entry = AuditEntry.objects.get(partner=contoso, action=Action.CONTRACT_UNLINKED)
    assert entry.subject.endswith("oscar@consulting.example")
    assert entry.actor == alice
    # Oscar's next incident on it is refused.
    from django.test import Client

    oscars = Client()
    oscars.force_login(oscar)
    oscars.post(step2("Windows Server", "2025"), incident_fields(contract.pk))
    contract.refresh_from_db()
    assert contract.incidents_remaining == contract.incidents_total


def test_a_second_click_on_remove_changes_nothing_more(sign_in, alice, contract, holders):
    link = ContractLink.objects.get(user=holders[1])
    client = sign_in(alice)
    client.post(remove_url(contract, link))
    again = client.post(remove_url(contract, link), follow=True)
    assert "No change: that account no longer held this contract." in again.content.decode()
    assert AuditEntry.objects.filter(action=Action.CONTRACT_UNLINKED).count() == 1


def test_reissuing_gives_new_ids_and_takes_the_contract_off_every_account(
    sign_in, alice, contract, holders, contoso
):
    old = (contract.access_id, contract.contract_id)
    client = sign_in(alice)
    url = reverse("reissue_contract_ids", args=[contract.pk])
    response = client.post(url, {"access_id": contract.access_id}, follow=True)
    assert "New Access ID and Contract ID issued" in response.content.decode()
    contract.refresh_from_db()
    assert contract.access_id != old[0] and contract.contract_id != old[1]
    assert not ContractLink.objects.filter(contract=contract).exists()
    assert contract.incidents_remaining == contract.incidents_total  # kept
    entry = AuditEntry.objects.get(partner=contoso, action=Action.CONTRACT_IDS_REISSUED)
    assert f"{old[1]} -> {contract.contract_id}; removed from 2 account(s)" in entry.subject
    # A double click, or a second admin who saw the old IDs: nothing more changes.
    new = (contract.access_id, contract.contract_id)
    again = client.post(url, {"access_id": old[0]}, follow=True)
    assert "No change: these IDs had already been re-issued." in again.content.decode()
    contract.refresh_from_db()
    assert (contract.access_id, contract.contract_id) == new
    # The old pair no longer adds the contract; the new one does.
    aaron = holders[0]
    from django.test import Client

    aarons = Client()
    aarons.force_login(aaron)
    assert aarons.post(ADD, {"access_id": old[0], "contract_id": old[1]}).status_code == 400
    assert "Contract added" in add(aarons, contract).content.decode()


def test_reissuing_draws_again_when_an_id_is_taken(alice, contract, contoso):
    from support import services

    other = contract_for(contoso.offers.get(level="silver"), Benefit.PRODUCT_SUPPORT, alice)
    draws = iter([other.access_id, "111111111", "222222222", "333333333"])
    contract, reissued = services.reissue_ids(
        contract.pk, contract.access_id, alice, draw=lambda: next(draws)
    )
    assert reissued
    assert (contract.access_id, contract.contract_id) == ("222222222", "333333333")


def test_another_companys_contract_is_not_found(sign_in, bob, contract, holders):
    client = sign_in(bob)
    link = ContractLink.objects.get(user=holders[0])
    assert client.post(remove_url(contract, link)).status_code == 404
    url = reverse("reissue_contract_ids", args=[contract.pk])
    assert client.post(url, {"access_id": contract.access_id}).status_code == 404
    assert ContractLink.objects.count() == 2
    assert contract.contract_id not in client.get(HOLDERS).content.decode()


def test_an_mpn_partner_admin_may_not_manage_holders(sign_in, mona, contract, holders):
    assert sign_in(mona).get(HOLDERS).status_code == 403


def test_the_page_runs_the_same_queries_for_1_10_and_100_holders(sign_in, alice, contract):
    client = sign_in(alice)
    client.get(HOLDERS)
    counts = []
    for size in (1, 10, 100):
        have = contract.links.count()
        for i in range(have, size):
            ContractLink.objects.create(
                user=UserFactory(partner=PartnerFactory(name=f"Consulting {i}")),
                contract=contract,
            )
        with CaptureQueriesContext(connection) as queries:
            assert client.get(HOLDERS).status_code == 200
        counts.append(len(queries))
    assert len(set(counts)) == 1, counts


# Support staff, in Django admin


def test_support_staff_remove_links_and_reissue_ids(sign_in, support, contract, holders, contoso):
    staff = sign_in(support)
    link = ContractLink.objects.get(user=holders[1])
    response = staff.post(
        "/admin/support/contractlink/",
        {"action": "remove_links", "_selected_action": [link.pk]},
    )
    assert response.status_code == 302
    assert not ContractLink.objects.filter(pk=link.pk).exists()
    old = contract.access_id
    staff.post(
        "/admin/support/supportcontract/",
        {
            "action": "reissue_ids",
            "_selected_action": [contract.pk],
            "apply": "1",
            "seen": json.dumps({str(contract.pk): old}),
        },
    )
    contract.refresh_from_db()
    assert contract.access_id != old
    assert not contract.links.exists()
    assert set(
        AuditEntry.objects.filter(partner=contoso, actor=support).values_list("action", flat=True)
    ) == {Action.CONTRACT_UNLINKED, Action.CONTRACT_IDS_REISSUED}


def test_support_staff_find_a_contract_by_an_id_typed_in_full_width(sign_in, support, contract):
    wide = contract.access_id.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    page = sign_in(support).get("/admin/support/supportcontract/", {"q": wide}).content.decode()
    assert contract.contract_id in page


def test_an_mpn_id_typed_in_full_width_is_saved_in_digits(sign_in, support):
    response = sign_in(support).post(
        "/admin/entitlements/partner/add/",
        {
            "name": "Wide Digits Ltd",
            "mpn_id": "４４５６ ７８９",
            "is_mpn_associated": "on",
            "offers-TOTAL_FORMS": "0",
            "offers-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    from entitlements.models import Partner

    assert Partner.objects.get(name="Wide Digits Ltd").mpn_id == "4456789"


def test_every_admin_search_takes_full_width_input():
    from django.contrib import admin

    from benefits_portal.admin import TypedSearchMixin

    ours = ("accounts", "entitlements", "activation", "support", "audit")
    searchable = [
        a
        for model, a in admin.site._registry.items()
        if a.search_fields and model._meta.app_label in ours
    ]
    assert searchable
    assert all(isinstance(a, TypedSearchMixin) for a in searchable), [
        type(a).__name__ for a in searchable if not isinstance(a, TypedSearchMixin)
    ]
