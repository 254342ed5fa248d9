"""Bulk imports: `relos import orders FILE.csv --as USER [--resume] [--batch N] [--workers N]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relos.cli import render
from relos.cli.options import As, Json, actor, settings, uow
from relos.domain.errors import Invalid, ValidationError

#: the service's batch size (services.bulk_import.DEFAULT_BATCH, which this module does not
#: import until the command runs; tests/unit/test_cli_imports.py checks that the two agree)
DEFAULT_BATCH = 5000

import_app = typer.Typer(help="Bulk imports from files (CSV).", no_args_is_help=True)


@import_app.command("orders")
def orders(
    file: Annotated[Path, typer.Argument(help="CSV file, one row per order line.")],
    as_: As = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Resume this file's interrupted import.")
    ] = False,
    batch: Annotated[
        int,
        typer.Option(
            "--batch",
            help="Rows per batch (whole orders), each with its audit record; batches are"
            " committed together, 20,000 rows or more a transaction.",
        ),
    ] = DEFAULT_BATCH,
    use: Annotated[
        str, typer.Option("--use", help="The orders' use when the file has no `use` column.")
    ] = "port_call",
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Processes that build the checked batches (default: RELOS_IMPORT_WORKERS,"
            " else one per core).",
            show_default=False,
        ),
    ] = None,
    json: Json = False,
) -> None:
    """Import orders with their receipts and invoices (a party admin of a party to each).

    The whole file is checked first; if any row is wrong, every problem is listed (line,
    column, value) and nothing is written. Then it is written in batches, committed about
    20,000 rows at a time; an interrupted import continues with --resume after the last
    commit. A file is imported once.
    """
    from relos.services import bulk_import

    given = settings()
    try:
        with render.Bar(quiet=json) as bar:
            summary = bulk_import.import_orders(
                uow(),
                actor(as_),
                file,
                resume=resume,
                batch=batch,
                use=use,
                progress=bar.update,
                workers=given.import_workers if workers is None else workers,
                spill_dir=given.import_spill_dir,
            )
    except Invalid as e:
        if json:
            render.emit_json({"problems": [p.as_dict() for p in e.problems]})
        else:
            for p in e.problems:
                render.error(str(p))
        raise ValidationError(
            "file", str(file), f"{len(e.problems)} problem(s) found; nothing was written"
        ) from None
    if json:
        render.emit_json(summary.as_dict())
        return
    render.ok(
        f"imported {summary.rows:,} rows: {summary.orders:,} orders, {summary.entries:,} ledger"
        f" entries in {summary.batches} batch(es), {summary.seconds:.1f} s"
        f" ({summary.lines_per_second:,.0f} lines/s); job {summary.job}"
    )
