"""The relos benchmark harness: every section in one run, figures and ratios, docs/benchmarks.md.

Sections (each runnable alone with ``--only``):

1. ``import``: bulk import of N generated order lines (bench/dataset.py) with their receipts and
   invoices through ``relos import orders`` on SQLite: lines/s and peak memory, and the ratio to
   the raw limit (the same rows into the same tables with plain executemany, bench/raw_insert.py).
2. ``balances``: balances and aging at scale, today and as of a past date: bench/balances.py (on
   SQLite and PostgreSQL), and the balances and obligations of the books the import wrote, on
   SQLite and on PostgreSQL (the same books copied there, bench/pg_books.py).
3. ``peers``: the same books in Beancount, hledger and ledger-cli (bench/peers.py): each tool's
   load-and-balance time against relos's import-and-balance and balance-only times.
4. ``api``: order creation and balance reads under wrk over loopback, SQLite and PostgreSQL
   (bench/api_load.py): throughput, p50 and p99 latency.
5. ``scale``: the voyage planner (bench/planner.py) and reconciliation of a signed statement of
   ``--statement-lines`` lines (1M): books of as many RELOS orders between India and Russia, one
   line each, imported for it (export, then match).

Run: ``make bench`` (everything, N = 10k, 100k, 1M), or e.g.
``.venv/bin/python bench/run.py --only import --sizes 10000``. Results are kept in
docs/benchmarks/results.json (a section run alone replaces only its own results) and
docs/benchmarks.md with its plots (docs/benchmarks/*.png) is written from them every time.
A section whose dependency is missing says "not measured" and why; no figure is ever made up.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dataset
import raw_insert
import world

SECTIONS = ("import", "balances", "peers", "api", "scale")
DOC = world.ROOT / "docs" / "benchmarks.md"
FIGURES = world.ROOT / "docs" / "benchmarks"
RESULTS = FIGURES / "results.json"
BENCH = world.ROOT / "bench"

IMPORTER = "Capt Vikram Rao"  # IND's party admin in the demo's users
PAST = date(2026, 6, 30)  # "as of a past date": the middle of the generated year

#: what the generated books hold (bench/dataset.py): every agreement with 1-6 lines an order,
#: or the statement's books: RELOS orders between India and Russia of one line each, so that N
#: lines are N orders the two parties share, N lines of their statement
MIXES: dict[str, tuple[frozenset[str] | None, int]] = {
    "all": (None, 6),
    "statement": (frozenset({"RELOS"}), 1),
}

TARGETS = {
    "import_lines_per_s": 100_000,
    "import_raw_ratio": 0.25,
    "balances_ms": 20,
    "api_writes_per_s": 1_000,
    "api_p99_ms": 50,
    "memory_growth": 1.5,  # peak memory at the largest N / at the smallest: "flat"
}


class Context:
    """What sections share within one run: sizes, the work folder, imported databases."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.sizes: list[int] = args.sizes
        self.work = work
        self._baseline: Path | None = None
        self.imports: dict[str, dict[str, Any]] = {}

    def baseline(self) -> Path:
        """A prepared SQLite database (reference data and users, no orders)."""
        if self._baseline is None:
            path = self.work / "baseline.db"
            if not path.exists():
                world.prepare(world.sqlite_url(path))
            else:  # kept (--keep) from an earlier run: migrated to this code's schema
                world.upgrade(world.sqlite_url(path))
            with sqlite3.connect(path) as db:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._baseline = path
        return self._baseline

    def csv_path(self, n: int, mix: str = "all") -> Path:
        """Where the generated file of N lines of a mix is (made by `imported`)."""
        return self.work / (f"orders-{n}.csv" if mix == "all" else f"{mix}-{n}.csv")

    def imported(self, n: int, mix: str = "all") -> dict[str, Any]:
        """Generate N lines of a mix (`MIXES`) and import them into a fresh copy of the
        baseline (once per run)."""
        key = f"{mix}-{n}"
        if key in self.imports:
            return self.imports[key]
        stem = f"import-{n}" if mix == "all" else f"{mix}-{n}"
        kept = self.work / f"{stem}-seed{self.args.seed}.json"
        if self.args.keep is not None and kept.exists():  # an earlier run's import, kept
            self.imports[key] = {**json.loads(kept.read_text(encoding="utf-8")), "reused": True}
            return self.imports[key]
        csv_path = self.csv_path(n, mix)
        agreements, max_lines = MIXES[mix]
        t0 = time.perf_counter()
        stats = dataset.generate(csv_path, n, self.args.seed, agreements, max_lines)
        generated_s = time.perf_counter() - t0
        db = self.work / f"{stem}.db"
        for leftover in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            leftover.unlink(missing_ok=True)  # an interrupted run's log would replay into it
        shutil.copyfile(self.baseline(), db)
        url = world.sqlite_url(db)
        r = world.relos(["import", "orders", str(csv_path), "--as", IMPORTER, "--json"], url)
        out: dict[str, Any] = {
            "lines": n,
            "mix": mix,
            "orders": stats["orders"],
            "received_lines": stats["received_lines"],
            "invoiced_orders": stats["invoiced_orders"],
            "generate_s": generated_s,
            "csv_mb": csv_path.stat().st_size / 2**20,
            "db": str(db),
            "url": url,
        }
        if r.code != 0:
            out["error"] = f"relos import exited {r.code}: {(r.err or r.out).strip()[-500:]}"
        else:
            out.update(
                seconds=r.seconds,
                lines_per_s=n / r.seconds,
                peak_mb=r.peak_mb,
                tree_peak_mb=r.tree_peak_mb,
            )
            try:
                out["summary"] = json.loads(r.out)
            except json.JSONDecodeError:
                out["summary"] = r.out.strip()[-300:]
        self.imports[key] = out
        if self.args.keep is not None and "error" not in out:
            kept.write_text(json.dumps(out, default=str), encoding="utf-8")
        return out

    @contextmanager
    def books_copy(self, got: dict[str, Any], where: Path) -> Iterator[str]:
        """A throwaway copy of the imported books in `where` (its URL), deleted afterwards: what
        a section that writes (keys, statements' audit trail, reconciliation runs) works on, so
        the kept books stay as the import left them for the next run that reuses them."""
        db = Path(got["db"])
        copy = where / f"{db.stem}-copy.db"
        shutil.copyfile(db, copy)
        wal = db.with_name(db.name + "-wal")  # what a write-ahead log holds goes along
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        try:
            yield world.sqlite_url(copy)
        finally:
            for leftover in (copy, *where.glob(f"{copy.name}-*")):
                leftover.unlink(missing_ok=True)


