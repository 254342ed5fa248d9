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


def _invoiced_by(number: Any) -> Any:
    """Order `number` has an invoice issued on or before `:as_of` (it owed something then)."""
    inv = invoices.c
    return exists().where(inv.order_number == number, inv.issued_on <= bindparam("as_of"))


def converted_orders(one_party: bool) -> Any:
    """The orders invoiced on or before `:as_of` and converted after it (of `:party`'s with
    `one_party`): their debts changed commodity and due date since, so what they owed then is
    summed order by order (`repositories.debts_statements`). Few: a conversion comes a year
    after delivery. An order is invoiced again only by a conversion, on the conversion's day
    (`domain.settlement.convert`): one invoiced again after `:as_of` is among them."""
    cv, o = order_conversions.c, orders.c
    number = cv.order_number
    q = select(number).where(cv.on > bindparam("as_of"), _invoiced_by(number))
    if one_party:
        party: Any = bindparam("party")
        q = q.join(orders, o.number == number).where(
            or_(o.requesting == party, o.supplying == party)
        )
    return q


def _settled_since() -> Any:
    """The orders invoiced on or before `:as_of`, settled after it and not converted after it
    (decision 65): each owed on `:as_of` what is kept for it now plus what was paid after the
    day (less the reversals after it), commodity by commodity. Found from the settlements after
    the day, by index; computed once per statement (a CTE)."""
    st, cv = settlements.c, order_conversions.c
    as_of: Any = bindparam("as_of")
    return (
        select(st.order_number)
        .where(
            st.on > as_of,
            _invoiced_by(st.order_number),
            st.order_number.not_in(select(cv.order_number).where(cv.on > as_of)),
        )
        .cte("settled_since")  # an order once per settlement: read only by IN (...)
    )


def _owed_then(settled: Any) -> Any:
    """What the `settled` orders owed on `:as_of` per order and commodity (`minor`, in the
    commodity's minor units; only what is more than nothing, as `Order.debts_on`)."""
    d, st = order_debts.c, settlements.c
    numbers = select(settled.c.order_number)
    parts = union_all(
        select(
            d.order_number.label("number"),
            d.commodity.label("commodity"),
            d.outstanding_minor.label("minor"),
        ).where(d.order_number.in_(numbers)),
        select(
            st.order_number,
            st.commodity,
            case((st.reverses.is_(None), st.amount_minor), else_=-st.amount_minor),
        ).where(st.on > bindparam("as_of"), st.order_number.in_(numbers)),
    ).subquery()
    total = func.sum(parts.c.minor)
    return (
        select(parts.c.number, parts.c.commodity, total.label("minor"))
        .group_by(parts.c.number, parts.c.commodity)
        .having(total > 0)
        .subquery("owed_then")
    )


def last_invoice(collate_c: bool, by_as_of: bool = True) -> tuple[Any, Any]:
    """`invoices` and the condition that a row of it is its order's last (by date, then number:
    none later, an anti-join by index); with `by_as_of`, its last issued by `:as_of`."""
    inv, later = invoices.c, invoices.alias("later").c
    number, later_number = (
        (inv.number.collate("C"), later.number.collate("C"))
        if collate_c
        else (inv.number, later.number)
    )
    as_of: Any = bindparam("as_of")
    last = ~exists().where(
        later.order_number == inv.order_number,
        or_(
            later.issued_on > inv.issued_on,
            and_(later.issued_on == inv.issued_on, later_number > number),
        ),
        *([later.issued_on <= as_of] if by_as_of else []),
    )
    return inv, and_(last, inv.issued_on <= as_of) if by_as_of else last


def _settled_rows(collate_c: bool, one_party: bool, settled: Any) -> Any:
    """The debts on `:as_of` of the orders settled since (`settled`, `_settled_since`), with
    their order's header and last invoice: creditor, debtor, commodity, due date, minor, and
    the rest of an `OrderDebt`."""
    o = orders.c
    owed = _owed_then(settled)
    inv, last = last_invoice(collate_c)
    where = [last]
    if one_party:
        party: Any = bindparam("party")
        where.append(or_(o.requesting == party, o.supplying == party))
    return (
        select(
            o.supplying.label("creditor"),
            o.requesting.label("debtor"),
            owed.c.commodity,
            inv.due_on,
            owed.c.minor,
            owed.c.number,
            o.agreement,
            o.method,
            inv.number.label("invoice"),
        )
        .select_from(
            owed.join(orders, o.number == owed.c.number).join(
                invoices, inv.order_number == owed.c.number
            )
        )
        .where(*where)
    )


@functools.cache
def settled_statement(collate_c: bool, one_party: bool) -> Any:
    """`_settled_rows` by order and commodity: built once per shape."""
    q = _settled_rows(collate_c, one_party, _settled_since()).subquery()
    return select(q).order_by(q.c.number, q.c.commodity)


def settled_debts(conn: Connection, as_of: date, party: str | None) -> list[OrderDebt]:
    """`Order.debts_on(as_of)` of the orders invoiced by `as_of`, settled after it and not
    converted after it, by order and commodity, summed in SQL from what is kept for them and
    the settlements after the day (no order loaded, no receipt read)."""
    q = settled_statement(conn.dialect.name == "postgresql", party is not None)
    return [  # by position: a row's attributes by name cost more than the rest of a debt
        OrderDebt(n, agreement, creditor, debtor, METHODS[m], c, from_minor(int(minor), c), i, due)
        for creditor, debtor, c, due, minor, n, agreement, m, i in conn.execute(
            q, {"as_of": as_of, "party": party}
        )
    ]


