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
    exists,
    func,
    insert,
    or_,
    select,
    union,
    union_all,
)

from relos.domain.aging import BANDS, band_starts
from relos.domain.agreements import Method
from relos.domain.money import from_minor, to_minor
from relos.domain.orders import Order, OrderDebt, OrderState
from relos.storage.bulk_insert import converter, insert_rows
from relos.storage.conversion_tables import order_conversions
from relos.storage.debt_tables import debt_days, debt_invoice_days, order_debts
from relos.storage.tables import invoices, orders, settlements

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
    "invoiced_on",
)
METHODS = {m.value: m for m in Method}


def _row(d: OrderDebt, invoiced_on: date) -> tuple[Any, ...]:
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
        invoiced_on,
    )


def invoiced_on(order: Order) -> date:
    """The day an invoiced order's debts arose: its (last) invoice's."""
    return order.invoices[-1].issued_on


DAY_KEY = ("creditor", "debtor", "commodity", "due_on")
INVOICE_DAY_KEY = ("invoiced_on", *DAY_KEY)
_DayKey = tuple[str, str, str, date, date]  # DAY_KEY and the invoice's day


def _kept(order: Order | None) -> list[tuple[OrderDebt, date]]:
    """An order's debts with the day of the invoice they arose by (none if not invoiced)."""
    if order is None or order.state is not OrderState.INVOICED:
        return []
    return [(d, invoiced_on(order)) for d in order.debts()]


def _add_days(
    conn: Connection, gone: list[tuple[OrderDebt, date]], new: list[tuple[OrderDebt, date]]
) -> None:
    """Add to the sums what `new` adds and take off what `gone` held: one upsert each key."""
    change: dict[_DayKey, int] = {}
    for sign, debts in ((-1, gone), (1, new)):
        for d, on in debts:
            key = (d.creditor, d.debtor, d.commodity, d.due_on, on)
            change[key] = change.get(key, 0) + sign * to_minor(d.outstanding, d.commodity)
    _bump_days(conn, change)


def _bump_days(conn: Connection, change: dict[_DayKey, int]) -> None:
    """Move the sums per due date, and per invoice day and due date, by `change`."""
    due_on = converter(conn.dialect, debt_days, "due_on")
    on = converter(conn.dialect, debt_invoice_days, "invoiced_on")
    per_day: dict[tuple[str, str, str, date], int] = {}
    for k, v in change.items():
        per_day[k[:4]] = per_day.get(k[:4], 0) + v
    rows = [(*k[:3], due_on(k[3]), v) for k, v in sorted(per_day.items()) if v]
    insert_rows(conn, debt_days, (*DAY_KEY, "amount_minor"), rows, add_on_conflict=DAY_KEY)
    moved = [(on(k[4]), *k[:3], due_on(k[3]), v) for k, v in sorted(change.items()) if v]
    insert_rows(
        conn,
        debt_invoice_days,
        (*INVOICE_DAY_KEY, "amount_minor"),
        moved,
        add_on_conflict=INVOICE_DAY_KEY,
    )


def keep(conn: Connection, order: Order, stored: Order | None) -> None:
    """Rewrite `order`'s kept debts when it is invoiced or was (settled, converted, paid), and
    move its sums per due date by the difference."""
    was = stored is not None and stored.state is OrderState.INVOICED
    if not was and order.state is not OrderState.INVOICED:
        return
    new = _kept(order)
    if was:
        conn.execute(delete(order_debts).where(order_debts.c.order_number == order.number))
    rows = [dict(zip(COLUMNS, _row(d, on), strict=True)) for d, on in new]
    if rows:
        conn.execute(insert(order_debts), rows)
    _add_days(conn, _kept(stored), new)


def debt_rows(orders: Iterable[Order]) -> list[tuple[Any, ...]]:
    """The `order_debts` rows (`COLUMNS`) of new orders, as plain values: what `add_rows`
    writes (the import spills them with the orders' other rows)."""
    return [_row(d, on) for o in orders for d, on in _kept(o)]


