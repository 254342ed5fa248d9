"""Bulk import on SQLite and PostgreSQL: the orders written in sets read back as the same orders,
postings and balances the order services give one by one; an interrupted import resumes."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from relos.domain.errors import AlreadyExists, Invalid
from relos.domain.imports import ImportJob
from relos.services import bulk_import, catalogue, ordering, people
from relos.storage import import_tables as it
from relos.storage import tables as t
from relos.storage.bulk_insert import COPY_FROM_ROWS
from relos.storage.engine import make_engine, upgrade
from relos.storage.import_repository import ImportRepository
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.conftest import postgres_database
from tests.fakes import USERS, relos_document, seeded_uow
from tests.import_world import (
    ORDERS,
    TODAY,
    Line,
    books,
    enter_one_by_one,
    ind_order,
    rows_of,
    total_rows,
    write_csv,
)


def seed(uow: SqlUnitOfWork) -> SqlUnitOfWork:
    catalogue.load(uow, relos_document())
    for name, (party, role) in USERS.items():
        admin = None if role == "party_admin" else f"{party.lower()}-admin"
        people.add_user(uow, admin, name, party, role)
    return uow


def run(uow: SqlUnitOfWork, path: Path, **kw: Any) -> bulk_import.ImportSummary:
    return bulk_import.import_orders(uow, "ind-admin", path, today=TODAY, **kw)


@pytest.mark.parametrize("workers", [1, 2])
def test_orders_imported_in_sets_read_back_as_the_orders_entered_one_by_one(
    engine: Engine, tmp_path: Path, workers: int
) -> None:
    """Alike when the batches are built in this process or by two worker processes."""
    by_hand = seeded_uow()
    enter_one_by_one(by_hand, ORDERS)
    uow = seed(SqlUnitOfWork(engine))
    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))
    summary = run(uow, path, batch=3, workers=workers)
    assert summary.rows == total_rows(ORDERS)
    got, expected = books(uow), books(by_hand)  # books() checks kept balances = summed postings
    assert got["orders"] == expected["orders"]
    assert got["entries"] == expected["entries"]
    assert got["balances"] == expected["balances"]
    with engine.connect() as c:
        refs = c.execute(select(func.count()).select_from(it.order_references)).scalar_one()
        signatures = c.execute(select(func.count()).select_from(t.signatures)).scalar_one()
    assert refs == len(ORDERS)
    assert signatures == sum(len(o["signatures"]) for o in got["orders"].values())


def test_the_batches_of_one_transaction_keep_every_days_and_months_balances(
    engine: Engine, tmp_path: Path
) -> None:
    """The batches' changes of the kept balances are added once, when their transaction ends:
    as of every day, the kept balances are the postings summed."""
    uow = seed(SqlUnitOfWork(engine))
    summary = run(uow, write_csv(tmp_path / "orders.csv", rows_of(ORDERS)), batch=3)
    assert summary.batches > 2  # all in one transaction (commit_rows)
    with uow:
        days = sorted({e.on for e in uow.ledger.entries()})
        for day in [days[0] - timedelta(days=1), *days, TODAY]:
            assert uow.ledger.balances(as_of=day) == uow.ledger.summed_balances(as_of=day)
        assert uow.ledger.balances() == uow.ledger.summed_balances() != {}


def test_an_order_drafted_after_an_import_takes_the_next_number(
    engine: Engine, tmp_path: Path
) -> None:
    uow = seed(SqlUnitOfWork(engine))
    specs = [ind_order(f"R-{i}", "2026-02-01", Line("WATER", "1")) for i in range(5)]
    run(uow, write_csv(tmp_path / "orders.csv", rows_of(specs)), batch=2)
    with uow:
        numbers = uow.orders.numbers()
        assert uow.orders.next_number("RELOS-IN-2026-") == 6
    assert numbers == [f"RELOS-IN-2026-{i:06d}" for i in range(1, 6)]


def test_an_order_entered_by_hand_while_an_import_is_written_keeps_its_number(
    engine: Engine, tmp_path: Path
) -> None:
    """The check numbers the orders as foreseen; an order entered meanwhile takes one of those
    numbers, so the import's orders are built again with the numbers then reserved."""
    by_hand = seeded_uow()
    enter_one_by_one(by_hand, ORDERS)
    uow = seed(SqlUnitOfWork(engine))

    def officer_enters_the_first(phase: str, done: int, total: int | None) -> None:
        if phase == "write" and done == 0:
            enter_one_by_one(SqlUnitOfWork(engine), ORDERS[:1])

    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS[1:]))
    run(uow, path, batch=3, progress=officer_enters_the_first)
    got, expected = books(uow), books(by_hand)
    assert got["orders"] == expected["orders"]
    assert got["entries"] == expected["entries"]
    assert got["balances"] == expected["balances"]