def _by_code_point(collate_c: bool) -> tuple[Any, Any]:
    """The kept debts' order number and commodity to sort by, in Python's order of text (by
    code point: "C" on PostgreSQL; SQLite compares text bytewise already)."""
    d = order_debts.c
    if collate_c:
        return d.order_number.collate("C"), d.commodity.collate("C")
    return d.order_number, d.commodity


@functools.cache
def cash_statement(collate_c: bool) -> Any:
    """The kept debts of `:agreement`'s orders invoiced (last) on or before `:as_of` that are
    owed in cash (cash orders; orders converted to cash), with their invoice's day, by order
    and commodity: built once per shape."""
    d, cv = order_debts.c, order_conversions.c
    number, commodity = _by_code_point(collate_c)
    return (
        select(*(d[name] for name in COLUMNS))
        .where(
            d.agreement == bindparam("agreement"),
            d.invoiced_on <= bindparam("as_of"),
            or_(
                d.method == Method.CASH.value,
                exists().where(cv.order_number == d.order_number),
            ),
        )
        .order_by(number, commodity)
    )


def cash_debts(conn: Connection, agreement: str, as_of: date) -> list[tuple[OrderDebt, date]]:
    q = cash_statement(conn.dialect.name == "postgresql")
    return [(debt_of(r), r[9]) for r in conn.execute(q, {"agreement": agreement, "as_of": as_of})]


@functools.cache
def converted_kept_statement(one_party: bool) -> Any:
    """The kept debts of `converted_orders` invoiced (last) by `:as_of`: built once per shape."""
    d = order_debts.c
    return select(*(d[name] for name in COLUMNS)).where(
        d.invoiced_on <= bindparam("as_of"), d.order_number.in_(converted_orders(one_party))
    )


def converted_kept(conn: Connection, as_of: date, party: str | None) -> list[OrderDebt]:
    q = converted_kept_statement(party is not None)
    return [debt_of(r) for r in conn.execute(q, {"as_of": as_of, "party": party})]


@functools.cache
def party_statement(collate_c: bool) -> Any:
    """The kept debts of the orders that `:party` requests or supplies, each with whether its
    order was converted, by order and commodity (code point order): built once per shape."""
    d, cv = order_debts.c, order_conversions.c
    number, commodity = _by_code_point(collate_c)
    converted = exists().where(cv.order_number == d.order_number)
    return (
        select(*(d[name] for name in COLUMNS), converted.label("converted"))
        .where(*_party())
        .order_by(number, commodity)
    )


def debt_of(r: Any) -> OrderDebt:
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
    number, commodity = _by_code_point(collate_c)
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
    return [debt_of(r) for r in conn.execute(q, params)]


@functools.cache
def aging_statement(collate_c: bool, one_party: bool) -> Any:
    """What orders invoiced on or before `:as_of` owed on it, summed per creditor, debtor,
    commodity and band of days overdue on it (its band starts bound as `:start0`..), but for
    the orders converted after it (their kept debts are summed; the service puts what they
    owed then in their place): the sums per due date (`debt_days`), less those invoiced after
    `:as_of` (`debt_invoice_days`, one range of its key: none as of today), less what is kept
    for the orders settled after it and plus what they owed on it (`_settled_rows`, decision
    65). Built once per shape."""
    starts = len(BANDS) - 1
    party: Any = bindparam("party")
    as_of: Any = bindparam("as_of")

    def band(due_on: Any) -> Any:
        return case(
            *((due_on >= bindparam(f"start{i}"), i) for i in range(starts)), else_=starts
        ).label("band")

    parts = []
    for table, sign in ((debt_days, 1), (debt_invoice_days, -1)):
        d = table.c
        where = [or_(d.creditor == party, d.debtor == party)] if one_party else []
        if sign < 0:
            where.append(d.invoiced_on > as_of)
        amount = (d.amount_minor if sign > 0 else -d.amount_minor).label("amount")
        parts.append(
            select(d.creditor, d.debtor, d.commodity, band(d.due_on), amount).where(*where)
        )
    settled = _settled_since()
    k = order_debts.c
    where = [k.invoiced_on <= as_of, k.order_number.in_(select(settled.c.order_number))]
    if one_party:
        where.append(or_(k.creditor == party, k.debtor == party))
    parts.append(
        select(
            k.creditor,
            k.debtor,
            k.commodity,
            band(k.due_on),
            (-k.outstanding_minor).label("amount"),
        ).where(*where)
    )
    then = _settled_rows(collate_c, one_party, settled).subquery()
    parts.append(
        select(then.c.creditor, then.c.debtor, then.c.commodity, band(then.c.due_on), then.c.minor)
    )
    b = union_all(*parts).subquery().c
    return select(b.creditor, b.debtor, b.commodity, b.band, func.sum(b.amount)).group_by(
        b.creditor, b.debtor, b.commodity, b.band
    )


def aging(
    conn: Connection, as_of: date, party: str | None
) -> dict[tuple[str, str, str, int], Decimal]:
    """What orders invoiced on or before `as_of` owed on it per (creditor, debtor, commodity,
    band), but for the orders converted after it: their kept debts (`aging_statement`)."""
    q = aging_statement(conn.dialect.name == "postgresql", party is not None)
    params: dict[str, Any] = {f"start{i}": s for i, s in enumerate(band_starts(as_of))}
    params["party"] = party
    params["as_of"] = as_of
    return {
        (r[0], r[1], r[2], int(r[3])): from_minor(int(r[4]), r[2])
        for r in conn.execute(q, params)
        if r[4]
    }