def _missing_import() -> str | None:
    if not world.has_command("import", "orders"):
        return "`relos import orders` is not on this branch (helper E1's he1 not merged yet)"
    return None


def _books(ctx: Context, n: int, mix: str = "all") -> tuple[dict[str, Any] | None, str | None]:
    """(the import of N lines, None), or (None, why there is none): what sections 2, 3 and 5
    measure on."""
    why = _missing_import()
    if why:
        return None, why
    got = ctx.imported(n, mix)
    if "error" in got:
        return None, str(got["error"])
    return got, None


# 1. import ---------------------------------------------------------------------------------


def section_import(ctx: Context) -> dict[str, Any]:
    why = _missing_import()
    if why:
        return {"not_measured": why}
    rows = []
    for n in ctx.sizes:
        got = dict(ctx.imported(n))
        print(f"  import {n:>9,} lines: ", end="", flush=True)
        if "error" in got:
            print(got["error"])
            rows.append(got)
            continue
        raw = raw_insert.sqlite_limit(Path(got["db"]), ctx.baseline(), ctx.work)
        _against_raw(got, raw)
        print(
            f"{got['seconds']:.2f} s, {got['lines_per_s']:,.0f} lines/s, "
            f"peak {got['peak_mb']:.0f} MB ({got.get('tree_peak_mb', 0):.0f} MB with its"
            f" workers); raw executemany of the same {raw['rows']:,} rows: "
            f"{raw['seconds']:.2f} s ({got['raw_lines_per_s']:,.0f} lines/s); "
            f"ratio {got['raw_ratio']:.1%}"
        )
        rows.append(got)
    out: dict[str, Any] = {"engine": "sqlite", "sizes": ctx.sizes, "rows": rows}
    if ctx.args.no_postgresql:
        out["postgresql"] = {"not_measured": "--no-postgresql"}
    else:
        out["postgresql"] = import_postgresql(ctx, [r for r in rows if "error" not in r])
    return out


