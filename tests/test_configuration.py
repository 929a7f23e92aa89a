"""Settings come from the environment, strictly; the compose file wires the services."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def load_settings(**env):
    """Import the settings in a fresh interpreter with exactly this environment."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    return subprocess.run(
        [sys.executable, "-c", "import benefits_portal.settings as s; print(s.DEBUG, s.DATABASES)"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_debug_is_off_unless_set_and_then_a_secret_key_is_required():
    result = load_settings()
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_with_a_secret_key_it_starts_with_debug_off():
    result = load_settings(SECRET_KEY="a-real-secret")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("False")


def test_a_misspelt_boolean_is_refused_not_guessed():
    result = load_settings(DEBUG="ture")
    assert "DEBUG must be true or false, not 'ture'" in result.stderr


def test_without_database_url_it_uses_sqlite_under_var():
    result = load_settings(DEBUG="true", DATABASE_URL="")
    assert result.returncode == 0, result.stderr
    assert "sqlite3" in result.stdout and "portal.sqlite3" in result.stdout


def test_the_env_example_documents_every_variable_the_settings_read():
    settings_source = (ROOT / "benefits_portal" / "settings.py").read_text()
    documented = (ROOT / ".env.example").read_text()

    read = set(re.findall(r'env_(?:str|bool|int|list)\("([A-Z_]+)"', settings_source))
    read |= set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', settings_source))
    missing = [name for name in sorted(read) if f"\n{name}=" not in documented]
    assert not missing


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_the_portal_with_its_services(compose):
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(compose["services"])


def test_worker_and_beat_reuse_the_web_definition(compose):
    web = compose["services"]["web"]
    for name in ("worker", "beat"):
        service = compose["services"][name]
        assert service["build"] == web["build"]
        assert service["environment"] == web["environment"]
        assert f"celery -A benefits_portal {name}" in service["command"]


def test_every_service_that_others_wait_for_has_a_health_check(compose):
    services = compose["services"]
    for service in services.values():
        for needed, condition in service.get("depends_on", {}).items():
            if condition["condition"] == "service_completed_successfully":
                assert needed == "migrate"
            else:
                assert condition["condition"] == "service_healthy"
                assert "test" in services[needed]["healthcheck"]


def test_migrations_run_once_before_web_worker_and_beat(compose):
    services = compose["services"]
    assert "manage.py migrate" in services["migrate"]["command"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }


def test_compose_has_no_default_secret_and_no_demo_accounts_unless_asked(compose):
    for service in ("web", "migrate", "worker", "beat"):
        assert compose["services"][service]["environment"]["SECRET_KEY"].startswith(
            "${SECRET_KEY:?"
        )
    assert compose["services"]["migrate"]["environment"]["SEED_DEMO"] == "${SEED_DEMO:-false}"
    assert "seed_demo" not in compose["services"]["web"]["command"]


def test_web_serves_with_gunicorn_on_postgres_and_redis(compose):
    web = compose["services"]["web"]
    assert "gunicorn benefits_portal.wsgi" in web["command"]
    assert web["environment"]["DATABASE_URL"].startswith("postgres://")
    assert web["environment"]["REDIS_URL"].startswith("redis://")


def test_production_settings_pass_the_deploy_check():
    # As deployed: none of the test run's relaxations (the browser tests set the async one).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"))
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **env,
            "SECRET_KEY": "kq3!v9Zr-8Lm2@xT7pWc#4Hy6Ns1Bf5Gd0Jk&Rt*Ue+Qa^Oi%Yw",
            "ALLOWED_HOSTS": "benefits.example.com",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_every_page_carries_the_security_headers(client, db):
    response = client.get("/accounts/login/", secure=True)
    # The directives come in no set order.
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == "'self'"  # no inline script runs
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


LONG_RUNNING = ("postgres", "redis", "mailpit", "web", "worker", "beat")


def test_every_long_running_service_is_restarted_unless_stopped(compose):
    services = compose["services"]
    assert set(services) == {*LONG_RUNNING, "migrate"}  # a new service needs its row here
    for name in LONG_RUNNING:
        assert services[name]["restart"] == "unless-stopped", name
    assert services["migrate"]["restart"] == "no"  # a one-off, done once it has migrated


def test_mailpit_is_published_on_this_machine_only(compose):
    for port in compose["services"]["mailpit"]["ports"]:
        assert port.startswith("127.0.0.1:"), port


def compose_environment(service):
    """The service's environment as Compose gives it when .env sets nothing but a secret."""
    environment = {}
    for name, value in service["environment"].items():
        match = re.fullmatch(r"\$\{(\w+):([-?])(.*)\}", str(value))
        if match:
            value = "a-compose-secret" if match[2] == "?" else match[3]
        environment[name] = str(value)
    return environment


def cookie_settings(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "DEBUG"))}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import benefits_portal.settings as s; "
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)",
        ],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_cookies_are_secure_under_compose_and_not_under_make_run(compose):
    web = compose_environment(compose["services"]["web"])
    assert "SECURE_COOKIES" not in web
    assert cookie_settings(**web) == ["True", "True"]
    assert cookie_settings(DEBUG="true") == ["False", "False"]  # `make run`: plain http


@pytest.mark.django_db(transaction=True)
def test_beats_health_check_passes_while_sweeps_run_and_fails_when_they_stop(compose, live_server):
    from datetime import timedelta

    from django.utils import timezone

    from activation.models import SweeperRun
    from benefits_portal.health import sweeper_late_after

    beat = compose["services"]["beat"]
    command = beat["healthcheck"]["test"]
    assert command[0] == "CMD" and "http://web:8000/health" in command[-1]
    # The same check, pointed at this test's server instead of the web container.
    check = [
        sys.executable,
        *command[2:-1],
        command[-1].replace("http://web:8000", live_server.url),
    ]
    env = {**os.environ, **compose_environment(beat)}

    def healthy():
        return subprocess.run(check, env=env, capture_output=True, timeout=30).returncode == 0

    SweeperRun.record(moved=0)
    assert healthy()
    SweeperRun.objects.update(ran_at=timezone.now() - timedelta(seconds=sweeper_late_after() + 5))
    assert not healthy()
