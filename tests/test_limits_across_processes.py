"""One-time codes and limits hold across processes: three web servers, one database.

Each set-up is a fresh deployment, a copy of a database made once by `manage.py migrate` and
`seed_demo`, served by three separate gunicorn processes, with requests taking turns between
them: the embedded default (SQLite, no Redis: the database cache) and, where the suite runs on
them, PostgreSQL and Redis.
"""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from http.cookiejar import CookieJar
from pathlib import Path
from types import SimpleNamespace
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest
from django.conf import settings
from django.db import connection

from scripts import pgbouncer

from .factories import PASSWORD, TOTP_SECRET, totp_code
from .workers import ROOT, Worker, wait_for, worker_database_url

BIN = Path(sys.executable).parent
SERVERS = 3
HOST = "portal.test"


class NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A visitor with cookies, who reads each form's CSRF token like a browser would. Every
    server is reached by one host name, as behind a load balancer."""

    def __init__(self):
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()), NoRedirects)

    def request(self, url, data=None):
        body = urlencode(data).encode() if data is not None else None
        request = Request(url, body, headers={"Host": HOST})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.headers, response.read().decode()
        except HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def post_form(self, page_url, post_url, fields):
        _status, _headers, page = self.request(page_url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        return self.request(post_url, {"csrfmiddlewaretoken": token, **fields})


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(name):
    """The address of the PostgreSQL database `name` beside the test database."""
    return worker_database_url().rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, django_db_blocker):
    """template(kind, env): a database of `kind` ("embedded" or "servers") migrated and seeded
    once for the module: a SQLite file's path, or a PostgreSQL database's name. Migrating and
    seeding took most of each deployment's start; each now starts from a copy."""
    made, drop = {}, []

    def template(kind, env):
        if kind not in made:
            folder = tmp_path_factory.mktemp(f"template-{kind}")
            env = {**env, "VAR_DIR": str(folder)}
            if kind == "embedded":
                made[kind] = folder / "portal.sqlite3"
                env["DATABASE_URL"] = f"sqlite:///{made[kind]}"
            else:
                made[kind] = f"processes_template_{uuid.uuid4().hex[:8]}"
                with django_db_blocker.unblock(), connection.cursor() as cursor:
                    cursor.execute(f"CREATE DATABASE {made[kind]}")
                drop.append(made[kind])
                env["DATABASE_URL"] = database_url(made[kind])
            manage = [str(BIN / "python"), "manage.py"]
            for command in (["migrate", "-v0"], ["seed_demo"]):
                subprocess.run(manage + command, cwd=ROOT, env=env, check=True, capture_output=True)
        return made[kind]

    yield template
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        for name in drop:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["embedded", "servers"])
def deployment(request, tmp_path, django_db_blocker, seeded):
    """Three web processes on one freshly migrated and seeded database: their base URLs, and
    the environment that reaches the same database. "pooled" is "servers" reached through a
    PgBouncer in transaction mode, asked for by the tests of it."""
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "processes-test-secret-key",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "STATIC_MANIFEST": "false",
        "ALLOWED_HOSTS": HOST,
        "VAR_DIR": str(tmp_path),
        "CONN_MAX_AGE": "0",
    }
    cleanup = None
    stack = contextlib.ExitStack()
    if request.param == "embedded":
        env.pop("REDIS_URL", None)
        env.pop("CELERY_BROKER_URL", None)
        shutil.copyfile(seeded("embedded", env), tmp_path / "portal.sqlite3")
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    else:
        if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
            pytest.skip("the suite runs on the embedded default, not PostgreSQL and Redis")
        import redis

        # This test process's own Redis database (settings: gw0 REDIS_URL's, gw1 the next...),
        # emptied first: nothing left from another test or run. A fixed database number was
        # shared by the two processes, each emptying it under the other's servers, and by any
        # other checkout's suite on the same Redis.
        redis_url = settings.REDIS_URL
        env["REDIS_URL"] = redis_url
        env.pop("PYTEST_XDIST_WORKER", None)  # which would move the servers to the next one
        template = seeded("servers", env)
        redis.Redis.from_url(redis_url).flushdb()
        name = f"processes_{uuid.uuid4().hex[:8]}"
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        env["DATABASE_URL"] = database_url(name)
        if request.param == "pooled":
            if not pgbouncer.installed():
                if os.environ.get("CI"):
                    pytest.fail("CI needs PgBouncer: apt-get install pgbouncer")
                pytest.skip("PgBouncer is not installed: apt-get install pgbouncer")
            env["DATABASE_URL"] = stack.enter_context(pgbouncer.pooled(env["DATABASE_URL"]))
            env["DISABLE_SERVER_SIDE_CURSORS"] = "true"
            env["SIMULATED_DAY_SECONDS"] = "1"  # an activation's days pass in seconds
            env["CONN_MAX_AGE"] = "60"  # production's: each process keeps its connection
            open_server_sessions(env["DATABASE_URL"], 3)

        def cleanup():
            with django_db_blocker.unblock(), connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    # Three processes, as gunicorn's workers are, each on a port of its own, so that the test
    # decides which one answers.
    ports = [free_port() for _ in range(SERVERS)]
    servers = [
        subprocess.Popen(
            [str(BIN / "gunicorn"), "benefits_portal.wsgi", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=(tmp_path / f"gunicorn-{port}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            for _ in range(100):
                try:
                    if Browser().request(f"{url}/alive")[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.2)
        yield SimpleNamespace(urls=urls, env=env)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        stack.close()
        if cleanup:
            cleanup()


def open_server_sessions(url, count):
    """Make PgBouncer open `count` server sessions (as many transactions at once), so that
    the next transactions take turns between them."""
    import psycopg

    clients = [psycopg.connect(url) for _ in range(count)]
    for client in clients:
        client.execute("SELECT 1")  # a transaction begun: each holds a server session
    for client in clients:
        client.commit()  # a session left in a transaction would be closed, not kept
        client.close()


def sign_in(url, email, password=PASSWORD):
    browser = Browser()
    status, headers, _ = browser.post_form(
        f"{url}/accounts/login/", f"{url}/accounts/login/", {"login": email, "password": password}
    )
    return browser, status, headers.get("Location", "")


def signed_in_with_a_code(url, email):
    """A browser signed in as `email` (password, then authenticator code) on `url`."""
    browser, status, location = sign_in(url, email)
    assert (status, location) == (302, "/accounts/2fa/authenticate/")
    while time.time() % 30 > 25:  # the code stays good for the next few seconds
        time.sleep(0.5)
    step = f"{url}/accounts/2fa/authenticate/"
    status, _headers, _page = browser.post_form(step, step, {"code": totp_code(TOTP_SECRET)})
    assert status == 302
    return browser


TECHNICAL_BENEFITS = "/dashboard/mpn/membership/benefits/technical"


@pytest.mark.parametrize("deployment", ["pooled"], indirect=True)
def test_pages_activation_and_the_worker_work_through_pgbouncer(deployment, tmp_path):
    """Production behind PgBouncer in transaction mode (issue 20): the benefits page rendered
    and then reused on every server, Activate, and a worker carrying the activation to its
    IDs, all through the pooler."""
    url = deployment.urls[0]
    browser = signed_in_with_a_code(url, "admin@contoso.example")
    for server in deployment.urls:
        for _visit in range(2):  # rendered, then reused
            status, _headers, page = browser.request(f"{server}{TECHNICAL_BENEFITS}")
            assert status == 200
            assert "Technical benefits" in page
    activate = re.findall(r'action="([^"]+/activate)"', page)[0]
    status, headers, _page = browser.post_form(f"{url}{TECHNICAL_BENEFITS}", f"{url}{activate}", {})
    assert status == 302
    detail = headers["Location"]
    status, _headers, page = browser.request(f"{url}{detail}")
    assert (status, "Activation pending" in page) == (200, True)

    worker = Worker(
        tmp_path,
        **{
            name: deployment.env[name]
            for name in ("DATABASE_URL", "REDIS_URL", "DISABLE_SERVER_SIDE_CURSORS")
        },
        SIMULATED_DAY_SECONDS=deployment.env["SIMULATED_DAY_SECONDS"],
        ACTIVATION_SWEEP_SECONDS=1,
    )
    worker.start()
    try:

        def active():
            return "Activation pending" not in browser.request(f"{url}{detail}")[2]

        wait_for(active, timeout=120, what="the worker to complete the activation")
    finally:
        worker.stop()
    status, _headers, page = browser.request(f"{deployment.urls[1]}{detail}")
    assert status == 200
    assert re.search(r"Access ID.{0,300}\b\d{9}\b", page, re.S)
    # No database error in the worker's work (stopping it may end a task: that is logged).
    log = (tmp_path / "worker.log").read_text()
    assert not re.findall(r"\w+Error: .*(?:server|connection|statement|cursor).*", log)


def test_a_two_factor_code_is_accepted_once_whichever_process_answers(deployment):
    # Eight sign-ins reach the code step, each on one of the three servers in turn...
    waiting = []
    for i in range(8):
        url = deployment.urls[i % SERVERS]
        browser, status, location = sign_in(url, "admin@contoso.example")
        assert (status, location) == (302, "/accounts/2fa/authenticate/")
        waiting.append((browser, url))
    # ...then all give the same code, well inside its 30-second period.
    while time.time() % 30 > 20:
        time.sleep(0.5)
    code = totp_code(TOTP_SECRET)
    accepted = 0
    for browser, url in waiting:
        step = f"{url}/accounts/2fa/authenticate/"
        status, _headers, _page = browser.post_form(step, step, {"code": code})
        accepted += status == 302
    assert accepted == 1


def test_wrong_id_pairs_are_counted_once_for_all_processes(deployment):
    browser, status, _ = sign_in(deployment.urls[0], "member@contoso.example")
    assert status == 302
    statuses = []
    for i in range(8):
        url = deployment.urls[i % SERVERS]
        status, _headers, _page = browser.post_form(
            f"{url}/supportforbusiness/create",
            f"{url}/supportforbusiness/contracts/add",
            {"access_id": "123456789", "contract_id": "987654321"},
        )
        statuses.append(status)
    assert statuses == [400] * 5 + [429] * 3


def test_failed_sign_ins_are_counted_once_for_all_processes(deployment):
    for i in range(5):
        _browser, status, _ = sign_in(
            deployment.urls[i % SERVERS], "member@contoso.example", "wrong"
        )
        assert status == 200  # the form again, with its error
    for url in deployment.urls:
        _browser, status, _ = sign_in(url, "member@contoso.example")
        assert status != 302  # the right password too, on every server, until the wait ends


LIMIT_CHECK = """
import datetime
from benefits_portal import limits
limit = limits.Limit("check", 3, datetime.timedelta(minutes=15))
assert [limits.hit(limit, "k").hits for _ in range(2)] == [1, 2]
limits.give_back(limit, "k")
assert limits.hit(limit, "k").hits == 2
print("counted")
"""


def run_in(deployment, code):
    """Run Python code with the deployment's settings and database; its output."""
    done = subprocess.run(
        [str(BIN / "python"), "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=deployment.env,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() + done.stderr


def test_a_count_reads_back_the_same_on_this_database(deployment):
    """What the upsert writes, the ORM's update finds (SQLite keeps datetimes as text: both
    sides must write them alike)."""
    assert run_in(deployment, LIMIT_CHECK).endswith("counted")


CACHE_CHECK = """
from django.core.cache import cache
cache.set("a:used-code", "y", 300)
for i in range(400):
    cache.set(f"z:{i}", i, 300)
assert cache.get("a:used-code") == "y"
print("kept")
"""


def test_the_shared_cache_keeps_a_used_code_however_full_it_gets(deployment):
    """allauth marks a used two-factor code in the cache; a cache that culls its oldest-sorting
    keys when full would forget it, and the code would work again."""
    assert run_in(deployment, CACHE_CHECK).endswith("kept")
