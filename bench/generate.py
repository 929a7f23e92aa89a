"""Grow the benchmark dataset to a number of partners, with bulk inserts through the models.

Each generated partner has 5 users (a Global admin, an MPN partner admin, an Admin agent, a
User admin and a member without role), 3 offers (Action Pack, a Gold and a Silver
competency; one in ten Silver ones ended) and 2 activation requests, taking the six states in
turn, active ones with their support contract. So 100,000 partners make 500,000 users,
300,000 offers and 200,000 activation requests.

Running it again with a larger number adds the partners missing; the signed-in company the
benchmark loads (Contoso, made first) stays as it is, so its page is measured as the rest of
the dataset grows around it.
"""

import datetime
import itertools
import time

from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import make_password
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.models import User, sync_email_address
from activation.models import ActivationEvent, ActivationRequest, Failure
from cases.models import Case
from entitlements.models import Competency, MembershipOffer, Partner, Role, RoleAssignment
from entitlements.rules import Benefit, Level, OfferKind
from support.models import ContractLink, ProductVersion, SupportContract

CHUNK = 5000  # partners per transaction
PREFIX = "Bench partner "
STATES = list(ActivationRequest.State.values)  # submitted … rejected: every state in turn
ROLES = [Role.GLOBAL_ADMIN, Role.MPN_PARTNER_ADMIN, Role.ADMIN_AGENT, Role.USER_ADMIN, None]
BENCH_ADMIN = "admin@contoso.bench"
PASSWORD = "Partner!2026"  # noqa: S105 - a benchmark account on a throwaway database
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - the published demo secret


def grow(partners):
    """Add generated partners until there are `partners` of them; returns how many it added."""
    have = Partner.objects.filter(name__startswith=PREFIX).count()
    context = _Context()
    for start in range(have, partners, CHUNK):
        with transaction.atomic():
            _add_partners(context, range(start, min(start + CHUNK, partners)))
    return max(0, partners - have)


