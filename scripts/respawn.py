"""Run a command and start it again whenever it ends, until told to stop.

    python scripts/respawn.py celery -A benefits_portal worker ...

`make run` starts the web server, the worker and beat through honcho, which stops all of them
as soon as one ends. Each line of Procfile.dev runs under this wrapper instead, so a process
that crashes or is killed is started again after a short pause, says so on the terminal, and
the others keep serving. On SIGTERM or SIGINT (honcho sends SIGTERM to the process group on
Ctrl-C) the wrapper waits for the command to stop, and starts nothing more.
"""

import shlex
import signal
import subprocess
import sys
import time

FIRST_PAUSE = 1  # seconds before the first restart
LONGEST_PAUSE = 30  # a command that keeps failing is retried at most this often
# A run this long was healthy: the next failure starts from the first pause again.
HEALTHY_SECONDS = 60
# A command still running this long after the wrapper was told to stop did not get the
# signal (it was sent to the wrapper alone): it is passed on.
FORWARD_SECONDS = 2

stopping = False


def say(text):
    print(f"respawn: {text}", flush=True)


def how_it_ended(returncode):
    """'exited with code 1' or 'was killed by SIGKILL', from a Popen returncode."""
    if returncode < 0:
        return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited with code {returncode}"


def run(command):
    """Run `command` until SIGTERM or SIGINT; returns the wrapper's exit status."""
    global stopping

    def stop(signum, frame):
        global stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    name = shlex.join(command)
    pause, restarts = FIRST_PAUSE, 0
    while not stopping:
        started = time.monotonic()
        # In the wrapper's process group: honcho's SIGTERM on Ctrl-C, and its SIGKILL 5 s later,
        # reach the command and all it started (a worker's pool) at once.
        child = subprocess.Popen(command)
        if restarts:
            say(f"{name} started again (pid {child.pid}), restart {restarts}")
        stop_asked = None
        while child.poll() is None:
            time.sleep(0.1)
            if stopping and stop_asked is None:
                stop_asked = time.monotonic()
            elif stopping and time.monotonic() - stop_asked > FORWARD_SECONDS:
                # The stop was for the wrapper alone (`kill <pid>`): pass it on, once.
                child.terminate()
                stop_asked = float("inf")
        if stopping:
            break
        if time.monotonic() - started >= HEALTHY_SECONDS:
            pause = FIRST_PAUSE
        say(
            f"{name} (pid {child.pid}) {how_it_ended(child.returncode)}; "
            f"restarting it in {pause} s (the other processes keep running)"
        )
        deadline = time.monotonic() + pause
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)
        pause = min(pause * 2, LONGEST_PAUSE)
        restarts += 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(run(sys.argv[1:]))
