"""`relos token create|list|revoke` and `relos user passwd`: credentials for the HTTP API."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from relos.cli import render
from relos.cli.options import As, Json, actor, uow
from relos.domain.errors import ValidationError

token_app = typer.Typer(help="API tokens: scoped, revocable, shown once.", no_args_is_help=True)


@token_app.command("create")
def create(
    user: Annotated[str, typer.Option(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "token",
    scope: Annotated[list[str] | None, typer.Option(help="read, write (repeat).")] = None,
    as_: As = None,
    json: Json = False,
) -> None:
    """Create an API token (for yourself, or as your party's admin). Printed once."""
    from relos.services import auth

    token, text = auth.create_token(uow(), actor(as_) or user, user, name, scope or ["read"])
    if json:
        render.emit_json(
            {"id": token.id, "user": token.user, "scopes": token.scopes, "token": text}
        )
    else:
        render.ok(
            f"token {token.id} for {token.user} ({', '.join(token.scopes)}); "
            "shown once, keep it secret:"
        )
        print(text)


@token_app.command("list")
def list_tokens(user: str | None = None, json: Json = False) -> None:
    """List tokens (never their secrets)."""
    from relos.services import auth

    rows = auth.tokens(uow(), user)
    if json:
        render.emit_json(
            [
                {
                    "id": t.id,
                    "user": t.user,
                    "name": t.name,
                    "scopes": t.scopes,
                    "created_at": t.created_at,
                    "revoked_at": t.revoked_at,
                }
                for t in rows
            ]
        )
    else:
        render.table(
            "tokens",
            ["id", "user", "name", "scopes", "created", "revoked"],
            [(t.id, t.user, t.name, t.scopes, t.created_at, t.revoked_at) for t in rows],
        )


@token_app.command("revoke")
def revoke(token_id: str, as_: As = None) -> None:
    """Revoke a token at once."""
    from relos.services import auth

    t = auth.revoke_token(uow(), actor(as_), token_id)
    render.ok(f"token {t.id} of {t.user} revoked")


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = typer.prompt("password", hide_input=True)
    if typer.prompt("again", hide_input=True) != first:
        raise ValidationError("password", "(hidden)", "the two entries differ")
    return str(first)


def passwd(
    name: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    as_: As = None,
) -> None:
    """Set a user's password (its party's admin; a party with no admin yet: anyone)."""
    from relos.services import auth

    u = auth.set_password(uow(), actor(as_), name, read_password(password_stdin))
    render.ok(f"password set for {u.name}")
