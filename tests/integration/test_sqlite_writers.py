"""Many writers and readers on one SQLite file at once, as `relos serve` sees them: threads of one
process and several processes (server workers). Writers queue for SQLite's one write lock and
every request succeeds; readers take no lock at all."""

from __future__ import annotations

import fcntl
import gc
import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import date
from multiprocessing import get_context
from pathlib import Path

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError

from relos.domain.agreements import Party
from relos.domain.errors import Busy
from relos.services import (
    audit,
    auth,
    idempotency,
    journal,
    ordering,
    people,
    queries,
    reconciliation,
    reports,
    settlement,
)
from relos.services.idempotency import Outcome
from relos.services.queries import OrderFilter
from relos.storage import engine as engine_module
from relos.storage.engine import (
    CACHE_KIB,
    WriterQueue,
    make_engine,
    reading_engine,
    upgrade,
)
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.fakes import KEY_PASSPHRASE
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
    with uow:  # writing again (on SQLite a connection of the writing pool)
        uow.reference.add_party(Party("XYZ", "Nowhere", "Nowhere", "USD"))
        uow.commit()
    with uow.reading():
        assert uow.reference.find_party("XYZ") is not None


def test_a_request_that_reads_then_writes_switches_no_connection_between_the_two(
    tmp_path: Path,
) -> None:
    """Who calls is read, then the order written, request after request, and no connection is
    switched between reading and writing (SQLite prepares every statement of a connection again
    when its `query_only` changes): readers and writers have pools of their own. A reading
    transaction still cannot write (the test above)."""
    url, token = _sqlite(tmp_path / "relos.db")
    engine = make_engine(url)
    switches: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.startswith("PRAGMA query_only"):
            switches.append(statement)

    for pool in {engine, reading_engine(engine)}:
        event.listen(pool, "before_cursor_execute", count)
    try:
        numbers = [_request(engine, token, f"request-{i}") for i in range(6)]
        with SqlUnitOfWork(engine, read_only=True) as uow:
            drafted = uow.orders.load(numbers)
    finally:
        engine.dispose()
    assert switches == []
    assert [o.number for o in drafted] == numbers


def test_every_connection_to_a_sqlite_file_keeps_a_page_cache_of_cache_kib(
    tmp_path: Path,
) -> None:
    """Readers and writers alike: a write to a large database touches index pages all over it,
    and SQLite's own 2,000 KiB let them fall out between the rows that need them."""
    url, _ = _sqlite(tmp_path / "relos.db")
    engine = make_engine(url)
    try:
        for pool in (engine, reading_engine(engine)):
            with pool.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -CACHE_KIB
    finally:
        engine.dispose()


# -- whose turn: first come, first served -------------------------------------------------------


def _wait_until(condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.001)


def _gate_taken(database: Path) -> bool:
    """Whether some writer holds the gate (`WriterQueue`): it waits for the turn."""
    fd = os.open(f"{database}-gate", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # and with it the lock, if this took it
    return False


def test_the_threads_of_a_process_take_their_turns_in_the_order_they_asked(
    tmp_path: Path,
) -> None:
    queue = WriterQueue(tmp_path / "relos.db", 10)
    turns: list[str] = []

    def writer(name: str) -> None:
        assert queue.acquire()
        turns.append(name)
        queue.release()

    assert queue.acquire()
    turns.append("first")
    threads = []
    for name in ("second", "third"):
        threads.append(threading.Thread(target=writer, args=(name,)))
        threads[-1].start()
        _wait_until(lambda: queue.waiting() == len(threads), f"{name} waits")
    queue.release()  # and at once asks again, as a thread of a busy pool would
    assert queue.acquire()
    turns.append("first again")
    queue.release()
    for t in threads:
        t.join()
    assert turns == ["first", "second", "third", "first again"]


def test_a_writer_that_lets_go_cannot_take_the_turn_back_before_another_process_had_it(
    tmp_path: Path,
) -> None:
    """Two queues on one file stand for two processes: their locks are two open files, which
    the kernel keeps apart as it keeps processes apart."""
    database = tmp_path / "relos.db"
    here, there = WriterQueue(database, 10), WriterQueue(database, 10)
    turns: list[str] = []

    def other_process() -> None:
        assert there.acquire()
        turns.append("there")
        there.release()

    assert here.acquire()
    turns.append("here")
    t = threading.Thread(target=other_process)
    t.start()
    _wait_until(lambda: _gate_taken(database), "the other process waits for the turn")
    here.release()
    assert here.acquire()
    turns.append("here again")
    here.release()
    t.join()
    assert turns == ["here", "there", "here again"]


def _waiting_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "relos-writer-turn"}


def test_a_process_waits_for_every_turn_on_one_thread_of_its_own(tmp_path: Path) -> None:
    """Starting a thread per wait cost more than the rest of taking the turn: the waits of a
    queue share one thread, which ends with the queue."""
    database = tmp_path / "relos.db"
    here, there = WriterQueue(database, 10), WriterQueue(database, 10)
    before = _waiting_threads()
    started: set[threading.Thread] = set()
    turns: list[int] = []

    def other_process(queue: WriterQueue, i: int) -> None:
        assert queue.acquire()  # waits: `here` holds the turn
        turns.append(i)
        queue.release()

    for i in range(5):
        assert here.acquire()
        t = threading.Thread(target=other_process, args=(there, i))
        t.start()
        _wait_until(lambda: _gate_taken(database), "the other process waits for the turn")
        started |= _waiting_threads() - before
        here.release()
        t.join()
    assert turns == [0, 1, 2, 3, 4]
    assert len(started) == 1
    del here, there
    gc.collect()
    _wait_until(lambda: not (_waiting_threads() & started), "the waiting thread ends")


