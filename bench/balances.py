"""Ledger benchmark: append N postings in batches, then time balances now and as of a past date.

Prints figures and each balance query's ratio to the 20 ms target of issue 6 (not a test).

1. Appends N postings (default 1,000,000) straight through `LedgerRepository.append`, one unit
   of work (transaction) per batch of entries, into a fresh SQLite file (and, with
   `--postgresql URL`, into a fresh database on that server). Entries look like receipts and
   settlements: two postings each, in three books (IND, RUS, USA), each against its two
   counterparts, by cash, replacement in kind or equal-value exchange, in the supplier's currency
   or a commodity, dated over three years.
2. Times `LedgerRepository.balances` (the kept table) and `balances(as_of=...)` (the kept daily
   changes up to a day), for every book and for one book: the median of `--runs` runs, after
   one warm-up run. It also checks once that each equals the sum of postings. On PostgreSQL it
   times them right after the fill and again after a VACUUM (what autovacuum does soon after a
   bulk load: the kept tables' rows were each updated many times).

Run: `.venv/bin/python bench/balances.py [--postings N] [--postgresql URL] [--json]`.
The PostgreSQL URL names a server database (e.g. postgresql+psycopg://relos@127.0.0.1:5432/
postgres); the bench creates its own database there and drops it at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text

from relos.domain.ledger import Entry, Posting
from relos.domain.money import Amount
from relos.storage import tables
from relos.storage.engine import make_engine, upgrade
from relos.storage.unit_of_work import SqlUnitOfWork

TARGET_MS = 20.0
START = date(2024, 1, 1)
DAYS = 3 * 365
PAST = START + timedelta(days=DAYS // 2)  # the "as of" day: half-way through the history
CURRENCY = {"IND": "INR", "RUS": "RUB", "USA": "USD"}
IN_KIND = ("F76_T", "JP5_KL", "FW_KL", "BERTH_DAY")


def entries(n_postings: int, seed: int = 6) -> Iterator[Entry]:
    """Two-posting entries (a receipt or a settlement in the supplier's book), deterministic."""
    rnd = random.Random(seed)
    books = list(CURRENCY)
    for k in range(n_postings // 2):
        book = rnd.choice(books)
        cp = rnd.choice([b for b in books if b != book])
        method = rnd.choice(("cash", "cash", "rik", "eve"))
        commodity = rnd.choice(IN_KIND) if method == "rik" else CURRENCY[book]
        amount = Amount(Decimal(rnd.randint(1, 10_000_000)) / 100, commodity)
        on = START + timedelta(days=rnd.randrange(DAYS))
        if rnd.random() < 0.7:  # receipt: Dr receivable / Cr support_provided
            event = "receipt"
            postings = (
                Posting("receivable", amount, cp, method),
                Posting("support_provided", -amount, cp),
            )
        else:  # settlement: Dr settlement_cash / Cr receivable
            event = "settlement"
            postings = (
                Posting("settlement_cash" if method == "cash" else "support_returned", amount, cp),
                Posting("receivable", -amount, cp, method),
            )
        yield Entry(book, f"bench-{k:09d}", on, event, f"BENCH-{k // 3:08d}", postings)


def fill(engine: Engine, n_postings: int, batch: int) -> float:
    """Append the postings in batches (one transaction each); seconds taken."""
    uow = SqlUnitOfWork(engine)
    pending: list[Entry] = []
    started = time.perf_counter()
    for e in entries(n_postings):
        pending.append(e)
        if len(pending) == batch:
            with uow:
                uow.ledger.append(pending)
                uow.commit()
            pending = []
    if pending:
        with uow:
            uow.ledger.append(pending)
            uow.commit()
    return time.perf_counter() - started


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up: page cache, statement cache
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def measure(engine: Engine, backend: str, n_postings: int, batch: int, runs: int) -> dict[str, Any]:
    upgrade(engine)
    seconds = fill(engine, n_postings, batch)
    with engine.connect() as conn:
        counts = {
            name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in (
                ("postings", tables.postings),
                ("balance keys", tables.balances),
                ("daily rows", tables.daily_balances),
            )
        }
        if backend == "postgresql":
            conn.execute(text("ANALYZE"))
            conn.commit()
    uow = SqlUnitOfWork(engine)

    def query(book: str | None, as_of: date | None) -> Callable[[], object]:
        def run() -> object:
            with uow:
                return uow.ledger.balances(book, as_of)

        return run

    with uow:  # the kept tables equal the sum of postings (once; this is slow by design)
        for as_of in (None, PAST):
            assert uow.ledger.balances(None, as_of) == uow.ledger.summed_balances(None, as_of)

    def timed() -> dict[str, float]:
        return {
            "now, every book": median_ms(query(None, None), runs),
            "now, one book": median_ms(query("IND", None), runs),
            f"as of {PAST}, every book": median_ms(query(None, PAST), runs),
            f"as of {PAST}, one book": median_ms(query("IND", PAST), runs),
        }

    timings = timed()  # right after the fill: on PostgreSQL, before any vacuum
    if backend == "postgresql":
        # the kept tables' rows were updated once per posting: their dead versions (and, for
        # daily_balances, whose indexes hold amount_minor, dead index entries) stay until a
        # vacuum, which autovacuum runs within a minute or so of a bulk load; time both states
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        timings.update({f"{k}, after VACUUM": v for k, v in timed().items()})
    return {
        "backend": backend,
        "postings": counts["postings"],
        "balance keys": counts["balance keys"],
        "daily rows": counts["daily rows"],
        "append seconds": round(seconds, 2),
        "postings per second": round(counts["postings"] / seconds),
        "batch (entries)": batch,
        "balances ms (median)": {k: round(v, 2) for k, v in timings.items()},
        "ratio to 20 ms": {k: round(v / TARGET_MS, 3) for k, v in timings.items()},
    }


def report(r: dict[str, Any]) -> None:
    print(
        f"{r['backend']}: {r['postings']:,} postings appended in {r['append seconds']} s "
        f"({r['postings per second']:,} postings/s, {r['batch (entries)']} entries a batch); "
        f"{r['balance keys']} balance keys, {r['daily rows']:,} daily rows"
    )
    for name, ms in r["balances ms (median)"].items():
        ratio = r["ratio to 20 ms"][name]
        verdict = "within" if ratio <= 1 else "OVER"
        print(f"  balances {name:42s} {ms:9.2f} ms   {ratio:6.3f} x 20 ms  ({verdict} target)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postings", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=5_000, help="entries per append (transaction)")
    ap.add_argument("--runs", type=int, default=7, help="timed runs per query (median)")
    ap.add_argument("--sqlite", type=Path, help="SQLite file to create (default: a temp file)")
    ap.add_argument("--postgresql", metavar="URL", help="also on this PostgreSQL server")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as d:
        path = args.sqlite or Path(d) / "bench.db"
        if path.exists():
            raise SystemExit(f"{path} exists: the bench wants a fresh file")
        engine = make_engine(f"sqlite:///{path}")
        try:
            results.append(measure(engine, "sqlite", args.postings, args.batch, args.runs))
        finally:
            engine.dispose()
    if args.postgresql:
        results.append(postgresql(args.postgresql, args.postings, args.batch, args.runs))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            report(r)


def postgresql(server: str, n_postings: int, batch: int, runs: int) -> dict[str, Any]:
    name = f"relos_bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(server.rsplit("/", 1)[0] + "/" + name)
        try:
            return measure(engine, "postgresql", n_postings, batch, runs)
        finally:
            engine.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


if __name__ == "__main__":
    main()