def _against_raw(row: dict[str, Any], raw: dict[str, Any]) -> None:
    """Add to an import's figures the raw insert of its rows and the ratio of the two."""
    row["raw"] = raw
    row["raw_lines_per_s"] = row["lines"] / raw["seconds"]
    row["raw_ratio"] = row["lines_per_s"] / row["raw_lines_per_s"]


def import_postgresql(ctx: Context, imported: list[dict[str, Any]]) -> dict[str, Any]:
    """The same files imported into PostgreSQL databases holding the same reference data and
    users (the SQLite baseline, copied: bench/pg_books.py), and the raw limit there: the rows
    of the SQLite import copied with COPY into another such database."""
    import pg_books

    rows = []
    with world.postgresql() as server:
        for got in imported:
            n = got["lines"]
            print(f"  postgresql import {n:>9,} lines: ", end="", flush=True)
            url, _ = pg_books.copy(ctx.baseline(), server)
            csv_path = ctx.csv_path(n)
            r = world.relos(["import", "orders", str(csv_path), "--as", IMPORTER, "--json"], url)
            row: dict[str, Any] = {"lines": n, "orders": got["orders"]}
            if r.code != 0:
                row["error"] = f"relos import exited {r.code}: {(r.err or r.out).strip()[-500:]}"
                print(row["error"])
                rows.append(row)
                continue
            row.update(seconds=r.seconds, lines_per_s=n / r.seconds, peak_mb=r.peak_mb)
            row["tree_peak_mb"] = r.tree_peak_mb
            raw_url, _ = pg_books.copy(ctx.baseline(), server)
            raw = raw_insert.postgresql_limit(Path(got["db"]), ctx.baseline(), raw_url)
            _against_raw(row, raw)
            print(
                f"{row['seconds']:.2f} s, {row['lines_per_s']:,.0f} lines/s, peak "
                f"{row['peak_mb']:.0f} MB; raw COPY of the same {raw['rows']:,} rows: "
                f"{raw['seconds']:.2f} s ({row['raw_lines_per_s']:,.0f} lines/s); "
                f"ratio {row['raw_ratio']:.1%}"
            )
            rows.append(row)
    return {"engine": "postgresql", "rows": rows}


# 2. balances -------------------------------------------------------------------------------


def _median_ms(fn: Callable[[], object], repeat: int = 7) -> float:
    fn()  # warm: the first call opens the database and compiles statements
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def imported_balances(url: str) -> dict[str, Any]:
    """Balances (today, as of PAST), the whole obligations listing, its first page (100 rows,
    as the API gives it) and the aging buckets (today, as of PAST) of imported books, in
    process."""
    from relos.config import Settings
    from relos.services import database, reports

    uow = database.unit_of_work(Settings(database_url=url))
    today = date.today()
    out: dict[str, Any] = {
        "balance_rows": len(reports.balances(uow, None, None)),
        "balances_now_ms": _median_ms(lambda: reports.balances(uow, None, None)),
        "balances_past_ms": _median_ms(lambda: reports.balances(uow, None, PAST)),
        "obligations_page_ms": _median_ms(lambda: reports.obligations(uow, today, limit=100)),
        "aging_now_ms": _median_ms(lambda: reports.aging(uow, today)),
        "aging_past_ms": _median_ms(lambda: reports.aging(uow, PAST)),
        "aging_rows": len(reports.aging(uow, today)),
    }
    # the whole listing (every open obligation, a minute on PostgreSQL at 1M lines) is timed
    # once per day, on the connection the calls above warmed
    for key, day in (("obligations_now_ms", today), ("obligations_past_ms", PAST)):
        t0 = time.perf_counter()
        rows = reports.obligations(uow, day)
        out[key] = (time.perf_counter() - t0) * 1000
        if day == today:
            out["obligations"] = len(rows)
    return out


