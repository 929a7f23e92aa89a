"""The JSON API, version 1 (issue 19): a company's offers and their benefits, activations
(created idempotently), contracts, cases and advisory hours, for a token's scopes.

django-ninja derives the OpenAPI 3.1 document from the typed code below (served at
/api/v1/openapi.json, with its reference page at /api/v1/docs). Every request acts for the
token's company and never beyond what the token's creator may do now
(entitlements.permissions.token_may); another company's object is a 404. Errors are RFC 9457
problem details; lists come a page at a time behind an opaque cursor.
"""

import datetime
import hashlib
import json
import uuid
from typing import Annotated

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Header, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import AfterValidator, Field

from activation import services as activation
from activation.models import ActivationRequest
from benefits_portal import limits
from cases import services as cases
from cases.models import Case
from customers.services import storable
from entitlements.permissions import may_file_advisory_requests, token_may
from entitlements.rules import Benefit
from support import services as support
from support.models import ProductVersion, SupportContract

from . import services
from .middleware import PROBLEM
from .models import IdempotencyKey, Scope

PAGE_SIZE = 50


def per_token():
    """Each token's limit: a script may poll, not hammer (issue 19: per-token rate limits);
    settings.API_REQUESTS_PER_MINUTE, 300 unless set."""
    return limits.Limit(
        "api:token", settings.API_REQUESTS_PER_MINUTE, datetime.timedelta(minutes=1)
    )


