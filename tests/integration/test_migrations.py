"""Migrations build the same schema on SQLite and PostgreSQL, and running them again is harmless."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from relos.storage import tables
from relos.storage.engine import current_revision, head_revision, upgrade


def test_migrations_create_every_table_and_column_of_the_schema(engine: Engine) -> None:
    found = inspect(engine)
    names = set(found.get_table_names())
    assert set(tables.metadata.tables) <= names
    assert "alembic_version" in names
    for name, table in tables.metadata.tables.items():
        columns = {c["name"] for c in found.get_columns(name)}
        assert columns == {c.name for c in table.columns}, name


def test_migrated_database_is_at_the_head_revision(engine: Engine) -> None:
    head = head_revision(engine)
    assert head is not None
    assert current_revision(engine) == head


def test_upgrade_is_idempotent(engine: Engine) -> None:
    before = inspect(engine).get_table_names()
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    assert inspect(engine).get_table_names() == before
