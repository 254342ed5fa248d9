"""Tables for imports: the job of each imported file, and each imported order's reference.

An imported order keeps the officer's reference it had in the file (`order_references`), unique
per requesting party, so a later import can be matched against it and never repeats it.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, Text, UniqueConstraint

from relos.storage.tables import metadata

import_jobs = Table(
    "import_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("party", String(3), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("rows_total", Integer, nullable=False),
    Column("orders_total", Integer, nullable=False),
    Column("last_line", Integer, nullable=False),
    Column("rows_done", Integer, nullable=False),
    Column("orders_done", Integer, nullable=False),
    Column("entries_done", Integer, nullable=False),
    Column("batches_done", Integer, nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("kind", "sha256", name="uq_import_jobs_kind_sha256"),
)

order_references = Table(
    "order_references",
    metadata,
    Column("order_number", String(40), ForeignKey("orders.number"), primary_key=True),
    Column("requesting", String(3), nullable=False),
    Column("reference", String(60), nullable=False),
    Column("job_id", Integer, ForeignKey("import_jobs.id"), nullable=False, index=True),
    Column("line", Integer, nullable=False),
    UniqueConstraint("requesting", "reference", name="uq_order_references_requesting_reference"),
)
