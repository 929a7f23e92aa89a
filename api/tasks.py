"""The API's housekeeping."""

import datetime

from celery import shared_task
from django.utils import timezone

from .models import IdempotencyKey

# How long an Idempotency-Key answers with its activation: a client retries within minutes;
# a month covers a job re-run after a long outage.
KEEP_KEYS = datetime.timedelta(days=30)


@shared_task(soft_time_limit=300)
def forget_old_idempotency_keys():
    """Delete the Idempotency-Keys older than KEEP_KEYS; returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - KEEP_KEYS).delete()
    return deleted
