"""A real Celery worker (with its embedded beat) in its own process, on the test database."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

CELERY = str(Path(sys.executable).parent / "celery")
ROOT = Path(__file__).resolve().parent.parent


def worker_database_url():
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def portal_env(tmp_path, **env):
    """The environment for another process of the portal: the test database, emails to files."""
    return {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "CONN_MAX_AGE": "0",
        **{name: str(value) for name, value in env.items()},
    }


class Worker:
    def __init__(self, tmp_path, **env):
        self.tmp_path = tmp_path
        self.mail_dir = tmp_path / "mail"
        self.log = tmp_path / "worker.log"
        self.env = portal_env(tmp_path, **env)
        self.process = None
        self.starts = 0

    def _celery(self, *args, **kwargs):
        return subprocess.Popen(
            [CELERY, "-A", "benefits_portal", *args],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            **kwargs,
        )

    def purge(self):
        """Drop messages left in the queue by earlier runs."""
        self._celery("purge", "-f").wait(timeout=60)

    def start(self, concurrency=2, beat=True):
        self.starts += 1
        self.process = self._celery(
            "worker",
            *(["--beat"] if beat else []),
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-mingle",
            "--without-gossip",
            "--schedule",
            str(self.tmp_path / f"beat-{self.starts}"),
            start_new_session=True,  # its own process group, so a kill takes its children too
        )

    def kill(self):
        """SIGKILL the worker and its pool: no warm shutdown, no acks, no cleanup."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def emails(self):
        if not self.mail_dir.exists():
            return []
        return [path.read_text() for path in self.mail_dir.iterdir()]


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"Timed out after {timeout}s waiting for {what}")
