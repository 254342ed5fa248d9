"""`relos rates import|list` and `relos netting propose|approve|show|list`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relos.cli import render
from relos.cli.options import As, Json, actor, parse_date, uow
from relos.domain.errors import ValidationError

rates_app = typer.Typer(help="Exchange rates: import from CSV, list.", no_args_is_help=True)
netting_app = typer.Typer(
    help="Netting of mutual cash obligations: propose, approve, pay, show, list.",
    no_args_is_help=True,
)


@rates_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV with columns date,pair,rate,source.")],
    as_: As = None,
) -> None:
    """Import rates, all or nothing; identical rows already stored are skipped."""
    from relos.services import netting

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as e:
        raise ValidationError("file", str(file), f"cannot read it: {e.strerror}") from None
    done = netting.import_rates(uow(), text, actor(as_))
    render.ok(f"{len(done.added)} rates imported, {done.unchanged} already stored")


@rates_app.command("list")
def list_rates(
    pair: Annotated[str | None, typer.Option(help="Only this pair, e.g. RUB/INR.")] = None,
    json: Json = False,
) -> None:
    """Stored rates, oldest first."""
    from relos.services import netting

    rows = [netting.rate_row(r) for r in netting.rates(uow(), pair)]
    if json:
        render.emit_json(rows)
        return
    render.table(
        "exchange rates",
        ["date", "pair", "rate", "source"],
        [(r["date"], r["pair"], r["rate"], r["source"]) for r in rows],
        numeric=["rate"],
    )


@netting_app.command("propose")
def propose(
    agreement: Annotated[str, typer.Option(help="Agreement code, e.g. RELOS.")],
    as_of: Annotated[str, typer.Option("--as-of", help="Netting date YYYY-MM-DD.")],
    currency: Annotated[
        str | None, typer.Option(help="Netting currency (default: the largest creditor's).")
    ] = None,
    as_: As = None,
    json: Json = False,
) -> None:
    """Propose the offset of the mutual cash obligations and the payments left."""
    from relos.services import netting

    day = parse_date(as_of, "as_of")
    assert day is not None
    st = netting.propose(uow(), actor(as_), agreement, day, currency)
    _show(netting.snapshot(st), json)


@netting_app.command("approve")
def approve(statement: str, as_: As = None, json: Json = False) -> None:
    """Approve as a finance officer of one party; the last party's approval posts it."""
    from relos.services import netting

    st = netting.approve(uow(), actor(as_), statement)
    _show(netting.snapshot(st), json)


@netting_app.command("pay")
def pay(
    statement: str,
    debtor: Annotated[str, typer.Option(help="Party that owes (pays), e.g. IND.")],
    creditor: Annotated[str, typer.Option(help="Party that is owed (is paid), e.g. USA.")],
    amount: Annotated[str, typer.Option(help="Amount paid, e.g. 123.45.")],
    reference: Annotated[
        str, typer.Option(help="The payment's own reference (transfer or voucher number).")
    ],
    currency: Annotated[
        str | None, typer.Option(help="Currency (default and only: the statement's).")
    ] = None,
    on: Annotated[str | None, typer.Option(help="Payment date YYYY-MM-DD (default today).")] = None,
    as_: As = None,
    json: Json = False,
) -> None:
    """Record a cash payment of a netting obligation (finance officer of the debtor or the
    creditor); the same reference again changes nothing."""
    from relos.services import netting

    done = netting.pay(
        uow(),
        actor(as_),
        statement,
        debtor=debtor,
        creditor=creditor,
        amount=amount,
        currency=currency,
        on=parse_date(on, "on"),
        reference=reference,
    )
    p = done.payment
    if json:
        render.emit_json({**netting.snapshot(done.statement), "replayed": done.replayed})
        return
    what = f"{p.payer} paid {p.payee} {p.amount} on {p.on} (ref {p.reference})"
    render.ok(f"{what}: already recorded, nothing changed" if done.replayed else what)
    _obligations(netting.snapshot(done.statement))


