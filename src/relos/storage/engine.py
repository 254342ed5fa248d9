"""Engines for SQLite (WAL, the embedded default) and PostgreSQL (psycopg 3), and migrations."""

from __future__ import annotations

import fcntl
import os
import queue
import sqlite3
import threading
import time
import weakref
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url

from relos.domain.errors import Busy

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

#: PostgreSQL's SQLSTATE for a lock not granted within `lock_timeout` (lock_not_available)
LOCK_NOT_AVAILABLE = "55P03"


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
#: the page cache of each SQLite connection, in KiB (``PRAGMA cache_size``; SQLite's default is
#: 2,000 KiB). A write to a large database touches index pages all over it (the debts by due
#: date, the balances by day): with 2,000 KiB they fell out of the cache between the rows that
#: needed them and were read again from the log or the file, 12 % of the import's write at 1M
#: lines. 8 MiB did as well as 256 MiB there (decision 82); a connection fills it only as it
#: reads, so a pool of idle connections costs little.
CACHE_KIB = 8192
#: connections a pool keeps open (SQLAlchemy's default); a thread that finds them all taken
#: opens one more and closes it when done, which on PostgreSQL is a new server process each
#: time: the API's pools keep one more than the threads a worker runs (`Settings.serve_threads`)
POOL_SIZE = 5


