"""The benchmarks in one run, on PostgreSQL and Redis: `make bench` (see BENCHMARKS.md).

1. A fresh database, grown to each dataset size in turn (bench/generate.py).
2. At each size, gunicorn serves the portal with production settings and wrk loads, in
   turns, the Technical benefits page as a signed-in Global admin and the bare `alive` view
   on the same server: requests per second and latency percentiles of both. At the largest
   size, the page again with its cache off: rendered for every visit; the page with its
   cache on, through PgBouncer in transaction pooling mode; and the Cases page.
3. Each process's peak resident memory: the gunicorn workers after the load at the largest
   size, the Celery workers after the drain.
4. The drain (bench/drain.py): 100,000 due activations, two Celery worker processes.

It writes bench/results/latest.json and the plot bench/results/page-latency.png, and prints
the tables BENCHMARKS.md shows.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
PAGE = "/dashboard/mpn/membership/benefits/technical"
# The costliest of the pages added since (issue 20): the company's cases, filterable.
CASES_PAGE = "/dashboard/cases"
BARE = "/alive"
PORT = 8765


def production_env(database_url, redis_url):
    """The settings a deployment behind a TLS-terminating proxy runs with."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benefits_portal.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_PROXY_SSL_HEADER": "true",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }


def recreate_database(database_url):
    import psycopg

    *server, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{server[0]}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def sign_in(email, password, code):
    """A real sign-in through allauth's forms, two-factor step included: the session cookie."""
    from django.test import Client

    client = Client(headers={"X-Forwarded-Proto": "https"})
    response = client.post("/accounts/login/", {"login": email, "password": password})
    if response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/":
        response = client.post(response["Location"], {"code": code})
    if response.status_code != 302:
        raise SystemExit(f"Signing in as {email} failed: {response.status_code}")
    return f"sessionid={client.cookies['sessionid'].value}"


def totp_code(secret):
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    return format_hotp_value(hotp_value(secret, next(iter(yield_hotp_counters_from_time()))))


