"""The unit of work on SQL: one connection, one transaction per use case."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine

from relos.storage.repositories import LedgerRepository, OrderRepository, ReferenceRepository


class SqlUnitOfWork:
    """``with uow: ...; uow.commit()`` — anything not committed is rolled back on exit."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None

    def __enter__(self) -> SqlUnitOfWork:
        self._conn = self.engine.connect()
        self._conn.begin()
        self.reference = ReferenceRepository(self._conn)
        self.orders = OrderRepository(self._conn)
        self.ledger = LedgerRepository(self._conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        assert self._conn is not None
        self._conn.commit()

    def rollback(self) -> None:
        assert self._conn is not None
        self._conn.rollback()
