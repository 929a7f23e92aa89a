"""Simulated processing time, as pure functions."""

import datetime

import pytest

from activation.schedule import add_business_days, retry_delay

MONDAY = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC)
FRIDAY = MONDAY + datetime.timedelta(days=4)
SATURDAY = MONDAY + datetime.timedelta(days=5)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (MONDAY, 3, MONDAY + datetime.timedelta(days=3)),  # Thursday
        (FRIDAY, 1, FRIDAY + datetime.timedelta(days=3)),  # Monday: the weekend doesn't count
        (FRIDAY, 3, FRIDAY + datetime.timedelta(days=5)),  # Wednesday
        (SATURDAY, 1, SATURDAY + datetime.timedelta(days=2)),  # Monday
        (MONDAY, 5, MONDAY + datetime.timedelta(days=7)),  # a week
        (MONDAY, 1 / 3, MONDAY + datetime.timedelta(hours=8)),
        (MONDAY, 0, MONDAY),
    ],
)
def test_business_days_skip_weekends(start, days, expected):
    assert add_business_days(start, days) == expected


def test_a_simulated_day_can_be_seconds_long():
    assert add_business_days(MONDAY, 3, day_seconds=20) == MONDAY + datetime.timedelta(seconds=60)
    # A weekend in the simulated calendar stretches a demo too.
    assert add_business_days(FRIDAY, 1, day_seconds=20) == FRIDAY + datetime.timedelta(seconds=60)


def test_retries_wait_longer_each_time_up_to_a_cap():
    delays = [retry_delay(attempt) for attempt in range(1, 12)]
    assert delays[:4] == [2, 4, 8, 16]
    assert delays == sorted(delays)
    assert max(delays) == 300
