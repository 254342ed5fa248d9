"""signatures: no index on the order number alone (issue 6: every signature written)

`uq_signatures_order_seq` is a unique index on (order_number, seq) on both engines, and an
index's leading column serves a lookup by that column alone: `ix_signatures_order_number`
served no query the unique index does not, yet every signature written (about one per
imported order line, three or four per order) was inserted into both. Frozen as of this
revision: its own names, nothing of relos imported (decision 57).

Revision ID: 0017_signature_index
Revises: 0016_debts_as_of
"""

from __future__ import annotations

from alembic import op

revision = "0017_signature_index"
down_revision = "0016_debts_as_of"
branch_labels = None
depends_on = None

ORDER_NUMBER = "ix_signatures_order_number"


def upgrade() -> None:
    op.drop_index(ORDER_NUMBER, table_name="signatures")


def downgrade() -> None:
    op.create_index(ORDER_NUMBER, "signatures", ["order_number"])
