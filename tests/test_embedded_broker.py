"""The embedded default's broker (message files under VAR_DIR/broker) between real processes.

Each test runs real Celery workers on a broker folder of its own, with no Redis, as `make run`
does, and publishes from another process.
"""

import os
import signal
import subprocess
import sys
import textwrap
import uuid

import pytest

from .workers import CELERY, ROOT, wait_for

# A task that does nothing on an empty database.
TASK = "notices.tasks.send_pending_notices"

# A publisher whose message file is written slowly: half, a pause, the rest, as a writer the
# scheduler pauses mid-write (or a slow disk) would. Only the pace of writing changes: the
# portal's own transport, whichever it is, names, places and publishes the file.
SLOW_PUBLISHER = textwrap.dedent(
    """
    import builtins, sys, time
    from benefits_portal.celery import app

    slow_writes = 0

    class SlowFile:
        def __init__(self, file):
            self.file = file
        def write(self, data):
            global slow_writes
            half = len(data) // 2
            self.file.write(data[:half])
            self.file.flush()
            time.sleep(float(sys.argv[2]))
            slow_writes += 1
            return half + self.file.write(data[half:])
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.file.close()
        def __getattr__(self, name):
            return getattr(self.file, name)

    def slow_open(path, mode="r", *args, **kwargs):
        file = builtins.open(path, mode, *args, **kwargs)
        return SlowFile(file) if str(path).endswith((".msg", ".part")) else file

    with app.connection_for_write() as connection:
        channel = connection.default_channel
        sys.modules[type(channel)._put.__module__].open = slow_open
        app.send_task(sys.argv[3], task_id=sys.argv[1], connection=connection)
    print("slow writes:", slow_writes)
    """
)


def embedded_env(tmp_path):
    """`make run`'s broker: no Redis, no broker URL, files under this test's VAR_DIR."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL"}
    }
    return {**env, "VAR_DIR": str(tmp_path)}


class EmbeddedWorker:
    def __init__(self, tmp_path, name):
        self.log = tmp_path / f"{name}.log"
        self.process = subprocess.Popen(
            [CELERY, "-A", "benefits_portal", "worker", "--loglevel", "INFO", "--concurrency",
             "1", "--without-mingle", "--without-gossip", "--without-heartbeat",
             "--hostname", f"{name}@%h"],
            cwd=ROOT,
            env=embedded_env(tmp_path),
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        wait_for(lambda: "ready." in self.output() or not self.alive(), 60, f"{name} to start")
        assert self.alive(), self.output()

    def output(self):
        return self.log.read_text()

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


@pytest.fixture
def start_worker(tmp_path):
    # The workers' own SQLite database under VAR_DIR, for the task's query.
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env=embedded_env(tmp_path),
        check=True,
        timeout=120,
    )
    workers = []

    def start(name="worker"):
        workers.append(EmbeddedWorker(tmp_path, name))
        return workers[-1]

    yield start
    for worker in workers:
        worker.stop()


def publish(tmp_path, task_id, pause=None):
    """Send TASK with `task_id` from another process; `pause`: write its file slowly."""
    if pause is None:
        code = "from benefits_portal.celery import app; import sys; "
        code += "app.send_task(sys.argv[3], task_id=sys.argv[1])"
    else:
        code = SLOW_PUBLISHER
    args = [str(pause), TASK]
    result = subprocess.run(
        [sys.executable, "-c", code, task_id, *args],
        cwd=ROOT,
        env=embedded_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    if pause is not None:
        assert "slow writes: 1" in result.stdout, "the message was not written slowly"


def times_done(workers, task_id):
    return sum(w.output().count(f"{TASK}[{task_id}] succeeded") for w in workers)


def test_a_message_written_slowly_is_delivered_once_and_the_workers_survive(tmp_path, start_worker):
    workers = [start_worker("first"), start_worker("second")]
    slow = [str(uuid.uuid4()) for _ in range(3)]
    for task_id in slow:
        # Two seconds half-written while two workers poll every 0.2 s.
        publish(tmp_path, task_id, pause=2)
    wait_for(
        lambda: all(times_done(workers, t) for t in slow) or not all(w.alive() for w in workers),
        60,
        "the slowly written messages to be done",
    )
    for worker in workers:
        assert worker.alive(), worker.output()[-3000:]
        assert "JSONDecodeError" not in worker.output()
    after = str(uuid.uuid4())
    publish(tmp_path, after)
    wait_for(lambda: times_done(workers, after), 30, "a later message to be done")
    for task_id in [*slow, after]:
        assert times_done(workers, task_id) == 1
    assert list((tmp_path / "broker" / "queue").iterdir()) == []


def test_a_file_that_is_not_a_message_is_quarantined_and_the_worker_carries_on(
    tmp_path, start_worker
):
    worker = start_worker()
    queue = tmp_path / "broker" / "queue"
    garbage = {
        "0000000000001_truncated.celery.msg": b'{"body": "eyJ',
        "0000000000002_empty.celery.msg": b"",
        "0000000000003_binary.celery.msg": b"\xff\xfe\x00",
        "0000000000004_list.celery.msg": b"[1, 2]",
    }
    for name, content in garbage.items():
        (queue / name).write_bytes(content)
    task_id = str(uuid.uuid4())
    publish(tmp_path, task_id)
    wait_for(lambda: times_done([worker], task_id) or not worker.alive(), 30, "the message after")
    assert worker.alive(), worker.output()[-3000:]
    assert times_done([worker], task_id) == 1
    quarantine = tmp_path / "broker" / "quarantine"
    for name, content in garbage.items():
        assert (quarantine / name).read_bytes() == content  # kept for a look, unchanged
        assert f"{name} is " in worker.output()  # and said so in the worker's log
    assert list(queue.iterdir()) == []
