"""Options shared by every command group, and the settings the command runs with.

Nothing heavy is imported here: the settings, the database and the services are imported by the
command that runs, so that `relos --help` and a report load only what they use (decision 46).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from relos.config import Settings
    from relos.services.unit_of_work import UnitOfWork

As = Annotated[
    str | None,
    typer.Option("--as", help="Act as this user (default: RELOS_USER).", show_default=False),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="Date YYYY-MM-DD (default: today).")]


def settings() -> Settings:
    from relos.config import Settings

    return Settings()


def uow() -> UnitOfWork:
    from relos.services import database

    return database.unit_of_work(settings())


def passphrase() -> str | None:
    """RELOS_KEY_PASSPHRASE: what the node's private signing keys are encrypted under."""
    return settings().passphrase()


def actor(given: str | None) -> str | None:
    return given or settings().user


def parse_date(value: str | None, field: str) -> date | None:
    from relos.domain.errors import ValidationError

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, value, "not a date (YYYY-MM-DD)") from None
