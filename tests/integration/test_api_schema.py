"""The HTTP API against its own OpenAPI document (schemathesis), and hostile input by hand.

Schemathesis generates requests for every operation from the schema, on a fresh copy of the demo
world (SQLite), authenticated as India's party admin with a read+write token, a new
Idempotency-Key per case and an If-Match header (an ETag-shaped value: mostly stale or of another
order, which the API must answer with a problem, never a crash). Every response must be a
non-5xx, documented status with a documented content type and a body matching the schema.

Excluded checks, because they cannot hold by design:
- positive_data_acceptance: schema-valid data still breaks business rules (an unknown order
  number, a facility of another party, a step of another party), which is a documented 4xx;
- negative_data_rejection / missing_required_header / ignored_auth / use_after_free /
  ensure_resource_availability / unsupported_method and other stateful or negative-mode checks:
  this suite generates positive data only, for one authenticated user, without links.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from pydantic import SecretStr
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, func, select

from relos.api.app import MAX_BODY, create_app
from relos.config import Settings
from relos.domain.users import Role
from relos.storage import tables as t
from tests.integration.api_world import (
    KEY_PASSPHRASE,
    World,
    bearer,
    build_sqlite,
    client,
    copy_of,
    user,
)

ADMIN = user("IND", Role.PARTY_ADMIN)
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_sqlite(tmp_path_factory.mktemp("schema"))


@pytest.fixture(scope="module")
def database(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with copy_of(world, tmp_path_factory.mktemp("schema-db")) as engine:
        yield engine


@pytest.fixture(scope="module")
def app(database: Engine) -> FastAPI:
    url = database.url.render_as_string(hide_password=False)
    configured = Settings(
        database_url=url, cookie_secure=False, key_passphrase=SecretStr(KEY_PASSPHRASE)
    )
    return create_app(configured)


#: the operations, read from the schema of an application that is never called (no database)
OPERATIONS = [
    (op.method.upper(), op.path)
    for op in (
        r.ok()  # type: ignore[union-attr]  # an invalid schema fails right here, loudly
        for r in schemathesis.openapi.from_asgi("/openapi.json", create_app()).get_all_operations()
    )
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_operation_answers_within_its_schema(
    method: str, path: str, app: FastAPI, world: World
) -> None:
    operation = schemathesis.openapi.from_asgi("/openapi.json", app)[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=15,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        headers = bearer(world.tokens[ADMIN])
        headers["Idempotency-Key"] = uuid.uuid4().hex
        if path.startswith("/orders/{number}/"):
            headers["If-Match"] = 'W/"RELOS-IN-2026-000001-1"'
        if path == "/auth/login":
            headers.pop("Authorization")
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()


# -- hostile input, by hand -----------------------------------------------------------------------


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in t.metadata.tables.items()
        }


@pytest.fixture
def fresh(world: World, tmp_path: Path) -> Iterator[Engine]:
    with copy_of(world, tmp_path) as engine:
        yield engine


def _post(engine: Engine, world: World, name: str, path: str, body: Any) -> Any:
    h = bearer(world.tokens[name], **{"Idempotency-Key": uuid.uuid4().hex})
    return client(engine).post(path, json=body, headers=h)


def order_body(world: World, **changes: Any) -> dict[str, Any]:
    target = world.targets["RELOS", "draft"]
    body: dict[str, Any] = {
        "agreement": "RELOS",
        "supplying": "RUS",
        "facility": target.facility,
        "unit": target.unit,
        "method": "cash",
        "use": target.use,
        "required_by": target.required_by.isoformat(),
        "lines": [{"item": ln.item_code, "quantity": str(ln.quantity)} for ln in target.lines],
        "data": dict(target.data),
    }
    body.update(changes)
    return body


ORDERER = user("IND", Role.ORDERING_OFFICER)
SQL = "'; DROP TABLE orders; --"


def test_a_valid_draft_is_accepted(fresh: Engine, world: World) -> None:
    """The baseline the hostile variants below differ from by one field."""
    r = _post(fresh, world, ORDERER, "/orders", order_body(world))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("change", "status"),
    [
        pytest.param({"lines": [{"item": "F76", "quantity": 400.5}]}, 422, id="float-quantity"),
        pytest.param({"lines": [{"item": "F76", "quantity": 400}]}, 422, id="integer-quantity"),
        pytest.param({"lines": [{"item": "F76", "quantity": "1e3"}]}, 422, id="exponent"),
        pytest.param({"lines": [{"item": "F76", "quantity": "-5"}]}, 422, id="negative"),
        pytest.param({"lines": [{"item": "F76", "quantity": "NaN"}]}, 422, id="nan"),
        pytest.param({"lines": "F76"}, 422, id="lines-not-a-list"),
        pytest.param({"required_by": 20261231}, 422, id="date-as-number"),
        pytest.param({"required_by": "31/12/2026"}, 422, id="date-not-iso"),
        pytest.param({"method": "bitcoin"}, 422, id="unknown-method"),
        pytest.param({"supplying": "ZZZ"}, {403, 404, 422}, id="unknown-party"),
        pytest.param({"agreement": SQL}, 422, id="sql-agreement"),
        pytest.param({"unit": "INS-TABAR' OR '1'='1"}, 422, id="sql-unit"),
        pytest.param({"facility": "Североморск"}, 422, id="cyrillic-code"),
        pytest.param({"facility": "विशाखापत्तनम"}, 422, id="devanagari-code"),
        pytest.param({"data": {SQL: "x"}}, 422, id="sql-data-key"),
        pytest.param({"data": {"purpose": "x" * 501}}, 422, id="long-data-value"),
        pytest.param({"extra": 1}, 422, id="unknown-field"),
        pytest.param({"agreement": None}, 422, id="null-agreement"),
    ],
)
def test_a_hostile_draft_is_refused_and_writes_nothing(
    change: dict[str, Any], status: int | set[int], fresh: Engine, world: World
) -> None:
    before = counts(fresh)
    r = _post(fresh, world, ORDERER, "/orders", order_body(world, **change))
    wanted = {status} if isinstance(status, int) else status
    assert r.status_code in wanted, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert counts(fresh) == before


def test_sql_cyrillic_and_devanagari_text_is_stored_as_text(fresh: Engine, world: World) -> None:
    """Free text may hold anything: it is data, never SQL, and comes back unchanged."""
    text = f"{SQL} Североморск विशाखापत्तनम"
    r = _post(fresh, world, ORDERER, "/orders", order_body(world, data={"purpose": text}))
    assert r.status_code == 201, r.text
    n = r.json()["number"]
    got = client(fresh).get(f"/orders/{n}", headers=bearer(world.tokens[ORDERER]))
    assert got.json()["data"]["purpose"] == text
    assert counts(fresh)["orders"] > 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param(
            "/price-items",
            {
                "supplier": "IND",
                "code": "X-1",
                "category": "water",
                "unit_of_measure": "m3",
                "unit_price": "10.00",
                "currency": "XXX",
                "valid_from": "2026-01-01",
            },
            id="unknown-currency",
        ),
        pytest.param(
            "/price-items",
            {
                "supplier": "IND",
                "code": "X-1",
                "category": "water",
                "unit_of_measure": "m3",
                "unit_price": "10.00",
                "currency": "rub",
                "valid_from": "2026-01-01",
            },
            id="lower-case-currency",
        ),
        pytest.param(
            "/price-items",
            {
                "supplier": "IND",
                "code": "X-1",
                "category": "water",
                "unit_of_measure": "m3",
                "unit_price": 10.5,
                "currency": "INR",
                "valid_from": "2026-01-01",
            },
            id="float-price",
        ),
        pytest.param("/units", {"code": SQL, "name": "x", "party": "IND"}, id="sql-unit-code"),
        pytest.param("/units", {"code": "X1", "name": "x", "party": "ind"}, id="lower-party"),
        pytest.param("/facilities", {"code": "Мурманск", "name": "x", "party": "IND"}, id="cyr"),
        pytest.param("/users", {"name": SQL, "role": "auditor"}, id="sql-user-name"),
        pytest.param("/users", {"name": "x", "role": "superuser"}, id="unknown-role"),
        pytest.param("/agreements", {"code": "X1", "title": "t", "parties": "IND"}, id="type"),
    ],
)
def test_bad_reference_data_is_refused_and_writes_nothing(
    path: str, body: dict[str, Any], fresh: Engine, world: World
) -> None:
    before = counts(fresh)
    r = _post(fresh, world, ADMIN, path, body)
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert counts(fresh) == before


def test_an_oversized_body_is_413_and_writes_nothing(fresh: Engine, world: World) -> None:
    before = counts(fresh)
    body = order_body(world, data={"purpose": "x" * 400})
    body["lines"] = [{"item": "x" * 40, "quantity": "1"}] * (MAX_BODY // 40)
    r = _post(fresh, world, ORDERER, "/orders", body)
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert counts(fresh) == before


def test_a_body_that_is_not_json_is_a_4xx(fresh: Engine, world: World) -> None:
    h = bearer(
        world.tokens[ORDERER], **{"Idempotency-Key": "k", "Content-Type": "application/json"}
    )
    before = counts(fresh)
    for raw in (b"{", b"\xff\xfe", "«ДРАФТ»".encode(), b"null", b"[]"):
        r = client(fresh).post("/orders", content=raw, headers=h)
        assert 400 <= r.status_code < 500, (raw, r.status_code)
    assert counts(fresh) == before


def test_sql_looking_path_and_query_values_are_4xx(fresh: Engine, world: World) -> None:
    c = client(fresh)
    h = bearer(world.tokens[ORDERER])
    for path in (f"/orders/{SQL}", "/agreements/RELOS' OR '1'='1", "/users/%27%3B--"):
        r = c.get(path, headers=h)
        assert r.status_code in (404, 422), (path, r.status_code)
    for params in ({"agreement": SQL}, {"party": "ИНД"}, {"sort": SQL}, {"limit": "1.5"}):
        r = c.get("/orders", params=params, headers=h)
        assert r.status_code == 422, (params, r.status_code)
