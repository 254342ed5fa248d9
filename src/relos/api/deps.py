"""Dependencies: the settings, a unit of work per request, and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from relos.config import Settings
from relos.services import database
from relos.services.unit_of_work import UnitOfWork


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


#: methods that change nothing: their units of work only read (no SQLite lock, PostgreSQL READ ONLY)
READING_METHODS = frozenset({"GET", "HEAD"})


def request_id(request: Request) -> str | None:
    """The request's X-Request-ID (the client's, or the one the app gave it: `RequestIdAndSize`),
    which the audit records of its changes carry."""
    given: str | None = request.scope.get("state", {}).get("request_id")
    return given


async def unit_of_work(request: Request) -> UnitOfWork:
    """Made on the event loop (``async``, no I/O: the connection is opened by the use case), so
    that FastAPI does not hand it to a worker thread and back."""
    return database.unit_of_work(
        settings(request),
        read_only=request.method in READING_METHODS,
        request_id=request_id(request),
    )


async def writing_unit_of_work(request: Request) -> UnitOfWork:
    """For the rare GET that records something (a signed export is audited)."""
    return database.unit_of_work(settings(request), request_id=request_id(request))


Uow = Annotated[UnitOfWork, Depends(unit_of_work)]
WritingUow = Annotated[UnitOfWork, Depends(writing_unit_of_work)]


def key_passphrase(request: Request) -> str | None:
    """RELOS_KEY_PASSPHRASE: what the node's private signing keys are encrypted under."""
    return settings(request).passphrase()


KeyPassphrase = Annotated[str | None, Depends(key_passphrase)]