def settled_since(db: Path, orders: int) -> dict[str, Any]:
    """Aging and the listing's first page as of PAST when `orders` of the orders invoiced by
    PAST were paid in full after it (books are mostly settled; decisions 62 and 65): on a copy
    of the imported books, each payment recorded as a finance officer records it
    (`ordering.settle`, one unit of work each), then timed in process as above."""
    from datetime import timedelta

    from relos.config import Settings
    from relos.domain.money import from_minor
    from relos.domain.users import Role
    from relos.services import database, ordering, reports
    from relos.services.demo import USERS

    copy = db.with_name(db.stem + "-settled.db")
    for leftover in (copy, copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")):
        leftover.unlink(missing_ok=True)
    with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)  # the WAL's pages too
    url = world.sqlite_url(copy)
    with sqlite3.connect(copy) as c:
        open_cash = c.execute(
            "SELECT order_number, commodity, outstanding_minor, creditor FROM order_debts"
            " WHERE invoiced_on <= ? AND method = 'cash' ORDER BY order_number",
            (PAST.isoformat(),),
        ).fetchall()
    chosen: dict[str, tuple[str, int, str]] = {}
    for number, commodity, minor, creditor in open_cash:
        chosen.setdefault(number, (commodity, minor, creditor))
    numbers = sorted(chosen)
    step = max(1, len(numbers) // max(1, orders))
    picked = numbers[::step][:orders]
    settings = Settings(database_url=url)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    for k, number in enumerate(picked):
        commodity, minor, creditor = chosen[number]
        ordering.settle(
            database.unit_of_work(settings),
            USERS[creditor][Role.FINANCE_OFFICER],
            number,
            from_minor(minor, commodity),
            commodity=commodity,
            on=PAST + timedelta(days=1 + k % 120),
            at=at,
        )
    settle_s = time.perf_counter() - t0
    uow = database.unit_of_work(settings, read_only=True)
    out = {
        "orders": len(picked),
        "settle_s": settle_s,
        "aging_past_ms": _median_ms(lambda: reports.aging(uow, PAST)),
        "obligations_page_past_ms": _median_ms(lambda: reports.obligations(uow, PAST, limit=100)),
        "aging_now_ms": _median_ms(lambda: reports.aging(uow, date.today())),
    }
    copy.unlink()
    for wal in (copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")):
        wal.unlink(missing_ok=True)
    return out


def _count_postings(db: str) -> int:
    with sqlite3.connect(db) as c:
        return int(c.execute("SELECT count(*) FROM postings").fetchone()[0])


def section_balances(ctx: Context) -> dict[str, Any]:
    out: dict[str, Any] = {}
    script = BENCH / "balances.py"
    if not script.exists():
        out["balances_py"] = {
            "not_measured": "bench/balances.py is not on this branch (helper D's hd not merged)"
        }
    else:
        # bench/balances.py (helper D's) fills its own ledger of N postings on SQLite and, given
        # a PostgreSQL server's URL, on a database it creates there; it prints its own figures
        cmd = [world.PYTHON, str(script), "--postings", str(ctx.args.balances_postings)]
        runs: dict[str, Any] = {}
        if ctx.args.no_postgresql:
            r = world.run(cmd, timeout=3600)
            runs["sqlite"] = {"code": r.code, "seconds": r.seconds, "output": r.out + r.err}
        else:
            with world.postgresql() as server:
                r = world.run([*cmd, "--postgresql", server], timeout=3600)
            runs["sqlite and postgresql"] = {
                "code": r.code,
                "seconds": r.seconds,
                "output": r.out + r.err,
            }
        for name, got in runs.items():
            print(f"  bench/balances.py ({name}): exit {got['code']} in {got['seconds']:.1f} s")
            print("    " + "\n    ".join(got["output"].strip().splitlines()[-12:]))
        out["balances_py"] = runs
    n = max(ctx.sizes)
    got, why = _books(ctx, n)
    if got is None:
        out["imported"] = {"not_measured": why}
        return out
    measured = imported_balances(got["url"])
    measured["postings"] = _count_postings(got["db"])
    measured["lines"] = n
    print(
        f"  balances of {n:,} imported lines ({measured['postings']:,} postings): "
        f"now {measured['balances_now_ms']:.1f} ms, as of {PAST} "
        f"{measured['balances_past_ms']:.1f} ms; obligations listing now "
        f"{measured['obligations_now_ms']:.0f} ms, its first 100 rows "
        f"{measured['obligations_page_ms']:.1f} ms; aging now {measured['aging_now_ms']:.1f} ms, "
        f"as of {PAST} {measured['aging_past_ms']:.1f} ms"
    )
    out["imported"] = measured
    if ctx.args.settled_since:
        since = settled_since(Path(got["db"]), ctx.args.settled_since)
        print(
            f"  {since['orders']:,} of its orders paid in full after {PAST} "
            f"({since['settle_s']:.0f} s through ordering.settle): aging as of {PAST} "
            f"{since['aging_past_ms']:.1f} ms, the listing's first page as of it "
            f"{since['obligations_page_past_ms']:.1f} ms; aging now {since['aging_now_ms']:.1f} ms"
        )
        out["settled_since"] = since
    if ctx.args.no_postgresql:
        out["imported_postgresql"] = {"not_measured": "--no-postgresql"}
        return out
    out["imported_postgresql"] = imported_balances_postgresql(Path(got["db"]), n)
    return out


def imported_balances_postgresql(books: Path, n: int) -> dict[str, Any]:
    """The same queries on the same books copied into PostgreSQL (bench/pg_books.py)."""
    import pg_books

    with world.postgresql() as server:
        url, copied = pg_books.copy(books, server)
        measured = imported_balances(url)
    measured["postings"] = copied["rows"].get("postings", 0)
    measured["lines"] = n
    measured["copy_s"] = copied["copy_s"]
    measured["copied_rows"] = copied["total_rows"]
    print(
        f"  the same books on PostgreSQL ({copied['total_rows']:,} rows copied in "
        f"{copied['copy_s']:.0f} s): balances now {measured['balances_now_ms']:.1f} ms, as of "
        f"{PAST} {measured['balances_past_ms']:.1f} ms; aging now "
        f"{measured['aging_now_ms']:.1f} ms; every obligation "
        f"{measured['obligations_now_ms']:.0f} ms"
    )
    return measured


# 3. peers ----------------------------------------------------------------------------------


def section_peers(ctx: Context) -> dict[str, Any]:
    import peers

    n = min(max(ctx.sizes), ctx.args.peers_max)
    got, why = _books(ctx, n)
    if got is None:
        return {"not_measured": why}
    work = ctx.work / f"peers-{n}"
    work.mkdir(exist_ok=True)
    result = peers.measure(got["url"], work, repeat=3 if n <= 100_000 else 1)
    result["lines"] = n
    result["import_s"] = got["seconds"]
    bal = result.get("tools", {}).get("relos balances", {})
    if "seconds" in bal:
        result["relos_import_and_balance_s"] = got["seconds"] + bal["seconds"]
    for name, t in result.get("tools", {}).items():
        print(f"  {name}: {t.get('seconds', t.get('error'))}")
    return result


# 4. api ------------------------------------------------------------------------------------


def section_api(ctx: Context) -> dict[str, Any]:
    import api_load

    work = ctx.work / "api"
    work.mkdir(exist_ok=True)
    result = api_load.measure(
        work,
        connections=ctx.args.api_connections,
        seconds=ctx.args.api_seconds,
        postgresql=not ctx.args.no_postgresql,
    )
    for engine, r in result.items():
        if isinstance(r, dict):
            for kind in ("writes", "reads"):
                k = r.get(kind)
                if isinstance(k, dict) and "rps" in k:
                    runs = ", ".join(f"{x:,.0f}" for x in k.get("runs_rps", []))
                    cpu = k.get("server_cpu_ms")
                    print(
                        f"  {engine} {kind}: {k['rps']:,.0f} req/s, p50 {k['p50_ms']:.0f} ms, "
                        f"p99 {k['p99_ms']:.0f} ms, {k['failures']} failures (runs: {runs} req/s)"
                        + ("" if cpu is None else f"; server CPU {cpu:.2f} ms a request")
                        + f", wrk {k['load_cpu_ms']:.2f} ms"
                    )
    return result


# 5. scale ----------------------------------------------------------------------------------


def reconciliation(url: str, work: Path) -> dict[str, Any]:
    """RUS exports its signed RELOS statement of the imported books; IND matches it."""
    from relos.domain.users import Role
    from relos.services.demo import USERS

    steps: dict[str, Any] = {}
    # the node's private keys are kept encrypted under a passphrase (a throwaway one here)
    keys = {"RELOS_KEY_PASSPHRASE": "bench-only passphrase, throwaway database"}
    for party in ("RUS", "IND"):
        r = world.relos(
            ["key", "create", "--party", party, "--as", USERS[party][Role.PARTY_ADMIN]],
            url,
            env_extra=keys,
        )
        if r.code != 0:
            return {"error": f"relos key create {party}: {r.err.strip()[-300:]}"}
    statement = work / "statement.json"
    r = world.relos(
        [
            "reconcile",
            "export",
            "--agreement",
            "RELOS",
            "--party",
            "RUS",
            "--output",
            str(statement),
            "--as-of",
            date.today().isoformat(),
            "--as",
            USERS["RUS"][Role.FINANCE_OFFICER],
        ],
        url,
        env_extra=keys,
    )
    if r.code != 0:
        return {"error": f"relos reconcile export: {(r.err or r.out).strip()[-300:]}"}
    steps["export_s"] = r.seconds
    steps["export_peak_mb"] = r.peak_mb
    steps["statement_mb"] = statement.stat().st_size / 2**20
    # --summary: the run and its counts, its lines left in storage (the streamed path whose
    # memory stays flat; printing every line of a large run is another matter)
    r = world.relos(
        [
            "reconcile",
            "match",
            str(statement),
            "--as",
            USERS["IND"][Role.FINANCE_OFFICER],
            "--summary",
            "--json",
        ],
        url,
        env_extra=keys,
    )
    if r.code != 0:
        return {**steps, "error": f"relos reconcile match: {(r.err or r.out).strip()[-300:]}"}
    report = json.loads(r.out)
    steps["match_s"] = r.seconds
    steps["match_peak_mb"] = r.peak_mb
    steps["counts"] = report.get("counts") or {}
    lines = sum(steps["counts"].values())
    steps["statement_lines"] = lines  # one line per order the two parties share
    if lines:
        steps["export_lines_per_s"] = lines / steps["export_s"]
        steps["match_lines_per_s"] = lines / steps["match_s"]
    statement.unlink()
    return steps


def section_scale(ctx: Context) -> dict[str, Any]:
    out: dict[str, Any] = {}
    planner = BENCH / "planner.py"
    r = world.run([world.PYTHON, str(planner)], timeout=1800)
    out["planner"] = {"code": r.code, "seconds": r.seconds, "output": (r.out + r.err).strip()}
    print(f"  planner: exit {r.code} in {r.seconds:.1f} s")
    # the statement's books: N RELOS orders between India and Russia (a statement line each)
    n = ctx.args.statement_lines
    got, why = _books(ctx, n, "statement")
    if got is None:
        out["reconciliation"] = {"not_measured": why}
        return out
    print(
        f"  statement books: {n:,} orders imported in {got['seconds']:.1f} s "
        f"({got['lines_per_s']:,.0f} lines/s)"
    )
    work = ctx.work / f"recon-{n}"
    work.mkdir(exist_ok=True)
    with ctx.books_copy(got, work) as url:  # keys, audit trail and runs go into the copy
        rec = reconciliation(url, work)
    rec["lines"] = n
    rec["orders"] = got["orders"]
    rec["import_s"] = got["seconds"]
    rec["import_peak_mb"] = got["peak_mb"]
    out["reconciliation"] = rec
    print(f"  reconciliation of {n:,} imported lines: {rec}")
    return out


RUNNERS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "import": section_import,
    "balances": section_balances,
    "peers": section_peers,
    "api": section_api,
    "scale": section_scale,
}


# machine and document ----------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        m = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        mem_gb = int(m.group(1)) / 2**20 if m else None
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=world.ROOT
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": mem_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": world.postgresql_version(),
        "relos_commit": commit,
    }


