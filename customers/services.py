"""A CSP partner's customers and their Service management, and the service health feed support
staff import (seed 002)."""

import datetime
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch, Q
from django.http import Http404
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from activation import clock
from audit.models import AuditEntry
from audit.services import record
from benefits_portal.templatetags.sentences import sentence_gap
from cases.models import Case
from cases.rules import first_response_due
from cases.services import filed_once
from entitlements.rules import Benefit
from support.models import SupportContract

from .models import (
    NAME_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    Customer,
    Service,
    ServiceIncident,
    Subscription,
)

# Resolved incidents stay on the page this long, as Microsoft's service health shows them.
RESOLVED_SHOWN_DAYS = 7


def customers_of(partner, search=""):
    """`partner`'s customers whose name or domain contains `search` (any case): a QuerySet
    by name."""
    customers = Customer.objects.filter(partner=partner)
    search = unicodedata.normalize("NFKC", search).strip()  # as typed through an IME
    if search:
        customers = customers.filter(Q(name__icontains=search) | Q(domain__icontains=search))
    return customers.order_by("name", "pk")


def customer_or_404(partner, customer_id):
    """`partner`'s customer `customer_id`, with its subscriptions, their services and those
    services' incidents still open or resolved within RESOLVED_SHOWN_DAYS (open ones first,
    then the latest). Three queries. Raises Http404 for another partner's customer or none."""
    since = timezone.now() - datetime.timedelta(days=RESOLVED_SHOWN_DAYS)
    incidents = ServiceIncident.objects.filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=since)
    ).order_by(F("resolved_at").desc(nulls_first=True), "-started_at", "-pk")
    customer = (
        Customer.objects.filter(partner=partner, pk=customer_id)
        .prefetch_related(
            Prefetch("subscriptions", queryset=Subscription.objects.select_related("service")),
            Prefetch("subscriptions__service__incidents", queryset=incidents, to_attr="recent"),
        )
        .first()
    )
    if customer is None:
        raise Http404("No such customer of this partner.")
    return customer


@dataclass(frozen=True)
class SupportRoutes:
    """Where a CSP partner takes its customers' issues (seed 002): commercial support
    (billing, subscription management) for every CSP partner; technical issues through its
    Signature Cloud Support contract (`signature`, with incidents left), Premier or Advanced
    Support for Partners (paid, recorded by support staff)."""

    signature: SupportContract | None
    premier: bool
    advanced: bool
    # A competency of the company includes Signature Cloud Support, not activated yet.
    signature_to_activate: bool = False
    # The company's running Signature Cloud Support contract with no incidents left.
    signature_used_up: SupportContract | None = None

    @property
    def technical(self):
        return bool(self.technical_routes)

    @property
    def technical_routes(self):
        """The routes for technical issues the company has, as Case.Route values, the one
        already paid for first: Signature Cloud Support, Premier, Advanced."""
        has = {
            Case.Route.SIGNATURE_CLOUD_SUPPORT: self.signature is not None,
            Case.Route.PREMIER: self.premier,
            Case.Route.ADVANCED: self.advanced,
        }
        return [route for route in Case.TECHNICAL_ROUTES if has[route]]


def support_routes(partner, today=None):
    """The SupportRoutes of `partner` on `today`: one query, two without a contract."""
    today = today or timezone.localdate()
    running = list(
        SupportContract.objects.filter(
            partner=partner,
            benefit=Benefit.SIGNATURE_CLOUD_SUPPORT,
            starts_on__lte=today,
            ends_on__gte=today,
        ).order_by("ends_on", "pk")
    )
    # The contract that ends first is used first; one with none left is said so.
    signature = next((c for c in running if c.incidents_remaining != 0), None)
    used_up = running[0] if running and signature is None else None
    to_activate = (
        not running
        and partner.is_mpn_associated
        and partner.offers.active(today).filter(includes_cloud_support=True).exists()
    )
    return SupportRoutes(
        signature,
        partner.buys_premier_support,
        partner.buys_advanced_support,
        to_activate,
        used_up,
    )


def no_technical_route(partner, routes):
    """The sentence that tells a company it has no route for technical issues (seed 002),
    and why when its Signature Cloud Support contract is used up (`routes`: SupportRoutes)."""
    if routes.signature_used_up is not None:
        return _(
            "%(partner)s has no route for technical issues left: its Signature Cloud Support "
            "contract has no incidents remaining, and Premier Support for Partners and Advanced "
            "Support for Partners are paid."
        ) % {"partner": partner.name}
    return _(
        "%(partner)s has no route for technical issues: Signature Cloud Support comes with a "
        "Gold or Silver competency, and Premier Support for Partners and Advanced Support for "
        "Partners are paid."
    ) % {"partner": partner.name}


