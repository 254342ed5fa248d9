"""Statements run on the driver's cursor (`storage.driver_statement`) read and write exactly what
SQLAlchemy's own path reads and writes, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from relos.services import auth
from relos.storage import audit_repository, auth_repository, repositories
from relos.storage import tables as t
from relos.storage.auth_tables import idempotency_keys
from relos.storage.driver_statement import DriverStatement
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.integration.builders import lifecycle, world


def _by_sqlalchemy(conn: Connection, d: DriverStatement, params: dict[str, Any]) -> list[Any]:
    return [tuple(r) for r in conn.execute(d.statement, params)]


def test_what_every_write_reads_comes_back_as_sqlalchemy_reads_it(engine: Engine) -> None:
    """Booleans, dates and times, JSON, labelled columns, a union of documents cast to text, a
    LIMIT, no row: each as SQLAlchemy converts it."""
    uow = SqlUnitOfWork(engine)
    world(uow)
    lifecycle(uow)  # orders in both directions, their audit records
    token, _ = auth.create_token(uow, None, "in_order", "ci", ["read", "write"])
    at = datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=UTC)
    with uow:
        uow.auth.add_response("in_order", "k", "d" * 64, 201, {"n": [1, None]}, {"E": "x"}, at)
        uow.commit()
    cases: list[tuple[DriverStatement, dict[str, Any]]] = [
        (repositories._USER, {"name": "in_order"}),
        (repositories._USER, {"name": "nobody"}),
        (
            repositories._REFERENCES,
            {"agreement": "RELOS", "unit": "INS-TABAR", "facility": "RUSMR"},
        ),
        (auth_repository._TOKEN_AND_USER, {"id": token.id}),
        (auth_repository._RESPONSE, {"user": "in_order", "key": "k"}),
        (audit_repository._HEAD, {}),
    ]
    with engine.connect() as conn:
        for d, params in cases:
            assert d.rows(conn, params) == _by_sqlalchemy(conn, d, params), d.statement
        user = repositories._USER.mapping(conn, {"name": "in_order"})
        assert user is not None
        assert user["active"] is True  # SQLite stores 1: its Boolean gives it back as True
        response = auth_repository._RESPONSE.mapping(conn, {"user": "in_order", "key": "k"})
        assert response is not None
        assert response["response"] == {"n": [1, None]}
        assert response["created_at"].replace(tzinfo=UTC) == at
        assert auth_repository._TOKEN_AND_USER.mapping(conn, {"id": token.id}) == dict(
            zip(
                auth_repository._TOKEN_AND_USER.keys,
                _by_sqlalchemy(conn, auth_repository._TOKEN_AND_USER, {"id": token.id})[0],
                strict=True,
            )
        )


def _stored(conn: Connection, number: str) -> tuple[Any, ...]:
    """The row as the database holds it (dates as SQLite's text, JSON as stored)."""
    sql = "SELECT agreement, required_by, created_on, data, revision FROM orders WHERE number = "
    sql += "?" if conn.dialect.name == "sqlite" else "%(n)s"
    params: Any = (number,) if conn.dialect.name == "sqlite" else {"n": number}
    row = conn.exec_driver_sql(sql, params).one()
    return tuple(row)


def test_an_order_header_written_on_the_driver_is_stored_as_sqlalchemy_stores_it(
    engine: Engine,
) -> None:
    uow = SqlUnitOfWork(engine)
    world(uow)
    lifecycle(uow)
    with engine.connect() as conn:
        header = dict(conn.execute(select(t.orders).limit(1)).mappings().one())
    header["data"] = {"purpose": "Arctic port call", "नाम": "Североморск", "none": None}
    header["required_by"], header["created_on"] = date(2026, 12, 20), date(2026, 11, 27)
    new = repositories._new_order_statement(engine.dialect.name)
    with engine.begin() as conn:
        assert new.first(conn, {**header, "number": "DRIVER-1"}) == ("DRIVER-1",)
        conn.execute(insert(t.orders), {**header, "number": "SQLALCHEMY-1"})
        assert new.first(conn, {**header, "number": "DRIVER-1"}) is None  # taken: nothing back
        assert _stored(conn, "DRIVER-1") == _stored(conn, "SQLALCHEMY-1")
        (last,) = repositories._bump_statement(engine.dialect.name).rows(
            conn, {"prefix": "T-", "first": 7}
        )
        assert last == (7,)


def test_a_broken_rule_on_the_driver_is_sqlalchemys_integrity_error(engine: Engine) -> None:
    taken = DriverStatement(
        insert(idempotency_keys).values(
            user_name=bindparam("u"),
            key=bindparam("k"),
            request_digest="d",
            status_code=201,
            headers={},
            created_at=datetime(2026, 11, 27, tzinfo=UTC),
        )
    )
    uow = SqlUnitOfWork(engine)
    world(uow)
    lifecycle(uow)
    with engine.connect() as conn:
        taken.rows(conn, {"u": "in_order", "k": "once"})
        with pytest.raises(IntegrityError):
            taken.rows(conn, {"u": "in_order", "k": "once"})
