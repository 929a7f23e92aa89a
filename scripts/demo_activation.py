"""Activations for checking a running portal, through the portal's own services.

    python scripts/demo_activation.py request TAG   # prints the new request's id
    python scripts/demo_activation.py tally         # prints the counts, as JSON

Each request is for a new company of its own ("Probe TAG", Gold Cloud Platform, a Global
admin), so any number can be open at once. Used by `make soak` and the test of `make run`; run
it with the same environment as the portal it checks (VAR_DIR, DATABASE_URL).
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "Probe "


def setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benefits_portal.settings")
    import django

    django.setup()


def request_one(tag):
    """Request Microsoft Product Support for a new company named after `tag`; returns its id."""
    import datetime

    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from activation.services import request_activation
    from entitlements.models import Competency, MembershipOffer, Partner, Role
    from entitlements.rules import Benefit, Level, OfferKind
    from entitlements.services import set_roles

    today = timezone.localdate()
    with transaction.atomic():
        # MPN IDs from 9000000 up: one request at a time, so counting is enough.
        number = 9_000_000 + Partner.objects.filter(name__startswith=PREFIX).count()
        partner = Partner.objects.create(name=f"{PREFIX}{tag}", mpn_id=str(number))
        offer = MembershipOffer.objects.create(
            partner=partner,
            kind=OfferKind.COMPETENCY,
            competency=Competency.objects.get(name="Cloud Platform"),
            level=Level.GOLD,
            starts_on=today - datetime.timedelta(days=30),
            ends_on=today + datetime.timedelta(days=300),
        )
        admin = User.objects.create_user(email=f"admin-{tag}@probe.example", partner=partner)
        set_roles(admin, [Role.GLOBAL_ADMIN])
    request, _ = request_activation(offer, Benefit.PRODUCT_SUPPORT, admin)
    return request.pk


def tally():
    """Counts of the probe activations by what became of them, and any duplicated step."""
    from django.db.models import Count

    from activation.models import ActivationEvent, ActivationRequest
    from activation.services import ids_ready_about
    from notices.models import Notice

    requests = ActivationRequest.objects.filter(offer__partner__name__startswith=PREFIX)
    states = dict(requests.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    repeated_steps = (
        ActivationEvent.objects.filter(request__in=requests)
        .values("request", "to_state")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    per_offer = requests.values("offer").annotate(n=Count("id")).filter(n__gt=1).count()
    # Notified: completed, and everyone told of it in the outbox has been emailed.
    active = requests.filter(state="active").values_list("pk", flat=True)
    notices = Notice.objects.filter(about__in=[ids_ready_about(pk) for pk in active])
    told = set(notices.values_list("about", flat=True))
    told -= set(notices.email_pending().values_list("about", flat=True))
    return {
        "requested": requests.count(),
        "completed": states.get("active", 0),
        "notified": len(told),
        "failed": states.get("failed", 0) + states.get("rejected", 0),
        "pending": sum(states.get(s, 0) for s in ("submitted", "in_review", "provisioning")),
        "duplicated": repeated_steps + per_offer,
    }


if __name__ == "__main__":
    setup()
    if sys.argv[1:2] == ["request"] and len(sys.argv) == 3:
        print(request_one(sys.argv[2]))
    elif sys.argv[1:] == ["tally"]:
        print(json.dumps(tally()))
    else:
        sys.exit(__doc__)
