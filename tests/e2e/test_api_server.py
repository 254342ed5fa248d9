"""End to end over HTTP: `relos serve` in its own process on a real loopback socket, on SQLite and
on PostgreSQL, driven like two navies' officers would drive it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from relos.services import audit, auth, demo
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.e2e.served import relos_serve

PASSWORD = "Arctic-port-call-2026"
TODAY = date(2026, 11, 25)

IND_ORDERING = "Cdr Arjun Mehta"
IND_RECEIVING = "लेफ्टिनेंट कमांडर प्रिया नायर"
IND_FINANCE = "Lt Cdr Kavita Sharma"
RUS_ACCEPTING = "Капитан 2-го ранга Иван Петров"
RUS_FINANCE = "Майор Елена Смирнова"
USA_FINANCE = "LCDR Maria Alvarez"


@pytest.fixture
def server(engine: Engine) -> Iterator[tuple[str, dict[str, str]]]:
    """The demo in a fresh database, passwords and tokens for the officers, and the server."""
    uow = SqlUnitOfWork(engine)
    demo.load_demo(uow, TODAY)
    auth.set_password(uow, "Capt Vikram Rao", IND_ORDERING, PASSWORD)
    tokens = {
        name: auth.create_token(uow, name, name, "e2e", ["read", "write"])[1]
        for name in (IND_RECEIVING, IND_FINANCE, RUS_ACCEPTING, RUS_FINANCE, USA_FINANCE)
    }
    with relos_serve(engine.url.render_as_string(hide_password=False)) as base:
        yield base, tokens


class Officer:
    """One officer's HTTP client: a token, or a password session with its CSRF token."""

    def __init__(self, base: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base, headers=headers, timeout=30)
        self.keys = 0

    def login(self, name: str, password: str) -> None:
        r = self.http.post("/auth/login", json={"name": name, "password": password})
        assert r.status_code == 200, r.text
        self.http.headers["X-CSRF-Token"] = r.json()["csrf_token"]

    def write(self, path: str, body: Any = None, etag: str | None = None) -> httpx.Response:
        self.keys += 1
        headers = {"Idempotency-Key": f"{id(self)}-{self.keys}"}
        if etag:
            headers["If-Match"] = etag
        return self.http.post(path, json=body if body is not None else {}, headers=headers)

    def act(self, number: str, action: str, body: Any = None) -> dict[str, Any]:
        current = self.http.get(f"/orders/{number}")
        assert current.status_code == 200, current.text
        r = self.write(f"/orders/{number}/{action}", body, current.headers["ETag"])
        assert r.status_code == 200, (action, r.status_code, r.text)
        result: dict[str, Any] = r.json()
        return result


def test_an_arctic_port_call_order_runs_from_draft_to_closed_over_http(
    server: tuple[str, dict[str, str]],
) -> None:
    base, tokens = server
    ordering = Officer(base)
    ordering.login(IND_ORDERING, PASSWORD)
    r = ordering.write(
        "/orders",
        {
            "agreement": "RELOS",
            "supplying": "RUS",
            "facility": "RUSMR",
            "unit": "INS-TABAR",
            "method": "cash",
            "use": "port_call",
            "required_by": "2026-12-20",
            "lines": [{"item": "RU-WATER-M3", "quantity": "120"}],
            "data": {
                "point_of_contact": "Cdr Arjun Mehta",
                "delivery_location": "Североморск, причал 3",
                "purpose": "Arctic port call",
            },
        },
    )
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    ordering.act(number, "submit")

    accepting = Officer(base, tokens[RUS_ACCEPTING])
    assert accepting.act(number, "accept")["state"] == "accepted"
    receiving = Officer(base, tokens[IND_RECEIVING])
    receiving.act(number, "receive", {"lines": [{"line": 1, "quantity": "50"}]})
    assert receiving.act(number, "receive", {"lines": []})["state"] == "received"
    rus_finance = Officer(base, tokens[RUS_FINANCE])
    invoiced = rus_finance.act(number, "invoice")
    value = invoiced["invoices"][0]["value"]
    ind_finance = Officer(base, tokens[IND_FINANCE])
    settled = ind_finance.act(number, "settle", {"amount": value["number"]})
    assert settled["state"] == "settled"
    closed = rus_finance.act(number, "close")
    assert closed["state"] == "closed"
    assert [s["user"] for s in closed["signatures"]][:2] == [IND_ORDERING, RUS_ACCEPTING]

    # The third party sees nothing of it, and the ledger of each side is its own.
    outsider = Officer(base, tokens[USA_FINANCE])
    assert outsider.http.get(f"/orders/{number}").status_code == 404
    books = {b["book"] for b in ind_finance.http.get("/ledger/balances").json()}
    assert books <= {"IND"}


def test_the_requester_cannot_accept_its_own_order_over_http(
    server: tuple[str, dict[str, str]],
) -> None:
    base, _ = server
    ordering = Officer(base)
    ordering.login(IND_ORDERING, PASSWORD)
    listed = ordering.http.get("/orders", params={"state": "submitted"}).json()["items"]
    mine = [o for o in listed if o["requesting"] == "IND"]
    assert mine, "the demo has a submitted Indian order"
    number = mine[0]["number"]
    current = ordering.http.get(f"/orders/{number}")
    r = ordering.write(f"/orders/{number}/accept", {}, current.headers["ETag"])
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["rule"] == "permission_denied"
    assert ordering.http.get(f"/orders/{number}").json()["state"] == "submitted"


def test_every_change_over_http_is_in_an_intact_audit_chain(
    server: tuple[str, dict[str, str]], engine: Engine
) -> None:
    base, tokens = server
    rus_finance = Officer(base, tokens[RUS_FINANCE])
    uow = SqlUnitOfWork(engine)
    with uow:
        before = len(list(uow.audit.records()))
    r = rus_finance.write("/tokens", {"name": "second", "scopes": ["read"]})
    assert r.status_code == 201, r.text
    assert audit.verify(uow) == []
    with uow:
        records = list(uow.audit.records())
    assert len(records) == before + 1
    assert (records[-1].action, records[-1].user) == ("token.create", RUS_FINANCE)
    assert r.json()["token"] not in str(records[-1].after)
