"""`relos serve --workers 2` on SQLite: two worker processes on one port and one database file;
concurrent writes all succeed, and the failed-login limit holds for the server as a whole."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from relos.services import auth, demo
from relos.storage.audit_tables import audit_log
from relos.storage.engine import make_engine, upgrade
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.e2e.served import RELOS, relos_serve

TODAY = date(2026, 11, 25)
ORDERING = "Cdr Arjun Mehta"
PASSWORD = "Arctic-port-call-2026"
ORDER = {
    "agreement": "RELOS",
    "supplying": "RUS",
    "facility": "RUSMR",
    "unit": "INS-TABAR",
    "method": "cash",
    "use": "port_call",
    "required_by": "2026-12-20",
    "lines": [{"item": "RU-WATER-M3", "quantity": "250"}],
    "data": {
        "point_of_contact": "Supply officer, INS Tabar (F44)",
        "delivery_location": "Severomorsk, berth 3",
        "purpose": "port call",
    },
}


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path / 'relos.db'}"
    engine = make_engine(url)
    upgrade(engine)
    uow = SqlUnitOfWork(engine)
    demo.load_demo(uow, TODAY)
    auth.set_password(uow, "Capt Vikram Rao", ORDERING, PASSWORD)
    _, token = auth.create_token(uow, ORDERING, ORDERING, "e2e", ["read", "write"])
    engine.dispose()
    with relos_serve(url, "--workers", "2", up_within=120, log=tmp_path / "serve.log") as base:
        yield base, token


def test_two_workers_take_concurrent_writes_without_a_failure_and_limit_logins_together(
    two_workers: tuple[str, str],
) -> None:
    base, token = two_workers
    headers = {"Authorization": f"Bearer {token}"}

    def draft(k: int) -> list[str]:
        numbers = []
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            for i in range(8):
                r = http.post("/orders", json=ORDER, headers={"Idempotency-Key": f"w-{k}-{i}"})
                assert r.status_code == 201, r.text
                numbers.append(r.json()["number"])
                assert http.get("/ledger/balances").status_code == 200
        return numbers

    with ThreadPoolExecutor(6) as pool:
        drafted = [n for numbers in pool.map(draft, range(6)) for n in numbers]
    assert len(set(drafted)) == 6 * 8

    # Wrong passwords from one client, on fresh connections (spread over both workers): the
    # server answers 401 at most five times in all, then 429.
    answers = []
    for _ in range(14):
        with httpx.Client(base_url=base, timeout=60) as http:
            r = http.post("/auth/login", json={"name": ORDERING, "password": "wrong"})
            answers.append(r.status_code)
    assert set(answers) == {401, 429}
    assert answers.count(401) <= 5


def test_each_request_has_a_line_in_the_access_log_with_the_id_its_audit_records_carry(
    two_workers: tuple[str, str], tmp_path: Path
) -> None:
    """Both worker processes write relos's access line (client, request line, status, time,
    request id); a change's audit record names the same request id."""
    base, token = two_workers
    headers = {"Authorization": f"Bearer {token}"}
    drafted = {}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        for i in range(6):
            r = http.post(
                "/orders",
                json=ORDER,
                headers={"Idempotency-Key": f"log-{i}", "X-Request-ID": f"trace-{i}"},
            )
            assert r.status_code == 201, r.text
            drafted[r.json()["number"]] = f"trace-{i}"
        assert http.get("/orders/RELOS-IN-2026-999999").status_code == 404
        unnamed = http.get("/ledger/balances").headers["X-Request-ID"]
    # a request's line is written once its response has gone: wait for every one's
    ends = [*(f" trace-{i}" for i in range(6)), f" {unnamed}"]
    lines = _log_once(
        tmp_path / "serve.log", lambda lines: all(any(ln.endswith(e) for ln in lines) for e in ends)
    )
    for i in range(6):
        pattern = rf'INFO: +127\.0\.0\.1:\d+ - "POST /orders HTTP/1\.1" 201 [\d.]+ ms trace-{i}$'
        assert [ln for ln in lines if re.search(pattern, ln)], (i, lines)
    assert [ln for ln in lines if '"GET /orders/RELOS-IN-2026-999999 HTTP/1.1" 404' in ln]
    assert [ln for ln in lines if ln.endswith(f" {unnamed}") and "GET /ledger/balances" in ln]
    assert not [ln for ln in lines if "uvicorn.access" in ln or '" 201 Created' in ln]
    engine = make_engine(f"sqlite:///{tmp_path / 'relos.db'}")
    try:
        with engine.connect() as conn:
            ids = dict(
                conn.execute(
                    select(audit_log.c.entity_key, audit_log.c.request_id).where(
                        audit_log.c.action == "order.draft",
                        audit_log.c.entity_key.in_(drafted),
                    )
                ).all()
            )
    finally:
        engine.dispose()
    assert ids == drafted
    # and the officer's command finds the request's records by the id in the line
    found = subprocess.run(
        [str(RELOS), "audit", "log", "--request", "trace-3", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "RELOS_DATABASE_URL": f"sqlite:///{tmp_path / 'relos.db'}"},
        timeout=120,
        check=True,
    )
    third = next(n for n, trace in drafted.items() if trace == "trace-3")
    assert [(r["action"], r["key"]) for r in json.loads(found.stdout)] == [("order.draft", third)]


def _log_once(path: Path, done: Callable[[list[str]], bool], within: float = 10) -> list[str]:
    """The lines of the server's log once they are `done` (or the time is up)."""
    deadline = time.monotonic() + within
    while True:
        lines = path.read_text().splitlines()
        if done(lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)
