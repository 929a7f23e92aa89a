"""Celery tasks: thin nudges. The state and the rules live in the database and services.py."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

log = logging.getLogger(__name__)

# A database that is restarting or unreachable: try again, a little later each time.
RETRY_WHILE_DATABASE_IS_AWAY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(**RETRY_WHILE_DATABASE_IS_AWAY)
def advance_activation(request_id):
    if not services.advance_due(request_id):
        log.debug("Activation %s: nothing to do now", request_id)


# trail=False: a sweep queues an email for every person told of a request it completes, and
# Celery would otherwise keep each of those messages' results in memory until the sweep ends.
@shared_task(trail=False)
def sweep_due_activations():
    # No retry: the next sweep comes within seconds.
    moved = services.sweep()  # stamps SweeperRun, which the health endpoint watches
    if moved:
        log.info("Swept %s due activation(s)", moved)
