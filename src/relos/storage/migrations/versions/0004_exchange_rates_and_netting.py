"""exchange rates and netting statements (issue: settlement engine)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_rates",
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("base", sa.String(length=3), nullable=False),
        sa.Column("quote", sa.String(length=3), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("on", "base", "quote", "source", name=op.f("pk_exchange_rates")),
    )
    op.create_table(
        "netting_statements",
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("agreement", sa.String(length=20), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_netting_statements")),
    )
    op.create_index(op.f("ix_netting_statements_agreement"), "netting_statements", ["agreement"])
    op.create_table(
        "netting_lines",
        sa.Column("statement", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=40), nullable=False),
        sa.Column("debtor", sa.String(length=3), nullable=False),
        sa.Column("creditor", sa.String(length=3), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("outstanding_minor", sa.BigInteger(), nullable=False),
        sa.Column("covered_minor", sa.BigInteger(), nullable=False),
        sa.Column("converted_minor", sa.BigInteger(), nullable=False),
        sa.Column("converted_covered_minor", sa.BigInteger(), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.Column("rate_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement"],
            ["netting_statements.number"],
            name=op.f("fk_netting_lines_statement_netting_statements"),
        ),
        sa.PrimaryKeyConstraint("statement", "seq", name=op.f("pk_netting_lines")),
    )
    op.create_table(
        "netting_payments",
        sa.Column("statement", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("payer", sa.String(length=3), nullable=False),
        sa.Column("payee", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("on_orders_minor", sa.BigInteger(), nullable=False),
        sa.Column("new_obligation_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement"],
            ["netting_statements.number"],
            name=op.f("fk_netting_payments_statement_netting_statements"),
        ),
        sa.PrimaryKeyConstraint("statement", "seq", name=op.f("pk_netting_payments")),
    )
    op.create_table(
        "netting_approvals",
        sa.Column("statement", sa.String(length=40), nullable=False),
        sa.Column("party", sa.String(length=3), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement"],
            ["netting_statements.number"],
            name=op.f("fk_netting_approvals_statement_netting_statements"),
        ),
        sa.PrimaryKeyConstraint("statement", "party", name=op.f("pk_netting_approvals")),
    )


def downgrade() -> None:
    op.drop_table("netting_approvals")
    op.drop_table("netting_payments")
    op.drop_table("netting_lines")
    op.drop_index(op.f("ix_netting_statements_agreement"), table_name="netting_statements")
    op.drop_table("netting_statements")
    op.drop_table("exchange_rates")
