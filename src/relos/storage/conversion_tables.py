"""Tables of the settlement engine: conversions of overdue in-kind debts to cash."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Date, ForeignKey, Integer, String, Table

from relos.storage.tables import metadata

#: one row per conversion of an order's overdue RIK/EVE debt; append-only. `cleared` holds the
#: in-kind amounts cancelled ([{"minor": int, "commodity": str}]); `unit_prices` the price used
#: per line ([{"line_no", "quantity_milli", "unit_price_minor", "currency"}]).
order_conversions = Table(
    "order_conversions",
    metadata,
    Column("order_number", String(40), ForeignKey("orders.number"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("on", Date, nullable=False, index=True),
    Column("basis", String(10), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("cleared", JSON, nullable=False),
    Column("unit_prices", JSON, nullable=False),
)
