"""Who may call, and how: sessions with CSRF on writes, read-only tokens, bad input refused
before anything is written (SQLite and PostgreSQL), and an OpenAPI document that declares it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from relos.storage import tables as t
from tests.integration.api_client import PASSWORD, Api, make_api, order_body
from tests.integration.builders import snapshot

PROBLEM = "application/problem+json"


@pytest.fixture
def api(engine: Engine) -> Api:
    return make_api(engine)


def test_a_session_writes_only_with_its_csrf_token(api: Api) -> None:
    r = api.client.post("/auth/login", json={"name": "in_order", "password": PASSWORD})
    assert r.status_code == 200, r.text
    csrf = r.json()["csrf_token"]
    key = {"Idempotency-Key": "s1"}
    r = api.client.post("/orders", json=order_body(), headers=key)
    assert r.status_code == 403
    assert r.headers["content-type"] == PROBLEM
    r = api.client.post("/orders", json=order_body(), headers={**key, "X-CSRF-Token": "wrong"})
    assert r.status_code == 403
    assert api.count(t.orders) == 0
    r = api.client.post("/orders", json=order_body(), headers={**key, "X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    assert api.client.get("/orders").json()["total"] == 1  # reads need no CSRF token


def test_a_read_only_token_reads_but_may_not_write(api: Api) -> None:
    h = {"Authorization": f"Bearer {api.read_tokens['in_order']}", "Idempotency-Key": "r1"}
    assert api.client.get("/orders", headers=h).status_code == 200
    r = api.client.post("/orders", json=order_body(), headers=h)
    assert r.status_code == 403
    assert r.json()["rule"] == "permission_denied"
    assert api.count(t.orders) == 0


def test_no_or_a_bad_token_is_401(api: Api) -> None:
    assert api.client.get("/orders").status_code == 401
    r = api.client.get("/orders", headers={"Authorization": "Bearer relos_0123456789abcdef_x"})
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM


BAD_BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("float quantity", order_body(lines=[{"item": "F76", "quantity": 400.5}]), "lines.0.quantity"),
    ("int quantity", order_body(lines=[{"item": "F76", "quantity": 400}]), "lines.0.quantity"),
    ("negative quantity", order_body(lines=[{"item": "F76", "quantity": "-1"}]), "lines.0"),
    ("unknown field", {**order_body(), "price": "1"}, "price"),
    ("wrong type", order_body(required_by=12), "required_by"),
    ("bad date", order_body(required_by="31/12/2026"), "required_by"),
    ("Cyrillic party", order_body(supplying="РУС"), "supplying"),
    ("Devanagari unit", order_body(unit="आईएनएस"), "unit"),
    ("SQL in a code", order_body(facility="X'; DROP TABLE orders;--"), "facility"),
    ("lower-case party", order_body(supplying="rus"), "supplying"),
    ("no lines", order_body(lines=[]), "lines"),
    ("oversized text", order_body(data={"purpose": "x" * 501}), "data.purpose"),
    ("bad data key", order_body(data={"Robert'); --": "x"}), "data"),
]


@pytest.mark.parametrize(("case", "body", "field"), BAD_BODIES, ids=[c for c, _, _ in BAD_BODIES])
def test_bad_input_is_422_naming_field_and_rule_and_writes_nothing(
    api: Api, case: str, body: dict[str, Any], field: str
) -> None:
    before = snapshot(api.engine)
    r = api.write("in_order", "/orders", body)
    assert r.status_code == 422, (case, r.text)
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["field"].startswith(field), problem
    assert problem["errors"][0]["rule"]
    assert snapshot(api.engine) == before


def test_unknown_currency_oversized_body_and_sql_text_write_nothing(api: Api) -> None:
    before = snapshot(api.engine)
    item = {
        "supplier": "IND",
        "code": "HSD",
        "category": "pol",
        "unit_of_measure": "kl",
        "unit_price": "95000.00",
        "currency": "ZZZ",
        "valid_from": "2026-01-01",
    }
    r = api.write("in_admin", "/price-items", item)
    assert r.status_code == 422
    assert r.json()["field"] == "unit_price.currency"
    r = api.write("in_admin", "/price-items", {**item, "currency": "INR", "unit_price": 9.5})
    assert r.status_code == 422
    big = order_body(data={"purpose": "x" * 400} | {f"k{i}": "y" * 500 for i in range(2100)})
    r = api.write("in_order", "/orders", big)
    assert r.status_code == 413
    assert snapshot(api.engine) == before
    # SQL-looking and non-Latin text where text is allowed is stored as text, exactly
    note = "'; DROP TABLE orders; -- / Причал 3 / बर्थ 3"
    r = api.write("in_order", "/orders", order_body(data={"purpose": note}))
    assert r.status_code == 201
    assert api.get("in_order", r.headers["Location"]).json()["data"]["purpose"] == note
    assert api.count(t.orders) == 1


def test_the_openapi_document_declares_every_route_and_its_problems(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert "ProblemDetails" in doc["components"]["schemas"]
    for path, ops in doc["paths"].items():
        if path.startswith("/auth"):
            continue
        for method, op in ops.items():
            assert "401" in op["responses"], (method, path)
            if method in ("post", "delete"):
                for code in ("409", "422", "428"):
                    assert code in op["responses"], (method, path, code)
                names = {p["name"] for p in op.get("parameters", [])}
                assert "Idempotency-Key" in names or "idempotency-key" in names, (method, path)
    line = doc["components"]["schemas"]["LineIn"]["properties"]["quantity"]
    assert line["type"] == "string"
    assert "pattern" in line
