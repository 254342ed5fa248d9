"""visits: revision, amendment day and cancellation (issue: visits and voyage planning)

Revision ID: 0010
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("amended_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("cancelled_on", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("cancelled_by", sa.String(length=64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("cancel_reason", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("cancel_reason")
        batch.drop_column("cancelled_by")
        batch.drop_column("cancelled_on")
        batch.drop_column("amended_on")
        batch.drop_column("revision")