# Printable ASCII, as clients send it (a UUID, usually).
IDEMPOTENCY_KEY = Header(
    alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$"
)
OPTIONAL_IDEMPOTENCY_KEY = Header(
    None, alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$"
)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`: a live token of an active creator (api.services)."""

    def __call__(self, request):
        # Read here rather than by HttpBearer, which logs a header of another scheme whole
        # (with DEBUG on): a token sent as "Token pbp_..." would land in the log.
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request, token):
        found = services.token_for(token)
        if found is None:
            return None
        usage = limits.hit(per_token(), found.pk)
        request.api_rate = usage  # the RateLimit headers (api.middleware)
        if usage.exceeded:
            raise RateLimited(usage)
        return found


class RateLimited(Exception):
    def __init__(self, usage):
        self.usage = usage


def _header(description):
    return {"description": description, "schema": {"type": "string"}}


# What the responses carry besides their bodies (api.middleware, the handlers below).
RATE_HEADERS = {
    "RateLimit": _header("What is left of this token's limit and when it resets."),
    "RateLimit-Policy": _header("This token's limit: requests a window."),
}
STATUS_HEADERS = {
    "201": {"Location": _header("Where what was made is read.")},
    "401": {"WWW-Authenticate": _header("Bearer")},
    "429": {"Retry-After": _header("Seconds until the limit resets.")},
}


class ProblemsApi(NinjaAPI):
    """The API whose document says what it sends: errors as application/problem+json, the
    rate-limit headers, an ETag on reads (and 304 for an If-None-Match that matches)."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        for path in schema["paths"].values():
            for method, operation in path.items():
                responses = operation.get("responses", {})
                for status, response in responses.items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        response["content"] = {PROBLEM: content["application/json"]}
                    headers = {**STATUS_HEADERS.get(status, {})}
                    if int(status) != 401:
                        headers |= RATE_HEADERS
                    if method == "get" and status == "200":
                        headers["ETag"] = _header("Send it back as If-None-Match.")
                    response["headers"] = headers
                if method == "get":
                    responses["304"] = {"description": "Not Modified", "headers": RATE_HEADERS}
        return schema


api = ProblemsApi(
    title="Partner Benefits Portal API",
    version="1",
    description=(
        "A company's membership offers and benefits, activations, support contracts, cases "
        "and advisory hours. Authenticate with `Authorization: Bearer <token>`, a token a "
        "Global admin creates in Account settings → API tokens."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
)


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""


def problem(request, status, title, detail="", **extra):
    response = api.create_response(
        request,
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status=status,
    )
    response["Content-Type"] = PROBLEM
    for header, value in extra.items():
        response[header.replace("_", "-")] = value
    return response


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return problem(
        request,
        401,
        "Unauthorized",
        "Send a live API token: Authorization: Bearer <token>.",
        WWW_Authenticate="Bearer",
    )


@api.exception_handler(RateLimited)
def rate_limited(request, exc):
    return problem(
        request,
        429,
        "Too Many Requests",
        f"At most {exc.usage.limit.count} requests a minute per token.",
        Retry_After=str(exc.usage.seconds_left),
    )


@api.exception_handler(ValidationError)
def invalid(request, exc):
    detail = "; ".join(
        f"{'.'.join(dict.fromkeys(str(p) for p in error.get('loc', [])))}: {error.get('msg', '')}"
        for error in exc.errors
    )
    return problem(request, 422, "Unprocessable Content", detail)


@api.exception_handler(RequestDataTooBig)
def too_big(request, exc):
    return problem(request, 413, "Content Too Large", "The request body is too large.")


@api.exception_handler(Http404)
def not_found(request, exc):
    return problem(request, 404, "Not Found", "No such object of your company.")


@api.exception_handler(HttpError)
def http_error(request, exc):
    titles = {
        400: "Bad Request",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        422: "Unprocessable Content",
    }
    return problem(request, exc.status_code, titles.get(exc.status_code, "Error"), str(exc))


ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem}


def allowed(request, scope):
    """The token's creator, when the token may act under `scope`; else 403 saying why."""
    token = request.auth
    if not token_may(token.created_by, token.scopes, scope):
        raise HttpError(
            403,
            f"This token can't {scope}: it lacks the scope, or its creator no longer may.",
        )
    return token.created_by


# Cursor pagination: a cursor names the last row of the page before; rows come newest first
# by their id, so rows added meanwhile never shift a page.


class Page(Schema):
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


def page_of(queryset, cursor):
    """(rows, next cursor) of `queryset` after `cursor`, PAGE_SIZE rows newest first."""
    if cursor:
        queryset = queryset.filter(pk__lt=int(cursor))
    rows = list(queryset.order_by("-pk")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (str(rows[-1].pk) if more else None)


class Cursor(Schema):
    cursor: str | None = Field(
        None, pattern=r"^[1-9][0-9]{0,17}$", description="The previous page's next_cursor."
    )


# Offers and their benefits


class BenefitOut(Schema):
    benefit: Benefit
    name: str
    incidents: int | None = Field(description="Incidents the offer gives; null: unlimited.")
    activation_id: int | None
    state: str = Field(description="The latest activation's state, or not_activated.")


class OfferOut(Schema):
    id: int
    title: str
    kind: str
    level: str
    competency: str
    starts_on: datetime.date
    ends_on: datetime.date
    active: bool
    benefits: list[BenefitOut]


@api.get("/offers", response={200: list[OfferOut], **ERRORS}, tags=["benefits"])
def offers(request):
    """The company's membership offers, each with its technical benefits and their state."""
    user = allowed(request, Scope.BENEFITS_READ)
    offers = list(user.partner.offers.select_related("competency").order_by("-ends_on", "pk"))
    latest = ActivationRequest.objects.latest_by_benefit(offers)
    today = timezone.localdate()
    return [
        {
            "id": offer.pk,
            "title": offer.title,
            "kind": offer.kind,
            "level": offer.level,
            "competency": offer.competency.name if offer.competency else "",
            "starts_on": offer.starts_on,
            "ends_on": offer.ends_on,
            "active": offer.is_active(today),
            "benefits": [
                _benefit(item, latest.get((offer.pk, item.benefit)))
                for item in offer.entitlements()
            ],
        }
        for offer in offers
    ]


def _benefit(item, request):
    return {
        "benefit": item.benefit,
        "name": str(Benefit(item.benefit).label),
        "incidents": item.incidents,
        "activation_id": request.pk if request else None,
        "state": request.state if request else "not_activated",
    }


# Activations


class ActivationOut(Schema):
    id: int
    offer_id: int
    benefit: str
    state: str
    requested_at: datetime.datetime
    expected_at: datetime.datetime
    completed_at: datetime.datetime | None


class Activations(Page):
    items: list[ActivationOut]


class ActivationIn(Schema):
    offer_id: int = Field(ge=1, le=2**62)
    benefit: Benefit


def _activation(request):
    return {
        "id": request.pk,
        "offer_id": request.offer_id,
        "benefit": request.benefit,
        "state": request.state,
        "requested_at": request.requested_at,
        "expected_at": request.expected_at,
        "completed_at": request.completed_at,
    }


def _activations_of(user):
    return ActivationRequest.objects.filter(offer__partner=user.partner, product__isnull=True)


@api.get("/activations", response={200: Activations, **ERRORS}, tags=["activations"])
def activation_list(request, page: Query[Cursor]):
    """The company's activations of technical benefits, newest first."""
    user = allowed(request, Scope.BENEFITS_READ)
    rows, next_cursor = page_of(_activations_of(user), page.cursor)
    return {"items": [_activation(r) for r in rows], "next_cursor": next_cursor}


@api.get(
    "/activations/{activation_id}",
    response={200: ActivationOut, **ERRORS},
    tags=["activations"],
    url_name="activation_detail",
)
def activation_detail(request, activation_id: int):
    """One activation of the company."""
    user = allowed(request, Scope.BENEFITS_READ)
    found = _activations_of(user).filter(pk=activation_id).first()
    if found is None:
        raise Http404
    return _activation(found)


@api.post(
    "/activations",
    response={200: ActivationOut, 201: ActivationOut, 409: Problem, **ERRORS},
    tags=["activations"],
)
def activation_create(
    request,
    response: HttpResponse,
    body: ActivationIn,
    idempotency_key: Annotated[str, IDEMPOTENCY_KEY],
):
    """Activate a benefit of an offer. The same Idempotency-Key answers with the same
    activation (200); another body under that key is refused (422). 201 when it starts now."""
    user = allowed(request, Scope.ACTIVATIONS_WRITE)
    token = request.auth
    digest = hashlib.sha256(
        json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()
    offer = user.partner.offers.filter(pk=body.offer_id).first()
    if offer is None:
        raise Http404
    try:
        with transaction.atomic():
            earlier = (
                IdempotencyKey.objects.select_related("activation")
                .filter(token=token, key=idempotency_key)
                .first()
            )
            if earlier is not None:
                return _same_key(earlier, digest)
            try:
                made, created = activation.request_activation(offer, body.benefit, user)
            except activation.NotActivatable as refusal:
                raise HttpError(409, str(refusal)) from None
            IdempotencyKey.objects.create(
                token=token, key=idempotency_key, body_digest=digest, activation=made
            )
    except IntegrityError:
        # The same key sent twice at once: the other request recorded it first.
        earlier = IdempotencyKey.objects.select_related("activation").get(
            token=token, key=idempotency_key
        )
        return _same_key(earlier, digest)
    if created:
        response["Location"] = reverse("api:activation_detail", args=[made.pk])
    return Status(201 if created else 200, _activation(made))


def _same_key(earlier, digest):
    if earlier.body_digest != digest:
        raise HttpError(422, "This Idempotency-Key was used with another request body.")
    return Status(200, _activation(earlier.activation))


# Contracts


class ContractOut(Schema):
    id: int
    benefit: str
    starts_on: datetime.date
    ends_on: datetime.date
    incidents_total: int | None
    incidents_remaining: int | None
    access_id: str | None = Field(None, description="Only with the benefits:read scope too.")
    contract_id: str | None = Field(None, description="Only with the benefits:read scope too.")


@api.get("/contracts", response={200: list[ContractOut], **ERRORS}, tags=["support"])
def contracts(request):
    """The company's support contracts and their incidents remaining."""
    user = allowed(request, Scope.SUPPORT_READ)
    token = request.auth
    with_ids = token_may(user, token.scopes, Scope.BENEFITS_READ)
    rows = list(
        SupportContract.objects.filter(partner=user.partner)
        .select_related("activation__offer__competency")
        .order_by("-ends_on", "pk")
    )
    if with_ids:  # the first view of each pair of IDs is in the audit log, as on the page
        support.record_first_views(user, user.partner, [(c, c.activation.offer) for c in rows])
    return [
        {
            "id": c.pk,
            "benefit": c.benefit,
            "starts_on": c.starts_on,
            "ends_on": c.ends_on,
            "incidents_total": c.incidents_total,
            "incidents_remaining": c.incidents_remaining,
            "access_id": c.access_id if with_ids else None,
            "contract_id": c.contract_id if with_ids else None,
        }
        for c in rows
    ]


# Cases


class CaseOut(Schema):
    id: int
    number: str
    kind: str
    state: str
    resolution: str
    severity: str
    title: str
    description: str
    opened_at: datetime.datetime
    first_response_due: datetime.datetime
    first_responded_at: datetime.datetime | None
    contract: int | None = Field(description="The id of the contract it used, if any.")


class Cases(Page):
    items: list[CaseOut]


class CaseFilter(Cursor):
    state: Case.State | None = None


def _storable(text):
    if not storable(text):
        raise ValueError("has characters that can't be stored (NUL, a lone surrogate)")
    return text


def Text(limit):  # noqa: N802 (a type)
    """Text of 1 to `limit` characters, not only spaces, that the database can keep."""
    return Annotated[
        str, Field(min_length=1, max_length=limit, pattern=r"\S"), AfterValidator(_storable)
    ]


class IncidentIn(Schema):
    contract: int = Field(ge=1, le=2**62, description="The id of a contract on your account.")
    product_version_id: int = Field(ge=1, le=2**62)
    support_type: Case.SupportType
    severity: Case.Severity
    title: Text(200)
    description: Text(10_000)
    contact_name: Text(150)
    contact_email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")


class NoteIn(Schema):
    text: Text(10_000)


class NoteOut(Schema):
    id: int
    text: str
    created_at: datetime.datetime


def _case(case):
    return {
        "id": case.pk,
        "number": case.number,
        "kind": case.kind,
        "state": case.state,
        "resolution": case.resolution,
        "severity": case.severity,
        "title": case.title,
        "description": case.description,
        "opened_at": case.opened_at,
        "first_response_due": case.first_response_due,
        "first_responded_at": case.first_responded_at,
        "contract": case.contract_id,
    }


def _case_or_404(user, case_id):
    found = cases.visible_cases(user).filter(pk=case_id).first()
    if found is None:
        raise Http404
    return found


@api.get("/cases", response={200: Cases, **ERRORS}, tags=["support"])
def case_list(request, filters: Query[CaseFilter]):
    """The company's cases (incidents, advisory requests, service requests), newest first."""
    user = allowed(request, Scope.SUPPORT_READ)
    found = cases.visible_cases(user)
    if filters.state:
        found = found.filter(state=filters.state)
    rows, next_cursor = page_of(found, filters.cursor)
    return {"items": [_case(c) for c in rows], "next_cursor": next_cursor}


@api.get(
    "/cases/{case_id}", response={200: CaseOut, **ERRORS}, tags=["support"], url_name="case_detail"
)
def case_detail(request, case_id: int):
    """One case of the company."""
    return _case(_case_or_404(allowed(request, Scope.SUPPORT_READ), case_id))


@api.post("/cases", response={200: CaseOut, 201: CaseOut, 409: Problem, **ERRORS}, tags=["support"])
def case_open(
    request,
    response: HttpResponse,
    body: IncidentIn,
    idempotency_key: Annotated[str | None, OPTIONAL_IDEMPOTENCY_KEY] = None,
):
    """Open an incident on a contract on the token creator's account, counting it down by one
    (as Support for Business does). With an Idempotency-Key, the same key answers with the
    incident it opened (200) and uses nothing more."""
    user = allowed(request, Scope.SUPPORT_WRITE)
    key = _case_key(request.auth, idempotency_key)
    earlier = cases.filed_already(user, key)
    if earlier is not None:
        return _same_incident(earlier, body)
    version = (
        ProductVersion.objects.select_related("product").filter(pk=body.product_version_id).first()
    )
    if version is None:
        raise HttpError(404, "No such product version.")
    if not SupportContract.objects.filter(links__user=user, pk=body.contract).exists():
        raise Http404  # a contract is used by the accounts it was added to (Support for Business)
    details = body.model_dump(exclude={"contract", "product_version_id"})
    try:
        case, opened = cases.filed_once(
            user,
            key,
            lambda: support.open_incident(
                user, version, str(body.contract), submission_key=key, **details
            ),
            refusals=(support.PlanUnavailable,),
        )
    except support.PlanUnavailable as refusal:
        raise HttpError(409, str(refusal)) from None
    if not opened:
        return _same_incident(case, body)
    response["Location"] = reverse("api:case_detail", args=[case.pk])
    return Status(201, _case(case))


def _same_incident(case, body):
    """The incident an Idempotency-Key opened already (200), if `body` asked for the same;
    another body under the key is refused (422), as for activations."""
    opened_with = {
        "contract": case.contract_id,
        "product_version_id": case.product_version_id,
        "support_type": case.support_type,
        "severity": case.severity,
        "title": case.title,
        "description": case.description,
        "contact_name": case.contact_name,
        "contact_email": case.contact_email,
    }
    if body.model_dump(mode="json") != opened_with:
        raise HttpError(422, "This Idempotency-Key was used with another request body.")
    return Status(200, _case(case))


def _case_key(token, idempotency_key):
    """The case's one-time key (Case.submission_key) for a token's Idempotency-Key, or None."""
    if not idempotency_key:
        return None
    return uuid.uuid5(uuid.NAMESPACE_URL, f"api-token:{token.pk}:{idempotency_key}")


@api.post(
    "/cases/{case_id}/notes", response={201: NoteOut, 409: Problem, **ERRORS}, tags=["support"]
)
def case_note(request, case_id: int, body: NoteIn):
    """Add a note to a case; a case waiting on you goes back to in progress."""
    user = allowed(request, Scope.SUPPORT_WRITE)
    case = _case_or_404(user, case_id)
    try:
        entry = cases.add_note(case.pk, user, body.text.strip())
    except cases.CaseClosed:
        raise HttpError(409, "This case is closed; open a new one.") from None
    return Status(201, {"id": entry.pk, "text": entry.text, "created_at": entry.created_at})


# Advisory hours


class AdvisoryHoursOut(Schema):
    total: float | None = Field(description="Hours of the membership year; null: none.")
    remaining: float | None
    ends_on: datetime.date | None


@api.get("/advisory-hours", response={200: AdvisoryHoursOut, **ERRORS}, tags=["support"])
def advisory_hours(request):
    """The company's advisory hours (Technical Presales and Deployment services) this year."""
    user = allowed(request, Scope.SUPPORT_READ)
    if not may_file_advisory_requests(user):
        raise HttpError(
            403, "Your company has no advisory hours here (not in MPN, or still in PMC)."
        )
    allowance, offer, hours = cases.this_year(user.partner)
    if allowance is None:
        return {"total": None, "remaining": None, "ends_on": None}
    return {
        "total": float(hours.hours_total if hours else allowance.hours),
        "remaining": float(hours.hours_remaining if hours else allowance.hours),
        "ends_on": offer.ends_on,
    }


def urls():
    """The API's URL patterns, each request in its own transactions rather than one for the
    whole request (ATOMIC_REQUESTS): a token's rate-limit count and last use are written at
    once, so its requests don't wait on each other's locks."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback._non_atomic_requests = {DEFAULT_DB_ALIAS}
    return patterns, app_name, namespace
