"""`relos settle run`, `relos alerts`, `relos report annual`: the settlement engine's commands."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from relos.cli import render
from relos.cli.options import As, AsOf, Json, actor, parse_date, uow

settle_app = typer.Typer(
    help="Settlement runs: convert overdue in-kind debts.", no_args_is_help=True
)


@settle_app.command("run")
def run(as_of: AsOf = None, as_: As = None, json: Json = False) -> None:
    """Convert every in-kind (RIK/EVE) debt owed to your party and overdue on --as-of to cash
    (finance officer of the creditor). Running it again changes nothing."""
    from relos.services import settlement

    day = parse_date(as_of, "as_of") or date.today()
    result = settlement.run(uow(), actor(as_), day)
    if json:
        render.emit_json(result)
        return
    render.table(
        f"conversions on {day}",
        ["order", "basis", "cleared", "cash owed", "invoice", "due on"],
        [
            (
                c.order,
                c.conversion.basis,
                ", ".join(str(a) for a in c.conversion.cleared),
                str(c.conversion.amount),
                c.invoice,
                c.due_on,
            )
            for c in result.converted
        ],
    )
    for number, why in result.skipped:
        render.error(f"{number} not converted: {why}")


def alerts(
    as_of: AsOf = None,
    as_: As = None,
    json: Json = False,
    uninvoiced_days: Annotated[
        int, typer.Option(help="Flag receipts not invoiced after this many days.")
    ] = 30,
    soon_days: Annotated[int, typer.Option(help="Flag invoices due within this many days.")] = 14,
) -> None:
    """What needs your action now, for your role and party."""
    from relos.services import settlement

    day = parse_date(as_of, "as_of") or date.today()
    found = settlement.alerts(uow(), actor(as_), day, uninvoiced_days, soon_days)
    if json:
        render.emit_json({"as_of": day, "alerts": found})
        return
    render.table(
        f"alerts on {day}",
        ["kind", "order", "agreement", "counterparty", "since", "detail"],
        [(a.kind.value, a.order, a.agreement, a.counterparty, a.since, a.detail) for a in found],
    )


def annual(
    agreement: Annotated[str, typer.Option(help="Agreement code, e.g. RELOS.")],
    year: Annotated[int, typer.Option(help="Calendar year.")],
    output: Annotated[Path, typer.Option(help="File to write.")],
    format: Annotated[str, typer.Option("--format", help="json, pdf or xlsx.")] = "json",
    as_of: AsOf = None,
    as_: As = None,
) -> None:
    """The annual report (10 U.S.C. 2342(h) shape) of an agreement your party is a party to."""
    from relos.services import annual_files, settlement

    report, names = settlement.annual_report(
        uow(), actor(as_), agreement, year, parse_date(as_of, "as_of")
    )
    annual_files.write(report, names, format, output)
    render.ok(f"wrote {output} ({format})")
