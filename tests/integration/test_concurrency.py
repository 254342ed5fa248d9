"""Two officers acting on one order at the same moment: neither write is lost. Writers take
turns from their first statement on both engines; readers are not held up."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

from relos.domain.errors import Busy
from relos.domain.ledger import mirror_mismatches
from relos.services import netting, ordering
from relos.storage.engine import make_engine, upgrade
from relos.storage.unit_of_work import SqlUnitOfWork
from tests import trilateral
from tests.conftest import postgres_database
from tests.integration.builders import at, placed, world


def test_a_writer_waits_for_the_one_before_it_from_its_first_statement_and_readers_do_not(
    engine: Engine,
) -> None:
    """On SQLite (the write lock) and on PostgreSQL (the audit log's lock, decision 59) alike, a
    second writer gets in only when the first has ended, even before either has written."""
    world(SqlUnitOfWork(engine))
    second_in = threading.Event()

    def second() -> None:
        uow = SqlUnitOfWork(engine)
        with uow:
            second_in.set()
            uow.commit()

    first = SqlUnitOfWork(engine)
    with first:
        th = threading.Thread(target=second)
        th.start()
        assert not second_in.wait(0.5)  # held up while the first is open
        reader = SqlUnitOfWork(engine, read_only=True)
        with reader:  # a reader is not
            assert [a.code for a in reader.reference.agreements()] == ["RELOS"]
        assert not second_in.is_set()
        first.commit()
    assert second_in.wait(10)
    th.join()


@pytest.mark.postgres
def test_on_postgresql_a_writer_held_up_past_its_busy_timeout_is_told_busy_not_left_waiting(
    postgres_url: str,
) -> None:
    """As on SQLite: a writer that cannot get its turn in time gets `Busy` (the entrypoints' exit
    code 10 and HTTP 503, "try again"), not the driver's lock timeout, which they would explain
    as a database that cannot be reached; the same writer gets in once the holder has ended."""
    with postgres_database(postgres_url) as url:
        patient = make_engine(url)
        impatient = make_engine(url, busy_timeout_ms=300)
        try:
            upgrade(patient)
            holder = SqlUnitOfWork(patient)
            with holder:
                started = time.monotonic()
                late = SqlUnitOfWork(impatient)
                with pytest.raises(Busy, match=r"0\.3 s wait; nothing was written") as told, late:
                    pass
                waited = time.monotonic() - started
                assert isinstance(told.value.__cause__, psycopg.errors.LockNotAvailable)
                pool = impatient.pool
                assert isinstance(pool, QueuePool)
                assert pool.checkedout() == 0  # nothing kept of the failed turn
            assert 0.25 < waited < 5
            later = SqlUnitOfWork(impatient)
            with later:
                later.commit()
        finally:
            impatient.dispose()
            patient.dispose()


@pytest.mark.postgres
def test_on_postgresql_a_row_lock_waited_for_past_the_busy_timeout_is_busy_too(
    postgres_url: str,
) -> None:
    """The statements a write runs on the driver's own cursor (an order's row locked for an
    action) are told busy as the ones through SQLAlchemy are, not left as the driver's error."""
    with postgres_database(postgres_url) as url:
        patient = make_engine(url)
        impatient = make_engine(url, busy_timeout_ms=300)
        try:
            upgrade(patient)
            setup = SqlUnitOfWork(patient)
            world(setup)
            number = placed(setup, "IND", "cash", [("F76", "400")])
            # another session (not relos's writers' turn) holds the order's row
            with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as other:
                other.execute("SELECT number FROM orders WHERE number = %s FOR UPDATE", [number])
                with pytest.raises(Busy, match=r"0\.3 s wait") as told:
                    ordering.receive(
                        SqlUnitOfWork(impatient),
                        "in_receive",
                        number,
                        [(1, "50")],
                        date(2026, 3, 2),
                        at(date(2026, 3, 2), 12),
                    )
                assert isinstance(told.value.__cause__, psycopg.errors.LockNotAvailable)
        finally:
            impatient.dispose()
            patient.dispose()


