"""Logging in over HTTP: rate limits, session cookies, logout; and where the server may listen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from relos.api.app import create_app
from relos.cli.serve import require_safe_bind
from relos.config import Settings
from relos.domain.errors import RuleViolation
from relos.services import auth, catalogue, people
from relos.storage.engine import make_engine, upgrade
from relos.storage.unit_of_work import SqlUnitOfWork

PASSWORD = "Visakhapatnam-2026"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'relos.db'}"
    engine = make_engine(url)
    upgrade(engine)
    uow = SqlUnitOfWork(engine)
    catalogue.load(
        uow,
        {"parties": [{"code": "IND", "name": "India", "native_name": "भारत", "currency": "INR"}]},
    )
    people.add_user(uow, None, "Capt Vikram Rao", "IND", "party_admin")
    people.add_user(uow, "Capt Vikram Rao", "Cdr Arjun Mehta", "IND", "ordering_officer")
    for name in ("Capt Vikram Rao", "Cdr Arjun Mehta"):
        auth.set_password(uow, "Capt Vikram Rao", name, PASSWORD)
    engine.dispose()
    with TestClient(create_app(Settings(database_url=url, cookie_secure=False))) as c:
        yield c


def login(client: TestClient, name: str, password: str) -> int:
    code: int = client.post("/auth/login", json={"name": name, "password": password}).status_code
    return code


def test_five_failed_logins_lock_that_name_for_a_while_even_with_the_right_password(
    client: TestClient,
) -> None:
    for _ in range(5):
        assert login(client, "Cdr Arjun Mehta", "wrong password!") == 401
    r = client.post("/auth/login", json={"name": "Cdr Arjun Mehta", "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["rule"] == "too_many_attempts"
    assert int(r.headers["Retry-After"]) > 0
    assert login(client, "Capt Vikram Rao", PASSWORD) == 200  # another name is not locked


def test_a_login_opens_a_session_and_a_logout_ends_it(client: TestClient) -> None:
    r = client.post("/auth/login", json={"name": "Cdr Arjun Mehta", "password": PASSWORD})
    assert r.status_code == 200
    csrf = r.json()["csrf_token"]
    assert "httponly" in r.headers["set-cookie"].lower()
    me = client.get("/auth/me")
    assert me.status_code == 200
    assert me.json()["party"] == "IND"
    assert client.post("/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/auth/me").status_code == 401


def test_the_server_listens_beyond_loopback_only_behind_tls() -> None:
    for host in ("127.0.0.1", "::1", "localhost"):
        require_safe_bind(host, tls=False, behind_proxy=False)
    with pytest.raises(RuleViolation) as refused:
        require_safe_bind("0.0.0.0", tls=False, behind_proxy=False)
    assert refused.value.rule == "insecure_bind"
    assert refused.value.field == "host"
    require_safe_bind("0.0.0.0", tls=True, behind_proxy=False)
    require_safe_bind("10.1.2.3", tls=False, behind_proxy=True)
