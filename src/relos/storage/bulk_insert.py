"""Inserts handed straight to the driver: one executemany of tuples per table.

SQLAlchemy's per-row parameter handling (compiling, building a dict per row, running each
column's bind processor through its own machinery) costs more than SQLite's insert itself once a
statement carries thousands of rows; the bulk paths (the ledger's `append`, the import's
`add_orders`) therefore convert the values once with each column type's own bind processor
(`converter`: on SQLite a date becomes ISO text and a JSON value its text, exactly as SQLAlchemy
stores them) and give the driver plain tuples (`insert_rows`), on its own cursor. A use case's
few rows (an order's lines, the audit record, an idempotency key's response) go the same way
(`insert_values`): SQLAlchemy's execution path costs about 40 µs a statement more than the
driver's. On PostgreSQL, many plain rows go as one ``COPY .. FROM STDIN`` (psycopg's
`Cursor.copy`): an executemany is one INSERT per row for the server to parse and run. Engines
or drivers other than SQLite's and psycopg's take SQLAlchemy's ordinary path with the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Dialect, Table, and_, insert, update

from relos.storage.driver_statement import copy_on_driver, run_on_driver

#: rows as the driver takes them, one tuple each
Rows = list[tuple[Any, ...]]

Convert = Callable[[Any], Any]

#: rows from which a plain insert on PostgreSQL (psycopg) is sent as one ``COPY .. FROM STDIN``
#: rather than an executemany, which the server runs as one INSERT per row
COPY_FROM_ROWS = 32


def _identity(value: Any) -> Any:
    return value


def placeholder(dialect: Dialect) -> str | None:
    """The driver's parameter mark, when `insert_rows` hands it rows directly (None: it won't)."""
    if dialect.name not in ("sqlite", "postgresql"):
        return None
    return {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)


def converter(dialect: Dialect, table: Table, column: str) -> Convert:
    """The column type's own conversion of a value for the driver (SQLite: a date becomes ISO
    text, as SQLAlchemy stores it); the identity where there is none or where SQLAlchemy's
    ordinary path will convert by itself. Each distinct day, and each distinct UTC or naive
    time (an import signs each step at midnight UTC), is converted once (a batch holds few).
    A time in another zone is converted each time: equal instants in two zones are equal
    keys, but SQLite stores each zone's own clock time."""
    f = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    if f is None or placeholder(dialect) is None:
        return _identity
    done: dict[date, Any] = {}

    def convert(v: Any) -> Any:
        kind = type(v)
        if kind is not date and not (kind is datetime and (v.tzinfo is None or v.tzinfo is UTC)):
            return f(v)  # None, JSON, a time in another zone
        out = done.get(v)
        if out is None:
            out = done[v] = f(v)
        return out

    return convert


def insert_rows(
    conn: Connection,
    table: Table,
    names: Sequence[str],
    rows: list[tuple[Any, ...]],
    add_on_conflict: Sequence[str] = (),
) -> None:
    """One executemany of an INSERT of `rows` (tuples in the order of `names`, values already
    converted by `converter`); on PostgreSQL through psycopg, `COPY_FROM_ROWS` rows or more
    go as one ``COPY .. FROM STDIN`` instead. With `add_on_conflict` (a key), a row whose key
    exists adds its amount_minor to the stored row's (INSERT .. ON CONFLICT DO UPDATE, written
    alike on SQLite and PostgreSQL; an executemany on both)."""
    if not rows:
        return
    mark = placeholder(conn.dialect)
    if mark is None:
        _insert_portably(conn, table, names, rows, add_on_conflict)
        return
    quote = conn.dialect.identifier_preparer.quote
    tname = quote(table.name)
    columns = ", ".join(quote(n) for n in names)
    if not add_on_conflict and len(rows) >= COPY_FROM_ROWS and copies(conn.dialect):
        copy_on_driver(conn, f"COPY {tname} ({columns}) FROM STDIN", rows)
        return
    sql = f"INSERT INTO {tname} ({columns}) VALUES ({', '.join([mark] * len(names))})"
    if add_on_conflict:
        sql += (
            f" ON CONFLICT ({', '.join(quote(n) for n in add_on_conflict)}) DO UPDATE"
            f" SET amount_minor = {tname}.amount_minor + excluded.amount_minor"
        )
    run_on_driver(conn, sql, rows, many=True)


def copies(dialect: Dialect) -> bool:
    """Whether `insert_rows` sends many plain rows as ``COPY`` (PostgreSQL through psycopg 3)."""
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


_CONVERTERS: WeakKeyDictionary[Dialect, dict[tuple[str, str], Convert]] = WeakKeyDictionary()


def insert_values(conn: Connection, table: Table, values: Sequence[Mapping[str, Any]]) -> None:
    """`insert_rows` of rows given by column (every row the same columns), each value converted
    by its column type, the conversions made once per dialect and column: for the few rows a
    use case writes, where SQLAlchemy's own path costs more than the inserts."""
    if not values:
        return
    dialect = conn.dialect
    made = _CONVERTERS.setdefault(dialect, {})
    names = tuple(values[0])
    converts = []
    for name in names:
        convert = made.get((table.name, name))
        if convert is None:
            convert = made[table.name, name] = converter(dialect, table, name)
        converts.append(convert)
    rows = [tuple(f(v[n]) for f, n in zip(converts, names, strict=True)) for v in values]
    insert_rows(conn, table, names, rows)


def _insert_portably(
    conn: Connection,
    table: Table,
    names: Sequence[str],
    rows: list[tuple[Any, ...]],
    add_on_conflict: Sequence[str],
) -> None:
    values = [dict(zip(names, r, strict=True)) for r in rows]
    if not add_on_conflict:
        conn.execute(insert(table), values)
        return
    for v in values:  # an UPDATE, then an INSERT where nothing was updated
        match = and_(*(table.c[k] == v[k] for k in add_on_conflict))
        done = conn.execute(
            update(table).where(match).values(amount_minor=table.c.amount_minor + v["amount_minor"])
        )
        if done.rowcount == 0:
            conn.execute(insert(table).values(**v))
