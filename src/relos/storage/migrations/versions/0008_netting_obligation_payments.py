"""cash payments of netting obligations, and their due date (issue 4: settlement engine)

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("netting_statements") as batch:
        batch.add_column(sa.Column("due_on", sa.Date(), nullable=True))
    op.create_table(
        "netting_debt_payments",
        sa.Column("statement", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("payer", sa.String(length=3), nullable=False),
        sa.Column("payee", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("party", sa.String(length=3), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement"],
            ["netting_statements.number"],
            name=op.f("fk_netting_debt_payments_statement_netting_statements"),
        ),
        sa.PrimaryKeyConstraint("statement", "seq", name=op.f("pk_netting_debt_payments")),
        sa.UniqueConstraint(
            "statement", "reference", name=op.f("uq_netting_debt_payments_statement")
        ),
    )


def downgrade() -> None:
    op.drop_table("netting_debt_payments")
    with op.batch_alter_table("netting_statements") as batch:
        batch.drop_column("due_on")
