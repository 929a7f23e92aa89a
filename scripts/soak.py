"""The embedded default under load for a long while: `make soak` (SOAK_MINUTES, default 30).

Runs `make run` in a fresh copy of the tree (SQLite, the file broker, web + worker + beat
under honcho), requests an activation every few seconds through the portal's services, then
waits for the last ones and reports: processes that ended or were restarted (expected 0),
activations requested, completed, failed, stuck and duplicated, and emails sent. Exits 1 if
any process ended or any activation did not complete exactly once.
"""

import argparse
import datetime
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

from embedded_run import MakeRun, copy_tree, free_port

# The same as `make run` sets (Makefile): this process computes the requests' due times.
RUN_DEFAULTS = {"DEBUG": "true", "SIMULATED_DAY_SECONDS": "20", "ACTIVATION_SWEEP_SECONDS": "5"}


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 30)))
    parser.add_argument("--every", type=float, default=5, help="seconds between activations")
    parser.add_argument("--drain-minutes", type=float, default=5)
    parser.add_argument("--venv", required=True, help="an installed virtualenv to reuse")
    return parser.parse_args()


def log(text):
    print(f"[soak {datetime.datetime.now():%H:%M:%S}] {text}", flush=True)


def main():
    args = arguments()
    copy = Path(tempfile.mkdtemp(prefix="soak-"))
    copy_tree(copy)
    run = MakeRun(copy, args.venv, free_port())
    log(f"make run in {copy} on port {run.port} for {args.minutes:g} minutes")
    started_at = datetime.datetime.now(datetime.UTC)
    run.start()
    report = {"processes_ended": None, "make_run_died": True}
    try:
        if not run.wait_serving(300):
            log("the portal never answered:\n" + run.output()[-3000:])
            return 1
        report = soak(args, copy, run)
    finally:
        status = run.interrupt() if run.process.poll() is None else run.process.returncode
        time.sleep(1)
        leftovers = run.processes()
        run.kill_everything()
    report.update(
        started=f"{started_at:%Y-%m-%d %H:%M} UTC",
        machine=f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
        make_run_exit_status=status,
        processes_left_after_ctrl_c=len(leftovers),
        log=str(run.log),
    )
    (copy / "soak-report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    healthy = (
        report["processes_ended"] == 0
        and report["make_run_died"] is False
        and report.get("request_errors") == 0
        and report.get("completed") == report.get("requested", 0) > 0
        and report.get("duplicated") == 0
        and report.get("emails_duplicated") == 0
        and not leftovers
    )
    log("PASS" if healthy else "FAIL")
    return 0 if healthy else 1


def soak(args, copy, run):
    os.environ.update(RUN_DEFAULTS, VAR_DIR=str(copy / "var"))
    sys.path.insert(0, str(copy / "scripts"))
    import demo_activation

    demo_activation.setup()
    requested, request_errors, web_down = 0, 0, 0
    end = time.monotonic() + args.minutes * 60
    next_report = time.monotonic() + 60
    while time.monotonic() < end and run.process.poll() is None:
        tick = time.monotonic()
        try:
            demo_activation.request_one(f"soak-{requested + request_errors}")
            requested += 1
        except Exception as error:  # counted and reported: the soak goes on
            request_errors += 1
            log(f"request failed: {error!r}")
        if time.monotonic() >= next_report:
            next_report += 60
            if run.status() != 200:
                web_down += 1
            log(f"{demo_activation.tally()}, restarts so far: {restarts(run.output())}")
        time.sleep(max(0.0, args.every - (time.monotonic() - tick)))
    log(f"requests done ({requested}); waiting for the last ones to complete")
    drain_end = time.monotonic() + args.drain_minutes * 60
    while time.monotonic() < drain_end and run.process.poll() is None:
        tally = demo_activation.tally()
        if tally["pending"] == 0 and tally["completed"] == tally["notified"]:
            break
        time.sleep(2)
    tally = demo_activation.tally()
    output = run.output()
    emails = re.findall(r"/technical/(\d+)/product_support", output)
    quarantine = copy / "var" / "broker" / "quarantine"
    return {
        "minutes": args.minutes,
        "processes_ended": restarts(output),
        "make_run_died": run.process.poll() is not None,
        "web_checks_failed": web_down,
        "requested": tally["requested"],
        "request_errors": request_errors,
        "completed": tally["completed"],
        "failed": tally["failed"],
        "stuck": tally["pending"],
        "duplicated": tally["duplicated"],
        "emails": len(emails),
        "emails_duplicated": len(emails) - len(set(emails)),
        "tracebacks_in_log": output.count("Traceback (most recent call last)"),
        "files_quarantined": len(list(quarantine.iterdir())) if quarantine.exists() else 0,
    }


def restarts(output):
    """How many times scripts/respawn.py saw a process end."""
    return len(re.findall(r"respawn: .* \(pid \d+\) (?:exited with|was killed by)", output))


if __name__ == "__main__":
    sys.exit(main())
