"""kept debts of invoiced orders and their sums per due date, backfilled from receipts,
settlements and conversions (issue 6: aging and the paged obligations listing at 1M lines)

Revision ID: 0014_aging
Revises: 0012
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0014_aging"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostgreSQL checks a foreign key by a trigger per inserted row (7-9 s of the backfill's 20
    # at 1M lines): there the key is added after the backfill, validated by one join; SQLite's
    # check is an index look-up, and it cannot add a key to a table, so it has it from the start
    fk_later = op.get_bind().dialect.name == "postgresql"
    fk_name = op.f("fk_order_debts_order_number_orders")
    fk = (
        []
        if fk_later
        else [sa.ForeignKeyConstraint(["order_number"], ["orders.number"], name=fk_name)]
    )
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
        *fk,
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
    _backfill()
    if fk_later:
        op.create_foreign_key(fk_name, "order_debts", "orders", ["order_number"], ["number"])
    op.create_index("ix_order_debts_due_on", "order_debts", ["due_on", "order_number", "commodity"])
    op.create_index("ix_order_debts_creditor", "order_debts", ["creditor", "due_on"])
    op.create_index("ix_order_debts_debtor", "order_debts", ["debtor", "due_on"])


# The backfill is frozen as of this revision (decision 57): it reads the tables through these
# lightweight definitions, as they stand at 0012, and imports nothing from relos, so a later
# change to the repositories or the tables cannot change what this revision writes.
orders = sa.table(
    "orders",
    sa.column("number", sa.String),
    sa.column("agreement", sa.String),
    sa.column("requesting", sa.String),
    sa.column("supplying", sa.String),
    sa.column("method", sa.String),
    sa.column("state", sa.String),
)
order_lines = sa.table(
    "order_lines",
    sa.column("order_number", sa.String),
    sa.column("line_no", sa.Integer),
    sa.column("unit_price_minor", sa.BigInteger),
    sa.column("currency", sa.String),
    sa.column("commodity", sa.String),
)
receipt_lines = sa.table(
    "receipt_lines",
    sa.column("order_number", sa.String),
    sa.column("line_no", sa.Integer),
    sa.column("quantity_milli", sa.BigInteger),
)
invoices = sa.table(
    "invoices",
    sa.column("number", sa.String),
    sa.column("order_number", sa.String),
    sa.column("issued_on", sa.Date),
    sa.column("due_on", sa.Date),
)
settlements = sa.table(
    "settlements",
    sa.column("order_number", sa.String),
    sa.column("commodity", sa.String),
    sa.column("amount_minor", sa.BigInteger),
    sa.column("reverses", sa.Integer),
)
order_conversions = sa.table(
    "order_conversions",
    sa.column("order_number", sa.String),
    sa.column("currency", sa.String),
    sa.column("amount_minor", sa.BigInteger),
    sa.column("cleared", sa.JSON),
)
order_debts = sa.table(
    "order_debts",
    sa.column("order_number", sa.String),
    sa.column("commodity", sa.String),
    sa.column("agreement", sa.String),
    sa.column("creditor", sa.String),
    sa.column("debtor", sa.String),
    sa.column("method", sa.String),
    sa.column("outstanding_minor", sa.BigInteger),
    sa.column("invoice", sa.String),
    sa.column("due_on", sa.Date),
)
debt_days = sa.table(
    "debt_days",
    sa.column("creditor", sa.String),
    sa.column("debtor", sa.String),
    sa.column("commodity", sa.String),
    sa.column("due_on", sa.Date),
    sa.column("amount_minor", sa.BigInteger),
)


def _owed() -> Any:
    """What each invoiced order owes per commodity, in the commodity's minor units, before what
    conversions cleared: each receipt line's obligation (replacement in kind: its quantity in
    thousandths, the item's unit carrying three decimals; else its value, the unit price times
    the quantity rounded half-even to the minor unit), plus the cash of conversions, less
    settlements (a reversal adds back)."""
    o, ol, rl = orders.c, order_lines.c, receipt_lines.c
    st, cv = settlements.c, order_conversions.c
    invoiced = o.state == "invoiced"
    rik = o.method == "rik"
    # round_half_even(price_minor * quantity_milli / 1000) in integers without overflow: whole
    # units and thousandths of the quantity apart
    whole = ol.unit_price_minor * (rl.quantity_milli // 1000)
    part = ol.unit_price_minor * (rl.quantity_milli % 1000)
    floor = whole + part // 1000
    rest = part % 1000
    value = floor + sa.case((sa.or_(rest > 500, sa.and_(rest == 500, floor % 2 == 1)), 1), else_=0)
    received = (
        sa.select(
            rl.order_number.label("number"),
            sa.case((rik, ol.commodity), else_=ol.currency).label("commodity"),
            sa.case((rik, rl.quantity_milli), else_=value).label("minor"),
        )
        .select_from(
            receipt_lines.join(
                order_lines,
                sa.and_(ol.order_number == rl.order_number, ol.line_no == rl.line_no),
            ).join(orders, o.number == rl.order_number)
        )
        .where(invoiced)
    )
    converted = (
        sa.select(cv.order_number, cv.currency, cv.amount_minor)
        .select_from(order_conversions.join(orders, o.number == cv.order_number))
        .where(invoiced)
    )
    settled = (
        sa.select(
            st.order_number,
            st.commodity,
            sa.case((st.reverses.is_(None), -st.amount_minor), else_=st.amount_minor),
        )
        .select_from(settlements.join(orders, o.number == st.order_number))
        .where(invoiced)
    )
    parts = sa.union_all(received, converted, settled).subquery()
    return (
        sa.select(
            parts.c.number,
            parts.c.commodity,
            sa.cast(sa.func.sum(parts.c.minor), sa.BigInteger).label("minor"),
        )
        .group_by(parts.c.number, parts.c.commodity)
        .subquery()
    )


def _backfill() -> None:
    """Fill `order_debts` and `debt_days` in the database, in sets: the owed sums with the
    order's header and last invoice (INSERT .. SELECT), less what conversions cleared (the
    conversion rows' JSON, read in Python: few), the rows owing nothing dropped, then the sums
    per creditor, debtor, commodity and due date (INSERT .. SELECT .. GROUP BY)."""
    conn = op.get_bind()
    o, cv, d = orders.c, order_conversions.c, order_debts.c
    owed = _owed()
    # the order's last invoice (by date, then number, in code-point order): none later
    inv = invoices.alias("inv")
    later = invoices.alias("later")
    number: Any = inv.c.number
    later_number: Any = later.c.number
    if conn.dialect.name == "postgresql":  # its default collation is not code-point order
        number, later_number = number.collate("C"), later_number.collate("C")
    last = ~sa.exists().where(
        later.c.order_number == inv.c.order_number,
        sa.or_(
            later.c.issued_on > inv.c.issued_on,
            sa.and_(later.c.issued_on == inv.c.issued_on, later_number > number),
        ),
    )
    debts = (
        sa.select(
            owed.c.number,
            owed.c.commodity,
            o.agreement,
            o.supplying,
            o.requesting,
            o.method,
            owed.c.minor,
            inv.c.number,
            inv.c.due_on,
        )
        .select_from(
            owed.join(orders, o.number == owed.c.number).join(
                inv, inv.c.order_number == owed.c.number
            )
        )
        .where(last)
    )
    conn.execute(
        sa.insert(order_debts).from_select(
            [
                "order_number",
                "commodity",
                "agreement",
                "creditor",
                "debtor",
                "method",
                "outstanding_minor",
                "invoice",
                "due_on",
            ],
            debts,
        )
    )
    cleared: dict[tuple[str, str], int] = {}
    rows = conn.execute(
        sa.select(cv.order_number, cv.cleared)
        .select_from(order_conversions.join(orders, o.number == cv.order_number))
        .where(o.state == "invoiced")
    )
    for n, amounts in rows:
        for a in amounts:
            key = (n, a["commodity"])
            cleared[key] = cleared.get(key, 0) + int(a["minor"])
    if cleared:
        conn.execute(
            sa.update(order_debts)
            .where(
                d.order_number == sa.bindparam("n"),
                d.commodity == sa.bindparam("c"),
            )
            .values(outstanding_minor=d.outstanding_minor - sa.bindparam("minor")),
            [{"n": n, "c": c, "minor": m} for (n, c), m in sorted(cleared.items())],
        )
    conn.execute(sa.delete(order_debts).where(d.outstanding_minor <= 0))
    day_key = (d.creditor, d.debtor, d.commodity, d.due_on)
    conn.execute(
        sa.insert(debt_days).from_select(
            ["creditor", "debtor", "commodity", "due_on", "amount_minor"],
            sa.select(*day_key, sa.cast(sa.func.sum(d.outstanding_minor), sa.BigInteger))
            .group_by(*day_key)
            .order_by(*day_key),
        )
    )


def downgrade() -> None:
    op.drop_index("ix_order_debts_debtor", table_name="order_debts")
    op.drop_index("ix_order_debts_creditor", table_name="order_debts")
    op.drop_index("ix_order_debts_due_on", table_name="order_debts")
    op.drop_table("order_debts")
    op.drop_table("debt_days")