def add_rows(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert `debt_rows` of new orders, and add them to the sums per due date: one executemany
    per table."""
    if not rows:
        return
    due_on = converter(conn.dialect, order_debts, "due_on")
    on = converter(conn.dialect, order_debts, "invoiced_on")
    insert_rows(conn, order_debts, COLUMNS, [(*r[:-2], due_on(r[-2]), on(r[-1])) for r in rows])
    change: dict[_DayKey, int] = {}
    for r in rows:  # COLUMNS: commodity 1, creditor 3, debtor 4, outstanding_minor 6, due_on 8,
        key = (r[3], r[4], r[1], r[8], r[9])  # invoiced_on 9
        change[key] = change.get(key, 0) + r[6]
    _bump_days(conn, change)


def _party() -> list[Any]:
    d = order_debts.c
    party: Any = bindparam("party")
    return [or_(d.creditor == party, d.debtor == party)]


def _paid_after() -> Any:
    """Numbers of the orders with a settlement or a conversion dated after `:as_of`. An order
    is invoiced again only by a conversion, on the conversion's day (`domain.settlement.
    convert`): one invoiced again after `:as_of` is among them too."""
    st, cv = settlements.c, order_conversions.c
    as_of: Any = bindparam("as_of")
    return union(
        select(st.order_number).where(st.on > as_of),
        select(cv.order_number).where(cv.on > as_of),
    )


def changed_orders(one_party: bool) -> Any:
    """The orders invoiced on or before `:as_of` that were settled, converted or invoiced
    again after it (of `:party`'s with `one_party`): what they owed on `:as_of` is not what is
    kept for them. Read from the few settlements and conversions after the day, by index."""
    inv, o = invoices.c, orders.c
    changed = _paid_after().subquery()
    number = changed.c.order_number
    q = select(number).where(
        exists().where(inv.order_number == number, inv.issued_on <= bindparam("as_of"))
    )
    if one_party:
        party: Any = bindparam("party")
        q = q.join(orders, o.number == number).where(
            or_(o.requesting == party, o.supplying == party)
        )
    return q


@functools.cache
def changed_kept_statement(one_party: bool) -> Any:
    """The kept debts of `changed_orders` invoiced (last) by `:as_of`: built once per shape."""
    d = order_debts.c
    return select(*(d[name] for name in COLUMNS)).where(
        d.invoiced_on <= bindparam("as_of"), d.order_number.in_(changed_orders(one_party))
    )


def changed_kept(conn: Connection, as_of: date, party: str | None) -> list[OrderDebt]:
    q = changed_kept_statement(party is not None)
    return [_debt(r) for r in conn.execute(q, {"as_of": as_of, "party": party})]


def _debt(r: Any) -> OrderDebt:
    """A kept debt from its row (`COLUMNS`)."""
    return OrderDebt(
        r[0], r[2], r[3], r[4], METHODS[r[5]], r[1], from_minor(int(r[6]), r[1]), r[7], r[8]
    )


@functools.cache
def page_statement(
    collate_c: bool, one_party: bool, overdue_only: bool, after: bool, limited: bool
) -> Any:
    """Kept debts in the listing's order (due date, order, commodity: the most overdue first)
    as they stood on `:as_of`: of orders invoiced by then and not settled or converted since
    (the service adds those), after a key, `:limit` of them: built once per shape."""
    d = order_debts.c
    number, commodity = (
        (d.order_number.collate("C"), d.commodity.collate("C"))
        if collate_c
        else (d.order_number, d.commodity)
    )
    where: list[Any] = _party() if one_party else []
    where += [
        d.invoiced_on <= bindparam("as_of"),
        d.order_number.not_in(_paid_after()),
    ]
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
    return [_debt(r) for r in conn.execute(q, params)]


@functools.cache
def aging_statement(one_party: bool) -> Any:
    """Kept debts of orders invoiced on or before `:as_of` summed per creditor, debtor,
    commodity and band of days overdue on it (its band starts bound as `:start0`..): the sums
    per due date (`debt_days`) less those invoiced after `:as_of` (`debt_invoice_days`, one
    range of its key: none as of today), built once per shape."""
    starts = len(BANDS) - 1
    party: Any = bindparam("party")
    parts = []
    for table, sign in ((debt_days, 1), (debt_invoice_days, -1)):
        d = table.c
        band = case(
            *((d.due_on >= bindparam(f"start{i}"), i) for i in range(starts)),
            else_=starts,
        ).label("band")
        where = [or_(d.creditor == party, d.debtor == party)] if one_party else []
        if sign < 0:
            where.append(d.invoiced_on > bindparam("as_of"))
        amount = (d.amount_minor if sign > 0 else -d.amount_minor).label("amount")
        parts.append(select(d.creditor, d.debtor, d.commodity, band, amount).where(*where))
    b = union_all(*parts).subquery().c
    return select(b.creditor, b.debtor, b.commodity, b.band, func.sum(b.amount)).group_by(
        b.creditor, b.debtor, b.commodity, b.band
    )


def aging(
    conn: Connection, as_of: date, party: str | None
) -> dict[tuple[str, str, str, int], Decimal]:
    """What the kept debts of orders invoiced on or before `as_of` sum to per (creditor,
    debtor, commodity, band) on `as_of`."""
    q = aging_statement(party is not None)
    params: dict[str, Any] = {f"start{i}": s for i, s in enumerate(band_starts(as_of))}
    params["party"] = party
    params["as_of"] = as_of
    return {
        (r[0], r[1], r[2], int(r[3])): from_minor(int(r[4]), r[2])
        for r in conn.execute(q, params)
        if r[4]
    }
