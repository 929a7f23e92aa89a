"""Celery tasks: thin nudges. The state and the rules live in the database and services.py."""

from celery import shared_task

from . import services


@shared_task(soft_time_limit=300)
def remind_hours_expiring():
    # No retry: the next run comes within the hour, and tells each company once.
    services.remind_hours_expiring()
