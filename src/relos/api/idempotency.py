"""The HTTP side of idempotent writes and optimistic concurrency.

Every POST/DELETE write requires an ``Idempotency-Key`` header (428 without it): a client that
retries after a timeout sends the same key and gets the first response back (marked
``Idempotent-Replayed: true``) instead of a second order or a second payment. The same key with
another request is 409. Order actions also require ``If-Match`` with the order's ETag (428
without, 412 when stale). The transaction and replay logic is `relos.services.idempotency`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from relos.domain.errors import PreconditionFailed
from relos.domain.orders import Order
from relos.services import idempotency
from relos.services.auth import Principal
from relos.services.idempotency import Outcome
from relos.services.unit_of_work import UnitOfWork

IdempotencyKey = Annotated[
    str,
    Header(
        min_length=1,
        max_length=idempotency.MAX_KEY,
        pattern=r"^[\x21-\x7e]+$",
        description="Unique per write (a UUID): a retry with the same key and request returns "
        "the first response without acting again. Required: 428 without it.",
    ),
]
IfMatch = Annotated[
    str,
    Header(
        max_length=100,
        description='The ETag of the order as last read (W/"<number>-<version>"): 412 when '
        "the order has changed since. Required: 428 without it.",
    ),
]

_ETAG = re.compile(r'^(?:W/)?"(?P<number>[A-Z0-9-]+)-(?P<version>[0-9]{1,9})"$')


def etag(order: Order) -> str:
    """A weak ETag: the order number and its version (every signed action adds one)."""
    return f'W/"{order.number}-{len(order.signatures)}"'


def expected_version(if_match: str, number: str) -> int:
    """The version an If-Match header expects for order `number` (412 if it names another)."""
    m = _ETAG.match(if_match.strip())
    if m is None or m["number"] != number:
        raise PreconditionFailed(
            f"If-Match must be the ETag of order {number}, as GET /orders/{number} returns it",
            field="If-Match",
            value=if_match[:100],
        )
    return int(m["version"])


def canonical(body: BaseModel | Mapping[str, Any] | None) -> Any:
    """What identifies a request's content: its validated body, or what a route that reads a
    raw body computed of it (e.g. the SHA-256 of a statement)."""
    if body is None or isinstance(body, Mapping):
        return body
    return body.model_dump(mode="json")


def respond(
    request: Request,
    caller: Principal,
    uow: UnitOfWork,
    key: str,
    body: BaseModel | Mapping[str, Any] | None,
    write: Callable[[], Outcome],
) -> JSONResponse:
    """Run `write` once for this key and request, and render its (first) outcome."""
    digest = idempotency.request_digest(request.method, request.url.path, canonical(body))
    outcome = idempotency.run(uow, caller.user.name, key, digest, write)
    headers = dict(outcome.headers)
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    content = outcome.body
    if outcome.secret and isinstance(content, dict) and not outcome.replayed:
        content = {**content, **outcome.secret}
    return JSONResponse(content, status_code=outcome.status, headers=headers)


def outcome(status: int, model: BaseModel | None, **headers: str) -> Outcome:
    return Outcome(status, None if model is None else model.model_dump(mode="json"), headers)
