"""The kept debts of invoiced orders (`debt_tables.order_debts`): rewritten with their order
(the order repository calls `keep`; the import writes `debt_rows` with `add_rows`), read a
page at a time in the listing's order and summed per aging band, in SQL, for reports."""

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
from relos.storage.debt_tables import debt_days, order_debts

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


DAY_KEY = ("creditor", "debtor", "commodity", "due_on")


def _add_days(conn: Connection, gone: Iterable[OrderDebt], new: Iterable[OrderDebt]) -> None:
    """Add to `debt_days` what `new` adds and take off what `gone` held (one upsert each key)."""
    change: dict[tuple[str, str, str, date], int] = {}
    for sign, debts in ((-1, gone), (1, new)):
        for d in debts:
            key = (d.creditor, d.debtor, d.commodity, d.due_on)
            change[key] = change.get(key, 0) + sign * to_minor(d.outstanding, d.commodity)
    _bump_days(conn, change)


def _bump_days(conn: Connection, change: dict[tuple[str, str, str, date], int]) -> None:
    due_on = converter(conn.dialect, debt_days, "due_on")
    rows = [(*k[:3], due_on(k[3]), v) for k, v in sorted(change.items()) if v]
    insert_rows(conn, debt_days, (*DAY_KEY, "amount_minor"), rows, add_on_conflict=DAY_KEY)


def keep(conn: Connection, order: Order, stored: Order | None) -> None:
    """Rewrite `order`'s kept debts when it is invoiced or was (settled, converted, paid), and
    move its sums per due date by the difference."""
    was = stored is not None and stored.state is OrderState.INVOICED
    if not was and order.state is not OrderState.INVOICED:
        return
    gone = stored.debts() if stored is not None and was else []
    new = order.debts()
    if was:
        conn.execute(delete(order_debts).where(order_debts.c.order_number == order.number))
    rows = [dict(zip(COLUMNS, _row(d), strict=True)) for d in new]
    if rows:
        conn.execute(insert(order_debts), rows)
    _add_days(conn, gone, new)


def debt_rows(orders: Iterable[Order]) -> list[tuple[Any, ...]]:
    """The `order_debts` rows (`COLUMNS`) of new orders, as plain values: what `add_rows`
    writes (the import spills them with the orders' other rows)."""
    return [_row(d) for o in orders for d in o.debts()]


def add_rows(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert `debt_rows` of new orders, and add them to the sums per due date: one executemany
    per table."""
    if not rows:
        return
    due_on = converter(conn.dialect, order_debts, "due_on")
    insert_rows(conn, order_debts, COLUMNS, [(*r[:-1], due_on(r[-1])) for r in rows])
    change: dict[tuple[str, str, str, date], int] = {}
    for r in rows:  # COLUMNS: commodity 1, creditor 3, debtor 4, outstanding_minor 6, due_on 8
        key = (r[3], r[4], r[1], r[8])
        change[key] = change.get(key, 0) + r[6]
    _bump_days(conn, change)


def fill(conn: Connection, debts: Sequence[OrderDebt]) -> None:
    """Write debts summed elsewhere (the migration's backfill), in chunks."""
    for i in range(0, len(debts), 10_000):
        conn.execute(
            insert(order_debts),
            [dict(zip(COLUMNS, _row(d), strict=True)) for d in debts[i : i + 10_000]],
        )
    _add_days(conn, (), debts)


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
    whose band starts are bound as `:start0`..: from the sums per due date (`debt_days`),
    built once per shape."""
    d = debt_days.c
    starts = len(BANDS) - 1
    band = case(
        *((d.due_on >= bindparam(f"start{i}"), i) for i in range(starts)),
        else_=starts,
    ).label("band")
    party: Any = bindparam("party")
    where = [or_(d.creditor == party, d.debtor == party)] if one_party else []
    banded = (
        select(d.creditor, d.debtor, d.commodity, band, d.amount_minor).where(*where).subquery()
    )
    b = banded.c
    return select(b.creditor, b.debtor, b.commodity, b.band, func.sum(b.amount_minor)).group_by(
        b.creditor, b.debtor, b.commodity, b.band
    )


def aging(
    conn: Connection, as_of: date, party: str | None
) -> dict[tuple[str, str, str, int], Decimal]:
    """What is owed per (creditor, debtor, commodity, band) on `as_of`."""
    q = aging_statement(party is not None)
    params: dict[str, Any] = {f"start{i}": s for i, s in enumerate(band_starts(as_of))}
    params["party"] = party
    return {
        (r[0], r[1], r[2], int(r[3])): from_minor(int(r[4]), r[2])
        for r in conn.execute(q, params)
        if r[4]
    }