class Gunicorn:
    def __init__(self, env, workers):
        self.workers = workers
        self.process = subprocess.Popen(
            [
                BIN / "gunicorn",
                "benefits_portal.wsgi",
                f"--bind=127.0.0.1:{PORT}",
                f"--workers={workers}",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=env,
        )

    def get(self, path, cookie=""):
        request = urllib.request.Request(
            f"http://127.0.0.1:{PORT}{path}",
            headers={"X-Forwarded-Proto": "https", "Cookie": cookie},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""

    def wait_until_up(self):
        for _ in range(100):
            try:
                if self.get(BARE)[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not start")

    def peak_rss_mib(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [peak_rss_mib(int(pid)) for pid in children.read_text().split()]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def peak_rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def wrk(path, cookie, seconds, connections):
    command = [
        "wrk",
        "--threads=1",
        f"--connections={connections}",
        f"--duration={seconds}s",
        f"--script={ROOT / 'bench' / 'report.lua'}",
        "--header=X-Forwarded-Proto: https",
        f"http://127.0.0.1:{PORT}{path}",
    ]
    if cookie:
        command.insert(-1, f"--header=Cookie: {cookie}")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    if figures["non_2xx_3xx"] or figures["socket_errors"]:
        raise SystemExit(f"wrk saw errors on {path}: {figures}")
    seconds = figures["duration_us"] / 1e6
    return {
        "requests": figures["requests"],
        "rps": round(figures["requests"] / seconds, 1),
        "seconds": round(seconds, 2),
        **{f"p{q}_ms": round(figures[f"p{q}_us"] / 1000, 2) for q in (50, 95, 99)},
    }


def measure(
    server, cookie, seconds, connections, rounds=4, signed_out=True, page=PAGE, shows="Access ID"
):
    """The page (`page`, whose HTML must contain `shows`), then the bare view with the same
    session cookie (the same work in the middleware: the session, the user, the two-factor
    check), then the bare view signed out.

    Page and bare view take turns, `rounds` times, so that a slow moment of this shared
    machine weighs on both: requests per second over all rounds, and of each percentile the
    median of the rounds' figures, which one slow moment doesn't move."""
    # The page must be the real one, signed in: a redirect to the sign-in page is fast too.
    status, html = server.get(page, cookie)
    if status != 200 or shows not in html:
        raise SystemExit(f"{page} answered {status}, not the page")
    for path, with_cookie in ((page, cookie), (BARE, cookie)):
        wrk(path, with_cookie, 3, connections)  # warm up: caches, connections, imports
    turns = {"page": [], "bare": []}
    for _ in range(rounds):
        turns["page"].append(wrk(page, cookie, seconds // rounds, connections))
        turns["bare"].append(wrk(BARE, cookie, seconds // rounds, connections))
    page, bare = combined(turns["page"]), combined(turns["bare"])
    figures = {"page": page, "bare": bare, "throughput_ratio": round(page["rps"] / bare["rps"], 3)}
    if signed_out:
        bare_signed_out = wrk(BARE, "", seconds // 2, connections)
        figures["bare_signed_out"] = bare_signed_out
        figures["throughput_ratio_signed_out"] = round(page["rps"] / bare_signed_out["rps"], 3)
    return figures


def combined(runs):
    return {
        "requests": sum(run["requests"] for run in runs),
        "rps": round(sum(run["requests"] for run in runs) / sum(run["seconds"] for run in runs), 1),
        "seconds": round(sum(run["seconds"] for run in runs), 2),
        **{
            f"p{q}_ms": round(statistics.median(run[f"p{q}_ms"] for run in runs), 2)
            for q in (50, 95, 99)
        },
        "rounds": runs,
    }


def page_rendered_every_time(env, args, cookie):
    """The page at the largest size with its cache off (entitlements.benefits_cache), taking
    turns with the bare view on the same server: what a visit costs after any change to the
    company's benefits."""
    server = Gunicorn({**env, "TECHNICAL_BENEFITS_CACHE_SECONDS": "0"}, args.workers)
    try:
        server.wait_until_up()
        return measure(server, cookie, args.seconds // 2, args.connections, signed_out=False)
    finally:
        server.stop()


def page_through_pgbouncer(env, args, cookie):
    """The page at the largest size with its cache on, through PgBouncer in transaction
    pooling mode (scripts/pgbouncer.py), taking turns with the bare view on the same server:
    a production deployment behind a pooler. wrk stops the run on any error or non-2xx."""
    from scripts import pgbouncer

    if not pgbouncer.installed():
        raise SystemExit("PgBouncer is not installed: apt-get install pgbouncer")
    with pgbouncer.pooled(env["DATABASE_URL"], pool_size=args.workers) as url:
        server = Gunicorn(
            {**env, "DATABASE_URL": url, "DISABLE_SERVER_SIDE_CURSORS": "true"}, args.workers
        )
        try:
            server.wait_until_up()
            return measure(server, cookie, args.seconds // 2, args.connections, signed_out=False)
        finally:
            server.stop()


def dataset_counts():
    from django.db.models import Count

    from accounts.models import User
    from activation.models import ActivationRequest
    from entitlements.models import MembershipOffer, Partner

    return {
        "partners": Partner.objects.count(),
        "users": User.objects.count(),
        "offers": MembershipOffer.objects.count(),
        "activation_requests": ActivationRequest.objects.count(),
        "activation_requests_by_state": dict(
            ActivationRequest.objects.values_list("state").annotate(n=Count("pk")).order_by()
        ),
    }


def plot(runs, uncached, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [run["dataset"]["partners"] for run in runs]
    figure, axes = plt.subplots(figsize=(9.5, 4.2), dpi=120)
    for q, style in ((50, "o-"), (95, "s-"), (99, "^-")):
        axes.plot(sizes, [run["page"][f"p{q}_ms"] for run in runs], style, label=f"page p{q}")
    axes.plot(
        sizes, [run["bare"]["p95_ms"] for run in runs], "x--", label="bare view p95, same session"
    )
    axes.plot(
        sizes,
        [run["bare_signed_out"]["p95_ms"] for run in runs],
        "+:",
        label="bare view p95, signed out",
    )
    axes.plot(
        [sizes[-1]],
        [uncached["page"]["p95_ms"]],
        "D",
        color="grey",
        label="page p95, cache off (rendered each visit)",
    )
    axes.set_xscale("log")
    axes.set_ylim(bottom=0)
    axes.set_xlabel("partners in the database (5 users, 3 offers, 2 activations each)")
    axes.set_ylabel("latency (ms)")
    axes.set_title("Technical benefits page, signed-in Global admin")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    figure.tight_layout()
    figure.savefig(path)


def goals(result):
    """Issue 20's bars, each beside this run's figure: a list of {what, figure, bar, met}."""
    first, last = result["runs"][0], result["runs"][-1]
    uncached, pooled = result["page_rendered_every_time"], result["page_through_pgbouncer"]
    growth = last["page"]["p95_ms"] / first["page"]["p95_ms"]
    through_pooler = pooled["page"]["rps"] / last["page"]["rps"]
    found = [
        (
            "Page, cached, vs the bare view",
            f"{last['throughput_ratio']:.0%}",
            "at least 55%",
            last["throughput_ratio"] >= 0.55,
        ),
        (
            "Page rendered every time (cache off) vs the bare view",
            f"{uncached['throughput_ratio']:.0%}",
            "at least 40%",
            uncached["throughput_ratio"] >= 0.4,
        ),
        (
            f"Page p95 at {last['dataset']['partners']:,} partners vs "
            f"{first['dataset']['partners']:,}",
            f"{growth:.2f}×",
            "at most 1.2×",
            growth <= 1.2,
        ),
        (
            "Page through PgBouncer vs direct, req/s",
            f"{through_pooler:.0%}",
            "90% to 110%",
            0.9 <= through_pooler <= 1.1,
        ),
    ]
    if "drain" in result:
        drain = result["drain"]
        found += [
            (
                "Activations drained vs a bare UPDATE",
                f"{drain['ratio']:.2%}",
                "at least 10%",
                drain["ratio"] >= 0.1,
            ),
            (
                "Activation emails sent per second",
                f"{drain['notices_per_s']}",
                "at least 1,000",
                (drain["notices_per_s"] or 0) >= 1000,
            ),
        ]
    return [
        {"what": what, "figure": figure, "bar": bar, "met": met} for what, figure, bar, met in found
    ]


def tables(result):
    lines = [
        "| partners | users | offers | activations | page req/s | p50 | p95 | p99 "
        "| bare req/s | p50 | p95 | p99 | page/bare | bare signed out req/s | page/that |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in result["runs"]:
        d, page, bare = run["dataset"], run["page"], run["bare"]
        lines.append(
            f"| {d['partners']:,} | {d['users']:,} | {d['offers']:,} "
            f"| {d['activation_requests']:,} | {page['rps']} | {page['p50_ms']} ms "
            f"| {page['p95_ms']} ms | {page['p99_ms']} ms | {bare['rps']} | {bare['p50_ms']} ms "
            f"| {bare['p95_ms']} ms | {bare['p99_ms']} ms | {run['throughput_ratio']:.0%} "
            f"| {run['bare_signed_out']['rps']} | {run['throughput_ratio_signed_out']:.0%} |"
        )
    lines += ["", "Goals (issue 20):"]
    lines += [
        f"- {goal['what']}: {goal['figure']} (goal: {goal['bar']}): "
        f"{'met' if goal['met'] else 'NOT met'}."
        for goal in result["goals"]
    ]
    lines += [
        f"- The page rendered every time (its cache off) at the largest size: "
        f"{result['page_rendered_every_time']['page']['rps']} req/s, p95 "
        f"{result['page_rendered_every_time']['page']['p95_ms']} ms.",
        f"- Through PgBouncer (transaction pooling, cache on) at the largest size: "
        f"{result['page_through_pgbouncer']['page']['rps']} req/s, p95 "
        f"{result['page_through_pgbouncer']['page']['p95_ms']} ms; no error.",
        f"- The Cases page at the largest size: {result['cases_page']['page']['rps']} req/s, "
        f"p95 {result['cases_page']['page']['p95_ms']} ms; "
        f"{result['cases_page']['throughput_ratio']:.0%} of the bare view's req/s.",
        f"- Peak RSS of the gunicorn workers: {result['peak_rss_mib']['gunicorn_workers']} MiB.",
    ]
    if "drain" in result:
        lines.append(f"- Drain: {json.dumps(result['drain'])}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/portal_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--sizes", default="100,1000,10000,100000")
    parser.add_argument("--seconds", type=int, default=40, help="of load, per view and size")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=6)
    parser.add_argument("--drain", type=int, default=100_000, help="activations; 0: skip")
    parser.add_argument(
        "--notice-timeout", type=int, default=120, help="seconds to wait for the drain's emails"
    )
    args = parser.parse_args()
    if args.seconds < 8:
        parser.error("--seconds must be at least 8: four rounds of each view, half at the end")
    sizes = [int(size) for size in args.sizes.split(",")]

    env = production_env(args.database_url, args.redis_url)
    os.environ.update(env)
    recreate_database(args.database_url)
    manage = [BIN / "python", "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    from bench import generate

    admin = generate.make_bench_company()
    cookie = sign_in(admin.email, generate.PASSWORD, totp_code(generate.TOTP_SECRET))

    server = Gunicorn(env, args.workers)
    runs = []
    try:
        server.wait_until_up()
        for size in sizes:
            started = time.monotonic()
            added = generate.grow(size)
            generate.settle()
            generated_in = round(time.monotonic() - started, 1)
            print(f"{size:,} partners ({added:,} added in {generated_in} s); loading…")
            run = {"dataset": dataset_counts(), "generated_seconds": generated_in}
            run.update(measure(server, cookie, args.seconds, args.connections))
            print(
                f"  page {run['page']['rps']} req/s p95 {run['page']['p95_ms']} ms; "
                f"bare {run['bare']['rps']} req/s p95 {run['bare']['p95_ms']} ms"
            )
            runs.append(run)
        cases_page = measure(
            server,
            cookie,
            args.seconds // 2,
            args.connections,
            signed_out=False,
            page=CASES_PAGE,
            shows="Cluster upgrade question",
        )
        gunicorn_rss = server.peak_rss_mib()
    finally:
        server.stop()
    uncached = page_rendered_every_time(env, args, cookie)
    pooled = page_through_pgbouncer(env, args, cookie)

    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "server": {"gunicorn_workers": args.workers, "wrk_connections": args.connections},
        "seconds_per_measurement": args.seconds,
        "runs": runs,
        "page_rendered_every_time": uncached,
        "page_through_pgbouncer": pooled,
        "cases_page": cases_page,
        "peak_rss_mib": {"gunicorn_workers": gunicorn_rss},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(runs, uncached, RESULTS / "page-latency.png")
    # Written now too, so that a failed drain keeps the page's figures beside their plot.
    result["goals"] = goals(result)
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2) + "\n")

    if args.drain:
        drain_out = RESULTS / "drain.json"
        subprocess.run(
            [
                BIN / "python",
                ROOT / "bench" / "drain.py",
                f"--database-url={args.database_url}",
                f"--redis-url={args.redis_url}",
                f"--count={args.drain}",
                f"--out={drain_out}",
                f"--notice-timeout={args.notice_timeout}",
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        result["drain"] = json.loads(drain_out.read_text())

    result["goals"] = goals(result)
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(tables(result))


if __name__ == "__main__":
    main()
