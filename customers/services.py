"""A CSP partner's customers and their Service management, and the service health feed support
staff import (seed 002)."""

import datetime
import unicodedata
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch, Q
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from entitlements.rules import Benefit
from support.models import SupportContract

from .models import NAME_MAX_LENGTH, TEXT_MAX_LENGTH, Customer, Service, ServiceIncident

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
    then the latest). Four queries. Raises Http404 for another partner's customer or none."""
    since = timezone.now() - datetime.timedelta(days=RESOLVED_SHOWN_DAYS)
    incidents = ServiceIncident.objects.filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=since)
    ).order_by(F("resolved_at").desc(nulls_first=True), "-started_at", "-pk")
    customer = (
        Customer.objects.filter(partner=partner, pk=customer_id)
        .prefetch_related(
            Prefetch("subscriptions__service__incidents", queryset=incidents, to_attr="recent")
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

    @property
    def technical(self):
        return bool(self.signature or self.premier or self.advanced)


def support_routes(partner, today=None):
    """The SupportRoutes of `partner` on `today`: one query, two without a contract."""
    today = today or timezone.localdate()
    signature = (
        SupportContract.objects.filter(
            partner=partner,
            benefit=Benefit.SIGNATURE_CLOUD_SUPPORT,
            starts_on__lte=today,
            ends_on__gte=today,
        )
        .exclude(incidents_remaining=0)
        .order_by("ends_on", "pk")
        .first()
    )
    to_activate = (
        signature is None
        and partner.is_mpn_associated
        and partner.offers.active(today).filter(includes_cloud_support=True).exists()
    )
    return SupportRoutes(
        signature, partner.buys_premier_support, partner.buys_advanced_support, to_activate
    )


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
