"""Statements SQLAlchemy compiles once per dialect and the driver's cursor runs.

Every write runs the same few statements (who calls, the idempotency key, what the order names,
the next number, the audit chain's head, an action's lock and header). SQLAlchemy's execution
path adds an execution context and a result object to each, about 60-80 µs here, several times
what SQLite takes to run most of them (decision 72); a `DriverStatement` keeps what that path
works out once (the SQL text, the order of its parameters, each parameter's and each column's
conversion by its type, as SQLAlchemy would convert them) and hands the driver the values.
Errors are raised as SQLAlchemy raises them. Engines other than SQLite and PostgreSQL take
SQLAlchemy's ordinary path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.selectable import ReturnsRows

from relos.storage.engine import lock_wait

Process = Callable[[Any], Any] | None


class _Prepared:
    """What a statement compiles to on one dialect."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.compiled = compiled
        self.sql = compiled.string
        self.positional = compiled.positional
        self.order = list(compiled.positiontup or ()) if compiled.positional else []
        assert not any(b.expanding for b in compiled.bind_names), "no expanding parameters"
        self.binds: dict[str, Process] = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for bind, name in compiled.bind_names.items()
        }
        results = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns(statement)
        ]
        self.results = results if any(p is not None for p in results) else None

    def values(self, params: Mapping[str, Any]) -> Any:
        """The parameters as the driver takes them, each converted by its type as SQLAlchemy
        would (a None too: a JSON column stores it as JSON's null)."""
        out = {}
        for name, value in self.compiled.construct_params(dict(params)).items():
            process = self.binds.get(name)
            out[name] = value if process is None else process(value)
        if self.positional:
            return tuple(out[name] for name in self.order)
        return out


@contextmanager
def _driver_cursor(conn: Connection, sql: str, params: Any) -> Iterator[Any]:
    """The driver's own cursor on the connection, closed after use; a driver error raised in
    the block is raised as SQLAlchemy's, as its own path would raise it (an `IntegrityError`
    stays one; a lock waited for too long is `Busy`, as `engine.lock_wait` says)."""
    dialect = conn.dialect
    driver = conn.connection.driver_connection
    assert driver is not None  # a connection in use
    cursor = driver.cursor()
    try:
        yield cursor
    except dialect.loaded_dbapi.Error as e:
        busy = lock_wait(conn.engine, e)
        if busy is not None:
            raise busy from e
        raise DBAPIError.instance(sql, params, e, dialect.loaded_dbapi.Error) from e
    finally:
        cursor.close()


def run_on_driver(
    conn: Connection, sql: str, params: Any, many: bool = False
) -> list[tuple[Any, ...]]:
    """`sql` run (`many`: once per row of `params`) on the driver's own cursor, in the
    connection's transaction; the rows it returns. Errors as `_driver_cursor` raises them."""
    with _driver_cursor(conn, sql, params) as cursor:
        if many:
            cursor.executemany(sql, params)
            return []
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall() if cursor.description else []
        return rows


def copy_on_driver(conn: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """`rows` sent through ``COPY .. FROM STDIN`` (`sql`) on psycopg's own cursor, in the
    connection's transaction, each value adapted as psycopg adapts a parameter. Errors as
    `_driver_cursor` raises them (without the rows in the message)."""
    with _driver_cursor(conn, sql, None) as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def columns(statement: ClauseElement) -> list[Any]:
    """The columns a statement returns (a SELECT's, an INSERT's RETURNING), in order."""
    return list(statement.exported_columns) if isinstance(statement, ReturnsRows) else []


class DriverStatement:
    """A statement run on the driver's cursor, in the connection's transaction."""

    def __init__(self, statement: ClauseElement) -> None:
        assert isinstance(statement, Executable)
        self.statement = statement
        self.keys = [c.key for c in columns(statement)]
        self._prepared: WeakKeyDictionary[Dialect, _Prepared] = WeakKeyDictionary()

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row the statement returns, as tuples (none for a statement without rows)."""
        dialect = conn.dialect
        if dialect.name not in ("sqlite", "postgresql"):
            return [tuple(r) for r in conn.execute(cast(Executable, self.statement), dict(params))]
        prepared = self._prepared.get(dialect)
        if prepared is None:
            prepared = self._prepared[dialect] = _Prepared(self.statement, dialect)
        rows = run_on_driver(conn, prepared.sql, prepared.values(params))
        results = prepared.results
        if results is None:
            return rows
        return [
            tuple(v if p is None else p(v) for p, v in zip(results, row, strict=True))
            for row in rows
        ]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        rows = self.rows(conn, params)
        return rows[0] if rows else None

    def mapping(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row by column key, or None."""
        row = self.first(conn, params)
        return None if row is None else dict(zip(self.keys, row, strict=True))
