"""The benchmark's dataset generator still makes what BENCHMARKS.md describes.

It writes with bulk inserts, past the models' validation, so a change to a model's
constraints would break it only when someone next runs the benchmark: here it breaks in CI.
"""

import pytest
from django.test import Client

from accounts.models import User
from activation.models import ActivationRequest
from bench import generate
from entitlements.models import MembershipOffer, Partner
from support.models import SupportContract

from .factories import totp_code


@pytest.mark.django_db
def test_partners_come_with_users_offers_and_requests_in_every_state():
    assert generate.grow(12) == 12
    assert generate.grow(18) == 6  # grows from where it stands
    partners = Partner.objects.filter(name__startswith=generate.PREFIX)
    assert partners.count() == 18
    assert User.objects.filter(partner__in=partners).count() == 18 * 5
    assert MembershipOffer.objects.filter(partner__in=partners).count() == 18 * 3
    requests = ActivationRequest.objects.filter(offer__partner__in=partners)
    assert requests.count() == 18 * 2
    assert set(requests.values_list("state", flat=True)) == set(ActivationRequest.State.values)
    active = requests.filter(state=ActivationRequest.State.ACTIVE)
    assert SupportContract.objects.filter(activation__in=active).count() == active.count()


@pytest.mark.django_db
def test_the_signed_in_company_shows_its_ids_to_its_global_admin():
    admin = generate.make_bench_company()
    client = Client()
    response = client.post(
        "/accounts/login/", {"login": admin.email, "password": generate.PASSWORD}
    )
    assert response["Location"] == "/accounts/2fa/authenticate/"
    client.post(response["Location"], {"code": totp_code(generate.TOTP_SECRET)})
    page = client.get("/dashboard/mpn/membership/benefits/technical").content.decode()
    contract = SupportContract.objects.get(partner=admin.partner)
    assert contract.access_id in page and contract.contract_id in page
    assert "Activation failed" in page and "Activation pending" in page
