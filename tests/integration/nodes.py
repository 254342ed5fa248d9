"""Two parties' nodes for reconciliation tests: a second migrated database beside the `engine`
fixture's (a SQLite file, or a database on the same PostgreSQL server), and surgery on a node's
rows to inject discrepancies."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, delete, select, text, update

from relos.storage import tables as t
from relos.storage.engine import make_engine, upgrade


@contextmanager
def second_node(engine: Engine, tmp_path: Path, copy: bool = False) -> Iterator[Engine]:
    """Another database on the same backend: empty and migrated, or a copy of `engine`'s."""
    if engine.dialect.name == "sqlite":
        path = tmp_path / f"node-{uuid.uuid4().hex[:8]}.db"
        if copy:
            source = engine.url.database
            assert source is not None
            engine.dispose()
            shutil.copyfile(source, path)
        other = make_engine(f"sqlite:///{path}")
        if not copy:
            upgrade(other)
        try:
            yield other
        finally:
            other.dispose()
        return
    name = f"t_{uuid.uuid4().hex}"
    admin = make_engine(
        engine.url.set(database="postgres").render_as_string(hide_password=False)
    ).execution_options(isolation_level="AUTOCOMMIT")
    try:
        if copy:
            engine.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{engine.url.database}"'))
        else:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        other = make_engine(engine.url.set(database=name).render_as_string(hide_password=False))
        if not copy:
            upgrade(other)
        try:
            yield other
        finally:
            other.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def drop_order(engine: Engine, number: str) -> None:
    """Remove an order and everything recorded of it (as if this node never heard of it)."""
    with engine.begin() as conn:
        entry_ids = select(t.ledger_entries.c.id).where(t.ledger_entries.c.order_number == number)
        conn.execute(delete(t.postings).where(t.postings.c.entry_id.in_(entry_ids)))
        for table in reversed(t.metadata.sorted_tables):
            if "order_number" in table.c and table.name not in ("reconciliation_lines",):
                conn.execute(delete(table).where(table.c.order_number == number))
        conn.execute(delete(t.orders).where(t.orders.c.number == number))


def change_price(engine: Engine, number: str) -> None:
    """One minor unit more on the order's first line's price (an amount discrepancy)."""
    with engine.begin() as conn:
        conn.execute(
            update(t.order_lines)
            .where((t.order_lines.c.order_number == number) & (t.order_lines.c.line_no == 1))
            .values(unit_price_minor=t.order_lines.c.unit_price_minor + 1)
        )


def change_state(engine: Engine, number: str, state: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(t.orders).where(t.orders.c.number == number).values(state=state))
