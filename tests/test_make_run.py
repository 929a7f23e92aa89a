"""`make run` as a user runs it: a fresh copy of the tree with Docker Compose's .env beside it.

The copy reuses this virtualenv (nothing is installed) and runs on its own port, with its own
SQLite database and broker folder under the copy's var/.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.embedded_run import MakeRun, copy_tree, free_port

from .workers import wait_for

VENV = Path(sys.executable).parent.parent
LINK = re.compile(r"(http://[^/\s]+)/dashboard/mpn/membership/benefits/technical/(\d+)/")

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


@pytest.fixture
def make_run(tmp_path):
    copy = tmp_path / "clone"
    copy_tree(copy)
    # A simulated day of a second: an activation completes within seconds.
    run = MakeRun(copy, VENV, free_port(), SIMULATED_DAY_SECONDS=1, ACTIVATION_SWEEP_SECONDS=1)
    yield run
    run.kill_everything()


def request_activation(run, tag):
    """An activation through the portal's services, in the copy's database; returns its id."""
    result = subprocess.run(
        [sys.executable, "scripts/demo_activation.py", "request", tag],
        cwd=run.copy,
        env={**run.env, "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def emailed_links(run):
    return {offer: origin for origin, offer in LINK.findall(run.output())}


def test_make_run_serves_on_its_port_restarts_a_killed_worker_and_stops_cleanly(make_run):
    run = make_run
    run.start()
    assert run.wait_serving(180), run.output()[-4000:]

    # Plain http on the port asked for, the embedded SQLite database: .env was not read.
    assert run.status("/accounts/login/") == 200
    assert (run.copy / "var" / "portal.sqlite3").exists()
    assert "Demo accounts" in run.output()  # seeded

    # The worker completes an activation and emails the link on the port it serves.
    request_activation(run, "first")
    wait_for(lambda: emailed_links(run), 90, "the activation's email")
    assert set(emailed_links(run).values()) == {f"http://127.0.0.1:{run.port}"}

    # A worker killed outright is started again; the web server keeps answering meanwhile.
    worker = run.main_pid("celery", "worker")
    assert worker, run.processes()
    os.kill(worker, signal.SIGKILL)
    wait_for(lambda: "was killed by SIGKILL; restarting it" in run.output(), 30, "the notice")
    assert run.status("/accounts/login/") == 200
    wait_for(lambda: run.main_pid("celery", "worker") not in (None, worker), 30, "a new worker")
    assert run.process.poll() is None, run.output()[-4000:]

    # The new worker works: a second activation completes too.
    request_activation(run, "second")
    wait_for(lambda: len(emailed_links(run)) == 2, 90, "the second activation's email")

    # Ctrl-C stops everything, leaving no process behind.
    run.interrupt(timeout=30)
    assert run.process.poll() is not None, run.output()[-4000:]
    wait_for(lambda: not run.processes(), 15, "every process of make run to end")
    assert "restarting it" not in run.output().split("SIGINT received")[-1]
