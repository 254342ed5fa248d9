"""two indexes no query needs: the postings' (book, on) and the signatures' order number
(issue 6: every posting and signature written)

`ix_postings_book_on`: no statement of relos finds postings by day. The kept balances answer
balances now and as of a day (decisions 34 and 48); an order's entries find their postings by
entry (`ix_postings_entry_id`); a book's entries for the journal export read the postings
of the book in id order, a scan the index did not shorten (a book is about half of them); and
the check that the kept balances equal the postings summed reads them all. Yet each posting
(about three per imported order line) was inserted into it at a random place by its day.
`ix_signatures_order_number`: `uq_signatures_order_seq` is a unique index on (order_number,
seq) on both engines, whose leading column serves a lookup by the order number alone.
Frozen as of this revision: its own names, nothing of relos imported (decision 57).

Revision ID: 0017_unused_indexes
Revises: 0016_debts_as_of
"""

from __future__ import annotations

from alembic import op

revision = "0017_unused_indexes"
down_revision = "0016_debts_as_of"
branch_labels = None
depends_on = None

#: (index, table, columns)
DROPPED = (
    ("ix_postings_book_on", "postings", ["book", "on"]),
    ("ix_signatures_order_number", "signatures", ["order_number"]),
)


def upgrade() -> None:
    for name, table, _ in DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in DROPPED:
        op.create_index(name, table, columns)