def test_a_bad_file_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    uow = seed(SqlUnitOfWork(engine))
    rows = rows_of(ORDERS)
    rows[-1] = {**rows[-1], "received_quantity": "11"}
    with pytest.raises(Invalid):
        run(uow, write_csv(tmp_path / "bad.csv", rows))
    with engine.connect() as c:
        for table in (t.orders, t.ledger_entries, it.import_jobs):
            assert c.execute(select(func.count()).select_from(table)).scalar_one() == 0


class FailingRepository(ImportRepository):
    batches = 0

    def add_order_rows(self, job_id: int, rows: Any) -> None:
        FailingRepository.batches += 1
        if FailingRepository.batches == 2:
            raise ConnectionError("connection lost")
        super().add_order_rows(job_id, rows)


class FailingUnitOfWork(SqlUnitOfWork):
    """Loses its connection while writing the second batch."""

    def __enter__(self) -> SqlUnitOfWork:
        outer = self._depth == 0
        got = super().__enter__()
        if outer:
            assert self._conn is not None
            self.imports = FailingRepository(self._conn)
        return got


def test_an_interrupted_import_resumes_and_the_same_file_is_then_refused(
    engine: Engine, tmp_path: Path
) -> None:
    by_hand = seeded_uow()
    enter_one_by_one(by_hand, ORDERS)
    seed(SqlUnitOfWork(engine))
    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))
    FailingRepository.batches = 0
    with pytest.raises(ConnectionError):
        run(FailingUnitOfWork(engine), path, batch=3, commit_rows=1)
    uow = SqlUnitOfWork(engine)
    with uow:
        (job,) = uow.imports.unfinished_jobs("orders")
        written = len(uow.orders.numbers())
    assert job.batches_done == 1
    assert 0 < written < len(ORDERS)
    summary = run(uow, path, batch=3, resume=True)
    assert summary.orders == len(ORDERS) - written
    assert books(uow) == books(by_hand)
    with pytest.raises(AlreadyExists):
        run(uow, path)
    with uow:
        assert uow.imports.unfinished_jobs("orders") == []
        o = ordering.show(uow, uow.orders.numbers()[-1])
    assert o.signatures[0].role == "party_admin"


def test_many_orders_imported_in_sets_read_back_as_the_orders_entered_one_by_one(
    engine: Engine, tmp_path: Path
) -> None:
    """Enough orders that every table gets more rows at once than `COPY_FROM_ROWS` (on
    PostgreSQL a COPY)."""
    many = [replace(o, ref=f"{o.ref}-{k}") for k in range(8) for o in ORDERS]
    by_hand = seeded_uow()
    enter_one_by_one(by_hand, many)
    uow = seed(SqlUnitOfWork(engine))
    summary = run(uow, write_csv(tmp_path / "orders.csv", rows_of(many)))
    assert summary.batches == 1
    got = books(uow)
    assert len(got["orders"]) == len(many) > COPY_FROM_ROWS
    assert got == books(by_hand)


@pytest.mark.postgres
def test_an_import_on_postgresql_leaves_statistics_of_the_tables_it_reads_by_key(
    postgres_url: str, tmp_path: Path
) -> None:
    """Without them the planner takes one transaction's key for one matching most entries
    (decision 93); the autovacuum would not analyze tables this small."""
    with postgres_database(postgres_url) as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            uow = seed(SqlUnitOfWork(engine))
            path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))
            run(uow, path, batch=1, commit_rows=1)  # each order its own transaction
            with engine.connect() as c:
                analyzed = c.exec_driver_sql(
                    "SELECT tablename, attname FROM pg_stats WHERE attname IN ('txn', 'reference')"
                ).all()
        finally:
            engine.dispose()
    assert sorted(map(tuple, analyzed)) == [
        ("ledger_entries", "txn"),
        ("order_references", "reference"),
    ]


