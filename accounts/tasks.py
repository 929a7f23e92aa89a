import logging

from celery import shared_task

from . import access

log = logging.getLogger(__name__)


# No retry: the next sweep comes within minutes, and a grant not lapsed yet already counts
# for nothing (permissions.roles_of).
@shared_task
def lapse_grants():
    lapsed = access.lapse_grants()
    if lapsed:
        log.info("%s time-limited role(s) lapsed", lapsed)
