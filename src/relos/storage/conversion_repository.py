"""Conversions of overdue in-kind debts: read and appended with their order (the order
repository calls `load_many` and `append_new`), and listed across orders for reports."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from relos.domain.money import Amount, from_minor
from relos.domain.orders import Conversion, Order
from relos.storage import conversion_tables as t
from relos.storage.tables import orders as orders_table


def _milli(q: Decimal) -> int:
    return int((q * 1000).to_integral_value())


def _row_to_conversion(r: Any) -> Conversion:
    return Conversion(
        r["seq"],
        r["on"],
        r["basis"],
        tuple(Amount(from_minor(a["minor"], a["commodity"]), a["commodity"]) for a in r["cleared"]),
        tuple(
            (
                p["line_no"],
                Decimal(p["quantity_milli"]) / 1000,
                Amount(from_minor(p["unit_price_minor"], p["currency"]), p["currency"]),
            )
            for p in r["unit_prices"]
        ),
        Amount(from_minor(r["amount_minor"], r["currency"]), r["currency"]),
    )


#: the conversions of the orders `:numbers` (an expanding list), built once (decision 69)
_LOAD_MANY = (
    select(t.order_conversions)
    .where(t.order_conversions.c.order_number.in_(bindparam("numbers", expanding=True)))
    .order_by(t.order_conversions.c.order_number, t.order_conversions.c.seq)
)


def load_many(conn: Connection, numbers: list[str]) -> dict[str, list[Conversion]]:
    """Conversions of several orders in one query: order number -> its conversions by seq."""
    out: dict[str, list[Conversion]] = {}
    if not numbers:
        return out
    for r in conn.execute(_LOAD_MANY, {"numbers": numbers}).mappings():
        out.setdefault(r["order_number"], []).append(_row_to_conversion(r))
    return out


def append_new(conn: Connection, order: Order, stored: int) -> None:
    """Insert the conversions after the first `stored` (append-only)."""
    for c in order.conversions[stored:]:
        conn.execute(
            insert(t.order_conversions).values(
                order_number=order.number,
                seq=c.seq,
                on=c.on,
                basis=c.basis,
                amount_minor=c.amount.minor,
                currency=c.amount.commodity,
                cleared=[{"minor": a.minor, "commodity": a.commodity} for a in c.cleared],
                unit_prices=[
                    {
                        "line_no": n,
                        "quantity_milli": _milli(q),
                        "unit_price_minor": p.minor,
                        "currency": p.commodity,
                    }
                    for n, q, p in c.unit_prices
                ],
            )
        )


class ConversionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def conversions(self, agreement: str | None = None) -> list[tuple[str, Conversion]]:
        """(order number, conversion) for every conversion, oldest first."""
        q = select(t.order_conversions).join(
            orders_table, orders_table.c.number == t.order_conversions.c.order_number
        )
        if agreement is not None:
            q = q.where(orders_table.c.agreement == agreement)
        q = q.order_by(t.order_conversions.c.on, t.order_conversions.c.order_number)
        return [(r["order_number"], _row_to_conversion(r)) for r in self.conn.execute(q).mappings()]
