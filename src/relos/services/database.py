"""Opening the database a command works on, and migrating it (the node's administration)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from relos.config import Settings
from relos.storage import engine as storage_engine
from relos.storage.unit_of_work import SqlUnitOfWork


@dataclass(frozen=True)
class DatabaseStatus:
    url: str
    revision: str | None
    head: str | None

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.head


#: errors of a missing or unreachable database, which entrypoints explain to the user
DATABASE_ERRORS = (OperationalError, ProgrammingError)

#: how long a writer waits for its turn before it is told the database is busy, in seconds
WRITER_WAIT_S = storage_engine.BUSY_TIMEOUT_MS / 1000

_ENGINES: dict[str, Engine] = {}


def engine_for(settings: Settings) -> Engine:
    url = settings.database_url
    if url not in _ENGINES:
        _ENGINES[url] = storage_engine.make_engine(
            url, echo=settings.echo_sql, pool_size=settings.serve_threads + 1
        )
    return _ENGINES[url]


def unit_of_work(
    settings: Settings, read_only: bool = False, request_id: str | None = None
) -> SqlUnitOfWork:
    """A unit of work on the settings' database; `read_only`: every transaction of it only reads
    (an HTTP GET); `request_id`: what its audit records name as their request (an HTTP
    request's X-Request-ID; without it each transaction gets a new id)."""
    return SqlUnitOfWork(engine_for(settings), request_id=request_id, read_only=read_only)


def upgrade(settings: Settings, revision: str = "head") -> DatabaseStatus:
    """Create (on a new database) or migrate the schema to `revision`."""
    engine = engine_for(settings)
    storage_engine.upgrade(engine, revision)
    return status(settings)


def status(settings: Settings) -> DatabaseStatus:
    engine = engine_for(settings)
    return DatabaseStatus(
        safe_url(settings.database_url),
        storage_engine.current_revision(engine),
        storage_engine.head_revision(engine),
    )


def safe_url(url: str) -> str:
    """The URL with any password hidden."""
    from sqlalchemy.engine import make_url

    return make_url(storage_engine.normalise_url(url)).render_as_string(hide_password=True)
