"""kept debts of invoiced orders and their sums per due date, backfilled from receipts,
settlements and conversions (issue 6: aging and the paged obligations listing at 1M lines)

Revision ID: 0014_aging
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_aging"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_debts",
        sa.Column("order_number", sa.String(length=40), nullable=False),
        sa.Column("commodity", sa.String(length=60), nullable=False),
        sa.Column("agreement", sa.String(length=20), nullable=False),
        sa.Column("creditor", sa.String(length=3), nullable=False),
        sa.Column("debtor", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("outstanding_minor", sa.BigInteger(), nullable=False),
        sa.Column("invoice", sa.String(length=60), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_number"], ["orders.number"], name=op.f("fk_order_debts_order_number_orders")
        ),
        sa.PrimaryKeyConstraint("order_number", "commodity", name=op.f("pk_order_debts")),
    )
    op.create_table(
        "debt_days",
        sa.Column("creditor", sa.String(length=3), nullable=False),
        sa.Column("debtor", sa.String(length=3), nullable=False),
        sa.Column("commodity", sa.String(length=60), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "creditor", "debtor", "commodity", "due_on", name=op.f("pk_debt_days")
        ),
        sqlite_with_rowid=False,
    )
    # the backfill is the order repository's own sum (decision 47), as of this revision
    from relos.storage import debt_repository
    from relos.storage.repositories import OrderRepository

    debt_repository.fill(op.get_bind(), OrderRepository(op.get_bind()).debts())
    op.create_index("ix_order_debts_due_on", "order_debts", ["due_on", "order_number", "commodity"])
    op.create_index("ix_order_debts_creditor", "order_debts", ["creditor", "due_on"])
    op.create_index("ix_order_debts_debtor", "order_debts", ["debtor", "due_on"])


def downgrade() -> None:
    op.drop_index("ix_order_debts_debtor", table_name="order_debts")
    op.drop_index("ix_order_debts_creditor", table_name="order_debts")
    op.drop_index("ix_order_debts_due_on", table_name="order_debts")
    op.drop_table("order_debts")
    op.drop_table("debt_days")