def test_two_processes_cannot_start_jobs_for_one_file(engine: Engine) -> None:
    uow = seed(SqlUnitOfWork(engine))

    def job() -> ImportJob:
        return ImportJob(
            "orders", "ab" * 32, "orders.csv", "ind-admin", "IND", datetime.now(UTC), 4, 1
        )

    with uow:
        uow.imports.add_job(job())
        uow.commit()
    with uow, pytest.raises(AlreadyExists):
        uow.imports.add_job(job())  # the other process's, once the unique key has it


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    """A migrated SQLite database file and its path."""
    db = tmp_path / "relos.db"
    eng = make_engine(f"sqlite:///{db}")
    upgrade(eng)
    try:
        yield eng, db
    finally:
        eng.dispose()


@pytest.mark.parametrize(("pages", "copied_while_written"), [(1, True), (1_000_000, False)])
def test_the_imports_commits_copy_sqlites_log_into_the_database_only_past_checkpoint_pages(
    sqlite_file: tuple[Engine, Path], tmp_path: Path, pages: int, copied_while_written: bool
) -> None:
    """In WAL mode the database file grows only when a checkpoint copies the log into it."""
    engine, db = sqlite_file
    uow = seed(SqlUnitOfWork(engine))
    sizes: list[int] = []

    def progress(phase: str, done: int, total: int | None) -> None:
        if phase == "write" and done > 0:  # in each transaction, before its commit
            sizes.append(db.stat().st_size)

    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))
    run(uow, path, batch=3, commit_rows=1, checkpoint_pages=pages, progress=progress)
    assert len(sizes) >= 3
    assert (sizes[-1] > sizes[0]) is copied_while_written


def test_an_import_on_sqlite_ends_with_its_orders_in_the_database_file_itself(
    sqlite_file: tuple[Engine, Path], tmp_path: Path
) -> None:
    """The write's last commit is followed by a checkpoint: a copy of the file alone, without
    its log, holds every order."""
    engine, db = sqlite_file
    uow = seed(SqlUnitOfWork(engine))
    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))
    run(uow, path, batch=3, commit_rows=1, checkpoint_pages=1_000_000)
    alone = tmp_path / "alone.db"
    shutil.copyfile(db, alone)
    copy = sqlite3.connect(alone)
    try:
        (orders,) = copy.execute("SELECT count(*) FROM orders").fetchone()
    finally:
        copy.close()
    assert orders == len(ORDERS)


def test_an_import_puts_the_log_setting_of_its_connections_back_even_when_it_fails(
    sqlite_file: tuple[Engine, Path], tmp_path: Path
) -> None:
    engine, _ = sqlite_file
    seed(SqlUnitOfWork(engine))
    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))
    seen: list[int] = []

    def progress_of(uow: SqlUnitOfWork) -> bulk_import.Progress:
        def progress(phase: str, done: int, total: int | None) -> None:
            if phase == "write" and done > 0:
                assert uow._conn is not None
                seen.append(uow._conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())

        return progress

    FailingRepository.batches = 0
    failing = FailingUnitOfWork(engine)
    with pytest.raises(ConnectionError):
        run(
            failing,
            path,
            batch=3,
            commit_rows=1,
            checkpoint_pages=123,
            progress=progress_of(failing),
        )
    uow = SqlUnitOfWork(engine)
    run(uow, path, batch=3, resume=True, checkpoint_pages=456, progress=progress_of(uow))
    assert seen[0] == 123
    assert set(seen[1:]) == {456}
    pooled = [engine.connect() for _ in range(engine.pool.checkedin())]  # type: ignore[attr-defined]
    try:
        assert pooled
        assert {c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() for c in pooled} == {
            1000
        }
    finally:
        for c in pooled:
            c.close()
