"""Users of your own party, and API tokens."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from relos.api.deps import Uow
from relos.api.idempotency import IdempotencyKey, outcome, respond
from relos.api.schemas import (
    READ,
    WRITE,
    TokenCreate,
    TokenCreated,
    TokenId,
    TokenPublic,
    UserCreate,
    UserName,
    UserPublic,
)
from relos.api.security import Caller, Writer
from relos.services import auth, people, queries
from relos.services.idempotency import Outcome

router = APIRouter()


@router.get("/users", response_model=list[UserPublic], responses=READ, tags=["users"])
def list_users(caller: Caller, uow: Uow) -> list[UserPublic]:
    """The users of your party."""
    return [UserPublic.of(u) for u in queries.users(uow, caller.user)]


@router.get("/users/{name}", response_model=UserPublic, responses=READ, tags=["users"])
def show_user(name: UserName, caller: Caller, uow: Uow) -> UserPublic:
    return UserPublic.of(queries.user(uow, caller.user, name))


@router.post("/users", status_code=201, response_model=UserPublic, responses=WRITE, tags=["users"])
def add_user(
    body: UserCreate,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Add a user to your party (party admin). Passwords are set on the node (`relos user`)."""

    def write() -> Outcome:
        u = people.add_user(uow, caller.user.name, body.name, caller.user.party, body.role.value)
        return outcome(201, UserPublic.of(u), Location=f"/users/{quote(u.name)}")

    return respond(request, caller, uow, idempotency_key, body, write)


@router.post("/users/{name}/disable", response_model=UserPublic, responses=WRITE, tags=["users"])
def disable_user(
    name: UserName,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Disable a user of your party (party admin): its sessions and tokens stop working."""

    def write() -> Outcome:
        queries.user(uow, caller.user, name)  # another party's user is not found
        return outcome(200, UserPublic.of(people.disable_user(uow, caller.user.name, name)))

    return respond(request, caller, uow, idempotency_key, None, write)


@router.get("/tokens", response_model=list[TokenPublic], responses=READ, tags=["tokens"])
def list_tokens(caller: Caller, uow: Uow) -> list[TokenPublic]:
    """Your API tokens (never their text)."""
    return [TokenPublic.of(t) for t in auth.tokens(uow, caller.user.name)]


@router.post(
    "/tokens", status_code=201, response_model=TokenCreated, responses=WRITE, tags=["tokens"]
)
def create_token(
    body: TokenCreate,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """A new API token for yourself, or (party admin) for a user of your party. The token text
    is in this response only (and in its replay under the same Idempotency-Key)."""
    owner = body.user or caller.user.name

    def write() -> Outcome:
        queries.user(uow, caller.user, owner)  # another party's user is not found
        token, text = auth.create_token(
            uow, caller.user.name, owner, body.name, [s.value for s in body.scopes]
        )
        created = TokenCreated(**TokenPublic.of(token).model_dump(), token=None)
        done = outcome(201, created)
        return replace(done, secret={"token": text})  # never stored for a replay

    return respond(request, caller, uow, idempotency_key, body, write)


@router.delete("/tokens/{token_id}", response_model=TokenPublic, responses=WRITE, tags=["tokens"])
def revoke_token(
    token_id: TokenId,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Revoke a token of yours, or (party admin) of a user of your party."""

    def write() -> Outcome:
        token = next((t for t in auth.tokens(uow) if t.id == token_id), None)
        if token is not None:
            queries.user(uow, caller.user, token.user)  # another party's token is not found
        return outcome(200, TokenPublic.of(auth.revoke_token(uow, caller.user.name, token_id)))

    return respond(request, caller, uow, idempotency_key, None, write)
