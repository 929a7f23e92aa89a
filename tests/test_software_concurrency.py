"""Get keys many times at once, from real threads, each with its own database connection."""

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from entitlements.models import Role
from entitlements.rules import Level, OfferKind
from software import services
from software.models import KeyGrant, KeyShortage, LicenseKey

from .factories import OfferFactory, PartnerFactory, UserFactory, pool, software
from .test_activation_concurrency import all_at_once, signed_in_clients

# These tests flush the database; conftest.reference_data puts back what migrations made.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Up to twenty connections each: one test process runs them one after the other, so that
    # two of them at once never pass PostgreSQL's max_connections (100 by default).
    pytest.mark.xdist_group("many_connections"),
]


def test_twenty_parallel_get_keys_by_one_company_draw_one_set(alice, mona, contoso):
    product = software("Windows Server", keys=3, kind=OfferKind.COMPETENCY, level=Level.GOLD)
    pool(product, 20)
    offer = contoso.offers.get(level=Level.GOLD)
    url = reverse("software:get_keys", args=[offer.pk, product.pk])
    clients = signed_in_clients([alice, mona] * 10)

    statuses = all_at_once(20, lambda i: clients[i].post(url).status_code)

    assert statuses == [302] * 20
    assert LicenseKey.objects.filter(offer__isnull=False).count() == 3
    assert KeyGrant.objects.count() == 1
    assert AuditEntry.objects.filter(action=AuditEntry.Action.KEYS_VIEWED).count() == 1
    assert LicenseKey.objects.filter(first_viewed_by__isnull=False).count() == 3


def test_twenty_companies_racing_for_the_last_keys_never_share_one():
    product = software("Office LTSC", keys=1)  # Microsoft Action Pack: one key each
    pool(product, 10)
    admins = []
    for n in range(20):
        partner = PartnerFactory(name=f"Racer {n}")
        OfferFactory(partner=partner, action_pack=True)
        admins.append(UserFactory(partner=partner, roles=[Role.GLOBAL_ADMIN]))
    offers = [admin.partner.offers.get() for admin in admins]

    def ask(i):
        try:
            return [key.key for key in services.get_keys(admins[i], offers[i], product)]
        except services.NoKeysLeft:
            return None

    results = all_at_once(20, ask)

    given = [key for keys in results if keys for key in keys]
    assert len(given) == len(set(given)) == 10
    assert sum(keys is None for keys in results) == 10
    assert KeyShortage.objects.count() == 10
    assert LicenseKey.objects.filter(offer__isnull=True).count() == 0
    for offer in offers:
        assert LicenseKey.objects.filter(offer=offer).count() <= 1
