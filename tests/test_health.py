"""/health: the database, the broker and the sweeper's last run, for Compose and monitors."""

import datetime
import json
import subprocess
import sys

import pytest
from django.utils import timezone

from activation.models import SweeperRun
from benefits_portal.health import sweeper_late_after

from .workers import ROOT, Worker, portal_env, wait_for

# Another process reads what these tests write: it must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

PROBE = """
import django
django.setup()
from django.test import Client
response = Client().get("/health", HTTP_HOST="localhost")
print(response.status_code)
print(response.content.decode())
"""


def health_in_another_process(tmp_path, **env):
    """GET /health in a fresh portal process with this environment: (status, body)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=portal_env(
            tmp_path,
            DJANGO_SETTINGS_MODULE="benefits_portal.settings",
            ALLOWED_HOSTS="localhost",
            **env,
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().split("\n", 1)
    return int(status), json.loads(body)


def sweep_ran(seconds_ago):
    SweeperRun.objects.update_or_create(
        id=1, defaults={"ran_at": timezone.now() - datetime.timedelta(seconds=seconds_ago)}
    )


def test_it_turns_200_once_a_real_worker_and_beat_have_swept(client, tmp_path):
    response = client.get("/health")
    assert response.status_code == 503  # no sweep yet: beat may not be running
    assert response.json()["sweeper"]["last_run"] is None
    assert response.json()["database"] == {"ok": True}

    worker = Worker(tmp_path, ACTIVATION_SWEEP_SECONDS=1)
    worker.purge()
    worker.start(beat=True)
    try:
        wait_for(lambda: client.get("/health").status_code == 200, 90, "a sweep to be recorded")
    finally:
        worker.stop()
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["sweeper"]["ok"] and body["sweeper"]["seconds_since_last_run"] < 60
    assert body["broker"] == {"ok": True}


def test_it_is_503_when_the_sweeper_has_not_run_for_several_intervals(client):
    late_after = sweeper_late_after()
    sweep_ran(seconds_ago=late_after - 5)
    assert client.get("/health").status_code == 200

    sweep_ran(seconds_ago=late_after + 5)
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["sweeper"]["ok"] is False
    assert body["sweeper"]["seconds_since_last_run"] >= late_after + 5
    assert body["database"] == {"ok": True}


def test_it_says_when_the_broker_is_unreachable(tmp_path):
    sweep_ran(seconds_ago=0)
    status, body = health_in_another_process(
        tmp_path, CELERY_BROKER_URL="redis://:a-broker-password@127.0.0.1:1/0"
    )
    assert body["broker"] == {"ok": False}
    assert body["database"] == {"ok": True}
    assert status == 200  # requests are still recorded; the sweeper moves them later
    assert "a-broker-password" not in json.dumps(body)


def test_it_is_503_when_the_database_is_unreachable(tmp_path):
    status, body = health_in_another_process(
        tmp_path, DATABASE_URL="postgres://portal:a-database-password@127.0.0.1:1/portal"
    )
    assert status == 503
    assert body["database"] == {"ok": False}
    assert body["sweeper"]["ok"] is False
    assert "a-database-password" not in json.dumps(body)


def test_it_answers_over_plain_http_like_alive(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    sweep_ran(seconds_ago=0)
    assert client.get("/accounts/login/").status_code == 301  # everything else goes to https
    assert client.get("/health").status_code == 200
    assert client.get("/alive").status_code == 200
