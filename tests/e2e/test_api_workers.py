"""`relos serve --workers 2` on SQLite: two worker processes on one port and one database file;
concurrent writes all succeed, and the failed-login limit holds for the server as a whole."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx
import pytest

from relos.services import auth, demo
from relos.storage.engine import make_engine, upgrade
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.e2e.served import relos_serve

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
    with relos_serve(url, "--workers", "2", up_within=120) as base:
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
