"""Limits on how often an account or an address may do something, shared by every process.

Each limit counts in fixed windows (e.g. 15 minutes from :00, :15, ...) in the database table
`LimitCounter`. Counting is one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` statement, so
fifty parallel requests get fifty different counts and no more than the limit go through,
on PostgreSQL and on SQLite alike, with Redis up, down or absent.
"""

import datetime
import ipaddress
from dataclasses import dataclass

from allauth.account.adapter import get_adapter
from django.db import connection
from django.db.models import F
from django.utils import timezone

from .models import LimitCounter


@dataclass(frozen=True)
class Limit:
    """At most `count` per `window`; `name` keys the counters (e.g. "wrong-ids:account")."""

    name: str
    count: int
    window: datetime.timedelta


@dataclass(frozen=True)
class Usage:
    """A key's count in the current window, and the seconds until that window ends."""

    hits: int
    limit: Limit
    seconds_left: int

    @property
    def exceeded(self):
        return self.hits > self.limit.count

    @property
    def minutes_left(self):
        return max(1, round(self.seconds_left / 60))


def _window(limit, now):
    seconds = int(limit.window.total_seconds())
    epoch = int(now.timestamp())
    start = epoch - epoch % seconds
    return (
        datetime.datetime.fromtimestamp(start, datetime.UTC),
        start + seconds - epoch,
    )


def hit(limit, key, now=None):
    """Count one more for `key` under `limit`, atomically. Returns the Usage after counting:
    `exceeded` when this hit went over the limit (the caller refuses it)."""
    window_start, seconds_left = _window(limit, now or timezone.now())
    table = connection.ops.quote_name(LimitCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, window_start, hits) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (key, window_start) DO UPDATE SET hits = {table}.hits + 1 "
            "RETURNING hits",
            # As the ORM stores it, so that give_back() finds the same row.
            [f"{limit.name}:{key}", connection.ops.adapt_datetimefield_value(window_start)],
        )
        (hits,) = cursor.fetchone()
    return Usage(hits, limit, seconds_left)


def give_back(limit, key, now=None):
    """Take back one hit counted in this window: the attempt turned out not to count."""
    window_start, _ = _window(limit, now or timezone.now())
    LimitCounter.objects.filter(
        key=f"{limit.name}:{key}", window_start=window_start, hits__gt=0
    ).update(hits=F("hits") - 1)


def forget_before(moment):
    """Delete the counters of windows that started before `moment`. Returns how many."""
    deleted, _ = LimitCounter.objects.filter(window_start__lt=moment).delete()
    return deleted


def client_address(request):
    """The client's address as the limits count it: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT
    proxies the address the outermost of them saw (the account adapter's reading); an IPv6
    address by its /64, which one client may fill with addresses at will, as allauth's own
    limits do. A forwarded-for header the client sent itself is never trusted."""
    address = get_adapter().get_client_ip(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    return str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)
