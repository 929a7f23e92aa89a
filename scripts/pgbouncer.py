"""A PgBouncer in transaction pooling mode in front of a PostgreSQL database, for the tests and
the benchmark (issue 20): the portal must work through one, as it would in production.

Debian 12's PgBouncer is 1.18: in transaction mode it supports no prepared statement of any
kind, and a server session serves whichever client's transaction comes next.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BINARY = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def installed():
    return Path(BINARY).exists()


@contextlib.contextmanager
def pooled(database_url, pool_size=10):
    """Start PgBouncer before `database_url`'s server on a free port of 127.0.0.1; yield the
    URL that reaches the same database through it, and stop it on leaving. Raises
    RuntimeError if it doesn't answer within 10 s (its log in the message)."""
    parts = urlsplit(database_url)
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Clients are trusted on loopback; PgBouncer logs in to the server with this password.
    (folder / "users.txt").write_text(f'"{parts.username}" "{parts.password or ""}"\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={parts.hostname or '127.0.0.1'} port={parts.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        "pool_mode = transaction\n"
        # Each transaction to the next idle server session, as under load, not the last one.
        "server_round_robin = 1\n"
        f"default_pool_size = {pool_size}\nmax_client_conn = 500\n"
        f"logfile = {folder / 'pgbouncer.log'}\n"
    )
    command = [BINARY, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # it refuses to run as root
        shutil.chown(folder, "postgres")
        for path in folder.iterdir():
            shutil.chown(path, "postgres")
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline or process.poll() is not None:
                log = folder / "pgbouncer.log"
                raise RuntimeError(f"PgBouncer did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        password = f":{parts.password}" if parts.password else ""
        netloc = f"{parts.username}{password}@127.0.0.1:{port}"
        yield urlunsplit(parts._replace(netloc=netloc))
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