def test_concurrent_partial_receipts_on_one_order_are_both_kept(engine: Engine) -> None:
    setup = SqlUnitOfWork(engine)
    world(setup)
    number = placed(setup, "IND", "cash", [("F76", "400")])
    workers = 4
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def receive(k: int) -> None:
        barrier.wait()
        try:
            ordering.receive(
                SqlUnitOfWork(engine),
                "in_receive",
                number,
                [(1, "50")],
                date(2026, 3, 2),
                at(date(2026, 3, 2), 12 + k),
            )
        except BaseException as e:  # collected, reported below
            errors.append(e)

    threads = [threading.Thread(target=receive, args=(k,)) for k in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # They take turns on the order's row: each reads what the one before it wrote, so every
    # receipt is kept and none is refused as a collision (or silently dropped).
    assert errors == []
    order = ordering.show(setup, number)
    kept = len(order.receipts)
    assert kept == workers
    assert order.received_quantity(1) == 50 * kept
    assert [s.action for s in order.signatures].count("receive") == kept
    with setup:
        entries = setup.ledger.entries(order=number)
        assert len([e for e in entries if e.event == "receipt"]) == 2 * kept
        assert mirror_mismatches(setup.ledger.balances()) == []
        assert setup.ledger.balances() == setup.ledger.summed_balances()


def test_concurrent_netting_proposals_get_distinct_numbers_and_no_raw_error(
    engine: Engine,
) -> None:
    """Two finance officers propose a netting of one agreement at the same moment: the numbers
    come from the sequence table, so both are stored, one after the other, no collision."""
    setup = SqlUnitOfWork(engine)
    world(setup)
    for requesting, sup in (("IND", "ru"), ("RUS", "in")):
        req = "in" if requesting == "IND" else "ru"
        n = placed(setup, requesting, "cash", [("F76", "10")])
        ordering.receive_all(setup, f"{req}_receive", n, date(2026, 3, 2), at(date(2026, 3, 2)))
        ordering.invoice(setup, f"{sup}_finance", n, date(2026, 3, 5), at(date(2026, 3, 5)))
    netting.import_rates(setup, "date,pair,rate,source\n2026-03-01,RUB/INR,1.05,CBR\n")
    workers = 2
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []
    numbers: list[str] = []

    def propose(name: str) -> None:
        barrier.wait()
        try:
            st = netting.propose(SqlUnitOfWork(engine), name, "RELOS", date(2026, 3, 31))
            numbers.append(st.number)
        except BaseException as e:  # collected, reported below
            errors.append(e)

    threads = [threading.Thread(target=propose, args=(n,)) for n in ("in_finance", "ru_finance")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert sorted(numbers) == ["NET-RELOS-2026-0001", "NET-RELOS-2026-0002"]
    assert [s.number for s in netting.statements(setup, "in_finance")] == sorted(numbers)


def test_concurrent_payments_of_one_netting_obligation_never_pay_more_than_owed(
    engine: Engine,
) -> None:
    """India owes Russia 600 INR by a netting; India's and Russia's finance officers record 400
    each at the same moment: they take turns on the statement's row, so the second sees 200
    left and is refused; the books still mirror."""
    setup = SqlUnitOfWork(engine)
    trilateral.load(setup, trilateral_name, with_parties=trilateral.PARTIES)
    number = trilateral.posted_netting(setup, trilateral_name).number
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def pay(party: str) -> None:
        barrier.wait()
        try:
            netting.pay(
                SqlUnitOfWork(engine),
                trilateral_name(party, "finance_officer"),
                number,
                debtor="IND",
                creditor="RUS",
                amount="400.00",
                on=date(2026, 6, 10),
                reference=f"UTR-{party}",
            )
        except BaseException as e:  # collected, reported below
            errors.append(e)

    threads = [threading.Thread(target=pay, args=(p,)) for p in ("IND", "RUS")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert [getattr(e, "rule", repr(e)) for e in errors] == ["settlement_exceeds_outstanding"]
    st = netting.statement(setup, trilateral_name("IND", "finance_officer"), number)
    assert [d.outstanding.number for d in st.debts() if d.creditor == "RUS"] == [Decimal("200.00")]
    with setup:
        assert mirror_mismatches(setup.ledger.balances()) == []
        assert setup.ledger.balances() == setup.ledger.summed_balances()


def trilateral_name(party: str, role: str) -> str:
    return f"{party.lower()}_{role}"


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_pools_keep_a_connection_open_for_each_thread_of_a_worker_and_one_more(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A thread that found every kept connection taken opened one and closed it after use: on
    PostgreSQL a new server process per request beyond the pool (decision 91)."""
    from relos.config import Settings
    from relos.services import database
    from relos.storage.engine import reading_engine

    def kept_after(engine: Engine, at_once: int) -> int:
        held = [engine.connect() for _ in range(at_once)]
        for conn in held:
            conn.close()
        pool = engine.pool
        assert isinstance(pool, QueuePool)
        return pool.checkedin()

    def check(url: str) -> None:
        engine = database.engine_for(Settings(database_url=url, serve_threads=6))
        try:
            upgrade(engine)
            assert kept_after(engine, 7) == 7
            assert kept_after(engine, 9) == 7  # beyond the pool: opened, used, closed
            if backend == "sqlite":
                assert kept_after(reading_engine(engine), 7) == 7
        finally:
            engine.dispose()

    if backend == "sqlite":
        check(f"sqlite:///{tmp_path / 'relos.db'}")
    else:
        with postgres_database(request.getfixturevalue("postgres_url")) as url:
            check(url)
