"""The raw insert limit: the rows an import wrote, inserted again with nothing but the driver.

`relos import` checks every rule and writes orders, lines, receipts, invoices, signatures,
ledger entries, postings, balances and audit records. The limit it is compared with is the same
rows, in the same tables of the same kind of database, inserted with plain DB-API
``executemany`` (SQLite, WAL, synchronous=NORMAL and the page cache as relos opens it): no
rule checked, no Python object built, every index and constraint of the schema in place.

How: the database before the import (reference data and users only) is copied; every row the
import added (rowid above the baseline's; in a WITHOUT ROWID table, any row the baseline does not
hold) is read from the imported database in chunks and inserted into the copy. Only the
inserts and the commit are timed, not the reads. On PostgreSQL (`postgresql_limit`) the same
rows go with COPY into a database holding the baseline.

Run: ``python bench/raw_insert.py BASELINE.db IMPORTED.db``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from relos.storage.engine import CACHE_KIB

CHUNK = 10_000
SKIP = {"alembic_version"}


def tables(db: sqlite3.Connection) -> list[str]:
    rows = db.execute(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY rowid"
    ).fetchall()
    return [r[0] for r in rows if r[0] not in SKIP]


def _has_rowid(db: sqlite3.Connection, table: str) -> bool:
    try:
        db.execute(f'SELECT rowid FROM "{table}" LIMIT 0')
    except sqlite3.OperationalError:  # a WITHOUT ROWID table
        return False
    return True


def new_rows(
    imported: Path, baseline: Path
) -> Iterator[tuple[str, list[str], list[tuple[Any, ...]]]]:
    """(table, columns, chunk of rows) for every row the import added, parents first: rows
    whose rowid is above the baseline's largest, or, in a WITHOUT ROWID table, rows the
    baseline does not hold."""
    src = sqlite3.connect(imported)
    try:
        src.execute("ATTACH DATABASE ? AS base", (str(baseline),))
        for t in tables(src):
            if _has_rowid(src, t):
                (after,) = src.execute(f'SELECT coalesce(max(rowid), 0) FROM base."{t}"').fetchone()
                cur = src.execute(
                    f'SELECT * FROM main."{t}" WHERE rowid > ? ORDER BY rowid', (after,)
                )
            else:
                cur = src.execute(f'SELECT * FROM main."{t}" EXCEPT SELECT * FROM base."{t}"')
            columns = [d[0] for d in cur.description]
            while chunk := cur.fetchmany(CHUNK):
                yield t, columns, chunk
    finally:
        src.close()


def sqlite_limit(imported: Path, baseline: Path, work: Path) -> dict[str, Any]:
    """Insert the import's rows into a copy of the baseline with executemany; time the writes."""
    target = work / "raw.db"
    for leftover in ("-wal", "-shm"):  # an interrupted run's log would replay into the copy
        target.with_name(target.name + leftover).unlink(missing_ok=True)
    shutil.copyfile(baseline, target)
    db = sqlite3.connect(target, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")  # as relos opens its connections
    counts: dict[str, int] = {}
    seconds = 0.0
    try:
        t0 = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        seconds += time.perf_counter() - t0
        for table, columns, chunk in new_rows(imported, baseline):
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            t0 = time.perf_counter()
            db.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', chunk)
            seconds += time.perf_counter() - t0
            counts[table] = counts.get(table, 0) + len(chunk)
        t0 = time.perf_counter()
        db.execute("COMMIT")
        seconds += time.perf_counter() - t0
    finally:
        db.close()
    return _limit("sqlite", "executemany", counts, seconds)


def postgresql_limit(imported: Path, baseline: Path, url: str) -> dict[str, Any]:
    """Copy the import's rows with COPY into the PostgreSQL database at `url`, which holds what
    `baseline` holds (bench/pg_books.py), in one transaction, every index, constraint and
    foreign-key trigger in place; time the copies and the commit. The values go as SQLite keeps
    them (dates as ISO text, JSON as text, booleans as 0/1), the text COPY parses."""
    import psycopg

    counts: dict[str, int] = {}
    seconds = 0.0
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as pg:
        pg.execute("SET TIME ZONE 'UTC'")
        for table, columns, chunk in new_rows(imported, baseline):
            names = ", ".join(f'"{c}"' for c in columns)
            t0 = time.perf_counter()
            with pg.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as out:
                for row in chunk:
                    out.write_row(row)
            seconds += time.perf_counter() - t0
            counts[table] = counts.get(table, 0) + len(chunk)
        t0 = time.perf_counter()
        pg.commit()
        seconds += time.perf_counter() - t0
    return _limit("postgresql", "copy", counts, seconds)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("baseline", type=Path)
    p.add_argument("imported", type=Path)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        print(json.dumps(sqlite_limit(args.imported, args.baseline, Path(d)), indent=2))


if __name__ == "__main__":
    main()


def _limit(engine: str, method: str, counts: dict[str, int], seconds: float) -> dict[str, Any]:
    """What a raw insert did: its rows in all and per table, and the time they took."""
    rows = sum(counts.values())
    return {
        "engine": engine,
        "method": method,
        "rows": rows,
        "tables": counts,
        "seconds": seconds,
        "rows_per_s": rows / seconds if seconds else None,
    }
