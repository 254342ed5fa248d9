"""The same books on PostgreSQL: copy imported SQLite books into a new PostgreSQL database.

Issue 6 asks for balances and aging at 1M lines on SQLite *and* PostgreSQL. Importing 1M lines a
second time, into PostgreSQL, would take as long as the SQLite import (a quarter of an hour); the
books themselves are what the queries read, so the bench copies them instead: the database is
created by relos's own migrations (`database.upgrade`), then every table's stored values are read
from SQLite as they are kept there (dates and times as ISO text, JSON as text, booleans as 0/1: the
text PostgreSQL's COPY parses into each column's own type) and written with COPY, parents before
children, with the per-row foreign-key triggers off (the rows already satisfy them) and the
indexes that are not constraints built after the copy. Identity sequences are moved past the
copied ids and the database is analysed (VACUUM ANALYZE), as autovacuum would soon after a bulk
load.

Run alone: `.venv/bin/python bench/pg_books.py BOOKS.db POSTGRESQL_SERVER_URL` (prints figures).
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import world

ROWS_PER_READ = 20_000


def copy(books: Path, server_url: str) -> tuple[str, dict[str, Any]]:
    """A new database on `server_url` holding what the SQLite file `books` holds; its URL and
    the copy's figures (rows per table, seconds)."""
    import psycopg

    import relos.storage  # noqa: F401  (every table on the one MetaData)
    from relos.config import Settings
    from relos.services import database
    from relos.storage.tables import metadata

    url = world.new_database(server_url)
    t0 = time.perf_counter()
    database.upgrade(Settings(database_url=url))
    rows: dict[str, int] = {}
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as pg, sqlite3.connect(books) as raw:
        pg.execute("SET TIME ZONE 'UTC'")
        # the rows are the books of a relos database already: their foreign keys hold, so the
        # per-row foreign-key triggers are skipped (the bench's server user is its superuser)
        pg.execute("SET session_replication_role = replica")
        # indexes that are not constraints are built once after the copy, not row by row
        indexes = pg.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public'"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        ).fetchall()
        for name, _ in indexes:
            pg.execute(f'DROP INDEX "{name}"')
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            cols = [c.name for c in table.columns]
            names = ", ".join(f'"{c}"' for c in cols)
            n = 0
            # the migrations may have written rows of their own (reference data): the copy
            # replaces them with the books' rows
            pg.execute(f'DELETE FROM "{table.name}"')
            read = raw.execute(f'SELECT {names} FROM "{table.name}"')
            with pg.cursor().copy(f'COPY "{table.name}" ({names}) FROM STDIN') as out:
                while part := read.fetchmany(ROWS_PER_READ):
                    for row in part:
                        out.write_row(row)
                    n += len(part)
            rows[table.name] = n
            for c in table.primary_key.columns:
                if c.autoincrement is True or (
                    c.autoincrement == "auto" and len(table.primary_key.columns) == 1
                ):
                    if not str(c.type).upper().startswith(("INTEGER", "BIGINT")):
                        continue
                    top = raw.execute(f'SELECT max("{c.name}") FROM "{table.name}"').fetchone()[0]
                    seq = pg.execute(
                        "SELECT pg_get_serial_sequence(%s, %s)", (table.name, c.name)
                    ).fetchone()
                    if top is not None and seq is not None and seq[0] is not None:
                        pg.execute("SELECT setval(%s, %s)", (seq[0], int(top)))
        for _, definition in indexes:
            pg.execute(definition)
        pg.commit()
    copied_s = time.perf_counter() - t0
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute("VACUUM ANALYZE")
    return url, {
        "rows": rows,
        "total_rows": sum(rows.values()),
        "copy_s": copied_s,
        "vacuum_analyze_s": time.perf_counter() - t0 - copied_s,
    }


def main() -> None:
    books, server = Path(sys.argv[1]), sys.argv[2]
    url, got = copy(books, server)
    print(f"{url}: {got['total_rows']:,} rows in {got['copy_s']:.1f} s")
    for name, n in got["rows"].items():
        print(f"  {name}: {n:,}")


if __name__ == "__main__":
    main()
