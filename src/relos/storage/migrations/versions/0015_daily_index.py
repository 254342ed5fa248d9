"""SQLite: the daily balances indexed by day alone, without the amount (issue 6: the import's
write pass at 1M lines)

On SQLite the two covering indexes of `daily_balances`, (day, amount) and (book, day, amount),
served no query: balances as of a day read each key's days as one range of the primary key
(decision 48), and the first and last kept day need the day alone. Holding the amount, each
index was rewritten on every change of a day's balance: the import's upserts of the daily
changes were the write pass's largest statement (46.6 of its 232 s at 1M lines). PostgreSQL
keeps both: its as-of query sums the days' rows from them, index only.

Revision ID: 0015_daily_index
Revises: 0014_aging
"""

from __future__ import annotations

from alembic import op

revision = "0015_daily_index"
down_revision = "0014_aging"
branch_labels = None
depends_on = None

DAY = "ix_daily_balances_day"
BOOK_DAY = "ix_daily_balances_book_day"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if not _sqlite():
        return
    op.drop_index(op.f(BOOK_DAY), table_name="daily_balances")
    op.drop_index(op.f(DAY), table_name="daily_balances")
    op.create_index(op.f(DAY), "daily_balances", ["day"])


def downgrade() -> None:
    if not _sqlite():
        return
    op.drop_index(op.f(DAY), table_name="daily_balances")
    op.create_index(op.f(DAY), "daily_balances", ["day", "amount_minor"])
    op.create_index(op.f(BOOK_DAY), "daily_balances", ["book", "day", "amount_minor"])
