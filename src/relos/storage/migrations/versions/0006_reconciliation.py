"""party keys, signed statements and reconciliation lines (issue: settlement engine)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "party_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("party", sa.String(length=3), nullable=False),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["party"], ["parties.code"], name=op.f("fk_party_keys_party_parties")
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_party_keys")),
    )
    op.create_index(op.f("ix_party_keys_party"), "party_keys", ["party"])
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agreement", sa.String(length=20), nullable=False),
        sa.Column("party", sa.String(length=3), nullable=False),
        sa.Column("counterparty", sa.String(length=3), nullable=False),
        sa.Column("their_as_of", sa.Date(), nullable=False),
        sa.Column("their_key_id", sa.String(length=32), nullable=False),
        sa.Column("statement_digest", sa.String(length=64), nullable=False),
        sa.Column("run_by", sa.String(length=64), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("balance_differences", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement"],
            ["agreements.code"],
            name=op.f("fk_reconciliation_runs_agreement_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["party"], ["parties.code"], name=op.f("fk_reconciliation_runs_party_parties")
        ),
        sa.ForeignKeyConstraint(
            ["counterparty"],
            ["parties.code"],
            name=op.f("fk_reconciliation_runs_counterparty_parties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    op.create_index(op.f("ix_reconciliation_runs_party"), "reconciliation_runs", ["party"])
    op.create_table(
        "reconciliation_lines",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("transaction_date", sa.Date(), nullable=False),
        sa.Column("our_state", sa.String(length=32), nullable=True),
        sa.Column("their_state", sa.String(length=32), nullable=True),
        sa.Column("our_value_minor", sa.BigInteger(), nullable=True),
        sa.Column("their_value_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("disputed_note", sa.Text(), nullable=True),
        sa.Column("disputed_by", sa.String(length=64), nullable=True),
        sa.Column("disputed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_note", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconciliation_runs.id"],
            name=op.f("fk_reconciliation_lines_run_id_reconciliation_runs"),
        ),
        sa.PrimaryKeyConstraint("run_id", "line_no", name=op.f("pk_reconciliation_lines")),
    )
    op.create_index(
        op.f("ix_reconciliation_lines_order_number"), "reconciliation_lines", ["order_number"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_reconciliation_lines_order_number"), table_name="reconciliation_lines")
    op.drop_table("reconciliation_lines")
    op.drop_index(op.f("ix_reconciliation_runs_party"), table_name="reconciliation_runs")
    op.drop_table("reconciliation_runs")
    op.drop_index(op.f("ix_party_keys_party"), table_name="party_keys")
    op.drop_table("party_keys")
