"""Tables of the settlement engine's exchange rates and netting statements.

Rates are exact decimal text (never float); money is integer minor units with its currency.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from relos.storage.tables import metadata

exchange_rates = Table(
    "exchange_rates",
    metadata,
    Column("on", Date, primary_key=True),
    Column("base", String(3), primary_key=True),
    Column("quote", String(3), primary_key=True),
    Column("source", String(40), primary_key=True),
    Column("rate", String(40), nullable=False),  # exact decimal text: quote units per base unit
    Column("imported_at", DateTime(timezone=True), nullable=False),
)

netting_statements = Table(
    "netting_statements",
    metadata,
    Column("number", String(40), primary_key=True),
    Column("agreement", String(20), nullable=False, index=True),
    Column("as_of", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("parties", JSON, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("proposed_by", String(64), nullable=False),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("state", String(20), nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=True),
    Column("due_on", Date, nullable=True),  # when the netting obligations it created are due
)

netting_lines = Table(
    "netting_lines",
    metadata,
    Column("statement", String(40), ForeignKey("netting_statements.number"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("order_number", String(40), nullable=False),
    Column("debtor", String(3), nullable=False),
    Column("creditor", String(3), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("outstanding_minor", BigInteger, nullable=False),
    Column("covered_minor", BigInteger, nullable=False),
    Column("converted_minor", BigInteger, nullable=False),  # in the statement's currency
    Column("converted_covered_minor", BigInteger, nullable=False),
    Column("rate", String(40), nullable=False),
    Column("rate_on", Date, nullable=True),
    Column("source", String(40), nullable=False),
)

netting_payments = Table(
    "netting_payments",
    metadata,
    Column("statement", String(40), ForeignKey("netting_statements.number"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("payer", String(3), nullable=False),
    Column("payee", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("on_orders_minor", BigInteger, nullable=False),
    Column("new_obligation_minor", BigInteger, nullable=False),
)

netting_approvals = Table(
    "netting_approvals",
    metadata,
    Column("statement", String(40), ForeignKey("netting_statements.number"), primary_key=True),
    Column("party", String(3), primary_key=True),
    Column("user_name", String(64), nullable=False),
    Column("role", String(30), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("digest", String(64), nullable=False),
)

#: cash payments of the obligations a netting created (receivable/payable:P:netting)
netting_debt_payments = Table(
    "netting_debt_payments",
    metadata,
    Column("statement", String(40), ForeignKey("netting_statements.number"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("payer", String(3), nullable=False),
    Column("payee", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("on", Date, nullable=False),
    Column("reference", String(80), nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("party", String(3), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("digest", String(64), nullable=False),
    UniqueConstraint("statement", "reference"),
)
