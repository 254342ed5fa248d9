"""daily and monthly balances (the day's and month's net change per balance key), backfilled
from postings; indexes
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
    op.create_index(op.f("ix_daily_balances_day"), "daily_balances", ["day", "amount_minor"])
    op.create_index(
        op.f("ix_daily_balances_book_day"), "daily_balances", ["book", "day", "amount_minor"]
    )
    op.create_table(
        "monthly_balances",
        sa.Column("book", sa.String(length=3), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("counterparty", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("commodity", sa.String(length=60), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, "month", name=op.f("pk_monthly_balances")),
        sqlite_with_rowid=False,
    )
    cols = ", ".join(KEY)
    op.execute(
        f"INSERT INTO daily_balances ({cols}, day, amount_minor) "
        f'SELECT {cols}, "on", SUM(amount_minor) FROM postings GROUP BY {cols}, "on"'
    )
    # the month's first day: SQLite's date(.., 'start of month') is ISO text, as SQLAlchemy
    # stores a date there; PostgreSQL truncates
    if op.get_bind().dialect.name == "sqlite":
        month = "date(day, 'start of month')"
    else:
        month = "CAST(date_trunc('month', day) AS DATE)"
    op.execute(
        f"INSERT INTO monthly_balances ({cols}, month, amount_minor) "
        f"SELECT {cols}, {month}, SUM(amount_minor) FROM daily_balances GROUP BY {cols}, {month}"
    )
    op.create_index(op.f("ix_orders_requesting"), "orders", ["requesting"])
    op.create_index(op.f("ix_orders_supplying"), "orders", ["supplying"])


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_supplying"), table_name="orders")
    op.drop_index(op.f("ix_orders_requesting"), table_name="orders")
    op.drop_table("monthly_balances")
    op.drop_index(op.f("ix_daily_balances_book_day"), table_name="daily_balances")
    op.drop_index(op.f("ix_daily_balances_day"), table_name="daily_balances")
    op.drop_table("daily_balances")
