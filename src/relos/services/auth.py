"""Passwords, sessions and API tokens.

Passwords are hashed with argon2 (argon2-cffi) and never stored or logged in clear; there is no
default password anywhere: a user without a password cannot log in. Browser sessions are random
256-bit ids kept as SHA-256 digests, each with its own CSRF token. API tokens
(``relos_<id>_<secret>``) are shown once, kept as digests, scoped (read, write) and revocable.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from relos.domain.credentials import (
    ApiToken,
    Scope,
    Session,
    check_password,
    digest,
    parse_scopes,
    parse_token,
    same,
)
from relos.domain.errors import NotFound, PermissionDenied, Unauthenticated
from relos.domain.users import Role, User, require_admin_of
from relos.services import audit
from relos.services.actors import acting_user
from relos.services.unit_of_work import UnitOfWork

SESSION_LIFETIME = timedelta(hours=12)
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user is unknown, so that timing does not tell which users
    exist. Made at the first login, not when the module is imported (an argon2 hash costs a
    quarter of a second, which every `relos` command would otherwise pay at start-up)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Principal:
    """Who is calling, and how: a session (browser, needs CSRF on writes) or an API token."""

    user: User
    scopes: frozenset[Scope]
    via: str  # "session" | "token"
    csrf_token: str | None = None

    def may_write(self) -> bool:
        return Scope.WRITE in self.scopes


def _may_manage(uow: UnitOfWork, actor: str | None, target: User, action: str) -> User | None:
    """A party's admin manages its users; a party with no admin yet is bootstrapped freely.
    Returns the acting admin (None for a bootstrap by the node's administration)."""
    has_admin = any(
        u.role is Role.PARTY_ADMIN and u.active for u in uow.reference.users(target.party)
    )
    if has_admin or actor:
        admin = acting_user(uow, actor, action)
        require_admin_of(admin, target.party, action)
        return admin
    return None


def _token_view(token: ApiToken) -> dict[str, object]:
    """What the audit log keeps of a token: never its secret or digest."""
    return {
        "id": token.id,
        "user": token.user,
        "name": token.name,
        "scopes": [s.value for s in token.scopes],
        "revoked_at": None if token.revoked_at is None else token.revoked_at.isoformat(),
    }


def set_password(uow: UnitOfWork, actor: str | None, name: str, password: str) -> User:
    check_password(password)
    with uow:
        target = uow.reference.find_user(name)
        if target is None:
            raise NotFound("user", name, field="name")
        admin = _may_manage(uow, actor, target, "set a password")
        uow.auth.set_password_hash(name, _hasher.hash(password))
        audit.record(uow, admin, "user.password", "user", name, None, {"password": "(set)"})
        uow.commit()
    return target


def login(
    uow: UnitOfWork, name: str, password: str, at: datetime | None = None
) -> tuple[User, str, Session]:
    """Check the password; open a session. Returns the user, the session id (to put in a
    cookie, never stored in clear) and the session record with its CSRF token."""
    at = at or now()
    with uow:
        user = uow.reference.find_user(name)
        stored = uow.auth.password_hash(name) if user is not None else None
        try:
            _hasher.verify(stored or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            raise Unauthenticated("wrong user name or password") from None
        if user is None or stored is None:
            raise Unauthenticated("wrong user name or password")
        if not user.active:
            raise Unauthenticated("the user is disabled")
        session_id = secrets.token_urlsafe(32)
        session = Session(
            digest(session_id), user.name, secrets.token_urlsafe(32), at, at + SESSION_LIFETIME
        )
        uow.auth.add_session(session)
        uow.commit()
    return user, session_id, session


def session_principal(uow: UnitOfWork, session_id: str, at: datetime | None = None) -> Principal:
    at = at or now()
    with uow.reading():
        session = uow.auth.find_session(digest(session_id))
        if session is None or session.expires_at <= at:
            raise Unauthenticated("no session or session expired: log in again")
        user = uow.reference.find_user(session.user)
        if user is None or not user.active:
            raise Unauthenticated("the user is disabled")
    return Principal(user, frozenset(Scope), "session", session.csrf_token)


def logout(uow: UnitOfWork, session_id: str) -> None:
    with uow:
        uow.auth.delete_session(digest(session_id))
        uow.commit()


def create_token(
    uow: UnitOfWork,
    actor: str | None,
    user_name: str,
    name: str,
    scopes: list[str],
    at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new API token for `user_name` (by that user, or its party's admin). The token text is
    returned once and never stored."""
    at = at or now()
    wanted = parse_scopes(scopes)
    with uow:
        target = uow.reference.find_user(user_name)
        if target is None:
            raise NotFound("user", user_name, field="user")
        by = target if actor == user_name else _may_manage(uow, actor, target, "create a token")
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        token = ApiToken(token_id, user_name, name or "token", wanted, digest(secret), at)
        uow.auth.add_token(token)
        audit.record(uow, by, "token.create", "token", token_id, None, _token_view(token), at)
        uow.commit()
    return token, f"relos_{token_id}_{secret}"


def revoke_token(
    uow: UnitOfWork, actor: str | None, token_id: str, at: datetime | None = None
) -> ApiToken:
    at = at or now()
    with uow:
        token = uow.auth.find_token(token_id)
        if token is None:
            raise NotFound("token", token_id, field="token")
        target = uow.reference.find_user(token.user)
        assert target is not None
        by = target if actor == token.user else _may_manage(uow, actor, target, "revoke a token")
        uow.auth.revoke_token(token_id, at)
        revoked = uow.auth.find_token(token_id)
        assert revoked is not None
        audit.record(
            uow, by, "token.revoke", "token", token_id, _token_view(token), _token_view(revoked), at
        )
        uow.commit()
    return revoked


def tokens(uow: UnitOfWork, user: str | None = None) -> list[ApiToken]:
    with uow.reading():
        return uow.auth.tokens(user)


def token_principal(uow: UnitOfWork, token_text: str) -> Principal:
    token_id, secret = parse_token(token_text)
    with uow.reading():
        found = uow.auth.find_token_and_user(token_id)  # one read per request
    if found is None or not same(found[0].secret_digest, digest(secret)):
        raise Unauthenticated("unknown API token")
    token, user = found
    if not token.active:
        raise Unauthenticated("the API token is revoked")
    if user is None or not user.active:
        raise Unauthenticated("the user is disabled")
    return Principal(user, frozenset(token.scopes), "token")


def require_write(principal: Principal, action: str) -> None:
    if not principal.may_write():
        raise PermissionDenied(principal.user.name, action, "the token's scopes are read only")
