"""Celery tasks: thin nudges. The outbox rows hold the state (services.py)."""

import logging

from celery import shared_task

from . import reminders, services, webhooks

log = logging.getLogger(__name__)


@shared_task(soft_time_limit=300)
def send_pending_notices():
    # Nudged once a change that told someone commits, and run by the beat every 30 seconds;
    # no retry: the next sweep comes within a minute.
    sent = services.send_pending()
    if sent:
        log.info("Sent %s pending notice email(s)", sent)


@shared_task(soft_time_limit=900)
def send_reminders():
    told = reminders.send_reminders()
    if told:
        log.info("Told %s people of contracts, incidents or renewals", told)


@shared_task(soft_time_limit=webhooks.SWEEP_TIME_LIMIT)
def send_due_webhooks():
    # No retry: the beat's next sweep comes within seconds.
    delivered = webhooks.send_due()
    if delivered:
        log.info("Delivered %s webhook(s)", delivered)


@shared_task(soft_time_limit=900)
def forget_old_webhooks():
    forgotten = webhooks.forget_old()
    if forgotten:
        log.info("Forgot %s webhook endpoint(s) and deliveries", forgotten)
