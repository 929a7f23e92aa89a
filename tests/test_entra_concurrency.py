"""Sign-in settings changed by several admins at once, from real threads, each with its own
database connection: one correct result, never a 500."""

import uuid

import pytest
from django.urls import reverse

from accounts.models import EntraGroupRole, EntraTenant
from audit.models import AuditEntry
from entitlements.models import Role

from .factories import UserFactory
from .test_activation_concurrency import all_at_once, signed_in_clients

pytestmark = pytest.mark.django_db(transaction=True)
TENANT = uuid.UUID("72f988bf-86f1-41af-91ab-2d7cd011db47")
GROUP = uuid.UUID("0b0c6f4e-6d0a-4c52-9a43-2a1d3c5e7f90")


def test_two_companies_connecting_one_tenant_at_once_leave_it_with_one(alice, bob):
    clients = signed_in_clients([alice, bob] * 4)

    statuses = all_at_once(
        8,
        lambda i: (
            clients[i].post(reverse("accounts:entra"), {"tenant_id": str(TENANT)}).status_code
        ),
    )

    assert EntraTenant.objects.count() == 1
    assert sorted(set(statuses)) == [302, 409]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ENTRA_CONNECTED).count() == 1


def test_double_clicks_map_a_group_once(alice):
    EntraTenant.objects.create(partner=alice.partner, tenant_id=TENANT)
    second = UserFactory(partner=alice.partner, roles=[Role.GLOBAL_ADMIN])
    clients = signed_in_clients([alice, second] * 4)
    form = {"group_id": str(GROUP), "role": Role.ADMIN_AGENT}

    statuses = all_at_once(
        8, lambda i: clients[i].post(reverse("accounts:entra_add_group"), form).status_code
    )

    assert EntraGroupRole.objects.count() == 1
    assert statuses.count(302) == 1
    assert set(statuses) <= {302, 409}
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ENTRA_CHANGED).count() == 1
