"""Simulated processing time: business days, compressed for demos. Pure functions."""

import datetime

REAL_DAY_SECONDS = 86400
STAGES_AFTER_SUBMISSION = 3  # In review, Provisioning, Active


def add_business_days(start, days, day_seconds=REAL_DAY_SECONDS):
    """The real instant `days` business days after `start` (weekends don't count).

    The calendar is simulated from `start`: each simulated day lasts `day_seconds` real seconds,
    so with 86400 this is the ordinary calendar, and with 20 three business days pass in about
    a minute. `days` may be a fraction: a stage takes a third of the processing time.
    """
    simulated = start
    remaining = days
    while remaining > 0:
        step = min(1.0, remaining)
        simulated += datetime.timedelta(days=step)
        while simulated.weekday() >= 5:  # Saturday, Sunday
            simulated += datetime.timedelta(days=1)
        remaining -= step
    return start + (simulated - start) * (day_seconds / REAL_DAY_SECONDS)


def retry_delay(attempt, cap_seconds=300):
    """Seconds before trying a step again after `attempt` transient failures: 2, 4, 8... capped."""
    return min(cap_seconds, 2**attempt)
