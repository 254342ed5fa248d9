"""Credentials and idempotency records, on the unit of work's connection."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update

from relos.domain.credentials import ApiToken, Scope, Session
from relos.domain.errors import NotFound
from relos.domain.users import Role, User
from relos.storage import tables as t
from relos.storage.auth_tables import api_tokens, idempotency_keys, sessions
from relos.storage.bulk_insert import insert_values
from relos.storage.driver_statement import DriverStatement

# looked up on every request: built once (decision 55)
_TOKEN = select(api_tokens).where(api_tokens.c.id == bindparam("id"))
#: a token and its user (if any) in one statement: what every request with a token reads
_TOKEN_AND_USER = DriverStatement(
    select(
        api_tokens,
        t.users.c.name.label("known_user"),
        t.users.c.party.label("user_party"),
        t.users.c.role.label("user_role"),
        t.users.c.active.label("user_active"),
    )
    .select_from(api_tokens.outerjoin(t.users, t.users.c.name == api_tokens.c.user_name))
    .where(api_tokens.c.id == bindparam("id"))
)
_RESPONSE = DriverStatement(
    select(idempotency_keys).where(
        and_(
            idempotency_keys.c.user_name == bindparam("user"),
            idempotency_keys.c.key == bindparam("key"),
        )
    )
)


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _token(row: Mapping[Any, Any]) -> ApiToken:
    created = _utc(row["created_at"])
    assert created is not None
    return ApiToken(
        row["id"],
        row["user_name"],
        row["name"],
        tuple(Scope(s) for s in row["scopes"]),
        row["secret_digest"],
        created,
        _utc(row["revoked_at"]),
    )


class AuthRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # passwords
    def set_password_hash(self, user: str, password_hash: str) -> None:
        done = self.conn.execute(
            update(t.users).where(t.users.c.name == user).values(password_hash=password_hash)
        )
        if done.rowcount == 0:
            raise NotFound("user", user, field="name")

    def password_hash(self, user: str) -> str | None:
        row = self.conn.execute(
            select(t.users.c.password_hash).where(t.users.c.name == user)
        ).first()
        return None if row is None else row[0]

    # tokens
    def add_token(self, token: ApiToken) -> None:
        self.conn.execute(
            insert(api_tokens).values(
                id=token.id,
                user_name=token.user,
                name=token.name,
                scopes=[s.value for s in token.scopes],
                secret_digest=token.secret_digest,
                created_at=token.created_at,
                revoked_at=token.revoked_at,
            )
        )

    def find_token(self, token_id: str) -> ApiToken | None:
        row = self.conn.execute(_TOKEN, {"id": token_id}).mappings().first()
        return None if row is None else _token(row)

    def find_token_and_user(self, token_id: str) -> tuple[ApiToken, User | None] | None:
        """The token and the user it belongs to (None if that user is gone), in one read."""
        row = _TOKEN_AND_USER.mapping(self.conn, {"id": token_id})
        if row is None:
            return None
        user = (
            None
            if row["known_user"] is None
            else User(
                row["known_user"], row["user_party"], Role(row["user_role"]), row["user_active"]
            )
        )
        return _token(row), user

    def tokens(self, user: str | None = None) -> list[ApiToken]:
        q = select(api_tokens.c.id).order_by(api_tokens.c.created_at)
        if user:
            q = q.where(api_tokens.c.user_name == user)
        found = [self.find_token(r[0]) for r in self.conn.execute(q)]
        return [tok for tok in found if tok is not None]

    def revoke_token(self, token_id: str, at: datetime) -> None:
        self.conn.execute(
            update(api_tokens)
            .where(and_(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None)))
            .values(revoked_at=at)
        )

    # sessions
    def add_session(self, s: Session) -> None:
        self.conn.execute(
            insert(sessions).values(
                id_digest=s.id_digest,
                user_name=s.user,
                csrf_token=s.csrf_token,
                created_at=s.created_at,
                expires_at=s.expires_at,
            )
        )

    def find_session(self, id_digest: str) -> Session | None:
        row = (
            self.conn.execute(select(sessions).where(sessions.c.id_digest == id_digest))
            .mappings()
            .first()
        )
        if row is None:
            return None
        created, expires = _utc(row["created_at"]), _utc(row["expires_at"])
        assert created is not None
        assert expires is not None
        return Session(row["id_digest"], row["user_name"], row["csrf_token"], created, expires)

    def delete_session(self, id_digest: str) -> None:
        self.conn.execute(delete(sessions).where(sessions.c.id_digest == id_digest))

    # idempotency
    def find_response(self, user: str, key: str) -> dict[str, Any] | None:
        return _RESPONSE.mapping(self.conn, {"user": user, "key": key})

    def add_response(
        self,
        user: str,
        key: str,
        request_digest: str,
        status_code: int,
        response: Any,
        headers: dict[str, str],
        at: datetime,
    ) -> None:
        insert_values(
            self.conn,
            idempotency_keys,
            [
                {
                    "user_name": user,
                    "key": key,
                    "request_digest": request_digest,
                    "status_code": status_code,
                    "response": response,
                    "headers": headers,
                    "created_at": at,
                }
            ],
        )
