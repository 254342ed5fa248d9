"""The FastAPI application: OpenAPI 3.1 at /docs and /openapi.json."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relos import __version__
from relos.api import access_log, errors, security
from relos.api.routes import ROUTERS
from relos.api.write_turn import WriteTurn
from relos.config import Settings
from relos.services import database

MAX_BODY = 1 << 20  # 1 MiB: no legitimate request is larger ...
#: ... but a counterpart's statement (read streamed; RELOS_STATEMENT_MAX_BYTES)
LARGE_BODIES = {("POST", "/reconciliation/runs")}


class RequestIdAndSize:
    """Every response carries an ``X-Request-ID`` (the client's, or a new one), and every request
    gets a line in the access log (`access_log`); a body larger than its limit is refused (413)
    before it is read. Plain ASGI: Starlette's ``BaseHTTPMiddleware`` runs each request through
    an extra task and stream, which cost more than the check itself."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        given = headers.get("x-request-id", "")[:64]
        # the client's id names the request in the audit trail and the log: printable text only
        printable = given != "" and given.isascii() and given.isprintable()
        request_id = given if printable else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        started = time.perf_counter()
        status = 500  # if no response starts, the server answers 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        length = headers.get("content-length")
        limit = MAX_BODY
        if (scope["method"], scope["path"]) in LARGE_BODIES:
            limit = self.settings.statement_max_bytes
        try:
            if length is not None and (not length.isdigit() or int(length) > limit):
                refused = errors.problem(
                    413,
                    "PayloadTooLarge",
                    f"bodies are limited to {limit} bytes",
                    rule="payload_too_large",
                    field="body",
                )
                await refused(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            access_log.line(scope, status, time.perf_counter() - started, request_id)


def threads_of(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The application's lifespan: in the worker's event loop, before the first request, the
    threads that requests' database work runs on (FastAPI hands every plain dependency and route
    to them) are capped at `serve_threads`; the requests beyond wait their turn on the loop.

    Without the cap each worker ran up to 40 at once, and they did not go faster for it: every
    database call lets go of the interpreter lock, and with many threads ready each let-go
    became a hand-over between them (decision 91: PostgreSQL balance reads, 2 workers, 20
    connections: 480-600 reads/s, p99 0.15-1.1 s uncapped; 840-950 reads/s, p99 54-58 ms with
    4 threads)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.serve_threads
        yield

    return lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="relos",
        version=__version__,
        summary="Reciprocal logistics support: agreements, orders, ledger, settlement.",
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
        lifespan=threads_of(settings),
    )
    app.state.settings = settings
    # the limit holds for the whole server: each worker process allows its share
    attempts = max(1, security.LOGIN_ATTEMPTS // app.state.settings.serve_workers)
    app.state.login_limiter = security.LoginLimiter(attempts=attempts)
    errors.install(app)
    # inside the access log and the size check: a refused body takes no turn, a wait is timed
    app.add_middleware(
        WriteTurn, max_body=MAX_BODY, wait_s=database.WRITER_WAIT_S, streamed=LARGE_BODIES
    )
    app.add_middleware(RequestIdAndSize, settings=app.state.settings)
    # The routes become the application's own: a router included with `include_router` is
    # matched, from FastAPI 0.16x, through a context object per route on every request (twice
    # for the router that matches): a path no route takes cost 1.0 ms against 0.6 ms when the
    # 78 routes are the app's own, a drafted order 9.0 against 7.7 ms of CPU (decision 64).
    # Each route already carries its router's prefix and tags; `app.dependency_overrides` does
    # not reach them (nothing here overrides a dependency).
    for router in (security.router, *ROUTERS):
        app.router.routes.extend(router.routes)
    return app


def create_app_from_environment() -> FastAPI:
    """The application of one worker process of ``relos serve --workers N``: its settings are
    read from the environment (RELOS_*), as the command's own are."""
    return create_app(Settings())