def test_a_writer_past_its_wait_goes_on_and_the_turn_it_gave_up_is_let_go(tmp_path: Path) -> None:
    database = tmp_path / "relos.db"
    holder, impatient = WriterQueue(database, 10), WriterQueue(database, 0.2)
    assert holder.acquire()
    started = time.monotonic()
    assert impatient.acquire()  # past 0.2 s it goes on: SQLite's busy timeout decides
    assert time.monotonic() - started >= 0.2
    impatient.release()
    holder.release()
    # the wait given up got the turn when the holder let go, and let it go at once
    fd = os.open(f"{database}-lock", os.O_RDWR)
    try:
        _wait_until(lambda: _took(fd), "the given-up wait lets go of the turn")
    finally:
        os.close(fd)
    assert holder.acquire()
    holder.release()


def _took(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True


ADMIN_READS: dict[str, Callable[[SqlUnitOfWork], object]] = {
    "order list": lambda uow: queries.order_heads(uow, None, OrderFilter.parse()),
    "order list --json": lambda uow: list(queries.each_order(uow, None, OrderFilter.parse())),
    "open orders": lambda uow: reports.open_orders(uow, "IND"),
    "states": lambda uow: reports.orders_by_state(uow, "IND"),
    "balances": lambda uow: reports.balances(uow, "IND"),
    "obligations": lambda uow: reports.obligations(uow, date(2026, 6, 30), "IND"),
    "aging": lambda uow: reports.aging(uow, date(2026, 6, 30), "IND"),
    "entries": lambda uow: reports.entries(uow, "IND"),
    "alerts": lambda uow: settlement.alerts(uow, "in_finance", date(2026, 6, 30)),
    "annual report": lambda uow: settlement.annual_report(uow, "in_finance", "RELOS", 2026),
    "parties": lambda uow: queries.parties(uow, queries.viewer(uow, "in_finance")),
    "export beancount": lambda uow: journal.beancount(uow),
    "export hledger": lambda uow: journal.hledger(uow, "IND"),
    "audit verify": lambda uow: audit.check(uow),
    "audit log": lambda uow: audit.log(uow, limit=5),
}


@contextmanager
def _turn_held(engine: Engine) -> Iterator[None]:
    """Another thread holds the writers' turn (an open writing transaction) throughout."""
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        with SqlUnitOfWork(engine):
            holding.set()
            release.wait(30)

    th = threading.Thread(target=holder)
    th.start()
    try:
        assert holding.wait(10)
        yield
    finally:
        release.set()
        th.join()


@pytest.mark.parametrize("name", ADMIN_READS)
def test_a_command_that_only_reads_takes_no_writers_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A report, list or alert run from the command (a unit of work that could write) reads
    without the writers' turn: at a million lines some take minutes, and a writer waiting for
    the turn all that time would fail with "database is locked". Here a writer holds the turn
    throughout, and the read must finish well within the turn's (short) wait."""
    monkeypatch.setattr(engine_module, "BUSY_TIMEOUT_MS", 300)  # the writers' queue's wait
    url, _ = _sqlite(tmp_path / "relos.db")
    engine = make_engine(url, busy_timeout_ms=300)
    try:
        with _turn_held(engine):
            ADMIN_READS[name](SqlUnitOfWork(engine))  # "database is locked" if it waits
    finally:
        engine.dispose()


def test_a_writer_kept_out_past_its_wait_is_told_the_database_is_busy_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the driver's bare "database is locked" (a traceback from the command): an error of
    relos's own tree, which the command exits on (10) and the API answers (503)."""
    monkeypatch.setattr(engine_module, "BUSY_TIMEOUT_MS", 200)  # the writers' queue's wait
    url, token = _sqlite(tmp_path / "relos.db")
    engine = make_engine(url, busy_timeout_ms=200)
    with _turn_held(engine), pytest.raises(Busy, match="database is busy"):
        _request(engine, token, "kept-out")
    # nothing was written: the same key drafts the first order of the file
    assert _request(engine, token, "kept-out").endswith("-000001")
    engine.dispose()


def test_a_statement_is_read_and_signed_without_the_writers_turn_then_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An officer's write goes ahead while the statement is being written (at a million
    orders that takes minutes); the export's audit record follows, in a short write."""
    monkeypatch.setattr(engine_module, "BUSY_TIMEOUT_MS", 300)  # the writers' queue's wait
    url, token = _sqlite(tmp_path / "relos.db")
    engine = make_engine(url, busy_timeout_ms=300)
    people.add_user(SqlUnitOfWork(engine), None, "in_admin", "IND", "party_admin")
    reconciliation.create_key(SqlUnitOfWork(engine), "in_admin", "IND", passphrase=KEY_PASSPHRASE)
    written: list[str] = []

    class Statement(io.StringIO):
        def write(self, text: str) -> int:
            if not written:  # the officer's request, while the export reads and signs
                written.append(_request(engine, token, "during-the-export"))
            return super().write(text)

    out = Statement()
    done = reconciliation.export_statement(
        SqlUnitOfWork(engine),
        "in_finance",
        out,
        agreement="RELOS",
        party="IND",
        as_of=date(2026, 4, 30),
        passphrase=KEY_PASSPHRASE,
    )
    assert len(written) == 1
    assert written[0].endswith("-000001")
    assert json.loads(out.getvalue())["digest"] == done.digest
    records = audit.log(SqlUnitOfWork(engine), "statement")
    assert [(r.action, r.key) for r in records] == [("statement.export", done.digest)]
    assert audit.verify(SqlUnitOfWork(engine)) == []
    engine.dispose()
