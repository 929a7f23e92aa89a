"""Pages and fragments with a company's data are kept by no cache: `private, no-store`."""

import pytest
from django.urls import reverse

from entitlements.rules import Benefit

from .test_support import CREATE, INCIDENTS, add, contract_for, step2

PAGE = "/dashboard/mpn/membership/benefits/technical"


@pytest.fixture
def contract(alice, contoso):
    return contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)


def kept_by_no_cache(response):
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    return {"private", "no-store"} <= directives


def test_the_technical_benefits_page_with_the_ids_is_not_stored(sign_in, alice, contract):
    response = sign_in(alice).get(PAGE)
    assert contract.access_id in response.content.decode()
    assert kept_by_no_cache(response)


def test_the_benefits_row_fragment_with_the_ids_is_not_stored(sign_in, aaron, contract):
    offer = contract.activation.offer
    url = reverse("entitlements:benefit_detail", args=[offer.pk, Benefit.PRODUCT_SUPPORT])
    response = sign_in(aaron).get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert contract.contract_id in response.content.decode()
    assert "<html" not in response.content.decode()  # the fragment alone
    assert kept_by_no_cache(response)


def test_support_for_business_pages_are_not_stored(sign_in, bob, contract):
    client = sign_in(bob)
    add(client, contract)
    for url in (CREATE, step2("Windows Server", "2025"), INCIDENTS):
        response = client.get(url)
        assert response.status_code == 200, url
        assert kept_by_no_cache(response), url


def test_the_audit_log_is_not_stored(sign_in, alice, contract):
    response = sign_in(alice).get("/dashboard/account/auditlog")
    assert "Access ID and Contract ID revealed" in response.content.decode()
    assert kept_by_no_cache(response)


def test_a_view_that_chose_its_own_caching_keeps_it(sign_in, support):
    # The admin marks its pages never_cache itself: its header is left as it set it.
    response = sign_in(support).get("/admin/")
    assert "max-age=0" in response["Cache-Control"]