def byte_compile() -> str:
    """Compile relos's modules to bytecode once, before anything is timed.

    Python caches a module's bytecode the first time it imports it, unless
    PYTHONDONTWRITEBYTECODE is set, as it is on some machines (this one): there every `relos`
    command compiled relos's modules from source again, about 70 ms of each command's start-up
    that a user's installation does not pay (pip compiles what it installs; an editable
    install's first run writes the cache). `compileall` writes the cache whatever that variable
    says; Python reads it either way."""
    ok = compileall.compile_dir(world.ROOT / "src" / "relos", quiet=1)
    unset = "PYTHONDONTWRITEBYTECODE" not in os.environ
    if not ok:
        return "relos's modules could not all be byte-compiled (each command compiles them)"
    why = "" if unset else " (PYTHONDONTWRITEBYTECODE is set here: Python would not cache them)"
    return "relos's modules byte-compiled before the run" + why


def _portable(value: Any) -> Any:
    """Results without this run's temporary paths."""
    if isinstance(value, dict):
        return {k: _portable(v) for k, v in value.items() if k not in ("db", "url")}
    if isinstance(value, list):
        return [_portable(v) for v in value]
    return value


def load_results() -> dict[str, Any]:
    if RESULTS.exists():
        data: dict[str, Any] = json.loads(RESULTS.read_text(encoding="utf-8"))
        return data
    return {"sections": {}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    p.add_argument(
        "--sizes",
        default="10000,100000,1000000",
        type=lambda s: [int(x) for x in s.split(",") if x],
        help="order lines to import, comma-separated",
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--balances-postings",
        type=int,
        default=1_000_000,
        help="postings bench/balances.py fills its ledger with (section 2)",
    )
    p.add_argument("--peers-max", type=int, default=1_000_000, help="largest N for section 3")
    p.add_argument(
        "--statement-lines",
        type=int,
        default=1_000_000,
        help="orders (one line each) in section 5's statement books",
    )
    p.add_argument(
        "--settled-since",
        type=int,
        default=5000,
        help="section 2: orders of the largest books paid after the past date (0: none)",
    )
    p.add_argument(
        "--api-connections",
        type=int,
        default=20,
        help="requests wrk keeps going at once (section 4)",
    )
    p.add_argument("--api-seconds", type=int, default=10, help="each run of each load (section 4)")
    p.add_argument("--no-postgresql", action="store_true", help="SQLite only")
    p.add_argument(
        "--keep",
        type=Path,
        help="keep the work files (CSVs, databases) here; a later run with the same --keep, "
        "N and seed reuses the import instead of importing again",
    )
    p.add_argument("--no-doc", action="store_true", help="print only; leave docs/ alone")
    p.add_argument(
        "--doc-only", action="store_true", help="rewrite docs/benchmarks.md from the kept results"
    )
    args = p.parse_args()
    if args.doc_only:
        import report

        report.write(load_results(), DOC, FIGURES, TARGETS)
        print(f"wrote {DOC.relative_to(world.ROOT)} from {RESULTS.relative_to(world.ROOT)}")
        return
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SECTIONS]
    if unknown:
        p.error(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    results = load_results()
    results["machine"] = machine()
    results["machine"]["bytecode"] = byte_compile()
    work = args.keep or Path(tempfile.mkdtemp(prefix="relos-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    ctx = Context(args, work)
    try:
        for name in wanted:
            print(f"[{name}]", flush=True)
            t0 = time.perf_counter()
            load_before = os.getloadavg()[0]
            got = RUNNERS[name](ctx)
            got["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
            got["relos_commit"] = results["machine"]["relos_commit"]
            got["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
            got["wall_s"] = time.perf_counter() - t0
            if "not_measured" in got:
                print(f"  not measured: {got['not_measured']}")
            results["sections"][name] = got
            if not args.no_doc:
                import report

                report.write(results, DOC, FIGURES, TARGETS)
                RESULTS.write_text(
                    json.dumps(_portable(results), indent=2, default=str) + "\n",
                    encoding="utf-8",
                )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    if not args.no_doc:
        print(f"wrote {DOC.relative_to(world.ROOT)} and {FIGURES.relative_to(world.ROOT)}/")


if __name__ == "__main__":
    main()
