"""Support staff look after contracts, linked accounts, incidents and the product catalogue."""

import pytest

from entitlements.rules import Benefit
from support.models import ContractLink, IncidentCredit, Product, SupportContract

from .test_support import contract_for

CONTRACTS = "/admin/support/supportcontract/"


@pytest.fixture
def five_pack(alice, contoso):
    contract = contract_for(
        contoso.offers.get(level="silver"), Benefit.SIGNATURE_CLOUD_SUPPORT, alice
    )
    SupportContract.objects.filter(pk=contract.pk).update(incidents_remaining=2)
    return contract


def give_back(client, contract, **form):
    return client.post(
        CONTRACTS,
        {"action": "give_back_incidents", "_selected_action": [contract.pk], **form},
        follow=True,
    )


def test_support_staff_give_incidents_back_with_a_reason(sign_in, support, five_pack):
    client = sign_in(support)
    assert "Give incidents back" in give_back(client, five_pack).content.decode()
    response = give_back(client, five_pack, apply="Give back", incidents=2, reason="Duplicate SR")
    assert "Gave 2 incidents back" in response.content.decode()
    five_pack.refresh_from_db()
    assert five_pack.incidents_remaining == 4
    credit = IncidentCredit.objects.get()
    assert (credit.incidents, credit.reason, credit.given_by) == (2, "Duplicate SR", support)


def test_no_more_can_be_given_back_than_were_used(sign_in, support, five_pack):
    response = give_back(sign_in(support), five_pack, apply="Give back", incidents=4, reason="x")
    assert "at most 3 can be given back" in response.content.decode()
    five_pack.refresh_from_db()
    assert five_pack.incidents_remaining == 2
    assert not IncidentCredit.objects.exists()


def test_a_give_back_needs_a_reason(sign_in, support, five_pack):
    response = give_back(sign_in(support), five_pack, apply="Give back", incidents=1, reason="")
    assert "This field is required." in response.content.decode()
    five_pack.refresh_from_db()
    assert five_pack.incidents_remaining == 2


def test_support_staff_find_contracts_by_id_and_see_linked_accounts(
    sign_in, support, five_pack, bob
):
    ContractLink.objects.create(user=bob, contract=five_pack)
    client = sign_in(support)
    page = client.get(CONTRACTS, {"q": five_pack.access_id}).content.decode()
    assert f"/admin/support/supportcontract/{five_pack.pk}/change/" in page
    detail = client.get(f"{CONTRACTS}{five_pack.pk}/change/").content.decode()
    assert "bob@fabrikam.example" in detail
    links = client.get("/admin/support/contractlink/", {"q": "bob@fabrikam.example"})
    assert five_pack.contract_id in links.content.decode()


def test_the_record_of_given_back_incidents_is_read_only(sign_in, support, five_pack):
    client = sign_in(support)
    give_back(client, five_pack, apply="Give back", incidents=1, reason="Goodwill")
    credit = IncidentCredit.objects.get()
    assert client.get("/admin/support/incidentcredit/").status_code == 200
    url = f"/admin/support/incidentcredit/{credit.pk}/change/"
    assert client.post(url, {"reason": "changed"}).status_code == 403
    delete = f"/admin/support/incidentcredit/{credit.pk}/delete/"
    assert client.post(delete, {"post": "yes"}).status_code == 403


def test_support_staff_add_a_product_version_to_the_catalogue(sign_in, support):
    sql = Product.objects.get(name="SQL Server")
    client = sign_in(support)
    data = {
        "name": "SQL Server",
        "kind": "on_premises",
        "versions-TOTAL_FORMS": "1",
        "versions-INITIAL_FORMS": "0",
        "versions-0-name": "2025",
        "versions-0-released_on": "2025-11-18",
    }
    response = client.post(f"/admin/support/product/{sql.pk}/change/", data)
    assert response.status_code == 302
    assert list(sql.versions.values_list("name", flat=True))[:2] == ["2025", "2022"]
