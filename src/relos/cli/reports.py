"""Reports, ledger and exports: `relos report ...`, `relos ledger entries`, `relos export ...`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from relos.cli import render
from relos.cli.options import AsOf, Json, parse_date, uow
from relos.domain.errors import ValidationError

report_app = typer.Typer(help="Balances, open orders, states, obligations.", no_args_is_help=True)
ledger_app = typer.Typer(help="The books, entry by entry.", no_args_is_help=True)
export_app = typer.Typer(help="Write the books for Fava or hledger.", no_args_is_help=True)

Book = Annotated[str | None, typer.Option(help="Only this party's book, e.g. IND.")]
Party = Annotated[str | None, typer.Option(help="Only orders where this party is a side.")]


@report_app.command("balances")
def balances(
    as_of: AsOf = None,
    book: Book = None,
    all_accounts: Annotated[
        bool, typer.Option("--all-accounts", help="Also support and settlement accounts.")
    ] = False,
    json: Json = False,
) -> None:
    """Balances per book, counterparty, method and currency or commodity."""
    from relos.services import reports

    day = parse_date(as_of, "as_of")
    rows = reports.balances(uow(), book, day, include_flows=all_accounts)
    if json:
        render.emit_json(
            {
                "as_of": day,
                "balances": [{**render.plain(r), "account_name": r.account_name} for r in rows],
            }
        )
        return
    title = f"balances as of {day}" if day else "balances"
    render.table(
        title,
        ["book", "account", "counterparty", "method", "commodity", "amount"],
        [(r.book, r.account, r.counterparty, r.method, r.commodity, r.amount) for r in rows],
        numeric=["amount"],
    )


@report_app.command("open")
def open_orders(party: Party = None, json: Json = False) -> None:
    """Orders not yet closed, rejected or cancelled."""
    from relos.services import reports

    rows = reports.open_orders(uow(), party)
    if json:
        render.emit_json(rows)
        return
    render.table(
        "open orders",
        ["number", "supplier", "requester", "facility", "unit", "method", "state", "required by"],
        [
            (
                r.number,
                r.supplying,
                r.requesting,
                r.facility,
                r.unit,
                r.method,
                r.state,
                r.required_by,
            )
            for r in rows
        ],
    )


@report_app.command("states")
def states(party: Party = None, json: Json = False) -> None:
    """How many orders are in each state."""
    from relos.services import reports

    counts = reports.orders_by_state(uow(), party)
    if json:
        render.emit_json(counts)
        return
    render.table("orders by state", ["state", "orders"], counts.items(), numeric=["orders"])


@report_app.command("obligations")
def obligations(
    as_of: AsOf = None,
    party: Party = None,
    overdue: Annotated[bool, typer.Option(help="Only overdue ones.")] = False,
    json: Json = False,
) -> None:
    """Invoiced, unsettled obligations (and netting obligations, method netting) with due
    date and days overdue."""
    from relos.services import reports

    day = parse_date(as_of, "as_of") or date.today()
    rows = reports.obligations(uow(), day, party, overdue)
    if json:
        render.emit_json({"as_of": day, "obligations": rows})
        return
    render.table(
        f"obligations{' overdue' if overdue else ''} on {day}",
        [
            "order",
            "creditor",
            "debtor",
            "method",
            "outstanding",
            "commodity",
            "due",
            "days overdue",
        ],
        [
            (
                r.order,
                r.creditor,
                r.debtor,
                r.method,
                r.outstanding,
                r.commodity,
                r.due_on,
                r.days_overdue,
            )
            for r in rows
        ],
        numeric=["outstanding", "days overdue"],
    )


@ledger_app.command("entries")
def entries(book: Book = None, order: str | None = None, json: Json = False) -> None:
    """Ledger entries with their postings."""
    from relos.services import reports

    rows = reports.entries(uow(), book, order)
    if json:
        render.emit_json(rows)
        return
    render.table(
        "entries",
        ["book", "date", "txn", "event", "account", "amount", "commodity"],
        [
            (e.book, e.on, e.txn, e.event, p.name, p.amount.number, p.amount.commodity)
            for e in rows
            for p in e.postings
        ],
        numeric=["amount"],
    )


def _write(text: str, output: Path) -> None:
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as e:
        raise ValidationError("output", str(output), e.strerror or "cannot be written") from None


@export_app.command("beancount")
def export_beancount(
    output: Annotated[Path, typer.Option("--output", "-o")], book: Book = None
) -> None:
    """Write the books as a Beancount file (opens in Fava; bean-check accepts it)."""
    from relos.services import journal

    _write(journal.beancount(uow(), book), output)
    render.ok(f"wrote {output}")


@export_app.command("hledger")
def export_hledger(
    output: Annotated[Path, typer.Option("--output", "-o")], book: Book = None
) -> None:
    """Write the books as an hledger journal."""
    from relos.services import journal

    _write(journal.hledger(uow(), book), output)
    render.ok(f"wrote {output}")
