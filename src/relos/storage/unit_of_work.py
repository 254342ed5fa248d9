"""The unit of work on SQL: one connection, one transaction per use case."""

from __future__ import annotations

from types import TracebackType
from typing import Self
from uuid import uuid4

from sqlalchemy import Connection, Engine

from relos.domain.errors import Conflict
from relos.storage.audit_repository import SERIALISE_WRITERS, AuditRepository
from relos.storage.auth_repository import AuthRepository
from relos.storage.conversion_repository import ConversionRepository
from relos.storage.engine import READ_ONLY, WriterQueue, reading_engine, writer_queue
from relos.storage.import_repository import ImportRepository
from relos.storage.netting_repository import NettingRepository
from relos.storage.reconciliation_repository import ReconciliationRepository
from relos.storage.repositories import LedgerRepository, OrderRepository, ReferenceRepository
from relos.storage.visit_repository import VisitRepository


class SqlUnitOfWork:
    """``with uow: ...; uow.commit()`` — anything not committed is rolled back on exit.

    Units of work nest: an inner ``with uow:`` joins the outer transaction, its ``commit()`` waits
    for the outermost one, and a failure inside it (an exception leaving the inner block) forbids
    the outer commit, so a batch of use cases is written whole or not at all.

    A writing transaction takes the writers' turn when it starts, on both engines: SQLite's write
    lock (``BEGIN IMMEDIATE``, after the process's writer queue), PostgreSQL's lock on the audit
    log (``SERIALISE_WRITERS``); writers go one at a time, in arrival order.

    ``with uow.reading(): ...`` (or a unit of work made with ``read_only=True``, for a whole
    request that only reads) opens a transaction that only reads: on SQLite a plain BEGIN that
    takes no lock in WAL mode (writes begin IMMEDIATE, in turn), on PostgreSQL a READ ONLY
    transaction; a write inside it fails on both.
    """

    def __init__(
        self, engine: Engine, request_id: str | None = None, read_only: bool = False
    ) -> None:
        self.engine = engine
        self.read_only = read_only
        self._reading_next = False
        self._held: WriterQueue | None = None
        # one id per request (given by the entrypoint) or per outermost unit of work
        self._given_request_id = request_id
        self.request_id = request_id or uuid4().hex
        self._conn: Connection | None = None
        self._depth = 0
        self._failed = False

    def __enter__(self) -> SqlUnitOfWork:
        self._depth += 1
        if self._depth > 1:
            return self
        self._failed = False
        self.request_id = self._given_request_id or uuid4().hex
        reading = self.read_only or self._reading_next
        self._reading_next = False
        if not reading:
            self._take_write_turn()
        try:
            self._conn = (reading_engine(self.engine) if reading else self.engine).connect()
            if reading:
                self._conn.execution_options(**{READ_ONLY: True, "postgresql_readonly": True})
            self._conn.begin()
            # PostgreSQL: writers take turns from their first statement, as on SQLite (decision
            # 59): in arrival order (a table lock's queue), not as a hot row's waiters retry,
            # and with one lock taken first there is no order of two locks to deadlock on
            if not reading and self.engine.dialect.name == "postgresql":
                self._conn.execute(SERIALISE_WRITERS)
        except BaseException:  # no transaction (a writer past its busy timeout): nothing held
            conn, self._conn = self._conn, None
            self._depth = 0
            try:
                if conn is not None:
                    conn.close()  # back to the pool, rolled back
            finally:
                self._release_write_turn()
            raise
        self.reference = ReferenceRepository(self._conn)
        self.orders = OrderRepository(self._conn)
        self.ledger = LedgerRepository(self._conn)
        self.audit = AuditRepository(self._conn)
        self.auth = AuthRepository(self._conn)
        self.visits = VisitRepository(self._conn)
        self.reconciliation = ReconciliationRepository(self._conn)
        self.conversions = ConversionRepository(self._conn)
        self.netting = NettingRepository(self._conn)
        self.imports = ImportRepository(self._conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth > 0:
            if exc_type is not None:
                self._failed = True
            return
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None
            self._release_write_turn()

    def reading(self) -> Self:
        """``with uow.reading():`` — this unit of work's next transaction only reads (inside an
        open one it joins it, as any nested unit of work does)."""
        if self._depth == 0:
            self._reading_next = True
        return self

    def _take_write_turn(self) -> None:
        queue = writer_queue(self.engine)
        # Past its timeout, go on anyway: SQLite's own busy_timeout then decides.
        if queue is not None and queue.acquire():
            self._held = queue

    def _release_write_turn(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            held.release()

    def commit(self) -> None:
        assert self._conn is not None
        if self._failed:
            raise Conflict("a step of this unit of work failed: nothing is written")
        if self._depth > 1:
            return
        self._conn.commit()

    def rollback(self) -> None:
        assert self._conn is not None
        self._conn.rollback()
