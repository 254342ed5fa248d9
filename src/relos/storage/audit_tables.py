"""The audit log table: append-only, hash-chained (see `relos.domain.audit`).

`seq` is assigned by the writer (the next number after the last record), not by the database:
the chain's numbering is part of what each hash covers. Its primary key is what keeps two
writers from ever forking the chain (both would claim the same number).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text

from relos.storage.tables import metadata

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("party", String(3), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("action", String(60), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("entity_key", Text, nullable=False),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_entity_key", "entity", "entity_key"),
)
