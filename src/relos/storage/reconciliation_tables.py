"""Tables for reconciliation between the parties: party keys, runs and their lines."""

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
    Text,
)

from relos.storage.tables import metadata

party_keys = Table(
    "party_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("party", String(3), ForeignKey("parties.code"), nullable=False, index=True),
    Column("public_pem", Text, nullable=False),
    Column("private_pem", Text, nullable=True),  # only the node's own party's; never shown
    Column("created_at", DateTime(timezone=True), nullable=False),
)

reconciliation_runs = Table(
    "reconciliation_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agreement", String(20), ForeignKey("agreements.code"), nullable=False),
    Column("party", String(3), ForeignKey("parties.code"), nullable=False, index=True),
    Column("counterparty", String(3), ForeignKey("parties.code"), nullable=False),
    Column("their_as_of", Date, nullable=False),
    Column("their_key_id", String(32), nullable=False),
    Column("statement_digest", String(64), nullable=False),
    Column("run_by", String(64), nullable=False),
    Column("run_at", DateTime(timezone=True), nullable=False),
    Column("balance_differences", JSON, nullable=False),
)

reconciliation_lines = Table(
    "reconciliation_lines",
    metadata,
    Column("run_id", Integer, ForeignKey("reconciliation_runs.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("order_number", String(40), nullable=False, index=True),
    Column("status", String(32), nullable=False),
    Column("transaction_date", Date, nullable=False),
    Column("our_state", String(32), nullable=True),
    Column("their_state", String(32), nullable=True),
    # money in integer minor units of `currency` (empty currency: no value yet)
    Column("our_value_minor", BigInteger, nullable=True),
    Column("their_value_minor", BigInteger, nullable=True),
    Column("currency", String(3), nullable=False),
    Column("details", JSON, nullable=False),
    Column("disputed_note", Text, nullable=True),
    Column("disputed_by", String(64), nullable=True),
    Column("disputed_at", DateTime(timezone=True), nullable=True),
    Column("resolved_note", Text, nullable=True),
    Column("resolved_by", String(64), nullable=True),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
)
