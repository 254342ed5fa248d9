"""`storage/bulk_insert` on SQLite and PostgreSQL: many rows (on PostgreSQL one COPY) read back
as SQLAlchemy's own insert of the same values stores them, whatever the values hold; a taken key
among them is refused as the database refuses it and none of them is written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from relos.storage.bulk_insert import COPY_FROM_ROWS, insert_values
from relos.storage.engine import make_engine
from tests.conftest import postgres_database

KINDS = Table(
    "bulk_kinds",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=True),
    Column("data", JSON, nullable=True),
    Column("on", Date, nullable=True),
    Column("at", DateTime(timezone=True), nullable=True),
    Column("flag", Boolean, nullable=True),
    Column("amount", BigInteger, nullable=True),
)

#: texts COPY's text format must escape, and the scripts the parties write in
NAMES = [
    "",
    "tab\there",
    "line\nbreak\r\n",
    "back\\slash",
    "\\N",
    "Адмирал Горшков",
    "आईएनएस तबर",
    "quote ' and \" and , ;",
    None,
]
MOSCOW = timezone(timedelta(hours=3))


def value(i: int) -> dict[str, Any]:
    """Row `i`: each column cycles through its awkward values, None among them."""
    name = NAMES[i % len(NAMES)]
    return {
        "id": i,
        "name": name,
        "data": None if i % 7 == 3 else {"n": i, "name": name, "list": [1, "два", None]},
        "on": None if i % 5 == 4 else date(2026, 1, 1) + timedelta(days=i),
        "at": None
        if i % 6 == 5
        else datetime(2026, 3, 1, 9, 30, tzinfo=UTC if i % 2 else MOSCOW) + timedelta(hours=i),
        "flag": None if i % 4 == 3 else bool(i % 2),
        "amount": None if i % 9 == 8 else (-1) ** i * 10**15 + i,
    }


@pytest.fixture
def kinds(engine: Engine) -> Engine:
    KINDS.create(engine)
    return engine


def stored(engine: Engine, ids: range) -> list[tuple[Any, ...]]:
    """The rows of `ids`, as read back, without their ids."""
    with engine.connect() as c:
        q = select(KINDS).where(KINDS.c.id.in_(list(ids))).order_by(KINDS.c.id)
        return [tuple(r)[1:] for r in c.execute(q)]


@pytest.mark.parametrize("count", [COPY_FROM_ROWS - 1, COPY_FROM_ROWS, 3 * COPY_FROM_ROWS])
def test_rows_inserted_in_bulk_read_back_as_sqlalchemys_own_insert_stores_them(
    kinds: Engine, count: int
) -> None:
    """Below `COPY_FROM_ROWS` an executemany; from it, on PostgreSQL, a COPY."""
    bulk, ordinary = range(count), range(1000, 1000 + count)
    with kinds.begin() as c:
        insert_values(c, KINDS, [value(i) for i in bulk])
        c.execute(insert(KINDS), [{**value(i - 1000), "id": i} for i in ordinary])
    got = stored(kinds, bulk)
    assert got == stored(kinds, ordinary)
    assert [r[0] for r in got] == [value(i)["name"] for i in bulk]  # every text exact
    assert [r[1] for r in got] == [value(i)["data"] for i in bulk]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("count", "statements"),
    [(COPY_FROM_ROWS - 1, COPY_FROM_ROWS - 1), (COPY_FROM_ROWS, 1), (500, 1)],
)
def test_many_rows_reach_postgresql_as_one_statement(
    postgres_kinds: Engine, count: int, statements: int
) -> None:
    """A statement-level trigger fires once per INSERT, and once for a whole COPY."""
    with postgres_kinds.begin() as c:
        insert_values(c, KINDS, [value(i) for i in range(count)])
        seen = c.exec_driver_sql("SELECT count(*) FROM statements_seen").scalar_one()
    assert seen == statements


@pytest.mark.postgres
def test_a_taken_key_among_many_rows_is_refused_and_none_of_them_is_written(
    postgres_kinds: Engine,
) -> None:
    with postgres_kinds.begin() as c:
        insert_values(c, KINDS, [value(7)])
    with pytest.raises(IntegrityError) as e, postgres_kinds.begin() as c:
        insert_values(c, KINDS, [value(i) for i in range(2 * COPY_FROM_ROWS)])
    assert "bulk_kinds_pkey" in str(e.value)
    with postgres_kinds.connect() as c:
        assert c.execute(select(func.count()).select_from(KINDS)).scalar_one() == 1


@pytest.fixture
def postgres_kinds(postgres_url: str) -> Iterator[Engine]:
    """KINDS alone in a new PostgreSQL database, each INSERT or COPY into it counted in
    `statements_seen`."""
    with postgres_database(postgres_url) as url:
        engine = make_engine(url)
        try:
            KINDS.create(engine)
            with engine.begin() as c:
                c.exec_driver_sql("CREATE TABLE statements_seen (at timestamptz DEFAULT now())")
                c.exec_driver_sql(
                    "CREATE FUNCTION seen() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN INSERT INTO statements_seen DEFAULT VALUES; RETURN NULL; END $$"
                )
                c.exec_driver_sql(
                    "CREATE TRIGGER counted AFTER INSERT ON bulk_kinds "
                    "FOR EACH STATEMENT EXECUTE FUNCTION seen()"
                )
            yield engine
        finally:
            engine.dispose()
