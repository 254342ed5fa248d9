"""Orders through their life: `relos order draft|submit|accept|reject|amend|cancel|receive|
invoice|settle|reverse|close|show|list`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from relos.cli import render
from relos.cli.options import As, Json, actor, parse_date, uow
from relos.domain.errors import ValidationError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relos.domain.orders import Order


order_app = typer.Typer(help="Support orders, from draft to closed.", no_args_is_help=True)

Lines = Annotated[
    list[str] | None,
    typer.Option("--line", help="ITEM=QUANTITY (repeat for each line).", show_default=False),
]
Data = Annotated[
    list[str] | None,
    typer.Option("--data", help="KEY=VALUE data element (repeat).", show_default=False),
]
Reason = Annotated[str, typer.Option(help="Why (recorded on the signature).")]
On = Annotated[str | None, typer.Option("--on", help="Date YYYY-MM-DD (default: today).")]


def _pairs(values: list[str] | None, field: str) -> list[tuple[str, str]]:
    out = []
    for v in values or []:
        key, sep, val = v.partition("=")
        if not sep or not key.strip():
            raise ValidationError(field, v, "write KEY=VALUE")
        out.append((key.strip(), val.strip()))
    return out


def _view(o: Order) -> dict[str, Any]:
    return {
        **o.document(),
        "state": o.state.value,
        "created_on": o.created_on,
        "value": str(o.value()) if o.value() else None,
        "outstanding": {c: str(n) for c, n in o.obligations().items()},
        "due_on": o.due_on(),
        "receipts": [render.plain(r) for r in o.receipts],
        "invoices": [render.plain(i) for i in o.invoices],
        "settlements": [render.plain(s) for s in o.settlements],
        "signatures": [render.plain(s) for s in o.signatures],
    }


def _done(o: Order, what: str) -> None:
    render.ok(f"{o.number} {what}: now {o.state.value} (revision {o.revision})")


@order_app.command("draft")
def draft(
    agreement: Annotated[str, typer.Option()],
    supplying: Annotated[str, typer.Option(help="Supplying party code.")],
    facility: Annotated[str, typer.Option()],
    unit: Annotated[str, typer.Option(help="Requesting unit code.")],
    method: Annotated[str, typer.Option(help="cash, rik or eve.")],
    use: Annotated[str, typer.Option(help="port_call, exercise, hadr, ...")],
    required_by: Annotated[str, typer.Option()],
    line: Lines = None,
    data: Data = None,
    as_: As = None,
    json: Json = False,
    visit: Annotated[str | None, typer.Option(help="The visit the order supports.")] = None,
) -> None:
    """Draft an order (ordering officer or planner of the requesting party)."""
    from relos.services import ordering

    day = parse_date(required_by, "required_by")
    assert day is not None
    o = ordering.draft(
        uow(),
        actor(as_),
        agreement=agreement,
        supplying=supplying,
        facility=facility,
        unit=unit,
        method=method,
        use=use,
        required_by=day,
        lines=_pairs(line, "line"),
        data=dict(_pairs(data, "data")),
        visit=visit,
    )
    if json:
        render.emit_json({"visit": visit, **_view(o)})
    else:
        _done(o, "drafted")


@order_app.command("submit")
def submit(number: str, as_: As = None) -> None:
    """Submit a draft to the supplying party (ordering officer)."""
    from relos.services import ordering

    _done(ordering.submit(uow(), actor(as_), number), "submitted")


@order_app.command("accept")
def accept(number: str, as_: As = None) -> None:
    """Accept a submitted order; prices are fixed now (accepting officer of the supplier)."""
    from relos.services import ordering

    _done(ordering.accept(uow(), actor(as_), number), "accepted")


@order_app.command("reject")
def reject(number: str, reason: Reason, as_: As = None) -> None:
    """Reject a submitted order (accepting officer of the supplier)."""
    from relos.services import ordering

    _done(ordering.reject(uow(), actor(as_), number, reason), "rejected")


@order_app.command("cancel")
def cancel(number: str, reason: Reason, as_: As = None) -> None:
    """Cancel an order before any receipt (ordering officer)."""
    from relos.services import ordering

    _done(ordering.cancel(uow(), actor(as_), number, reason), "cancelled")


@order_app.command("amend")
def amend(
    number: str,
    line: Lines = None,
    required_by: str | None = None,
    data: Data = None,
    as_: As = None,
) -> None:
    """Amend: a new revision with these lines, which the supplier accepts again."""
    from relos.services import ordering

    o = ordering.amend(
        uow(),
        actor(as_),
        number,
        _pairs(line, "line"),
        parse_date(required_by, "required_by"),
        dict(_pairs(data, "data")) or None,
    )
    _done(o, "amended")


@order_app.command("receive")
def receive(
    number: str,
    line: Annotated[list[str] | None, typer.Option("--line", help="LINE_NO=QUANTITY.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Receive all that is outstanding.")] = False,
    on: On = None,
    as_: As = None,
) -> None:
    """Sign a receipt of delivered quantities (receiving officer of the requester)."""
    from relos.services import ordering

    day = parse_date(on, "on")
    if all_:
        o = ordering.receive_all(uow(), actor(as_), number, day)
    else:
        qty = []
        for k, v in _pairs(line, "line"):
            if not k.isdigit():
                raise ValidationError("line", k, "a line number")
            qty.append((int(k), v))
        if not qty:
            raise ValidationError("line", "", "give --line N=QTY or --all")
        o = ordering.receive(uow(), actor(as_), number, qty, day)
    _done(o, "received")


@order_app.command("invoice")
def invoice(number: str, on: On = None, as_: As = None) -> None:
    """Invoice what was received (finance officer of the supplier)."""
    from relos.services import ordering

    o = ordering.invoice(uow(), actor(as_), number, parse_date(on, "on"))
    inv = o.invoices[-1]
    _done(o, f"invoiced {inv.number} for {inv.value}, due {inv.due_on}")


@order_app.command("settle")
def settle(
    number: str,
    amount: Annotated[str, typer.Option(help="Cash paid, quantity returned or value provided.")],
    commodity: Annotated[str | None, typer.Option(help="Currency or item unit.")] = None,
    on: On = None,
    note: str = "",
    as_: As = None,
) -> None:
    """Record a payment, a return in kind or an equal-value provision (finance officer)."""
    from relos.services import ordering

    o = ordering.settle(uow(), actor(as_), number, amount, commodity, parse_date(on, "on"), note)
    _done(o, f"settled {amount}")


@order_app.command("reverse")
def reverse(
    number: str, settlement: Annotated[int, typer.Option()], reason: Reason, as_: As = None
) -> None:
    """Reverse a wrongly recorded settlement (finance officer); nothing is edited."""
    from relos.services import ordering

    _done(ordering.reverse(uow(), actor(as_), number, settlement, reason), "reversed")


@order_app.command("close")
def close(number: str, as_: As = None) -> None:
    """Close a settled order (finance officer of the supplier)."""
    from relos.services import ordering

    _done(ordering.close(uow(), actor(as_), number), "closed")


@order_app.command("show")
def show(number: str, json: Json = False) -> None:
    """Show an order with its receipts, invoices, settlements and signatures."""
    from relos.services import ordering, queries

    session = uow()
    o = ordering.show(session, number)
    view = {"visit": queries.order_visit(session, number), **_view(o)}
    if json:
        render.emit_json(view)
        return
    skip = {"lines", "receipts", "invoices", "settlements", "signatures", "data"}
    render.fields(f"order {o.number}", [(k, v) for k, v in view.items() if k not in skip])
    render.table(
        "lines",
        ["line", "item", "quantity", "unit", "unit price", "received"],
        [
            (
                ln.line_no,
                ln.item_code,
                ln.quantity,
                ln.unit_of_measure,
                str(ln.unit_price) if ln.unit_price else "",
                o.received_quantity(ln.line_no),
            )
            for ln in o.lines
        ],
    )
    render.table(
        "signatures",
        ["action", "user", "role", "party", "at", "rev", "sha256"],
        [
            (s.action, s.user, s.role, s.party, s.at, s.revision, s.digest[:16] + "…")
            for s in o.signatures
        ],
    )


@order_app.command("list")
def list_orders(
    agreement: str | None = None,
    party: str | None = None,
    state: str | None = None,
    facility: str | None = None,
    unit: str | None = None,
    method: Annotated[str | None, typer.Option(help="cash, rik or eve.")] = None,
    created_from: Annotated[str | None, typer.Option(help="Created on or after.")] = None,
    created_to: Annotated[str | None, typer.Option(help="Created on or before.")] = None,
    sort: Annotated[str, typer.Option(help="number, created_on, required_by or state.")] = (
        "number"
    ),
    direction: Annotated[str, typer.Option(help="asc or desc.")] = "asc",
    limit: Annotated[int | None, typer.Option(help="At most this many (default all).")] = None,
    offset: Annotated[int, typer.Option(help="Skip this many.")] = 0,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Write the orders as CSV to this file.")
    ] = None,
    format_: Annotated[
        str, typer.Option("--format", help="table, json or csv (csv to standard output).")
    ] = "table",
    as_: As = None,
    json: Json = False,
) -> None:
    """List orders, filtered by agreement, party, state, facility, unit, method and creation
    date; with --as, only what that user's party may see (as over the HTTP API)."""
    from relos.services import queries
    from relos.services.queries import OrderFilter

    f = OrderFilter.parse(
        agreement=agreement,
        party=party,
        state=state,
        facility=facility,
        unit=unit,
        method=method,
        created_from=parse_date(created_from, "created_from"),
        created_to=parse_date(created_to, "created_to"),
        sort=sort,
        direction=direction,
        offset=offset,
    )
    if format_ not in ("table", "json", "csv"):
        raise ValidationError("format", format_, "one of table, json, csv")
    who = actor(as_)
    user = queries.viewer(uow(), who) if as_ else None
    if csv_file is not None or format_ == "csv":
        # read a page at a time and written as read (a million orders are never held)
        orders = queries.each_order(uow(), user, f, limit, offset, signatures=False)
        if csv_file is None:
            for part in queries.orders_csv_parts(orders):
                sys.stdout.write(part)
            return
        count = 0

        def counted() -> Iterator[Order]:
            nonlocal count
            for o in orders:
                count += 1
                yield o

        part_file = csv_file.with_name(csv_file.name + ".part")  # the file whole, or none
        try:
            with part_file.open("w", encoding="utf-8", newline="") as out:
                for part in queries.orders_csv_parts(counted()):
                    out.write(part)
            part_file.replace(csv_file)
        except OSError as e:
            raise ValidationError("csv", str(csv_file), e.strerror or "cannot be written") from None
        finally:
            part_file.unlink(missing_ok=True)
        render.ok(f"{count} orders written to {csv_file}")
    elif json or format_ == "json":
        render.emit_json_items(_view(o) for o in queries.each_order(uow(), user, f, limit, offset))
    else:
        heads = queries.order_heads(uow(), user, f, limit, offset)
        render.table(
            "orders",
            ["number", "from", "to", "facility", "unit", "method", "state", "required by"],
            [
                (
                    o.number,
                    o.supplying,
                    o.requesting,
                    o.facility,
                    o.unit,
                    o.method,
                    o.state,
                    o.required_by,
                )
                for o in heads
            ],
        )
