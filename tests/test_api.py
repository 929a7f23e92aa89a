"""The JSON API over HTTP against the running app (issue 19): tokens and their scopes, an
idempotent activation, problem details, pagination, ETags and rate limits, and another
company's objects as 404s."""

import datetime
import uuid

import pytest
import requests
from django.utils import timezone, translation

from activation.models import ActivationRequest
from api import services
from api.models import ApiToken
from audit.models import AuditEntry
from cases.models import Case
from entitlements.models import Role
from entitlements.rules import Benefit

from .factories import UserFactory, contract_for

pytestmark = pytest.mark.django_db(transaction=True)

ALL = ["benefits:read", "activations:write", "support:read", "support:write"]


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def token(user, scopes=ALL, days=30, name=None):
    _token, raw = services.create_token(
        user,
        name or f"tool {uuid.uuid4().hex[:6]}",
        scopes,
        timezone.now() + datetime.timedelta(days=days),
    )
    return raw


class Api:
    def __init__(self, base, raw):
        self.base, self.session = base + "/api/v1", requests.Session()
        self.session.headers["Authorization"] = f"Bearer {raw}"

    def get(self, path, **kwargs):
        return self.session.get(self.base + path, timeout=30, **kwargs)

    def post(self, path, json, **kwargs):
        return self.session.post(self.base + path, json=json, timeout=30, **kwargs)


@pytest.fixture
def api(live_server, alice):
    return Api(live_server.url, token(alice))


def test_an_activation_asked_twice_with_one_key_is_one_request(api, contoso):
    gold = contoso.offers.get(level="gold")
    body = {"offer_id": gold.pk, "benefit": "product_support"}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.post("/activations", body, headers=key)
    again = api.post("/activations", body, headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert first.headers["Location"] == f"/api/v1/activations/{first.json()['id']}"
    assert ActivationRequest.objects.filter(offer=gold).count() == 1
    other = api.post("/activations", body | {"benefit": "signature_cloud_support"}, headers=key)
    assert other.status_code == 422
    assert other.headers["Content-Type"] == "application/problem+json"
    assert other.json()["detail"] == "This Idempotency-Key was used with another request body."
    missing = api.post("/activations", body)
    assert missing.status_code == 422 and "Idempotency-Key" in missing.json()["detail"]
    listed = api.get("/activations").json()["items"]
    assert [a["id"] for a in listed] == [first.json()["id"]]


def test_a_read_only_token_cant_activate_and_a_creator_without_the_role_takes_it_away(
    live_server, alice, mona, contoso
):
    reader = Api(live_server.url, token(alice, ["benefits:read"]))
    body = {"offer_id": contoso.offers.get(level="gold").pk, "benefit": "product_support"}
    refused = reader.post("/activations", body, headers={"Idempotency-Key": "k1"})
    assert refused.status_code == 403 and refused.json()["title"] == "Forbidden"
    assert reader.get("/offers").status_code == 200
    assert not ActivationRequest.objects.exists()
    # The token never does more than its creator may do now.
    full = Api(live_server.url, token(alice))
    alice.role_assignments.all().delete()
    assert full.get("/offers").status_code == 403
    assert full.post("/activations", body, headers={"Idempotency-Key": "k2"}).status_code == 403


def test_an_expired_revoked_or_unknown_token_is_401(live_server, alice):
    live = token(alice)
    expired = ApiToken.objects.get(prefix=live[:12])
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    assert Api(live_server.url, live).get("/offers").status_code == 401
    revoked = token(alice)
    services.revoke_token(ApiToken.objects.get(prefix=revoked[:12]).pk, alice.partner, alice)
    response = Api(live_server.url, revoked).get("/offers")
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert Api(live_server.url, "pbp_nonsense").get("/offers").status_code == 401
    anonymous = requests.get(f"{live_server.url}/api/v1/offers", timeout=30)
    assert anonymous.status_code == 401
    # A creator who left the company leaves their tokens dead.
    left = token(alice)
    alice.is_active = False
    alice.save()
    assert Api(live_server.url, left).get("/offers").status_code == 401


def test_another_companys_objects_are_404(live_server, alice, bob, contoso):
    gold = contoso.offers.get(level="gold")
    contract = contract_for(gold, Benefit.PRODUCT_SUPPORT, alice)
    fabrikam = Api(live_server.url, token(bob))
    assert fabrikam.get(f"/activations/{contract.activation_id}").status_code == 404
    body = {"offer_id": gold.pk, "benefit": "signature_cloud_support"}
    created = fabrikam.post("/activations", body, headers={"Idempotency-Key": "x"})
    assert created.status_code == 404
    assert contract.contract_id not in fabrikam.get("/contracts").text
    assert fabrikam.get("/cases/1").json()["status"] == 404


def test_contract_ids_only_with_a_scope_that_may_see_them(live_server, alice, contoso):
    contract = contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)
    support_only = Api(live_server.url, token(alice, ["support:read"])).get("/contracts").json()
    assert support_only[0]["incidents_remaining"] == 20
    assert support_only[0]["contract_id"] is None and support_only[0]["access_id"] is None
    both = Api(live_server.url, token(alice, ["support:read", "benefits:read"])).get("/contracts")
    assert both.json()[0]["contract_id"] == contract.contract_id


