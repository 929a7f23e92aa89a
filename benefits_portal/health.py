"""The health endpoint: can the portal do its work, and is the sweeper still running?

Beat's sweeper is the only path that moves an activation whose message was lost, so a beat
that stopped must be seen. /alive says only that the web process answers; /health looks at
the database, the broker and the sweeper's last run, for Compose, a load balancer or a
monitor. It answers anyone and says nothing secret: no addresses, no error texts.
"""

import logging

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from activation.models import SweeperRun

from .celery import app

log = logging.getLogger(__name__)

# The sweeper is late after this many of its intervals without a run, and never before this
# many seconds (a beat or worker restart, a sweep working through a backlog).
LATE_AFTER_INTERVALS = 5
LATE_AFTER_AT_LEAST_SECONDS = 30
# How long the broker may take to accept a connection before it is reported unreachable.
BROKER_TIMEOUT_SECONDS = 1


def sweeper_late_after():
    """Seconds without a sweep after which the sweeper counts as stopped."""
    return max(
        LATE_AFTER_INTERVALS * settings.ACTIVATION_SWEEP_SECONDS, LATE_AFTER_AT_LEAST_SECONDS
    )


def _database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        log.warning("Health: the database is unreachable", exc_info=True)
        return False


def _broker():
    try:
        with app.connection_for_write(connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
            broker.ensure_connection(
                max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS
            )
        return True
    except Exception:  # whatever the transport raises, the answer is the same
        log.warning("Health: the broker is unreachable", exc_info=True)
        return False


def _sweeper(database_ok):
    late_after = sweeper_late_after()
    ran_at = None
    if database_ok:
        try:
            ran_at = SweeperRun.last()
        except DatabaseError:
            log.warning("Health: the sweeper's record can't be read", exc_info=True)
    seconds = None if ran_at is None else max(0, round((timezone.now() - ran_at).total_seconds()))
    return {
        "ok": seconds is not None and seconds <= late_after,
        "last_run": ran_at.isoformat() if ran_at else None,
        "seconds_since_last_run": seconds,
        "late_after_seconds": late_after,
    }


@require_GET
@never_cache
@transaction.non_atomic_requests  # a database that is away must get an answer, not a 500
def health(request):
    """GET /health: JSON with `database`, `broker` and `sweeper`, each with `ok`.

    Answers 200 while the database is reachable and the sweeper has run within
    sweeper_late_after() seconds, 503 otherwise. An unreachable broker is reported but is
    not a 503 by itself: requests are still recorded and the sweeper moves them once it is
    back (and if beat can't reach it either, the sweeper soon reports late).
    """
    database_ok = _database()
    sweeper = _sweeper(database_ok)
    healthy = database_ok and sweeper["ok"]
    body = {
        "status": "ok" if healthy else "unhealthy",
        "database": {"ok": database_ok},
        "broker": {"ok": _broker()},
        "sweeper": sweeper,
    }
    return JsonResponse(body, status=200 if healthy else 503)
