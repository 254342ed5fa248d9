"""the kept debts carry the day of the invoice they arose by, summed per that day and due date,
and settlements are indexed by date (issue 6: aging and the obligations listing as of a past
day)

`order_debts.invoiced_on` is its invoice's `issued_on`; `debt_invoice_days` sums the debts per
that day (first in its key) and due date, so that aging as of a past day takes off the sums per
due date (`debt_days`, unchanged) what was invoiced after it. The orders settled, converted or
invoiced again (only a conversion does) after the day are found by the dates of their
settlements (now indexed) and conversions (indexed already). Frozen as of this revision:
its own SQL, nothing of relos imported (decision 57).

Revision ID: 0016_debts_as_of
Revises: 0015_daily_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_debts_as_of"
down_revision = "0015_daily_index"
branch_labels = None
depends_on = None

SETTLEMENTS_ON = "ix_settlements_on"
KEY = ("invoiced_on", "creditor", "debtor", "commodity", "due_on")


def upgrade() -> None:
    op.add_column("order_debts", sa.Column("invoiced_on", sa.Date(), nullable=True))
    op.execute(
        "UPDATE order_debts SET invoiced_on ="
        " (SELECT i.issued_on FROM invoices i WHERE i.number = order_debts.invoice)"
    )
    with op.batch_alter_table("order_debts") as table:
        table.alter_column("invoiced_on", existing_type=sa.Date(), nullable=False)
    op.create_table(
        "debt_invoice_days",
        sa.Column("invoiced_on", sa.Date(), nullable=False),
        sa.Column("creditor", sa.String(length=3), nullable=False),
        sa.Column("debtor", sa.String(length=3), nullable=False),
        sa.Column("commodity", sa.String(length=60), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_debt_invoice_days")),
        sqlite_with_rowid=False,
    )
    columns = ", ".join(KEY)
    op.execute(
        f"INSERT INTO debt_invoice_days ({columns}, amount_minor)"
        f" SELECT {columns}, SUM(outstanding_minor) FROM order_debts GROUP BY {columns}"
    )
    op.create_index(op.f(SETTLEMENTS_ON), "settlements", ["on"])


def downgrade() -> None:
    op.drop_index(op.f(SETTLEMENTS_ON), table_name="settlements")
    op.drop_table("debt_invoice_days")
    with op.batch_alter_table("order_debts") as table:
        table.drop_column("invoiced_on")
