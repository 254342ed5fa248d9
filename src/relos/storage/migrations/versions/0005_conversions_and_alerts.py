"""conversion of overdue in-kind obligations, alert state (issue: settlement engine)

Alerts are computed from orders on demand and keep no state: only the conversions table.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_conversions",
        sa.Column("order_number", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("basis", sa.String(length=10), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("cleared", sa.JSON(), nullable=False),
        sa.Column("unit_prices", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_number"],
            ["orders.number"],
            name=op.f("fk_order_conversions_order_number_orders"),
        ),
        sa.PrimaryKeyConstraint("order_number", "seq", name=op.f("pk_order_conversions")),
    )
    op.create_index(op.f("ix_order_conversions_on"), "order_conversions", ["on"])


def downgrade() -> None:
    op.drop_index(op.f("ix_order_conversions_on"), table_name="order_conversions")
    op.drop_table("order_conversions")
