"""Many clicks at once, from real threads, each with its own database connection."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from activation import services
from activation.models import ActivationEvent, ActivationRequest
from entitlements.rules import Benefit

# These tests flush the database; conftest.reference_data puts back what migrations made.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Up to twenty connections each: one test process runs them one after the other, so that
    # two of them at once never pass PostgreSQL's max_connections (100 by default).
    pytest.mark.xdist_group("many_connections"),
]


def all_at_once(count, action):
    """Run `action(i)` in `count` threads released together; each closes its connection."""
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait()
            return action(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def signed_in_clients(users):
    clients = []
    for user in users:
        client = Client()
        client.force_login(user)
        clients.append(client)
    connection.close()
    return clients


def test_twenty_parallel_posts_make_exactly_one_request(alice, contoso):
    offer = contoso.offers.get(level="gold")
    url = reverse("activation:activate", args=[offer.pk, "product_support"])
    clients = signed_in_clients([alice] * 20)

    statuses = all_at_once(20, lambda i: clients[i].post(url).status_code)

    assert statuses == [302] * 20
    assert ActivationRequest.objects.count() == 1
    assert ActivationEvent.objects.count() == 1


def test_two_admins_clicking_at_once_make_one_request(alice, mona, contoso):
    offer = contoso.offers.get(level="silver")
    url = reverse("activation:activate", args=[offer.pk, "signature_cloud_support"])
    clients = signed_in_clients([alice, mona] * 5)

    all_at_once(10, lambda i: clients[i].post(url))

    request = ActivationRequest.objects.get()
    assert request.requested_by in (alice, mona)


def test_concurrent_service_calls_report_one_creation(alice, contoso):
    offer = contoso.offers.get(level="gold")

    results = all_at_once(
        20, lambda i: services.request_activation(offer, Benefit.SIGNATURE_CLOUD_SUPPORT, alice)
    )

    assert sum(created for _, created in results) == 1
    assert len({request.pk for request, _ in results}) == 1
