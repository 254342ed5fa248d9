"""The `relos` command. Errors are translated to an exit code here, and only here.

Importing it loads Typer, Rich and the command modules only: each command imports the services
it uses when it runs (decision 46; tests/unit/test_cli_imports.py keeps it so)."""

from __future__ import annotations

import sys

import typer

from relos.cli import admin, netting, orders, reference, render, reports, serve, tokens
from relos.cli.audit import audit_app
from relos.cli.importing import import_app
from relos.cli.reconcile import key_app, reconcile_app
from relos.cli.settlement import alerts as alerts_command
from relos.cli.settlement import annual as annual_command
from relos.cli.settlement import settle_app
from relos.cli.visits import plan_app, visit_app
from relos.domain.errors import (
    AlreadyExists,
    Busy,
    Conflict,
    NotConfigured,
    NotFound,
    PermissionDenied,
    RelosError,
    ValidationError,
)

app = typer.Typer(
    name="relos",
    help="Reciprocal logistics support: agreements, orders, ledger, settlement, reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("init")(admin.init)
app.command("demo")(admin.demo_command)
app.command("load")(reference.load)
app.command("serve")(serve.serve)
app.add_typer(admin.db_app, name="db")
app.add_typer(admin.user_app, name="user")
app.add_typer(reference.party_app, name="party")
app.add_typer(reference.agreement_app, name="agreement")
app.add_typer(reference.facility_app, name="facility")
app.add_typer(reference.unit_app, name="unit")
app.add_typer(reference.price_app, name="price")
app.add_typer(orders.order_app, name="order")
app.add_typer(reports.report_app, name="report")
app.add_typer(reports.ledger_app, name="ledger")
app.add_typer(reports.export_app, name="export")
app.add_typer(audit_app, name="audit")
app.add_typer(settle_app, name="settle")
app.command("alerts")(alerts_command)
reports.report_app.command("annual")(annual_command)
app.add_typer(tokens.token_app, name="token")
app.add_typer(visit_app, name="visit")
app.add_typer(plan_app, name="plan")
app.add_typer(key_app, name="key")
app.add_typer(reconcile_app, name="reconcile")
app.add_typer(netting.rates_app, name="rates")
app.add_typer(netting.netting_app, name="netting")
app.add_typer(import_app, name="import")
admin.user_app.command("passwd")(tokens.passwd)

#: exit codes by error kind (2 is the usage error of the argument parser)
EXIT_CODES: list[tuple[type[RelosError], int]] = [
    (ValidationError, 3),
    (NotFound, 4),
    (PermissionDenied, 5),
    (AlreadyExists, 7),
    (Conflict, 7),
    (NotConfigured, 9),
    (Busy, 10),
    (RelosError, 6),  # rule violations and any other refusal
]


#: the exit code of a command stopped by Ctrl-C (SIGINT), as shells give it
INTERRUPTED = 130


def exit_code(error: RelosError) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(error, kind))


def _is_database_error(e: Exception) -> bool:
    """A missing or unreachable database (only a command that loaded SQLAlchemy can raise one)."""
    if "sqlalchemy" not in sys.modules:
        return False
    from relos.services.database import DATABASE_ERRORS

    return isinstance(e, DATABASE_ERRORS)


def main() -> None:
    try:
        # Not standalone, Typer returns the exit code of what it caught instead of exiting:
        # 130 for Ctrl-C (KeyboardInterrupt), the code of a `typer.Exit`.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code != 0:
            if code == INTERRUPTED:
                render.error("interrupted: what was not committed was rolled back")
            sys.exit(code)
    except RelosError as e:
        render.error(str(e))
        sys.exit(exit_code(e))
    except typer.Abort:
        sys.exit(1)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except Exception as e:  # click usage errors carry their own exit code
        if _is_database_error(e):
            render.error(f"[database] {str(getattr(e, 'orig', e)).strip()}")
            render.err.print("Is the database created? Run `relos init` (or `relos db upgrade`).")
            sys.exit(8)
        code = getattr(e, "exit_code", None)
        show = getattr(e, "show", None)
        if code is not None and callable(show):
            show()
            sys.exit(code)
        raise
