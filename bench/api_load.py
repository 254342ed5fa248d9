"""The HTTP API under concurrent load: wrk against a real `relos serve` on loopback.

For each database (SQLite in WAL mode; PostgreSQL, a throwaway server started here), a fresh
database is prepared (reference data and users, bench/world.py), an API token is created with
`relos token create` for IND's ordering officer (scopes read and write), and `relos serve
--workers 2` (one uvicorn worker process per core) is started on 127.0.0.1. Then, one after the
other, for a fixed time each, `ROUNDS` times in turn (the median run is reported):

- writes: every connection drafts new orders (``POST /orders``, a new Idempotency-Key each);
- reads: every connection reads the balances (``GET /ledger/balances``) of the book the
  writes filled.

The load generator is wrk (Debian's, installed here with apt-get when missing; its script is
bench/load.lua): one thread keeping `connections` connections busy, each sending its next
request as soon as the last is answered. It runs on the same 2-core machine as the server and
takes CPU from it, but little: its CPU per request is measured and shown beside the server's
(decision 94 says why wrk and not locust). All traffic stays on 127.0.0.1; every run is bounded
by its duration and stops by itself.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import world

SCRIPT = Path(__file__).resolve().parent / "load.lua"
ORDERING_OFFICER = "Cdr Arjun Mehta"  # IND's ordering officer in the demo's users
#: server worker processes: one per core of the 2-core bench machine
WORKERS = 2
#: requests each worker works on at once (`relos serve --threads`, its default); each worker
#: acts on one write at a time whatever this is (decisions 90 and 91)
THREADS = 4
#: each load runs this many times (writes, reads, writes, ...): one run of 10 s on this shared
#: machine may be half as fast as the one before (2026-11-28: 500 to 1,300 writes/s on SQLite
#: within two minutes), so the median run is reported, the others beside it
ROUNDS = 5


def ensure_wrk() -> str | None:
    """Install Debian's wrk if missing; a reason when it cannot be had."""
    problems = world.apt_install({"wrk": "wrk"})
    return problems[0] if problems else None


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


#: the order every write drafts (IND's frigate at Vladivostok), sent to wrk as BENCH_ORDER
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

    Plain urllib, one request at a time."""
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


def _children_cpu_seconds() -> float:
    """CPU time (user + system) of this process's waited-for children so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _wrk(port: int, token: str, scenario: str, connections: int, seconds: int) -> dict[str, Any]:
    """One run of one load; its figures as wrk's script (bench/load.lua) prints them."""
    env = {
        **os.environ,
        "BENCH_TOKEN": token,
        "BENCH_SCENARIO": scenario,
        "BENCH_ORDER": json.dumps(ORDER),
        "BENCH_RUN": f"bench-{uuid.uuid4().hex[:12]}",
    }
    cmd = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "60s"]
    before = _children_cpu_seconds()
    done = subprocess.run(
        [*cmd, "-s", str(SCRIPT), f"http://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=seconds + 60,
    )
    spent = _children_cpu_seconds() - before
    said: dict[str, str] = {}
    for line in done.stdout.splitlines():
        if line.startswith("bench "):
            name, _, value = line.removeprefix("bench ").partition(" ")
            said[name] = value.strip()
    if done.returncode != 0 or "requests" not in said:
        return {"error": f"wrk failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"}
    requests = int(said["requests"])
    if requests == 0:
        return {"error": f"wrk got no answer in {seconds} s: {done.stderr.strip()[-300:]}"}
    return {
        "connections": connections,
        "seconds": seconds,
        "requests": requests,
        "failures": int(said["failures"]) + int(said["socket_errors"]),
        "rps": requests / (int(said["microseconds"]) / 1e6),
        "p50_ms": int(said["p50_us"]) / 1000,
        "p99_ms": int(said["p99_us"]) / 1000,
        "first_failure": said.get("first_failure", "").strip(),
        "load_cpu_ms": 1000 * spent / requests,
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
    connections: int,
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
                run = _wrk(port, token, scenario, connections, seconds)
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
    work: Path, connections: int = 20, seconds: int = 10, postgresql: bool = True
) -> dict[str, Any]:
    problem = ensure_wrk()
    if problem:
        return {"not_measured": problem}
    out: dict[str, Any] = {}
    (work / "sqlite").mkdir(exist_ok=True)
    out["sqlite"] = measure_one(
        world.sqlite_url(work / "sqlite" / "api.db"), work / "sqlite", connections, seconds
    )
    if postgresql:
        (work / "postgresql").mkdir(exist_ok=True)
        try:
            with world.postgresql() as server:
                out["postgresql"] = measure_one(
                    world.new_database(server), work / "postgresql", connections, seconds
                )
        except (RuntimeError, subprocess.CalledProcessError) as e:
            out["postgresql"] = {"error": f"PostgreSQL could not be started: {e}"}
    return out


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        print(json.dumps(measure(Path(d), seconds=10), indent=2))