class _Turns:
    """A lock the threads of one process get in the order they asked for it.

    `threading.Lock` and `RLock` let the thread that lets go take the lock again before a waiter
    wakes up: a busy thread pool then serves the same threads again and again while others
    wait (with 20 threads taking 2 ms turns, a p99 wait of 220 ms where 40 ms is every thread's
    fair share). Here a thread that lets go hands the lock to the longest waiter.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._owner: int | None = None
        self._waiters: deque[tuple[threading.Lock, int]] = deque()

    def mine(self) -> bool:
        return self._owner == threading.get_ident()

    def waiting(self) -> int:
        return len(self._waiters)

    def acquire(self, timeout: float) -> bool:
        me = threading.get_ident()
        with self._guard:
            if self._owner is None:
                self._owner = me
                return True
            baton = threading.Lock()
            baton.acquire()
            self._waiters.append((baton, me))
        if baton.acquire(timeout=max(timeout, 0)):
            return True  # handed over: `release` made this thread the owner
        with self._guard:
            if self._owner == me:  # handed over between the timeout and now
                return True
            self._waiters.remove((baton, me))
            return False

    def release(self) -> None:
        with self._guard:
            assert self._owner == threading.get_ident(), "released by a thread not holding it"
            if self._waiters:
                baton, self._owner = self._waiters.popleft()
                baton.release()
            else:
                self._owner = None


_OPEN = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC


def _let_go(fd: int) -> None:
    """Unlock, then close: a process forked meanwhile (the import's workers) shares the open
    file, and a close alone would leave the lock held until the fork closes it too."""
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class _Waiter:
    """The thread on which a `WriterQueue` waits in the kernel for the writers' turn, one wait
    after the other. Kept for the queue's life: starting a thread for each wait cost more CPU
    (about 0.15 ms) than the rest of taking the turn, and under load most turns are waited
    for. Only the thread holding the queue's `_Turns` waits, so a wait queues here only behind
    one given up at its deadline, which ends as soon as it gets the turn (and lets go of it),
    as it would behind that wait's hold on the gate. A process forked after the thread started
    (the import's workers) starts its own when it first waits."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._pid: int | None = None
        self._waits: queue.SimpleQueue[_KernelWait | None] = queue.SimpleQueue()

    def submit(self, wait: _KernelWait) -> None:
        with self._guard:
            if self._pid != os.getpid():
                self._waits = queue.SimpleQueue()
                threading.Thread(
                    target=self._serve, args=(self._waits,), name="relos-writer-turn", daemon=True
                ).start()
                # the thread ends when the queue it waits for is gone
                weakref.finalize(self, self._waits.put, None)
                self._pid = os.getpid()
            self._waits.put(wait)

    @staticmethod
    def _serve(waits: queue.SimpleQueue[_KernelWait | None]) -> None:
        while (wait := waits.get()) is not None:
            wait.wait()


class _KernelWait:
    """A process's wait for the writers' turn, asleep in the kernel until the holder lets go,
    on the process's waiting thread (`_Waiter`) so that the waiter can give up at its
    deadline: the gate (unless given it held), then the turn, then the gate let go (see
    `WriterQueue`). Given up, the wait lets go of the turn as soon as it gets it. Its
    descriptors are its own (a lock of `flock` belongs to an open file description: one shared
    with a later wait could be let go for it)."""

    def __init__(self, turn: Path, gate: Path, gate_held: int | None, waiter: _Waiter) -> None:
        self._guard = threading.Lock()
        self._done = threading.Event()
        self._given_up = False
        self._fd: int | None = None
        self._args = (turn, gate, gate_held)
        waiter.submit(self)

    def wait(self) -> None:
        turn, gate, gate_held = self._args
        fd: int | None = None
        try:
            g = gate_held
            if g is None:
                g = os.open(gate, _OPEN, 0o600)
            try:
                if gate_held is None:
                    fcntl.flock(g, fcntl.LOCK_EX)
                fd = os.open(turn, _OPEN, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX)
            finally:
                _let_go(g)  # lets go of the gate
        except OSError:
            if fd is not None:
                os.close(fd)
            fd = None
        with self._guard:
            if self._given_up:
                if fd is not None:
                    _let_go(fd)
                return
            self._fd = fd
        self._done.set()

    def result(self, deadline: float) -> int | None:
        """The descriptor holding the turn, or None: given up at the deadline (or no lock)."""
        try:
            self._done.wait(max(deadline - time.monotonic(), 0))
        except BaseException:  # interrupted: nobody will let go of a turn got later
            with self._guard:
                self._given_up = True
                if self._fd is not None:
                    _let_go(self._fd)
                    self._fd = None
            raise
        with self._guard:
            if self._fd is None:
                self._given_up = True
            return self._fd


class WriterQueue:
    """Where the writers of one SQLite database wait for their turn, before BEGIN IMMEDIATE.

    SQLite lets one writer in at a time, and a writer kept out polls with growing sleeps (up to
    100 ms) until its busy timeout. A busy writer (a server worker whose threads write one after
    the other) leaves no gap for the pollers, which then starve for seconds and fail with
    "database is locked". Here writers take turns in the order they came, as far as the kernel
    allows: the threads of a process queue on `_Turns` (first come, first served), and the
    processes (server workers, commands) on an exclusive `flock` of a file beside the database
    (`<db>-lock`, not SQLite's own locks), asleep in the kernel until the holder lets go. A
    process waits for that lock holding a second one, the gate (`<db>-gate`), and lets go of the
    gate once it has the turn; so the holder, wanting the turn again, first waits for the gate
    and cannot take the turn back before the waiting process had it. Past `timeout_s` a writer
    goes on anyway and SQLite's busy timeout decides, as before.
    """

    def __init__(self, database: Path | None, timeout_s: float) -> None:
        """`database`: the SQLite file (None: in memory, threads only)."""
        self._threads = _Turns()
        self._lock_file = None if database is None else Path(f"{database}-lock")
        self._gate_file = None if database is None else Path(f"{database}-gate")
        self._timeout_s = timeout_s
        self._waiter = _Waiter()
        self._fd: int | None = None  # the descriptor holding the turn between processes
        self._depth = 0  # nested turns of the thread holding `_threads`

    def acquire(self) -> bool:
        if self._threads.mine():
            self._depth += 1
            return True
        deadline = time.monotonic() + self._timeout_s
        if not self._threads.acquire(self._timeout_s):
            return False
        self._depth = 1
        try:
            self._fd = self._take_turn(deadline)
        except BaseException:
            self._depth = 0
            self._threads.release()
            raise
        return True

    def waiting(self) -> int:
        """How many threads of this process wait for their turn."""
        return self._threads.waiting()

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            if self._fd is not None:
                fd, self._fd = self._fd, None
                _let_go(fd)  # lets go of the lock
            self._threads.release()

    def _take_turn(self, deadline: float) -> int | None:
        """The descriptor holding the turn between processes (None: past the deadline, or no
        lock file can be had here)."""
        if self._lock_file is None or self._gate_file is None:
            return None
        try:
            gate = os.open(self._gate_file, _OPEN, 0o600)
        except OSError:
            return None  # no lock file here (read-only directory): SQLite alone decides
        try:
            fcntl.flock(gate, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another process waits for the turn: wait for the gate, then the turn
            os.close(gate)
            return _KernelWait(self._lock_file, self._gate_file, None, self._waiter).result(
                deadline
            )
        try:
            fd = os.open(self._lock_file, _OPEN, 0o600)
        except OSError:
            _let_go(gate)
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # taken: wait for it, holding the gate meanwhile
            os.close(fd)
            return _KernelWait(self._lock_file, self._gate_file, gate, self._waiter).result(
                deadline
            )
        _let_go(gate)
        return fd


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
            file = Path(database) if database and database != ":memory:" else None
            queue = _WRITER_QUEUES[engine] = WriterQueue(file, BUSY_TIMEOUT_MS / 1000)
        return queue


#: a SQLite engine's companion for transactions that only read (see `reading_engine`)
_READERS: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()


def reading_engine(engine: Engine) -> Engine:
    """The engine a transaction that only reads connects through.

    On a SQLite file, a second pool on the same file whose connections only ever read: each is
    made ``PRAGMA query_only`` once, when it connects. Switching one connection between reading
    and writing (as a request does: it reads its caller's token, then writes) costs more than
    the read itself, since SQLite expires every statement the connection has prepared when that
    flag changes and prepares them again (0.9 ms a request, decision 71). Elsewhere (PostgreSQL,
    whose READ ONLY is per transaction, and an in-memory SQLite database, which a second pool
    would not see) the engine itself."""
    return _READERS.get(engine, engine)


def _sqlite_engine(
    url: str, echo: bool, busy_timeout_ms: int, reading: bool, pool_size: int
) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":  # a file's pool queues its connections
        engine = create_engine(url, echo=echo, pool_size=pool_size)
    else:  # one connection per thread, or the one in-memory database: no queue to size
        engine = create_engine(url, echo=echo)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, record: Any) -> None:
        # The driver's own transaction handling off: `_begin` starts each one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute(f"PRAGMA query_only={int(reading)}")
        cursor.close()
        record.info["query_only"] = reading

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
        The reading engine's connections are made query-only when they connect, the writing
        engine's are not: the pragma is switched here only on an in-memory database.
        """
        reading = bool(conn.get_execution_options().get(READ_ONLY))
        info = conn.connection.info
        if info.get("query_only", False) != reading:
            conn.exec_driver_sql(f"PRAGMA query_only={int(reading)}")
            info["query_only"] = reading
        # straight to the driver: SQLAlchemy's execution path costs more than the statement
        driver = conn.connection.driver_connection
        assert driver is not None  # a connection in use
        try:
            driver.execute("BEGIN" if reading else "BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:  # raised here, it reaches no SQLAlchemy wrapper
            busy = lock_wait(conn.engine, e)
            if busy is not None:
                raise busy from e
            raise

    _lock_waits_raise_busy(engine, busy_timeout_ms)
    return engine


#: each engine's busy timeout (ms), for the `Busy` its lock waits raise
_BUSY_TIMEOUTS: WeakKeyDictionary[Engine, int] = WeakKeyDictionary()


def lock_wait(engine: Engine, error: BaseException) -> Busy | None:
    """`Busy` (nothing was written, try again) for a driver error of a lock waited for past the
    engine's busy timeout, SQLite's SQLITE_BUSY or PostgreSQL's lock_not_available (`SET
    lock_timeout`); None for any other error. The entrypoints would explain the driver's error
    as a database that cannot be reached. Every path a statement takes asks it: SQLAlchemy's
    (`handle_error`), the driver's own cursor (`driver_statement.run_on_driver`) and SQLite's
    BEGIN (`_begin`)."""
    if (
        getattr(error, "sqlite_errorname", None) == "SQLITE_BUSY"
        or getattr(error, "sqlstate", None) == LOCK_NOT_AVAILABLE
    ):
        return Busy(_BUSY_TIMEOUTS.get(engine, BUSY_TIMEOUT_MS) / 1000)
    return None


def _lock_waits_raise_busy(engine: Engine, busy_timeout_ms: int) -> None:
    _BUSY_TIMEOUTS[engine] = busy_timeout_ms

    @event.listens_for(engine, "handle_error")
    def _translate(context: ExceptionContext) -> None:
        busy = lock_wait(engine, context.original_exception)
        if busy is not None:
            raise busy from context.original_exception


def make_engine(
    url: str,
    echo: bool = False,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    pool_size: int = POOL_SIZE,
) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(url, echo, busy_timeout_ms, reading=False, pool_size=pool_size)
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            reader = _READERS[engine] = _sqlite_engine(
                url, echo, busy_timeout_ms, reading=True, pool_size=pool_size
            )

            @event.listens_for(engine, "engine_disposed")
            def _dispose_reader(disposed: Engine) -> None:
                # disposing closes every connection to the file (the last one checkpoints it)
                reader.dispose()

        return engine
    engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=pool_size)

    @event.listens_for(engine, "connect")
    def _lock_timeout(dbapi_connection: Any, record: Any) -> None:
        """A writer waits at most the busy timeout for its turn (a lock), as on SQLite, then
        fails ("lock timeout") instead of waiting for ever on a holder that does not end."""
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET lock_timeout = {int(busy_timeout_ms)}")
        cursor.close()
        dbapi_connection.commit()  # a session setting: kept past the pool's rollbacks

    _lock_waits_raise_busy(engine, busy_timeout_ms)
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
