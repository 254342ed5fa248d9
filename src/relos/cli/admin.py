"""Administration: `relos init`, `relos db`, `relos user`, `relos demo`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from relos.cli import render
from relos.cli.options import As, Json, actor, settings, uow

db_app = typer.Typer(help="Database administration.", no_args_is_help=True)
user_app = typer.Typer(help="Users: one party, one role each.", no_args_is_help=True)


def init(json: Json = False) -> None:
    """Create the database (SQLite in your data directory, or RELOS_DATABASE_URL) and migrate it."""
    from relos.services import database

    status = database.upgrade(settings())
    if json:
        render.emit_json({"url": status.url, "revision": status.revision})
    else:
        render.ok(f"database ready at {status.url} (revision {status.revision})")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head", json: Json = False) -> None:
    """Migrate an existing database to the newest schema (or REVISION)."""
    from relos.services import database

    status = database.upgrade(settings(), revision)
    if json:
        render.emit_json({"url": status.url, "revision": status.revision})
    else:
        render.ok(f"{status.url} at revision {status.revision}")


@db_app.command("status")
def db_status(json: Json = False) -> None:
    """Show the database URL and its schema revision."""
    from relos.services import database

    s = database.status(settings())
    if json:
        render.emit_json(
            {"url": s.url, "revision": s.revision, "head": s.head, "up_to_date": s.up_to_date}
        )
    else:
        render.fields(
            "database",
            [
                ("url", s.url),
                ("revision", s.revision),
                ("head", s.head),
                ("up to date", s.up_to_date),
            ],
        )


@user_app.command("add")
def user_add(
    name: str,
    party: Annotated[str, typer.Option(help="Party code, e.g. IND.")],
    role: Annotated[str, typer.Option(help="ordering_officer, accepting_officer, ...")],
    as_: As = None,
) -> None:
    """Add a user (by the party's admin; a party's first user needs no admin)."""
    from relos.services import people

    u = people.add_user(uow(), actor(as_), name, party, role)
    render.ok(f"user {u.name} ({u.role.value}, {u.party}) added")


@user_app.command("list")
def user_list(party: str | None = None, json: Json = False) -> None:
    """List users."""
    from relos.services import people

    rows = people.users(uow(), party)
    if json:
        render.emit_json(rows)
    else:
        render.table(
            "users",
            ["name", "party", "role", "active"],
            [(u.name, u.party, u.role, u.active) for u in rows],
        )


@user_app.command("disable")
def user_disable(name: str, as_: As = None) -> None:
    """Disable a user (by the party's admin)."""
    from relos.services import people

    u = people.disable_user(uow(), actor(as_), name)
    render.ok(f"user {u.name} disabled")


def demo_command(
    today: Annotated[str | None, typer.Option(help="Date the demo year ends (YYYY-MM-DD).")] = None,
    json: Json = False,
) -> None:
    """Load the seed's case: India, Russia, RELOS and LEMOA, and a year of orders both ways."""
    from relos.services import database, demo

    database.upgrade(settings())
    day = date.fromisoformat(today) if today else date.today()
    summary = demo.load_demo(uow(), day)
    if json:
        render.emit_json(summary)
    elif not summary.get("loaded", True):
        render.ok(f"demo already loaded: {summary.get('reason', '')}")
    else:
        render.fields(
            "demo loaded (prices and rates are illustrative)", [(k, v) for k, v in summary.items()]
        )
