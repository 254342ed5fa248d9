"""The HTTP API over a real database (SQLite and PostgreSQL): the RELOS world of `builders`, an
admin per party, a third party (USA) outside RELOS, and an API token per user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Table, func, select

from relos.api.app import create_app
from relos.config import Settings
from relos.services import auth, catalogue, people
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.integration.builders import DATA, USERS, world

PASSWORD = "correct horse battery staple"
EXTRA_USERS = {
    "in_admin": ("IND", "party_admin"),
    "ru_admin": ("RUS", "party_admin"),
    "in_planner": ("IND", "planner"),
    "us_admin": ("USA", "party_admin"),
    "us_order": ("USA", "ordering_officer"),
}


@dataclass
class Api:
    engine: Engine
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)
    read_tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, user: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}", **extra}

    def get(self, user: str, path: str, **kw: Any) -> httpx.Response:
        r: httpx.Response = self.client.get(path, headers=self.headers(user), **kw)
        return r

    def write(
        self,
        user: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        if_match: str | None = None,
        method: str = "POST",
    ) -> httpx.Response:
        h = self.headers(user, **{"Idempotency-Key": key or uuid.uuid4().hex})
        if if_match is not None:
            h["If-Match"] = if_match
        r: httpx.Response = self.client.request(method, path, json=body, headers=h)
        return r

    def act(self, user: str, number: str, action: str, body: Any = None) -> httpx.Response:
        """An order action with the order's current ETag (as the user reads it)."""
        etag = self.get(user, f"/orders/{number}").headers["ETag"]
        return self.write(user, f"/orders/{number}/{action}", body, if_match=etag)

    def count(self, table: Table) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def order_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "agreement": "RELOS",
        "supplying": "RUS",
        "facility": "RUSMR",
        "unit": "INS-TABAR",
        "method": "cash",
        "use": "port_call",
        "required_by": date(2026, 12, 31).isoformat(),
        "lines": [{"item": "F76", "quantity": "400"}, {"item": "WATER", "quantity": "100.4"}],
        "data": dict(DATA),
    }
    body.update(changes)
    return body


def make_api(engine: Engine) -> Api:
    uow = SqlUnitOfWork(engine)
    world(uow)
    catalogue.add_party(
        uow, {"code": "USA", "name": "United States", "native_name": "", "currency": "USD"}
    )
    for name, (party, role) in EXTRA_USERS.items():
        admin = None if role == "party_admin" else f"{name[:2]}_admin"
        people.add_user(uow, admin, name, party, role)
    url = engine.url.render_as_string(hide_password=False)
    api = Api(engine, TestClient(create_app(Settings(database_url=url, cookie_secure=False))))
    for name in [*USERS, *EXTRA_USERS]:
        _, text = auth.create_token(uow, name, name, "test", ["read", "write"])
        api.tokens[name] = text
        _, text = auth.create_token(uow, name, name, "read only", ["read"])
        api.read_tokens[name] = text
    auth.set_password(uow, "in_admin", "in_order", PASSWORD)
    return api