def test_cases_open_page_and_take_notes(api, alice, contoso):
    from support.models import ContractLink, ProductVersion

    contract = contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)
    ContractLink.objects.create(user=alice, contract=contract)
    version = ProductVersion.objects.get(product__name="Windows Server", name="2025")
    body = {
        "contract": contract.pk,
        "product_version_id": version.pk,
        "support_type": "technical",
        "severity": "B",
        "title": "Cluster node won't join",
        "description": "Event 1135 after patching.",
        "contact_name": "Alice",
        "contact_email": "alice@contoso.example",
    }
    key = {"Idempotency-Key": "ticket-4711"}
    opened = api.post("/cases", body, headers=key)
    assert opened.status_code == 201 and opened.json()["number"].startswith("SR")
    again = api.post("/cases", body, headers=key)  # a client's retry: the same incident
    assert again.status_code == 200 and again.json()["id"] == opened.json()["id"]
    other = api.post("/cases", body | {"severity": "A"}, headers=key)
    assert other.status_code == 422  # another request under a used key
    contract.refresh_from_db()
    assert contract.incidents_remaining == 19
    assert api.post("/cases", body | {"title": "Nul\u0000byte"}).status_code == 422
    first_case = Case.objects.get()
    copies = []
    for n in range(51):
        copy = Case.objects.get(pk=first_case.pk)
        copy.pk, copy.title, copy.submission_key = None, f"Case {n}", None
        copies.append(copy)
    Case.objects.bulk_create(copies)
    first = api.get("/cases").json()
    assert len(first["items"]) == 50 and first["items"][0]["title"] == "Case 50"
    rest = api.get("/cases", params={"cursor": first["next_cursor"]}).json()
    assert [c["title"] for c in rest["items"]] == ["Case 0", "Cluster node won't join"]
    assert rest["next_cursor"] is None
    bad = api.get("/cases", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422
    case_id = rest["items"][0]["id"]
    note = api.post(f"/cases/{case_id}/notes", {"text": "Logs attached."})
    assert note.status_code == 201 and note.json()["text"] == "Logs attached."
    assert api.post(f"/cases/{case_id}/notes", {"text": "   "}).status_code == 422
    nul = api.post(f"/cases/{case_id}/notes", {"text": "a\u0000b"})
    assert nul.status_code == 422 and "can't be stored" in nul.json()["detail"]


def test_reads_carry_an_etag_and_every_response_its_rate_limit(live_server, alice, settings):
    settings.API_REQUESTS_PER_MINUTE = 3
    api = Api(live_server.url, token(alice))
    first = api.get("/offers")
    assert first.headers["RateLimit-Policy"] == '"api-token";q=3;w=60'
    assert first.headers["RateLimit"].startswith('"api-token";r=2;t=')
    assert "private" in first.headers["Cache-Control"]
    unchanged = api.get("/offers", headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304
    assert unchanged.headers["RateLimit"].startswith('"api-token";r=1;t=')
    api.get("/offers")
    refused = api.get("/offers")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.json()["title"] == "Too Many Requests"


def test_token_actions_are_audited(alice):
    raw = token(alice, ["benefits:read"], name="Billing sync")
    found = ApiToken.objects.get(prefix=raw[:12])
    assert found.digest != raw and raw not in str(found.__dict__)
    services.revoke_token(found.pk, alice.partner, alice)
    assert not services.revoke_token(found.pk, alice.partner, alice)  # a second click
    actions = list(
        AuditEntry.objects.filter(partner=alice.partner)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["api_token_created", "api_token_revoked"]


def test_a_token_lives_a_year_at_most_and_names_are_unique_while_live(alice):
    with pytest.raises(services.TokenRefused, match="within a year"):
        token(alice, days=367)
    token(alice, name="Sync")
    with pytest.raises(services.TokenRefused, match="a token with this name already"):
        token(alice, name="Sync")
    # Expired, it keeps its name until it is revoked; then the name is free again.
    expired = ApiToken.objects.get(name="Sync")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    assert services.revoke_token(expired.pk, alice.partner, alice)
    token(alice, name="Sync")


def test_only_a_global_admin_manages_tokens(client, alice, mona, aaron):
    from django.urls import reverse

    page = reverse("integrations:tokens")
    for refused in (mona, aaron):
        client.force_login(refused)
        assert client.get(page).status_code == 403
    other = UserFactory(partner=alice.partner, roles=[Role.GLOBAL_ADMIN])
    client.force_login(other)
    response = client.post(
        page,
        {
            "name": "CI",
            "scopes": ["benefits:read"],
            "expires_on": timezone.localdate() + datetime.timedelta(days=30),
        },
    )
    assert response.status_code == 201
    text = response.content.decode()
    raw = text.split('id="new-token">', 1)[1].split("<", 1)[0]
    assert raw.startswith("pbp_") and ApiToken.objects.get().digest == services.digest_of(raw)
    assert raw not in client.get(page).content.decode()  # shown once


def test_the_document_and_its_reference_page_are_served(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    errors = document["paths"]["/api/v1/offers"]["get"]["responses"]["401"]["content"]
    assert list(errors) == ["application/problem+json"]
    page = client.get("/api/v1/docs").content.decode()
    assert "ninja/swagger-ui-bundle" in page and "cdn.jsdelivr" not in page


def test_the_audit_log_names_a_token_its_scopes_and_its_expiry(alice):
    from audit.describe import describe

    token(alice, ["benefits:read", "support:read"], name="Billing sync")
    entry = AuditEntry.objects.get(action="api_token_created")
    with translation.override("en"):
        text = describe(entry.facts)
    assert text.startswith("Token Billing sync, benefits:read support:read, expires ")


def test_any_error_is_a_problem_even_where_the_api_has_no_route(api):
    unknown = api.get("/no-such-thing")
    assert unknown.status_code == 404
    assert unknown.headers["Content-Type"] == "application/problem+json"
    assert unknown.json()["title"] == "Not Found"
    deleted = api.session.delete(api.base + "/offers", timeout=30)
    assert deleted.status_code == 405 and deleted.json()["status"] == 405
    assert "GET" in deleted.headers["Allow"]
    failed = api.get("/offers", headers={"If-Match": '"not-this"'})
    assert failed.status_code == 412
    assert failed.headers["Content-Type"] == "application/problem+json"
    assert api.get("/nothing/docs").headers["Content-Type"] == "application/problem+json"


def test_contract_ids_read_through_the_api_are_a_first_view_in_the_audit_log(
    live_server, alice, contoso
):
    contract = contract_for(contoso.offers.get(level="gold"), Benefit.PRODUCT_SUPPORT, alice)
    Api(live_server.url, token(alice, ["support:read", "benefits:read"])).get("/contracts")
    seen = AuditEntry.objects.get(action=AuditEntry.Action.IDS_FIRST_VIEWED)
    assert seen.facts["contract_id"] == contract.contract_id


def test_advisory_hours_are_refused_where_the_page_refuses_them(live_server, alice, contoso):
    api = Api(live_server.url, token(alice, ["support:read"]))
    assert api.get("/advisory-hours").json()["total"] == 50
    contoso.in_partner_membership_center = True
    contoso.save()
    assert api.get("/advisory-hours").status_code == 403


def test_a_creator_who_leaves_takes_their_tokens_along_for_good(live_server, alice, contoso):
    from accounts import people

    colleague = UserFactory(partner=contoso, roles=[Role.GLOBAL_ADMIN])
    raw = token(colleague)
    api = Api(live_server.url, raw)
    assert api.get("/offers").status_code == 200
    people.deactivate(alice, colleague)
    assert api.get("/offers").status_code == 401
    people.reactivate(alice, colleague)
    assert api.get("/offers").status_code == 401  # revoked, not paused
    entry = AuditEntry.objects.filter(action="api_token_revoked").latest("pk")
    assert entry.facts["because"] == "deactivated"


def test_idempotency_keys_are_forgotten_after_a_month(api, contoso):
    from api.models import IdempotencyKey
    from api.tasks import KEEP_KEYS, forget_old_idempotency_keys

    body = {"offer_id": contoso.offers.get(level="gold").pk, "benefit": "product_support"}
    api.post("/activations", body, headers={"Idempotency-Key": "old"})
    api.post(
        "/activations",
        body | {"benefit": "signature_cloud_support"},
        headers={"Idempotency-Key": "new"},
    )
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - KEEP_KEYS)
    assert forget_old_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
