"""Many writers and readers on one SQLite file at once, as `relos serve` sees them: threads of one
process and several processes (server workers). Writers queue for SQLite's one write lock and
every request succeeds; readers take no lock at all."""

from __future__ import annotations

import threading
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from relos.domain.agreements import Party
from relos.services import audit, auth, idempotency, ordering, reports
from relos.services.idempotency import Outcome
from relos.storage.engine import make_engine, upgrade
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.integration.builders import DATA, world

#: short, so that a writer held up by a lock fails within the test instead of waiting
BUSY_TIMEOUT_MS = 2_000


def _sqlite(path: Path) -> tuple[str, str]:
    """A migrated SQLite file with the test world and an API token of India's ordering officer."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    world(SqlUnitOfWork(engine))
    _, token = auth.create_token(
        SqlUnitOfWork(engine), "in_order", "in_order", "load", ["read", "write"]
    )
    engine.dispose()
    return url, token


def _request(engine: Engine, token: str, key: str) -> str:
    """What `POST /orders` does: who calls (a read), the idempotency record (a read), the draft
    and its record (one write). Returns the order number."""
    uow = SqlUnitOfWork(engine)
    caller = auth.token_principal(uow, token)

    def write() -> Outcome:
        o = ordering.draft(
            uow,
            caller.user.name,
            agreement="RELOS",
            supplying="RUS",
            facility="RUSMR",
            unit="INS-TABAR",
            method="cash",
            use="port_call",
            required_by=date(2026, 12, 20),
            lines=[("F76", "10")],
            data=DATA,
        )
        return Outcome(201, {"number": o.number})

    out = idempotency.run(uow, caller.user.name, key, f"digest-{key}", write)
    number: str = out.body["number"]
    return number


def _writers(
    url: str, token: str, name: str, threads: int, each: int
) -> tuple[list[str], list[str]]:
    """`threads` threads of one process, `each` requests each, while as many readers read the
    balances (a GET: read-only units of work) until the writers are done. Returns the order
    numbers and the errors seen."""
    engine = make_engine(url, busy_timeout_ms=BUSY_TIMEOUT_MS)
    numbers: list[str] = []
    errors: list[str] = []
    done = threading.Event()
    barrier = threading.Barrier(2 * threads)

    def write(k: int) -> None:
        barrier.wait()
        for i in range(each):
            try:
                numbers.append(_request(engine, token, f"{name}-{k}-{i}"))
            except Exception as e:  # collected, asserted by the caller
                errors.append(repr(e))

    def read() -> None:
        barrier.wait()
        while not done.is_set():
            try:
                auth.token_principal(SqlUnitOfWork(engine, read_only=True), token)
                reports.balances(SqlUnitOfWork(engine, read_only=True), "IND")
            except Exception as e:  # collected, asserted by the caller
                errors.append(repr(e))

    writers = [threading.Thread(target=write, args=(k,)) for k in range(threads)]
    readers = [threading.Thread(target=read) for _ in range(threads)]
    for th in writers + readers:
        th.start()
    for th in writers:
        th.join()
    done.set()
    for th in readers:
        th.join()
    engine.dispose()
    return numbers, errors


def _numbers_are_a_sequence(numbers: list[str], count: int) -> None:
    assert len(numbers) == count
    assert len(set(numbers)) == count
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, count + 1))


def test_concurrent_requests_of_one_process_all_succeed(tmp_path: Path) -> None:
    url, token = _sqlite(tmp_path / "relos.db")
    numbers, errors = _writers(url, token, "threads", threads=8, each=12)
    assert errors == []
    _numbers_are_a_sequence(numbers, 8 * 12)
    engine = make_engine(url)
    assert audit.verify(SqlUnitOfWork(engine)) == []


def test_concurrent_requests_of_several_processes_all_succeed(tmp_path: Path) -> None:
    """Two server workers (processes) on one file, each with concurrent requests."""
    url, token = _sqlite(tmp_path / "relos.db")
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        runs = [pool.submit(_writers, url, token, f"p{p}", 4, 10) for p in range(2)]
        results = [r.result(timeout=300) for r in runs]
    assert [errors for _, errors in results] == [[], []]
    _numbers_are_a_sequence([n for numbers, _ in results for n in numbers], 2 * 4 * 10)
    engine = make_engine(url)
    assert audit.verify(SqlUnitOfWork(engine)) == []


def test_a_long_read_does_not_hold_up_a_writer(tmp_path: Path) -> None:
    """A reading unit of work (a GET) takes no lock: a writer goes ahead while it is open, long
    after the writer's own busy timeout."""
    url, token = _sqlite(tmp_path / "relos.db")
    engine = make_engine(url, busy_timeout_ms=200)
    reading = threading.Event()
    written = threading.Event()
    seen: list[object] = []

    def reader() -> None:
        uow = SqlUnitOfWork(engine, read_only=True)
        with uow:
            uow.ledger.balances("IND")
            reading.set()
            seen.append(written.wait(10))  # still open while the writer writes

    th = threading.Thread(target=reader)
    th.start()
    assert reading.wait(10)
    try:
        number = _request(engine, token, "while-reading")
    finally:
        written.set()
        th.join()
    assert number.endswith("-000001")
    assert seen == [True]


def test_a_reading_unit_of_work_cannot_write_and_its_connection_writes_again_after(
    engine: Engine,
) -> None:
    uow = SqlUnitOfWork(engine)
    with pytest.raises(DBAPIError), uow.reading():
        uow.reference.add_party(Party("XYZ", "Nowhere", "Nowhere", "USD"))
    with uow:  # the same pooled connection, writing again
        uow.reference.add_party(Party("XYZ", "Nowhere", "Nowhere", "USD"))
        uow.commit()
    with uow.reading():
        assert uow.reference.find_party("XYZ") is not None