@netting_app.command("obligations")
def obligations(
    agreement: Annotated[str | None, typer.Option(help="Only this agreement.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Also those paid in full.")] = False,
    as_: As = None,
    json: Json = False,
) -> None:
    """Obligations netting statements created, with what is paid and when they are due."""
    from relos.services import netting

    rows = [netting.debt_row(d) for d in netting.debts(uow(), actor(as_), agreement, not all_)]
    if json:
        render.emit_json(rows)
        return
    _obligations({"obligations": rows})


@netting_app.command("show")
def show(
    statement: str,
    as_: As = None,
    json: Json = False,
    csv: Annotated[Path | None, typer.Option(help="Also write the statement as CSV here.")] = None,
    pdf: Annotated[Path | None, typer.Option(help="Also write the statement as PDF here.")] = None,
) -> None:
    """One statement with its lines, payments and approvals."""
    from relos.services import netting
    from relos.services.netting_pdf import statement_pdf

    u = uow()
    st = netting.statement(u, actor(as_), statement)
    if csv:
        csv.write_text(netting.statement_csv(st), encoding="utf-8")
    if pdf:
        pdf.write_bytes(statement_pdf(st, netting.party_names(u, st)))
    _show(netting.snapshot(st), json)


@netting_app.command("list")
def list_statements(
    agreement: Annotated[str | None, typer.Option(help="Only this agreement.")] = None,
    as_: As = None,
    json: Json = False,
) -> None:
    """Statements the user's party is a party to."""
    from relos.services import netting

    rows = [netting.snapshot(s) for s in netting.statements(uow(), actor(as_), agreement)]
    if json:
        render.emit_json(rows)
        return
    render.table(
        "netting statements",
        ["number", "agreement", "as of", "currency", "state", "approved by"],
        [
            (
                r["number"],
                r["agreement"],
                r["as_of"],
                r["currency"],
                r["state"],
                ", ".join(a["party"] for a in r["approvals"]),
            )
            for r in rows
        ],
    )


def _show(snap: dict[str, object], json: bool) -> None:
    if json:
        render.emit_json(snap)
        return
    render.fields(
        f"netting statement {snap['number']}",
        [(k, snap[k]) for k in ("agreement", "as_of", "currency", "state", "digest")],
    )
    lines = snap["lines"]
    assert isinstance(lines, list)
    render.table(
        "lines",
        [
            "order",
            "debtor",
            "creditor",
            "ccy",
            "outstanding",
            "covered",
            "converted",
            "rate",
            "rate date",
            "source",
        ],
        [
            (
                ln["order"],
                ln["debtor"],
                ln["creditor"],
                ln["currency"],
                ln["outstanding"],
                ln["covered"],
                ln["converted"],
                ln["rate"],
                ln["rate_date"],
                ln["source"],
            )
            for ln in lines
        ],
        numeric=["outstanding", "covered", "converted", "rate"],
    )
    payments = snap["payments"]
    assert isinstance(payments, list)
    for p in payments:
        render.ok(f"{p['payer']} pays {p['payee']} {p['amount']} {p['currency']}")
    if not payments:
        render.ok("the obligations offset exactly: nothing left to pay")
    if snap.get("obligations"):
        _obligations(snap)


def _obligations(snap: dict[str, object]) -> None:
    rows = snap["obligations"]
    assert isinstance(rows, list)
    render.table(
        "netting obligations (pay with `relos netting pay`)",
        ["statement", "debtor", "creditor", "ccy", "amount", "paid", "outstanding", "due on"],
        [
            (
                d["statement"],
                d["debtor"],
                d["creditor"],
                d["currency"],
                d["amount"],
                d["paid"],
                d["outstanding"],
                d["due_on"],
            )
            for d in rows
        ],
        numeric=["amount", "paid", "outstanding"],
    )
