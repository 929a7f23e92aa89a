"""`make run` as a user runs it: a fresh copy of the tree with Docker Compose's .env beside it.

The copy reuses this virtualenv (nothing is installed) and runs on its own port, with its own
SQLite database and broker folder under the copy's var/.
"""

import contextlib
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.embedded_run import MakeRun, copy_tree, free_port, shell_environment

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


def test_the_readme_command_that_loads_the_demo_accounts_works_from_a_fresh_clone(tmp_path):
    copy = tmp_path / "clone"
    copy_tree(copy)
    readme = (copy / "README.md").read_text()
    command = re.search(r"`([^`]+)` loads them", readme).group(1)
    for _ in range(2):  # and again: it adds only what is missing
        result = subprocess.run(
            [*shlex.split(command), f"VENV={VENV}", "-o", f"{VENV}/bin/.installed"],
            cwd=copy,
            env=shell_environment(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert "admin@contoso.example" in result.stdout
        with sqlite3.connect(copy / "var" / "portal.sqlite3") as db:
            assert db.execute("SELECT count(*) FROM accounts_user").fetchone() == (12,)


def respawn(tmp_path, *command):
    out = tmp_path / "respawn.log"
    process = subprocess.Popen(
        [sys.executable, "scripts/respawn.py", *command],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=out.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process, out


def test_respawn_starts_a_failing_command_again_after_a_growing_pause(tmp_path):
    process, out = respawn(tmp_path, "sh", "-c", "exit 3")
    try:
        wait_for(lambda: out.read_text().count("exited with code 3") >= 2, 30, "two restarts")
        pauses = re.findall(r"exited with code 3; restarting it in (\d+) s", out.read_text())
        assert pauses[:2] == ["1", "2"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def in_session(sid):
    """Command lines of the live processes of session `sid` (the wrapper's)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
    return found


def test_respawn_told_to_stop_alone_stops_its_command_too(tmp_path):
    process, out = respawn(tmp_path, "sleep", "600")
    try:
        wait_for(lambda: "sleep 600 " in in_session(process.pid), 30, "the command to start")
        os.kill(process.pid, signal.SIGTERM)  # the wrapper only, as `kill <pid>` would
        assert process.wait(timeout=10) == 0
        wait_for(lambda: not in_session(process.pid), 10, "the command to end")
        assert "restarting" not in out.read_text()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
