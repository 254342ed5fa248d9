"""Alembic environment: runs on the engine relos hands over (SQLite or PostgreSQL)."""

from __future__ import annotations

from alembic import context

from relos.storage import audit_tables  # noqa: F401  (registers audit_log on the metadata)
from relos.storage.tables import metadata

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
