"""Engines for SQLite (WAL, the embedded default) and PostgreSQL (psycopg 3), and migrations."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 here."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


#: how long a writer waits for its turn before giving up: SQLite's write lock ("database is
#: locked"), PostgreSQL's locks (``lock_timeout``)
BUSY_TIMEOUT_MS = 30_000
#: the execution option that marks a connection's next transactions as reading only
READ_ONLY = "relos_read_only"


class WriterQueue:
    """Where the writers of one SQLite database wait for their turn, before BEGIN IMMEDIATE.

    SQLite lets one writer in at a time, and a writer kept out polls with growing sleeps (up to
    100 ms) until its busy timeout. A busy writer (a server worker whose threads write one after
    the other) leaves no gap for the pollers, which then starve for seconds and fail with
    "database is locked". Here the threads of a process queue on a lock, and the processes (server
    workers, commands) on an exclusive `flock` of a file beside the database (`<db>-lock`, not
    SQLite's own locks), whose waiter the kernel wakes when the holder lets go. Past
    `timeout_s` a writer goes on anyway and SQLite's busy timeout decides, as before.
    """

    def __init__(self, lock_file: Path | None, timeout_s: float) -> None:
        self._threads = threading.RLock()
        self._lock_file = lock_file
        self._timeout_s = timeout_s
        self._fd: int | None = None
        self._depth = 0  # nested turns of the thread holding `_threads`
        self._flocked = False

    def acquire(self) -> bool:
        deadline = time.monotonic() + self._timeout_s
        if not self._threads.acquire(timeout=self._timeout_s):
            return False
        self._depth += 1
        if self._depth == 1 and self._lock_file is not None:
            self._flocked = self._flock(deadline)
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._flocked:
            assert self._fd is not None
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            self._flocked = False
        self._threads.release()

    def _flock(self, deadline: float) -> bool:
        assert self._lock_file is not None
        try:
            if self._fd is None:
                self._fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o600)
            fd = self._fd
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        except OSError:
            return False  # no lock file here (read-only directory): SQLite alone decides
        # A bounded wait, polled finely (one thread per process polls; the others wait on
        # `_threads`): the holder's gaps between two transactions are short.
        pause = 0.0005
        while time.monotonic() < deadline:
            time.sleep(pause)
            pause = min(pause * 2, 0.004)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                continue
        return False


_WRITER_QUEUES: WeakKeyDictionary[Engine, WriterQueue] = WeakKeyDictionary()
_WRITER_QUEUES_GUARD = threading.Lock()


def writer_queue(engine: Engine) -> WriterQueue | None:
    """The queue of a SQLite engine's writers (None on other engines)."""
    if engine.dialect.name != "sqlite":
        return None
    with _WRITER_QUEUES_GUARD:
        queue = _WRITER_QUEUES.get(engine)
        if queue is None:
            database = engine.url.database
            lock_file = Path(database + "-lock") if database and database != ":memory:" else None
            queue = _WRITER_QUEUES[engine] = WriterQueue(lock_file, BUSY_TIMEOUT_MS / 1000)
        return queue


def make_engine(url: str, echo: bool = False, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, record: Any) -> None:
            # The driver's own transaction handling off: `_begin` starts each one.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.close()
            record.info["query_only"] = False

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            """A write transaction takes the write lock when it starts (BEGIN IMMEDIATE), not at
            its first write: concurrent writers then wait for their turn (busy_timeout) instead
            of failing with "database is locked" when a read transaction tries to become a
            write one (SQLite answers that at once, whatever the timeout), and what a
            transaction read stays true until it commits (the order sequence, the audit chain's
            last record). A transaction marked as reading only (`READ_ONLY`) is a plain BEGIN:
            in WAL mode it takes no lock, neither waits for writers nor holds them up, and
            `PRAGMA query_only` makes any write in it fail instead of taking the lock late.
            """
            reading = bool(conn.get_execution_options().get(READ_ONLY))
            info = conn.connection.info
            if info.get("query_only", False) != reading:
                conn.exec_driver_sql(f"PRAGMA query_only={int(reading)}")
                info["query_only"] = reading
            conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, echo=echo, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _lock_timeout(dbapi_connection: Any, record: Any) -> None:
        """A writer waits at most the busy timeout for its turn (a lock), as on SQLite, then
        fails ("lock timeout") instead of waiting for ever on a holder that does not end."""
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET lock_timeout = {int(busy_timeout_ms)}")
        cursor.close()
        dbapi_connection.commit()  # a session setting: kept past the pool's rollbacks

    return engine


def _alembic_config(engine: Engine) -> Config:
    # Alembic is imported only by the commands that migrate: it costs start-up time.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` (Alembic), creating the tables on a new database."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database back to `revision` (Alembic): for tests of a revision's backfill."""
    from alembic import command

    command.downgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
