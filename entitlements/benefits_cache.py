"""The Technical benefits of a company, rendered once and reused until any of it changes.

Rendering them is most of the page's cost: three queries through the ORM, then hundreds of
template nodes. Nothing needs to tell this cache that something changed. Its key is a
fingerprint of every row the benefits show, taken in one SQL query: each row's id and `xmin`,
the transaction that last wrote it. Any insert, update or delete, through the models, a
queryset's `update()`, the admin or plain SQL, gives another fingerprint, so a stale entry is
never found again. Writers pay nothing and lock nothing.

Fingerprints need PostgreSQL's `xmin`. Elsewhere, or with the cache down, the benefits are
rendered for every visit, as they would be without this module.
"""

import functools
import hashlib
import logging
import secrets
import weakref

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.middleware.csrf import get_token
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from redis import RedisError

from activation import clock

from .models import Partner

log = logging.getLogger(__name__)

# The fingerprint of every row the rendered benefits show, with the people they name and the
# cluster's identity: the function benefits_fingerprint() (migration 0010 says what it reads).
# A function, not a prepared statement, keeps its plan in each server session: a pooler in
# transaction mode (PgBouncer 1.18) shares server sessions between connections, where a
# statement prepared on one is unknown.
FINGERPRINT = "SELECT * FROM benefits_fingerprint(%(partner)s, %(recent)s)"

# The code, templates and catalogs that render the benefits: a release never reuses what
# another rendered, even while old and new processes run side by side.
RELEASE_FOLDERS = [
    "accounts",
    "activation",
    "cases",
    "customers",
    "entitlements",
    "support",
    "templates",
    "locale",
]


def render(request, partner, can_activate, recent_incidents, render_fresh):
    """The company's benefits as HTML. `render_fresh(partner, csrf_token)` renders them and
    returns the HTML with how many seconds it may be reused (0: not at all)."""
    key = _key(partner, can_activate, recent_incidents, request.user.pk)
    cached = _get(key) if key else None
    if cached is None:
        # The CSRF token belongs to one session: a stand-in nobody can guess is rendered in
        # its place, and each request puts its own token back.
        stand_in = secrets.token_hex(16)
        if key:
            # Read after the fingerprint, as everything rendered must be.
            partner = Partner.objects.get(pk=partner.pk)
        html, seconds = render_fresh(partner, stand_in)
        if key and seconds > 0:
            _set(key, (stand_in, html), seconds)
    else:
        stand_in, html = cached
    # Safe: the HTML our templates rendered, with a token of letters and digits put in.
    return mark_safe(html.replace(stand_in, get_token(request)))  # noqa: S308


def seconds_to_keep(activations):
    """How long rendered benefits stay right as they are. A pending request's row asks the page
    to look again in min(30 s, time to its next stage) (`poll_seconds`); that figure must not
    go stale, so an entry lives only while its requests' next stages are over 30 s away."""
    seconds = settings.TECHNICAL_BENEFITS_CACHE_SECONDS
    now = clock.now()
    for activation in activations:
        if activation is not None and activation.is_pending and activation.due_at:
            seconds = min(seconds, int((activation.due_at - now).total_seconds()) - 30)
    return max(seconds, 0)


def _key(partner, can_activate, recent_incidents, viewer):
    if connection.vendor != "postgresql" or not settings.TECHNICAL_BENEFITS_CACHE_SECONDS:
        return None
    fingerprint = _fingerprint(partner, recent_incidents)
    if fingerprint is None:
        return None
    untouched, rows, named, cluster = fingerprint
    if not untouched or cluster is None:
        return None
    # The same rows read differently: in another language, time zone or day, by someone
    # who can't activate, or by someone the page names.
    parts = [
        cluster,
        rows,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        clock.today().isoformat(),
        can_activate,
        viewer if viewer in named else None,
        _release(),
    ]
    return "technical-benefits:" + hashlib.sha256(repr(parts).encode()).hexdigest()


# {database connection: whether the fingerprint can be read on it}, found out at its first
# visit: where it can't (a role denied pg_control_system(), say), the page is rendered.
_readable = weakref.WeakKeyDictionary()


def _fingerprint(partner, recent_incidents):
    """The FINGERPRINT row for the company, or None where it can't be read."""
    params = {"partner": partner.pk, "recent": recent_incidents}
    connection.ensure_connection()
    raw = connection.connection
    if raw not in _readable:
        try:
            # A savepoint: a query that fails must not take the page's transaction with it.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(FINGERPRINT, params)
                _readable[raw] = True
                return cursor.fetchone()
        except DatabaseError as error:
            log.warning("The benefits won't be cached on this connection: %s", error)
            _readable[raw] = False
    if not _readable[raw]:
        return None
    with connection.cursor() as cursor:
        cursor.execute(FINGERPRINT, params)
        return cursor.fetchone()


@functools.cache
def _release():
    digest = hashlib.sha256()
    for folder in RELEASE_FOLDERS:
        for path in sorted((settings.BASE_DIR / folder).rglob("*")):
            if path.suffix in {".py", ".html", ".mo"}:
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# The cache is a shortcut: when Redis is down, the page is rendered as if it had missed.
CACHE_DOWN = (RedisError, OSError)


def _get(key):
    try:
        return cache.get(key)
    except CACHE_DOWN as error:
        log.warning("The benefits cache can't be read (%s); rendering them.", error)
        return None


def _set(key, value, seconds):
    try:
        cache.set(key, value, seconds)
    except CACHE_DOWN as error:
        log.warning("The benefits cache can't be written (%s).", error)
