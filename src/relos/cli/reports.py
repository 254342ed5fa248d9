"""Reports, ledger and exports: `relos report ...`, `relos ledger entries`, `relos export ...`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from relos.cli import render
from relos.cli.options import AsOf, Json, parse_date, uow
from relos.domain.errors import ValidationError

report_app = typer.Typer(
    help="Balances, open orders, states, obligations, aging.", no_args_is_help=True
)
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
def open_orders(
    party: Party = None,
    limit: Annotated[int | None, typer.Option(help="At most this many (default all).")] = None,
    offset: Annotated[int, typer.Option(help="Skip this many.")] = 0,
    json: Json = False,
) -> None:
    """Orders not yet closed, rejected or cancelled, by number."""
    from relos.services import reports

    rows = reports.open_orders(uow(), party, limit, offset)
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
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most this many rows (default: every one).")
    ] = None,
    after: Annotated[
        str | None, typer.Option(help="Start after this row's cursor (the last page's next).")
    ] = None,
    json: Json = False,
) -> None:
    """Invoiced, unsettled obligations (and netting obligations, method netting) with due
    date and days overdue, the most overdue first."""
    from relos.services import reports

    day = parse_date(as_of, "as_of") or date.today()
    key = None if after is None else reports.parse_cursor(after)
    rows = reports.obligations(uow(), day, party, overdue, limit, key)
    following = rows[-1].cursor if limit is not None and len(rows) == limit else None
    if json:
        render.emit_json({"as_of": day, "obligations": rows, "next_after": following})
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
    if following is not None:
        render.ok(f"more: --after {following}")


@report_app.command("aging")
def aging(as_of: AsOf = None, party: Party = None, json: Json = False) -> None:
    """What is owed per debtor, creditor and commodity, by days overdue on a day: not yet
    due, 1-30, 31-60, 61-90 and over 90 (the obligations listing's rows, summed)."""
    from relos.services import reports

    day = parse_date(as_of, "as_of") or date.today()
    rows = reports.aging(uow(), day, party)
    if json:
        render.emit_json({"as_of": day, "aging": rows})
        return
    render.table(
        f"aging on {day}",
        ["debtor", "creditor", "commodity", "not due", "1-30", "31-60", "61-90", ">90", "total"],
        [
            (
                r.debtor,
                r.creditor,
                r.commodity,
                r.not_due,
                r.days_1_30,
                r.days_31_60,
                r.days_61_90,
                r.over_90,
                r.total,
            )
            for r in rows
        ],
        numeric=["not due", "1-30", "31-60", "61-90", ">90", "total"],
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
