"""Case rules: first-response targets and which resolutions give back what a case used.

Pure functions, tested without a database.
- Incidents and CSP service requests: severity A, B, C are answered first within 2, 4 and 8
  hours (DOMAIN.md, CSP service management, later docs).
- Advisory requests: a consultant replies within two business days (DOMAIN.md, advisory hours,
  later docs).
- A case closed as a duplicate or as a product defect gives its incident back (DOMAIN.md,
  incidents, later docs), and its advisory hours (issue: advisory hours).
"""

import datetime

from activation.schedule import add_business_days

FIRST_RESPONSE_HOURS = {"A": 2, "B": 4, "C": 8}
ADVISORY_FIRST_RESPONSE_BUSINESS_DAYS = 2
GIVES_BACK = frozenset({"duplicate", "product_defect"})


def first_response_due(kind, severity, opened_at):
    """When the first answer is due: takes the case's kind ("incident", "service_request" or
    "advisory"), its severity ("A", "B", "C"; "" for advisory) and when it was opened; returns
    a datetime."""
    if kind == "advisory":
        return add_business_days(opened_at, ADVISORY_FIRST_RESPONSE_BUSINESS_DAYS)
    return opened_at + datetime.timedelta(hours=FIRST_RESPONSE_HOURS[severity])


def target_met(due, first_responded_at, now, finished=False):
    """True if answered in time, False if answered late or past due unanswered, None while
    the target can still be met, or for a case `finished` (resolved or closed) before anyone
    answered it: nobody waits on it any more."""
    if first_responded_at is not None:
        return first_responded_at <= due
    if finished:
        return None
    return False if now > due else None


def gives_back(resolution):
    """Whether closing or resolving with this resolution returns what the case used."""
    return resolution in GIVES_BACK
