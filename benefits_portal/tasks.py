import datetime

from celery import shared_task
from django.utils import timezone

from . import limits


@shared_task
def forget_old_limit_counters():
    """Delete the limits' counters of windows that started over a day ago: the longest limit
    is an hour, so they limit nothing any more. Returns how many were deleted."""
    return limits.forget_before(timezone.now() - datetime.timedelta(days=1))


@shared_task
def forget_expired_cache_entries():
    """Delete the database cache's expired rows (the embedded default's cache is never culled,
    see settings.CACHES). Returns how many; 0 where the cache is Redis."""
    from django.conf import settings
    from django.db import connection

    config = settings.CACHES["default"]
    if not config["BACKEND"].endswith("DatabaseCache"):
        return 0
    table = connection.ops.quote_name(config["LOCATION"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE expires < %s",  # noqa: S608 - a setting, quoted
            [connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        return cursor.rowcount
