"""Idempotent writes: the same key with the same request returns the first response.

A write runs in one unit of work with the record of its idempotency key (user, key, digest of the
request, the response), so the key and the effect are committed together or not at all; the key is
looked up in that same transaction (no transaction of its own per write). Two concurrent requests
with one key: on SQLite writers take turns, so the second finds the first's record; on PostgreSQL
both may run, and the second to commit collides on the key's primary key, is rolled back whole
(its effect with it) and answers with the first one's stored response.
A failed write (an error) stores nothing: nothing happened, so the client may retry with the key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from relos.domain.errors import AlreadyExists, Conflict, ValidationError
from relos.services.unit_of_work import UnitOfWork

MAX_KEY = 200


@dataclass(frozen=True)
class Outcome:
    """A write's response as it is stored and replayed: status, JSON body, headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False
    #: body fields of the first response only, never stored (a new token's text)
    secret: dict[str, Any] = field(default_factory=dict)


def request_digest(method: str, path: str, body: Any) -> str:
    """SHA-256 of the method, the path and the canonical JSON of the (validated) body."""
    canonical = json.dumps(
        {"method": method.upper(), "path": path, "body": body},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY or not key.isprintable() or not key.isascii():
        raise ValidationError(
            "Idempotency-Key", key[:40], f"1 to {MAX_KEY} printable ASCII characters"
        )
    return key


def _replay(stored: dict[str, Any], key: str, digest: str) -> Outcome:
    if stored["request_digest"] != digest:
        raise Conflict(
            "this Idempotency-Key was used for another request: use a new key for a new request",
            field="Idempotency-Key",
            value=key,
        )
    return Outcome(
        int(stored["status_code"]), stored["response"], dict(stored["headers"] or {}), True
    )


def _find(uow: UnitOfWork, user: str, key: str) -> dict[str, Any] | None:
    with uow.reading():
        return uow.auth.find_response(user, key)


def run(
    uow: UnitOfWork,
    user: str,
    key: str,
    digest: str,
    write: Callable[[], Outcome],
    at: datetime | None = None,
) -> Outcome:
    """Run `write` once per (user, key): the first time, in one transaction with the key's
    record; afterwards (or when a concurrent twin got in first), the stored outcome.
    The same key with another request digest is a Conflict."""
    check_key(key)
    try:
        with uow:  # the look-up shares the write's transaction: one transaction per write
            stored = uow.auth.find_response(user, key)
            if stored is not None:
                return _replay(stored, key, digest)
            outcome = write()
            uow.auth.add_response(
                user,
                key,
                digest,
                outcome.status,
                outcome.body,
                outcome.headers,
                at or datetime.now(UTC),
            )
            uow.commit()
    except (IntegrityError, AlreadyExists):
        # a concurrent request with this key committed first (or the write itself collided):
        # this transaction is rolled back whole; answer as the first one did, if it was one
        stored = _find(uow, user, key)
        if stored is None:
            raise
        return _replay(stored, key, digest)
    return outcome
