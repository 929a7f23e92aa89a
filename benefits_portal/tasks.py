import datetime

from celery import shared_task
from django.utils import timezone

from . import limits


@shared_task
def forget_old_limit_counters():
    """Delete the limits' counters of windows that started over a day ago: the longest limit
    is an hour, so they limit nothing any more. Returns how many were deleted."""
    return limits.forget_before(timezone.now() - datetime.timedelta(days=1))
