"""The kept debts of invoiced orders (`debt_tables.order_debts`): rewritten with their order
(the order repository calls `keep`, the import `keep_many`), read a page at a time in the
listing's order and summed per aging band, in SQL, for reports."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
)

from relos.domain.aging import BANDS, band_starts
from relos.domain.agreements import Method
from relos.domain.money import from_minor, to_minor
from relos.domain.orders import Order, OrderDebt, OrderState
from relos.storage.bulk_insert import converter, insert_rows
from relos.storage.debt_tables import order_debts

COLUMNS = (
    "order_number",
    "commodity",
    "agreement",
    "creditor",
    "debtor",
    "method",
    "outstanding_minor",
    "invoice",
    "due_on",
)
METHODS = {m.value: m for m in Method}


def _row(d: OrderDebt) -> tuple[Any, ...]:
    return (
        d.order,
        d.commodity,
        d.agreement,
        d.creditor,
        d.debtor,
        d.method.value,
        to_minor(d.outstanding, d.commodity),
        d.invoice,
        d.due_on,
    )


def keep(conn: Connection, order: Order, stored: Order | None) -> None:
    """Rewrite `order`'s kept debts when it is invoiced or was (settled, converted, paid)."""
    was = stored is not None and stored.state is OrderState.INVOICED
    if not was and order.state is not OrderState.INVOICED:
        return
    if was:
        conn.execute(delete(order_debts).where(order_debts.c.order_number == order.number))
    rows = [dict(zip(COLUMNS, _row(d), strict=True)) for d in order.debts()]
    if rows:
        conn.execute(insert(order_debts), rows)


def keep_many(conn: Connection, orders: Iterable[Order]) -> None:
    """The kept debts of new orders (an import): one executemany."""
    due_on = converter(conn, order_debts, "due_on")
    rows = [(*r[:-1], due_on(r[-1])) for o in orders for r in map(_row, o.debts())]
    if rows:
        insert_rows(conn, order_debts, COLUMNS, rows)


def fill(conn: Connection, debts: Sequence[OrderDebt]) -> None:
    """Write debts summed elsewhere (the migration's backfill), in chunks."""
    for i in range(0, len(debts), 10_000):
        conn.execute(
            insert(order_debts),
            [dict(zip(COLUMNS, _row(d), strict=True)) for d in debts[i : i + 10_000]],
        )


def _party() -> list[Any]:
    d = order_debts.c
    party: Any = bindparam("party")
    return [or_(d.creditor == party, d.debtor == party)]


@functools.cache
def page_statement(
    collate_c: bool, one_party: bool, overdue_only: bool, after: bool, limited: bool
) -> Any:
    """Kept debts in the listing's order (due date, order, commodity: the most overdue first),
    after a key, `:limit` of them: built once per shape."""
    d = order_debts.c
    number, commodity = (
        (d.order_number.collate("C"), d.commodity.collate("C"))
        if collate_c
        else (d.order_number, d.commodity)
    )
    where: list[Any] = _party() if one_party else []
    if overdue_only:
        where.append(d.due_on < bindparam("as_of"))
    if after:
        day: Any = bindparam("after_day")
        n: Any = bindparam("after_order")
        c: Any = bindparam("after_commodity")
        where.append(
            or_(
                d.due_on > day,
                and_(d.due_on == day, number > n),
                and_(d.due_on == day, number == n, commodity > c),
            )
        )
    q = select(*(d[name] for name in COLUMNS)).where(*where).order_by(d.due_on, number, commodity)
    return q.limit(bindparam("limit")) if limited else q


def page(
    conn: Connection,
    party: str | None,
    as_of: date,
    overdue_only: bool,
    after: tuple[date, str, str] | None,
    limit: int | None,
) -> list[OrderDebt]:
    q = page_statement(
        conn.dialect.name == "postgresql",
        party is not None,
        overdue_only,
        after is not None,
        limit is not None,
    )
    params: dict[str, Any] = {"party": party, "as_of": as_of, "limit": limit}
    if after is not None:
        params |= {"after_day": after[0], "after_order": after[1], "after_commodity": after[2]}
    return [
        OrderDebt(
            r[0],
            r[2],
            r[3],
            r[4],
            METHODS[r[5]],
            r[1],
            from_minor(int(r[6]), r[1]),
            r[7],
            r[8],
        )
        for r in conn.execute(q, params)
    ]


@functools.cache
def aging_statement(one_party: bool) -> Any:
    """Kept debts summed per creditor, debtor, commodity and band of days overdue on the day
    whose band starts are bound as `:start0`..: built once per shape."""
    d = order_debts.c
    starts = len(BANDS) - 1
    band = case(
        *((d.due_on >= bindparam(f"start{i}"), i) for i in range(starts)),
        else_=starts,
    ).label("band")
    where = _party() if one_party else []
    banded = (
        select(d.creditor, d.debtor, d.commodity, band, d.outstanding_minor)
        .where(*where)
        .subquery()
    )
    b = banded.c
    return select(
        b.creditor, b.debtor, b.commodity, b.band, func.sum(b.outstanding_minor)
    ).group_by(b.creditor, b.debtor, b.commodity, b.band)


def aging(
    conn: Connection, as_of: date, party: str | None
) -> dict[tuple[str, str, str, int], Decimal]:
    """What is owed per (creditor, debtor, commodity, band) on `as_of`."""
    q = aging_statement(party is not None)
    params: dict[str, Any] = {f"start{i}": s for i, s in enumerate(band_starts(as_of))}
    params["party"] = party
    return {
        (r[0], r[1], r[2], int(r[3])): from_minor(int(r[4]), r[2]) for r in conn.execute(q, params)
    }