class NoRoute(Exception):
    """A service request can't go through the route it asks for; the message says why."""


def file_request(user, customer, submission_key, route=None, **details):
    """File a service request on `customer`'s behalf (seed 002: "Report problems on behalf of
    a customer"); it has its case number at once.

    Takes the account filing it (the caller checked it may), the customer (the caller's
    look-up, scoped to the company), the form's one-time key (a UUID), the technical route
    chosen (a Case.Route; None: the company's first, SupportRoutes.technical_routes) and the
    request's fields: service, category, severity, title, description, contact_name,
    contact_email, contact_phone. A billing or subscription management issue goes to commercial
    support; a technical one through the route. Signature Cloud Support counts one incident
    down from the company's running contract in the same transaction, with a conditional
    UPDATE: two requests on the last incident can't both be filed. The first response is due 2,
    4 or 8 hours after it is filed (severity A, B, C: cases.rules). Audited.

    Returns (case, filed): filed is False when a request was filed with this key already (a
    double click, a form sent again), and case is that request. Raises NoRoute, with the
    reason, when the company has no such technical route, or no incident left on it.
    """
    partner = customer.partner

    def file():
        contract = None
        if details["category"] in Case.COMMERCIAL_CATEGORIES:
            chosen = Case.Route.COMMERCIAL
        else:
            chosen, contract = _technical_route(partner, route)
        opened_at = clock.now()
        case = Case.objects.create(
            kind=Case.Kind.SERVICE_REQUEST,
            partner=partner,
            opened_by=user,
            customer=customer,
            route=chosen,
            contract=contract,
            submission_key=submission_key,
            opened_at=opened_at,
            first_response_due=first_response_due(
                Case.Kind.SERVICE_REQUEST, details["severity"], opened_at
            ),
            **details,
        )
        _record_filed(case, user)
        return case

    return filed_once(user, submission_key, file, refusals=(NoRoute,))


def _technical_route(partner, route):
    """(route, contract) for a technical issue: the route asked for, or the company's first,
    and the Signature Cloud Support contract counted down by one (None for the others)."""
    routes = support_routes(partner, clock.today())
    offered = routes.technical_routes
    if not offered:
        raise NoRoute(no_technical_route(partner, routes))
    route = route or offered[0]
    if route not in offered:
        if route == Case.Route.SIGNATURE_CLOUD_SUPPORT:
            raise NoRoute(_signature_used_up(partner, others=True))
        raise NoRoute(
            _("%(partner)s no longer has %(route)s. Choose another route.")
            % {"partner": partner.name, "route": Case.Route(route).label}
        )
    contract = routes.signature if route == Case.Route.SIGNATURE_CLOUD_SUPPORT else None
    if contract is not None and contract.incidents_remaining is not None:
        counted = SupportContract.objects.filter(pk=contract.pk, incidents_remaining__gt=0).update(
            incidents_remaining=F("incidents_remaining") - 1
        )
        if counted != 1:  # another request took the last incident meanwhile
            raise NoRoute(_signature_used_up(partner, others=len(offered) > 1))
    return route, contract


def _signature_used_up(partner, others):
    """Why Signature Cloud Support took no request; `others`: whether another route is left."""
    used_up = _(
        "Signature Cloud Support can't take this request: %(partner)s's contract has no "
        "incidents remaining or is not running today."
    ) % {"partner": partner.name}
    if others:
        return used_up + sentence_gap() + _("Choose another route.")
    return used_up


def _record_filed(case, user):
    facts = {
        "service_request": case.number,
        "customer": case.customer.name,
        "service": case.service.name,
        "route": case.route,
    }
    if case.contract is not None:
        facts["contract_id"] = case.contract.contract_id
    with translation.override(settings.LANGUAGE_CODE):
        subject = (
            f"{case.number} for {case.customer.name} ({case.service.name}): "
            f"{case.get_route_display()}"
        )
    record(case.partner, AuditEntry.Action.SERVICE_REQUEST_FILED, subject, user, facts)


def requests_of(partner, customer=None):
    """The company's service requests, newest first, with their customer, service and opener
    selected (one query a page): a QuerySet, one customer's when `customer` is given."""
    requests = Case.objects.filter(partner=partner, kind=Case.Kind.SERVICE_REQUEST)
    if customer is not None:
        requests = requests.filter(customer=customer)
    return requests.select_related("customer", "service", "opened_by").order_by("-opened_at", "-pk")


