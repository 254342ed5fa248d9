"""daily balances (the day's net change per balance key), backfilled from postings; indexes
for set-based order searches (issue 6: performance)

Revision ID: 0011
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

KEY = ("book", "account", "counterparty", "method", "commodity")


def upgrade() -> None:
    op.create_table(
        "daily_balances",
        sa.Column("book", sa.String(length=3), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("counterparty", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("commodity", sa.String(length=60), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, "day", name=op.f("pk_daily_balances")),
        sqlite_with_rowid=False,
    )
    cols = ", ".join(KEY)
    op.execute(
        f"INSERT INTO daily_balances ({cols}, day, amount_minor) "
        f'SELECT {cols}, "on", SUM(amount_minor) FROM postings GROUP BY {cols}, "on"'
    )
    op.create_index(op.f("ix_orders_requesting"), "orders", ["requesting"])
    op.create_index(op.f("ix_orders_supplying"), "orders", ["supplying"])


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_supplying"), table_name="orders")
    op.drop_index(op.f("ix_orders_requesting"), table_name="orders")
    op.drop_table("daily_balances")
