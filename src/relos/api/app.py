"""The FastAPI application: OpenAPI 3.1 at /docs and /openapi.json."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from relos import __version__
from relos.api import errors, security
from relos.api.routes import ROUTERS
from relos.config import Settings

MAX_BODY = 1 << 20  # 1 MiB: no legitimate request is larger ...
#: ... but a counterpart's statement (read streamed; RELOS_STATEMENT_MAX_BYTES)
LARGE_BODIES = {("POST", "/reconciliation/runs")}


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="relos",
        version=__version__,
        summary="Reciprocal logistics support: agreements, orders, ledger, settlement.",
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    app.state.settings = settings or Settings()
    app.state.login_limiter = security.LoginLimiter()
    errors.install(app)

    @app.middleware("http")
    async def request_id_and_size(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        request.state.request_id = request_id[:64]
        length = request.headers.get("content-length")
        limit = MAX_BODY
        if (request.method, request.url.path) in LARGE_BODIES:
            limit = app.state.settings.statement_max_bytes
        if length is not None and (not length.isdigit() or int(length) > limit):
            return errors.problem(
                413,
                "PayloadTooLarge",
                f"bodies are limited to {limit} bytes",
                rule="payload_too_large",
                field="body",
            )
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    app.include_router(security.router)
    for router in ROUTERS:
        app.include_router(router)
    return app
