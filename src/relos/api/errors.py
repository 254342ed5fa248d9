"""Errors as RFC 9457 problem+json, translated here and only here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from relos.domain.errors import (
    AlreadyExists,
    Busy,
    Conflict,
    Invalid,
    InvalidTransition,
    NotConfigured,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    PreconditionRequired,
    RelosError,
    TooManyAttempts,
    Unauthenticated,
    ValidationError,
)
from relos.services.database import DATABASE_ERRORS

PROBLEM = "application/problem+json"

#: HTTP status by error kind; the first match wins
STATUS: list[tuple[type[RelosError], int]] = [
    (Unauthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (AlreadyExists, 409),
    (PreconditionFailed, 412),
    (Conflict, 409),
    (InvalidTransition, 409),
    (TooManyAttempts, 429),
    (NotConfigured, 503),
    (Busy, 503),
    (PreconditionRequired, 428),
    (ValidationError, 422),
    (Invalid, 422),
    (RelosError, 422),  # rule violations
]


#: required headers whose absence is 428 Precondition Required (RFC 6585), not 422
PRECONDITION_HEADERS: dict[tuple[str, ...], str] = {
    ("header", "idempotency-key"): "Idempotency-Key",
    ("header", "if-match"): "If-Match",
}


def status_of(error: RelosError) -> int:
    return next(code for kind, code in STATUS if isinstance(error, kind))


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://relos.example/problems/{extra.get('rule', 'error')}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="relos"'
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def relos_problem(error: RelosError) -> JSONResponse:
    extra: dict[str, Any] = {
        "rule": error.rule,
        "field": error.field,
        "value": None if error.value is None else str(error.value),
    }
    if isinstance(error, Invalid):
        extra["errors"] = [p.as_dict() for p in error.problems]
    if isinstance(error, TooManyAttempts):
        extra["retry_after"] = error.retry_after
    return problem(status_of(error), type(error).__name__, error.describe(), **extra)


def install(app: FastAPI) -> None:
    @app.exception_handler(RelosError)
    async def _relos(_: Request, error: RelosError) -> JSONResponse:
        return relos_problem(error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        for e in error.errors():
            loc = tuple(str(p).lower() for p in e.get("loc", ()))
            if e.get("type") == "missing" and loc in PRECONDITION_HEADERS:
                name = PRECONDITION_HEADERS[loc]
                return relos_problem(
                    PreconditionRequired(name, f"this write needs a {name} header")
                )
        errors = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                "message": e.get("msg", ""),
                "rule": e.get("type", "invalid"),
            }
            for e in error.errors()
        ]
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        return problem(
            422,
            "ValidationError",
            f"{first['field']}: {first['message']}",
            rule="invalid_input",
            field=first["field"],
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem(error.status_code, "HTTPError", str(error.detail), rule="http")

    @app.exception_handler(DATABASE_ERRORS[0])
    @app.exception_handler(DATABASE_ERRORS[1])
    async def _database(_: Request, error: Exception) -> JSONResponse:
        return problem(503, "DatabaseUnavailable", "the database is not ready", rule="database")
