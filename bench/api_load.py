"""The HTTP API under concurrent load: locust (headless) against a real `relos serve` on loopback.

For each database (SQLite in WAL mode; PostgreSQL, a throwaway server started here), a fresh
database is prepared (reference data and users, bench/world.py), an API token is created with
`relos token create` for IND's ordering officer (scopes read and write), and `relos serve
--workers 2` (one uvicorn worker process per core) is started on 127.0.0.1. Then, one after the
other, for a fixed time each, `ROUNDS` times in turn (the median run is reported):

- writes: every locust user drafts new orders (``POST /orders``, a new Idempotency-Key each);
- reads: every locust user reads the balances (``GET /ledger/balances``) of the book the
  writes filled.

Locust runs in its own process on the same 2-core machine as the server (it takes CPU from it;
the figures are what this one machine does, load generator included). All traffic stays on
127.0.0.1; every run is bounded by its duration and stops by itself.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import world

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
ORDERING_OFFICER = "Cdr Arjun Mehta"  # IND's ordering officer in the demo's users
#: server worker processes: one per core of the 2-core bench machine
WORKERS = 2
#: requests each worker works on at once (`relos serve --threads`, its default); each worker
#: acts on one write at a time whatever this is (decisions 90 and 91)
THREADS = 4
#: each load runs this many times (writes, reads, writes, ...): one run of 10 s varies by about
#: ±10 % on this shared machine, so the median run is reported, the others beside it
ROUNDS = 3


def ensure_locust() -> str | None:
    """Install locust into the venv if missing; a reason when it cannot be had."""
    if world.run([world.PYTHON, "-c", "import locust"]).code == 0:
        return None
    done = subprocess.run(
        [world.PYTHON, "-m", "pip", "install", "-q", "locust"], capture_output=True, text=True
    )
    return None if done.returncode == 0 else f"pip install locust failed: {done.stderr[-300:]}"


def _wait_up(port: int, seconds: float = 90) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/docs", timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


#: the order every write drafts (IND's frigate at Vladivostok), sent to locust as BENCH_ORDER
ORDER: dict[str, Any] = {
    "agreement": "RELOS",
    "supplying": "RUS",
    "facility": "RUVVO",
    "unit": "INS-TABAR",
    "method": "cash",
    "use": "port_call",
    "required_by": "2026-12-20",
    "lines": [
        {"item": "RU-WATER-M3", "quantity": "250"},
        {"item": "RU-RATION-CD", "quantity": "900"},
    ],
    "data": {
        "point_of_contact": "Supply officer, INS Tabar (F44)",
        "delivery_location": "Vladivostok, berth 3",
        "purpose": "port call (load test)",
    },
}


def _warm_up(port: int, token: str, rounds: int) -> str | None:
    """Writes and reads before the clock starts (first calls compile and import), `rounds` of
    each so that every worker process is likely to have had its first requests.

    Plain urllib: importing locust here would monkey-patch this process (gevent), whose
    child-process handling the harness relies on."""
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for i in range(rounds):
        for path, body, extra in (
            ("/orders", json.dumps(ORDER).encode(), {"Idempotency-Key": f"bench-warm-up-{i}"}),
            ("/ledger/balances", None, {}),
        ):
            req = urllib.request.Request(base + path, data=body, headers={**auth, **extra})
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    if r.status >= 300:
                        return f"warm-up {path}: HTTP {r.status}"
            except OSError as e:
                return f"warm-up {path}: {e}"
    return None


def _locust(
    port: int, token: str, scenario: str, users: int, seconds: int, work: Path
) -> dict[str, Any]:
    prefix = work / f"locust-{scenario}"
    env_extra = {
        "BENCH_TOKEN": token,
        "BENCH_SCENARIO": scenario,
        "BENCH_ORDER": json.dumps(ORDER),
    }
    cmd = [
        str(world.BIN / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{seconds}s",
        "--stop-timeout",
        "5",
        "--host",
        f"http://127.0.0.1:{port}",
        "--csv",
        str(prefix),
        "--loglevel",
        "WARNING",
    ]
    env = {**os.environ, **env_extra}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds + 60)
    stats = prefix.with_name(prefix.name + "_stats.csv")
    if not stats.exists():
        return {"error": f"locust wrote no stats (exit {done.returncode}): {done.stderr[-300:]}"}
    with stats.open() as f:
        rows = {r["Name"]: r for r in csv.DictReader(f)}
    agg = rows.get("Aggregated")
    if agg is None:
        return {"error": "no aggregated row in locust stats"}
    failures = work / f"locust-{scenario}_failures.csv"
    first_failure = ""
    if failures.exists():
        with failures.open() as f:
            for r in csv.DictReader(f):
                first_failure = f"{r.get('Error', '')}"[:200]
                break
    return {
        "users": users,
        "seconds": seconds,
        "requests": int(agg["Request Count"]),
        "failures": int(agg["Failure Count"]),
        "rps": float(agg["Requests/s"]),
        "p50_ms": float(agg["50%"]),
        "p99_ms": float(agg["99%"]),
        "first_failure": first_failure,
    }


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children so far, from /proc: the server's
    supervisor and its worker processes. 0 where /proc cannot say (not Linux)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    pending = [pid]
    while pending:
        p = pending.pop()
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:  # ended meanwhile, or no /proc
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        pending += [int(c) for c in children]
    return total


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median throughput (its own latencies with it), with every run's req/s
    beside it; the first failed run's error if one failed."""
    failed = [r for r in runs if "error" in r]
    if failed:
        return failed[0]
    ordered = sorted(runs, key=lambda r: r["rps"])
    return {
        **ordered[len(ordered) // 2],
        "runs_rps": [r["rps"] for r in runs],
        "runs_p99_ms": [r["p99_ms"] for r in runs],
    }


def measure_one(
    url: str,
    work: Path,
    users: int,
    seconds: int,
    workers: int = WORKERS,
    rounds: int = ROUNDS,
) -> dict[str, Any]:
    world.prepare(url)
    r = world.relos(
        [
            "token",
            "create",
            "--user",
            ORDERING_OFFICER,
            "--name",
            "bench",
            "--scope",
            "read",
            "--scope",
            "write",
            "--json",
        ],
        url,
    )
    if r.code != 0:
        return {"error": f"relos token create failed: {r.err[-300:]}"}
    token = json.loads(r.out)["token"]
    port = world.free_port()
    env = {**os.environ, "RELOS_DATABASE_URL": url}
    log = (work / f"serve-{port}.log").open("w")
    server = subprocess.Popen(
        [
            world.RELOS,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--threads",
            str(THREADS),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        if not _wait_up(port):
            return {"error": "relos serve did not answer within 90 s"}
        warm = _warm_up(port, token, rounds=4 * workers)
        if warm:
            return {"error": warm}
        runs: dict[str, list[dict[str, Any]]] = {"writes": [], "reads": []}
        for _ in range(rounds):
            for scenario, seen in runs.items():
                before = _cpu_seconds(server.pid)
                run = _locust(port, token, scenario, users, seconds, work)
                if run.get("requests"):
                    # what a request costs the server, whatever the load generator took
                    spent = _cpu_seconds(server.pid) - before
                    run["server_cpu_ms"] = 1000 * spent / run["requests"]
                seen.append(run)
        return {
            "server": f"relos serve --workers {workers} --threads {THREADS} (uvicorn, {workers} "
            f"worker processes, each working on {THREADS} requests at once, one write at a time)",
            "rounds": rounds,
            "writes": median_run(runs["writes"]),
            "reads": median_run(runs["reads"]),
        }
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def measure(
    work: Path, users: int = 20, seconds: int = 10, postgresql: bool = True
) -> dict[str, Any]:
    problem = ensure_locust()
    if problem:
        return {"not_measured": problem}
    out: dict[str, Any] = {}
    (work / "sqlite").mkdir(exist_ok=True)
    out["sqlite"] = measure_one(
        world.sqlite_url(work / "sqlite" / "api.db"), work / "sqlite", users, seconds
    )
    if postgresql:
        (work / "postgresql").mkdir(exist_ok=True)
        try:
            with world.postgresql() as server:
                out["postgresql"] = measure_one(
                    world.new_database(server), work / "postgresql", users, seconds
                )
        except (RuntimeError, subprocess.CalledProcessError) as e:
            out["postgresql"] = {"error": f"PostgreSQL could not be started: {e}"}
    return out


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        print(json.dumps(measure(Path(d), seconds=10), indent=2))