def settle():
    """Vacuum, analyze and checkpoint now, as autovacuum and checkpoints would have done long
    ago in a live database, and wait until autovacuum itself is idle: writing out the new
    rows must not count against the page."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        for _ in range(600):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
            )
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(1)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as error:  # a role without pg_checkpoint: measured all the same
        print(f"No checkpoint after growing the data ({error}); latencies may suffer.")


class _Context:
    def __init__(self):
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.competencies = list(Competency.objects.order_by("name"))
        # One hash for every generated account: hashing 500,000 passwords would take hours.
        self.password = make_password(PASSWORD)


def _add_partners(context, numbers):
    partners = Partner.objects.bulk_create(
        Partner(name=f"{PREFIX}{n:06d}", mpn_id=f"{1_000_000 + n}", is_csp=n % 5 == 0)
        for n in numbers
    )
    users = User.objects.bulk_create(
        User(
            email=f"user{k}@partner{n}.bench",
            first_name=f"Person {k}",
            last_name=f"of {n}",
            partner=partner,
            password=context.password,
        )
        for n, partner in zip(numbers, partners, strict=True)
        for k in range(len(ROLES))
    )
    RoleAssignment.objects.bulk_create(
        RoleAssignment(user=user, role=role)
        for user, role in zip(users, itertools.cycle(ROLES), strict=False)
        if role is not None
    )
    offers = MembershipOffer.objects.bulk_create(
        offer
        for n, partner in zip(numbers, partners, strict=True)
        for offer in _offers(context, n, partner)
    )
    # Action Pack and the Gold competency each have one request; the Silver one has none.
    requests = ActivationRequest.objects.bulk_create(
        _request(context, offer, STATES[(2 * n + i) % len(STATES)], users[len(ROLES) * j])
        for j, n in enumerate(numbers)
        for i, offer in enumerate(offers[3 * j : 3 * j + 2])
    )
    SupportContract.objects.bulk_create(
        _contract(context, request)
        for request in requests
        if request.state == ActivationRequest.State.ACTIVE
    )


def _offers(context, n, partner):
    started = context.today - datetime.timedelta(days=100 + n % 200)
    silver_started = started - datetime.timedelta(days=400) if n % 10 == 0 else started
    gold, silver = (
        context.competencies[n % len(context.competencies)],
        context.competencies[(n + 1) % len(context.competencies)],
    )
    return [
        MembershipOffer(
            partner=partner,
            kind=OfferKind.ACTION_PACK,
            starts_on=started,
            ends_on=started + datetime.timedelta(days=365),
        ),
        MembershipOffer(
            partner=partner,
            kind=OfferKind.COMPETENCY,
            competency=gold,
            level=Level.GOLD,
            starts_on=started,
            ends_on=started + datetime.timedelta(days=365),
        ),
        MembershipOffer(
            partner=partner,
            kind=OfferKind.COMPETENCY,
            competency=silver,
            level=Level.SILVER,
            starts_on=silver_started,
            ends_on=silver_started + datetime.timedelta(days=365),
        ),
    ]


def _request(context, offer, state, requested_by):
    now = context.now
    pending = state in ("submitted", "in_review", "provisioning")
    reached = STATES.index(state) if state in STATES[:4] else 1
    stamps = [now - datetime.timedelta(days=4 - i) for i in range(4)]
    return ActivationRequest(
        offer=offer,
        benefit=Benefit.PRODUCT_SUPPORT,
        requested_by=requested_by,
        state=state,
        requested_at=stamps[0],
        in_review_at=stamps[1] if reached >= 1 else None,
        provisioning_at=stamps[2] if reached >= 2 else None,
        completed_at=stamps[3] if state == "active" else None,
        expected_at=now + datetime.timedelta(days=1),
        # Pending ones come due over the next days: none is due while the page is measured.
        due_at=now + datetime.timedelta(days=1) if pending else None,
        failure_code=Failure.TOO_MANY_ATTEMPTS if state == "failed" else "",
        failure_reason="Not eligible for this benefit." if state == "rejected" else "",
        attempts=5 if state == "failed" else 0,
    )


def _contract(context, request):
    return SupportContract(
        activation=request,
        partner_id=request.offer.partner_id,
        benefit=request.benefit,
        access_id=str(100_000_000 + request.pk),
        contract_id=str(500_000_000 + request.pk),
        starts_on=context.today - datetime.timedelta(days=1),
        ends_on=context.today + datetime.timedelta(days=364),
        incidents_total=10,
        incidents_remaining=10,
    )


def make_bench_company():
    """Contoso, the signed-in company: a typical page, with each kind of row on it."""
    if User.objects.filter(email=BENCH_ADMIN).exists():
        return User.objects.get(email=BENCH_ADMIN)
    context = _Context()
    now, today = context.now, context.today
    with transaction.atomic():
        contoso = Partner.objects.create(name="Contoso Ltd", mpn_id="4412345")
        people = [
            User.objects.create(
                email=email,
                first_name=first,
                last_name="Bench",
                partner=contoso,
                password=context.password,
            )
            for email, first in [
                (BENCH_ADMIN, "Megan"),
                ("mpnadmin@contoso.bench", "Adele"),
                ("agent@contoso.bench", "Lee"),
                ("useradmin@contoso.bench", "Nestor"),
                ("member@contoso.bench", "Pradeep"),
            ]
        ]
        RoleAssignment.objects.bulk_create(
            RoleAssignment(user=user, role=role)
            for user, role in zip(people, ROLES, strict=True)
            if role is not None
        )
        TOTP.activate(people[0], TOTP_SECRET)
        sync_email_address(people[0])  # verified, as every account's address is
        by_name = {c.name: c for c in context.competencies}
        started = today - datetime.timedelta(days=120)
        ends = started + datetime.timedelta(days=365)
        gold = MembershipOffer.objects.create(
            partner=contoso,
            kind=OfferKind.COMPETENCY,
            competency=by_name["Cloud Platform"],
            level=Level.GOLD,
            starts_on=started,
            ends_on=ends,
        )
        silver = MembershipOffer.objects.create(
            partner=contoso,
            kind=OfferKind.COMPETENCY,
            competency=by_name["Data Analytics"],
            level=Level.SILVER,
            starts_on=started,
            ends_on=ends,
        )
        MembershipOffer.objects.create(
            partner=contoso, kind=OfferKind.ACTION_PACK, starts_on=started, ends_on=ends
        )
        active = _request(context, gold, "active", people[0])
        active.save()
        ActivationEvent.objects.create(
            request=active, at=now, from_state="provisioning", to_state="active"
        )
        contract = _contract(context, active)
        contract.partner = contoso
        contract.save()
        ContractLink.objects.create(user=people[2], contract=contract)
        version = ProductVersion.objects.select_related("product").first()
        Case.objects.bulk_create(
            Case(
                partner=contoso,
                opened_by=people[2],
                contract=contract,
                product=version.product,
                product_version=version,
                first_response_due=timezone.now(),
                title=f"Cluster upgrade question {i}",
                description="Details.",
                severity=Case.Severity.B,
                contact_name="Lee Bench",
                contact_email="agent@contoso.bench",
            )
            for i in range(4)
        )
        pending = ActivationRequest(
            offer=gold,
            benefit=Benefit.SIGNATURE_CLOUD_SUPPORT,
            requested_by=people[1],
            state="in_review",
            requested_at=now,
            in_review_at=now,
            expected_at=now + datetime.timedelta(days=2),
            due_at=now + datetime.timedelta(days=1),
        )
        pending.save()
        _request(context, silver, "failed", people[1]).save()
    return people[0]
