"""Settings come from the environment, strictly; the compose file wires the services."""

import os
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
    import re

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
