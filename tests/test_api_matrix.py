"""Every API endpoint × token scope × kind of token holder, with the expected answer, in one
declared table (issue 19); an endpoint the table doesn't cover fails the walk. A token acts
for its creator's company and never beyond what its creator may do now."""

import datetime
import uuid

import pytest
from django.utils import timezone

from api import services
from api.api import api
from api.models import ApiToken, Scope
from entitlements.models import Role
from entitlements.rules import Benefit
from entitlements.services import set_roles
from support.models import ContractLink, ProductVersion

from .factories import UserFactory, contract_for
from .test_cases import open_incident

pytestmark = pytest.mark.django_db

HOLDERS = [
    "contoso_admin",  # a token of Contoso's Global admin
    "demoted_creator",  # its creator is an Admin agent now: benefits only
    "other_company",  # Fabrikam's Global admin's token, on Contoso's objects
    "revoked",
    "none",  # no token at all
]
# (method, path, the scope it needs, whether it names one of Contoso's objects)
ENDPOINTS = [
    ("get", "/offers", Scope.BENEFITS_READ, False),
    ("get", "/activations", Scope.BENEFITS_READ, False),
    ("get", "/activations/{activation}", Scope.BENEFITS_READ, True),
    ("post", "/activations", Scope.ACTIVATIONS_WRITE, True),
    ("get", "/contracts", Scope.SUPPORT_READ, False),
    ("get", "/cases", Scope.SUPPORT_READ, False),
    ("get", "/cases/{case}", Scope.SUPPORT_READ, True),
    ("post", "/cases", Scope.SUPPORT_WRITE, True),
    ("post", "/cases/{case}/notes", Scope.SUPPORT_WRITE, True),
    ("get", "/advisory-hours", Scope.SUPPORT_READ, False),
]
OK = {"get": 200, "post": 201}


def expected(holder, method, needed, scope, names_object):
    """The answer a holder's token of one `scope` gets from an endpoint needing `needed`."""
    if holder in ("none", "revoked"):
        return 401
    if scope != needed:
        return 403
    if holder == "demoted_creator" and needed != Scope.BENEFITS_READ:
        return 403  # an Admin agent may not activate, nor see the company's cases
    if holder == "other_company" and names_object:
        return 404
    if holder == "other_company" and method == "post":
        return 404
    return OK[method]


def test_every_endpoint_is_in_the_table():
    document = api.get_openapi_schema()
    paths = {
        (method, path.removeprefix("/api/v1").replace("_id}", "}"))
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert paths == {(method, path) for method, path, _scope, _object in ENDPOINTS}


@pytest.fixture
def world(alice, bob, contoso):
    contract = contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)
    case = open_incident(alice, contract)
    demoted = UserFactory(partner=contoso, roles=[Role.GLOBAL_ADMIN])
    return {
        "contract": contract,
        "case": case,
        "offer": contoso.offers.get(level="silver"),
        "version": ProductVersion.objects.get(product__name="Windows Server", name="2025"),
        "creators": {"contoso_admin": alice, "demoted_creator": demoted, "other_company": bob},
    }


def raw_token(user, scope):
    _token, raw = services.create_token(
        user, f"{scope} {uuid.uuid4().hex[:6]}", [scope], timezone.now() + datetime.timedelta(1)
    )
    return raw


def call(client, method, path, world, raw, n):
    url = "/api/v1" + path.format(activation=world["contract"].activation_id, case=world["case"].pk)
    headers = {"Authorization": f"Bearer {raw}"} if raw else {}
    if method == "get":
        return client.get(url, headers=headers)
    body = {
        "/activations": {"offer_id": world["offer"].pk, "benefit": "product_support"},
        "/cases": {
            "contract": world["contract"].pk,
            "product_version_id": world["version"].pk,
            "support_type": "technical",
            "severity": "C",
            "title": "t",
            "description": "d",
            "contact_name": "n",
            "contact_email": "n@example.com",
        },
    }.get(path, {"text": "A note."})
    headers["Idempotency-Key"] = f"matrix-{n}"
    return client.post(url, body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("holder", HOLDERS)
def test_each_holder_and_scope_gets_its_answer_from_each_endpoint(client, world, holder):
    tokens = {}
    for scope in Scope.values:
        if holder == "none":
            tokens[scope] = None
        else:
            creator = world["creators"].get(holder, world["creators"]["contoso_admin"])
            tokens[scope] = raw_token(creator, scope)
    if holder == "revoked":
        ApiToken.objects.update(revoked_at=timezone.now())
    if holder == "demoted_creator":
        set_roles(world["creators"]["demoted_creator"], [Role.ADMIN_AGENT])
    ContractLink.objects.get_or_create(
        user=world["creators"]["contoso_admin"], contract=world["contract"]
    )
    wrong = []
    n = 0
    for method, path, needed, names_object in ENDPOINTS:
        for scope in Scope.values:
            n += 1
            answer = call(client, method, path, world, tokens[scope], n).status_code
            want = expected(holder, method, needed, scope, names_object)
            if answer != want:
                wrong.append(f"{holder} {scope} {method.upper()} {path}: {answer}, expected {want}")
    assert wrong == []
