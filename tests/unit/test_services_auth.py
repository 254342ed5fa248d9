"""Passwords, sessions and API tokens, at the service layer on the in-memory node."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relos.domain.credentials import Scope
from relos.domain.errors import PermissionDenied, Unauthenticated, ValidationError
from relos.services import auth, people
from tests.fakes import FakeUnitOfWork

PASSWORD = "correct horse battery staple"


def test_a_user_without_a_password_cannot_log_in(uow: FakeUnitOfWork) -> None:
    with pytest.raises(Unauthenticated):
        auth.login(uow, "ind-oo", "")
    with pytest.raises(Unauthenticated):
        auth.login(uow, "ind-oo", PASSWORD)


def test_passwords_are_stored_as_argon2_hashes_never_in_clear(uow: FakeUnitOfWork) -> None:
    auth.set_password(uow, "ind-admin", "ind-oo", PASSWORD)
    stored = uow.committed.password_hashes["ind-oo"]
    assert stored.startswith("$argon2")
    assert PASSWORD not in stored
    user, session_id, session = auth.login(uow, "ind-oo", PASSWORD)
    assert user.name == "ind-oo"
    assert session_id not in uow.committed.sessions  # kept only as a digest
    assert session.id_digest in uow.committed.sessions


def test_a_wrong_password_or_unknown_user_is_refused_alike(uow: FakeUnitOfWork) -> None:
    auth.set_password(uow, "ind-admin", "ind-oo", PASSWORD)
    with pytest.raises(Unauthenticated) as wrong:
        auth.login(uow, "ind-oo", PASSWORD + "x")
    with pytest.raises(Unauthenticated) as unknown:
        auth.login(uow, "nobody", PASSWORD)
    assert wrong.value.message == unknown.value.message


def test_a_short_password_is_refused_naming_the_field(uow: FakeUnitOfWork) -> None:
    with pytest.raises(ValidationError) as e:
        auth.set_password(uow, "ind-admin", "ind-oo", "short")
    assert e.value.field == "password"
    assert uow.committed.password_hashes == {}


def test_only_the_users_own_party_admin_sets_its_password(uow: FakeUnitOfWork) -> None:
    with pytest.raises(PermissionDenied):
        auth.set_password(uow, "rus-admin", "ind-oo", PASSWORD)
    with pytest.raises(PermissionDenied):
        auth.set_password(uow, None, "ind-oo", PASSWORD)
    assert uow.committed.password_hashes == {}


def test_a_session_expires_and_a_logout_ends_it(uow: FakeUnitOfWork) -> None:
    auth.set_password(uow, "ind-admin", "ind-oo", PASSWORD)
    at = datetime(2026, 3, 1, 9, tzinfo=UTC)
    _, session_id, session = auth.login(uow, "ind-oo", PASSWORD, at)
    caller = auth.session_principal(uow, session_id, at + timedelta(hours=1))
    assert caller.user.name == "ind-oo"
    assert caller.csrf_token == session.csrf_token
    with pytest.raises(Unauthenticated):
        auth.session_principal(uow, session_id, at + auth.SESSION_LIFETIME)
    auth.logout(uow, session_id)
    with pytest.raises(Unauthenticated):
        auth.session_principal(uow, session_id, at)


def test_a_token_is_shown_once_kept_as_a_digest_and_carries_its_scopes(
    uow: FakeUnitOfWork,
) -> None:
    token, text = auth.create_token(uow, "ind-fo", "ind-fo", "reports", ["read"])
    stored = uow.committed.tokens[token.id]
    assert text.split("_", 2)[2] not in repr(stored)
    caller = auth.token_principal(uow, text)
    assert caller.user.name == "ind-fo"
    assert caller.scopes == frozenset({Scope.READ})
    with pytest.raises(PermissionDenied):
        auth.require_write(caller, "settle")


def test_a_revoked_token_is_refused_at_once(uow: FakeUnitOfWork) -> None:
    token, text = auth.create_token(uow, "ind-admin", "ind-fo", "ci", ["read", "write"])
    auth.revoke_token(uow, "ind-admin", token.id)
    with pytest.raises(Unauthenticated):
        auth.token_principal(uow, text)


def test_a_forged_or_malformed_token_is_refused(uow: FakeUnitOfWork) -> None:
    token, _ = auth.create_token(uow, "ind-fo", "ind-fo", "x", ["write"])
    forged = f"relos_{token.id}_{'A' * 43}"
    for bad in (forged, "relos_nothex_secret", "Bearer x", ""):
        with pytest.raises(Unauthenticated):
            auth.token_principal(uow, bad)


def test_another_partys_admin_cannot_mint_a_token_for_my_user(uow: FakeUnitOfWork) -> None:
    with pytest.raises(PermissionDenied):
        auth.create_token(uow, "rus-admin", "ind-fo", "x", ["write"])
    assert uow.committed.tokens == {}


def test_a_disabled_user_loses_sessions_and_tokens(uow: FakeUnitOfWork) -> None:
    auth.set_password(uow, "ind-admin", "ind-fo", PASSWORD)
    _, session_id, _ = auth.login(uow, "ind-fo", PASSWORD)
    _, text = auth.create_token(uow, "ind-fo", "ind-fo", "x", ["read"])
    people.disable_user(uow, "ind-admin", "ind-fo")
    with pytest.raises(Unauthenticated):
        auth.session_principal(uow, session_id)
    with pytest.raises(Unauthenticated):
        auth.token_principal(uow, text)
    with pytest.raises(Unauthenticated):
        auth.login(uow, "ind-fo", PASSWORD)
