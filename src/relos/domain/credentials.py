"""Credentials: API tokens, sessions and the password policy. Pure: no hashing of passwords here
(argon2 lives in the services), only the token format and its digest.

An **API token** is ``relos_<id>_<secret>``: the id finds the record, the secret is checked against
its SHA-256 digest (the secret is 256 random bits, so a fast digest is safe; passwords, which are
guessable, are hashed with argon2 instead). A token carries **scopes**: ``read`` and ``write``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from relos.domain.errors import Unauthenticated, ValidationError

TOKEN = re.compile(r"^relos_([a-f0-9]{16})_([A-Za-z0-9_-]{20,100})$")
MIN_PASSWORD = 12


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a.encode(), b.encode())


def parse_token(token: str) -> tuple[str, str]:
    """(id, secret) of a token, or Unauthenticated."""
    m = TOKEN.match(token or "")
    if m is None:
        raise Unauthenticated("malformed API token")
    return m.group(1), m.group(2)


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationError("password", "(hidden)", f"at least {MIN_PASSWORD} characters")
    return password


def parse_scopes(values: list[str]) -> tuple[Scope, ...]:
    out = []
    for v in values or ["read"]:
        try:
            out.append(Scope(v))
        except ValueError:
            raise ValidationError("scope", v, "one of read, write") from None
    return tuple(sorted(set(out)))


@dataclass(frozen=True)
class ApiToken:
    id: str
    user: str
    name: str
    scopes: tuple[Scope, ...]
    secret_digest: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class Session:
    id_digest: str
    user: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime
