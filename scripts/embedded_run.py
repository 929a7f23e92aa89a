"""`make run` as a user runs it, in a fresh copy of the tree: for `make soak` and the tests.

The copy holds the files git tracks plus a `.env` copied from `.env.example`, as someone who
also tried Docker Compose has. It reuses an existing virtualenv (VENV=...), so nothing is
installed, and every variable `.env.example` names is left out of the environment, as in a
new shell: only `make run`'s own defaults apply.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = "EMBEDDED_RUN_ID"


def copy_tree(dest):
    """Copy this tree's files (those git tracks or would) into `dest`, .env.example to .env."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_file():
            target = Path(dest) / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)  # mtimes kept: make sees the venv as up to date
    shutil.copy(Path(dest) / ".env.example", Path(dest) / ".env")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shell_environment(**extra):
    """This process's environment without the portal's settings (and an outer make's flags)."""
    names = {
        line.split("=", 1)[0].strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    names |= {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in names}
    return {**env, **{k: str(v) for k, v in extra.items()}}


class MakeRun:
    """`make run` in `copy`, in a process group of its own, its output in `copy`/make-run.log."""

    def __init__(self, copy, venv, port, **env):
        self.copy = Path(copy)
        self.port = port
        self.log = self.copy / "make-run.log"
        self.run_id = str(uuid.uuid4())
        self.env = shell_environment(PORT=port, **{MARKER: self.run_id}, **env)
        venv = Path(venv).resolve()
        self.command = ["make", "-o", f"{venv}/bin/.installed", "run", f"VENV={venv}"]
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            self.command,
            cwd=self.copy,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # as a terminal's foreground job: Ctrl-C reaches the group
        )

    def output(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def status(self, path="/accounts/login/"):
        """The HTTP status of `path` over plain http (no redirect followed), or None if down."""
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return None

    def wait_serving(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status() == 200:
                return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.5)
        return False

    def processes(self):
        """{pid: command line} of every process started by this run, however deep."""
        found = {}
        needle = f"{MARKER}={self.run_id}".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    found[int(entry.name)] = cmdline.strip()
            except OSError:
                continue  # gone meanwhile, or a zombie
        return found

    def main_pid(self, *words):
        """The pid of the command with all `words` that scripts/respawn.py started."""
        procs = self.processes()
        for pid, cmdline in procs.items():
            if all(word in cmdline for word in words) and "respawn.py" not in cmdline:
                parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
                if "respawn.py" in procs.get(parent, ""):
                    return pid
        return None

    def interrupt(self, timeout=30):
        """Ctrl-C: SIGINT to the whole foreground group; returns make's exit status."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill_everything(self):
        """Clean up after a failure: SIGKILL whatever of this run is left."""
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.process:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
