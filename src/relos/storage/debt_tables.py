"""The kept debts of invoiced orders (a read model, like the kept balances)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Index, String, Table

from relos.storage.tables import metadata

#: `Order.debts` of every invoiced order, one row per order and commodity still owed, rewritten
#: whenever the order is written (`debt_repository.keep`); `outstanding_minor` is in the
#: commodity's minor units (a currency's exponent, thousandths of an item's unit). It always
#: equals what `OrderRepository.debts` sums from receipts, settlements and conversions.
order_debts = Table(
    "order_debts",
    metadata,
    Column("order_number", String(40), ForeignKey("orders.number"), primary_key=True),
    Column("commodity", String(60), primary_key=True),
    Column("agreement", String(20), nullable=False),
    Column("creditor", String(3), nullable=False),
    Column("debtor", String(3), nullable=False),
    Column("method", String(10), nullable=False),
    Column("outstanding_minor", BigInteger, nullable=False),
    Column("invoice", String(60), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("invoiced_on", Date, nullable=False),
    Index("ix_order_debts_due_on", "due_on", "order_number", "commodity"),
    Index("ix_order_debts_creditor", "creditor", "due_on"),
    Index("ix_order_debts_debtor", "debtor", "due_on"),
)

#: the same debts summed per creditor, debtor, commodity and due date (the day's sum may be
#: zero): what aging sums per band, some thousands of rows however many orders are open.
debt_days = Table(
    "debt_days",
    metadata,
    Column("creditor", String(3), primary_key=True),
    Column("debtor", String(3), primary_key=True),
    Column("commodity", String(60), primary_key=True),
    Column("due_on", Date, primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

#: the same again per day of the invoice the debts arose by, that day first: aging as of a past
#: day takes off `debt_days` what was invoiced after it (one range of the key; none today).
debt_invoice_days = Table(
    "debt_invoice_days",
    metadata,
    Column("invoiced_on", Date, primary_key=True),
    Column("creditor", String(3), primary_key=True),
    Column("debtor", String(3), primary_key=True),
    Column("commodity", String(60), primary_key=True),
    Column("due_on", Date, primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)