class FeedRefused(Exception):
    """The health feed can't be imported; `problems` says why, one line each (English, for
    support staff)."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("; ".join(problems))


def import_health(feed, now=None):
    """Apply a service health feed: `feed` is {"services": [{"name": str, "health":
    "healthy" | "degraded" | "interruption", "incidents": [{"reference", "title", "impact",
    "started_at", "updated_at", "resolved_at" (ISO 8601 with a time zone; resolved_at may be
    null)}]}]}. Services are matched by name (they must exist: support staff add them with
    their portal); incidents by reference, added or updated.

    Returns (services updated, incidents added or updated). All or nothing: raises FeedRefused
    listing every problem, and nothing changes."""
    now = now or timezone.now()
    problems = []
    if not isinstance(feed, dict) or not isinstance(feed.get("services"), list):
        raise FeedRefused(['The feed is an object with a list "services".'])
    known = {service.name: service for service in Service.objects.all()}
    health_values = set(Service.Health.values)
    updates, incidents = [], []
    for n, entry in enumerate(feed["services"], 1):
        where = f"services[{n}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: not an object.")
            continue
        name, health = entry.get("name"), entry.get("health")
        service = known.get(name) if isinstance(name, str) else None
        if service is None:
            problems.append(f"{where}: no service named {name!r}; add it first.")
            continue
        if not isinstance(health, str) or health not in health_values:
            problems.append(f"{where}: health is one of {', '.join(sorted(health_values))}.")
            continue
        if any(earlier is service for earlier, _health in updates):
            problems.append(f"{where}: {name!r} is in the feed more than once.")
            continue
        listed = entry.get("incidents") or []
        if not isinstance(listed, list):
            problems.append(f"{where}: incidents is a list.")
            continue
        updates.append((service, health))
        for m, incident in enumerate(listed, 1):
            fields = _incident(incident, f"{where}.incidents[{m}]", problems, now)
            if fields:
                incidents.append((service, fields))
    references = [fields["reference"] for _service, fields in incidents]
    duplicated = {r for r in references if references.count(r) > 1}
    problems += [f"Incident {r!r} is in the feed more than once." for r in sorted(duplicated)]
    if problems:
        raise FeedRefused(problems)
    try:
        with transaction.atomic():
            _apply(updates, incidents, now)
    except IntegrityError:
        # Another import added one of these incidents at this very moment.
        raise FeedRefused(
            ["Another import ran at the same time; import this feed again."]
        ) from None
    return len(updates), len(incidents)


def _apply(updates, incidents, now):
    for service, health in updates:
        service.health, service.health_updated_at = health, now
        service.save(update_fields=["health", "health_updated_at"])
    for service, fields in incidents:
        reference = fields.pop("reference")
        ServiceIncident.objects.update_or_create(
            reference=reference, defaults={"service": service, **fields}
        )


# A feed's times are of real incidents: since 2000, and not later than now give or take the
# feed's clock (a time far off would not even read back from the database).
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
CLOCK_SKEW = datetime.timedelta(minutes=10)


def storable(text):
    """Whether PostgreSQL can keep `text`: no NUL character, no lone surrogate."""
    return "\x00" not in text and not any("\ud800" <= c <= "\udfff" for c in text)


def _incident(data, where, problems, now):
    """The fields of one incident of the feed, or None with its problems added."""
    if not isinstance(data, dict):
        problems.append(f"{where}: not an object.")
        return None
    found = []
    fields = {}
    for name, limit in (("reference", 40), ("title", NAME_MAX_LENGTH), ("impact", TEXT_MAX_LENGTH)):
        value = data.get(name)
        value = value.strip() if isinstance(value, str) else None
        if not value or len(value) > limit:
            found.append(f"{where}: {name} is text of 1 to {limit} characters.")
        elif not storable(value):
            found.append(
                f"{where}: {name} has characters that can't be stored (NUL, a lone surrogate)."
            )
        else:
            fields[name] = value
    for name in ("started_at", "updated_at", "resolved_at"):
        value = data.get(name)
        if value is None and name == "resolved_at":
            fields[name] = None
            continue
        try:
            moment = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:  # well formed, but no such day or time
            moment = None
        if moment is None or timezone.is_naive(moment):
            found.append(f"{where}: {name} is an ISO 8601 time with its time zone.")
        elif not EARLIEST <= moment <= now + CLOCK_SKEW:
            found.append(f"{where}: {name} is between 2000 and now.")
        else:
            fields[name] = moment
    if not found:
        start = fields["started_at"]
        if fields["updated_at"] < start or (fields["resolved_at"] or start) < start:
            found.append(f"{where}: it is updated and resolved after it starts.")
    problems += found
    return None if found else fields
