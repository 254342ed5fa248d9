"""The read side: balances, open orders, orders by state, obligations with due dates and aging."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from relos.domain.aging import BANDS, band, days_overdue
from relos.domain.agreements import Method
from relos.domain.errors import ValidationError
from relos.domain.ledger import Entry
from relos.domain.money import quantize
from relos.domain.netting import NettingDebt
from relos.domain.order_search import OrderHead, OrderSearch, check_page
from relos.domain.orders import OPEN_STATES, OrderState
from relos.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class BalanceRow:
    book: str
    account: str
    counterparty: str
    method: str
    commodity: str
    amount: Decimal

    @property
    def account_name(self) -> str:
        return ":".join(p for p in (self.account, self.counterparty, self.method) if p)


def balances(
    uow: UnitOfWork, book: str | None = None, as_of: date | None = None, include_flows: bool = True
) -> list[BalanceRow]:
    """Balances per book, account, counterparty, method and commodity (non-zero only).

    Without `as_of` they come from the kept balance table; with it, from the postings up to and
    including that date. `include_flows=False` keeps only receivables and payables.
    """
    with uow.reading():
        if book is not None and uow.reference.find_party(book) is None:
            raise ValidationError("book", book, "no such party")
        raw = uow.ledger.balances(book, as_of)
    rows = [BalanceRow(*k, v) for k, v in raw.items()]
    if not include_flows:
        rows = [r for r in rows if r.account in ("receivable", "payable")]
    return sorted(rows, key=lambda r: (r.book, r.account, r.counterparty, r.method, r.commodity))


@dataclass(frozen=True)
class OrderRow:
    number: str
    agreement: str
    requesting: str
    supplying: str
    facility: str
    unit: str
    method: str
    state: str
    required_by: date
    revision: int

    @classmethod
    def of(cls, h: OrderHead) -> OrderRow:
        return cls(
            h.number,
            h.agreement,
            h.requesting,
            h.supplying,
            h.facility,
            h.unit,
            h.method.value,
            h.state.value,
            h.required_by,
            h.revision,
        )


def open_orders(
    uow: UnitOfWork, party: str | None = None, limit: int | None = None, offset: int = 0
) -> list[OrderRow]:
    """Orders not closed, rejected or cancelled (where `party` requests or supplies), by number,
    from `offset`, at most `limit` (every one without): headers only, found in one query."""
    check_page(limit, offset)
    with uow.reading():
        heads = uow.orders.search(
            OrderSearch(party=party, states=OPEN_STATES), limit=limit, offset=offset
        )
    return [OrderRow.of(h) for h in heads]


def orders_by_state(uow: UnitOfWork, party: str | None = None) -> dict[str, int]:
    with uow.reading():
        counts = uow.orders.state_counts(OrderSearch(party=party))
    return {s.value: counts.get(s.value, 0) for s in OrderState}


_METHOD_NAMES = {m: m.value for m in Method}

#: a row's place in the obligations listing: due date, order (or netting statement), commodity,
#: debtor, creditor (a statement owes in one commodity to several creditors)
Cursor = tuple[date, str, str, str, str]  # cheaper than `.value` for thousands of rows


@dataclass(frozen=True)
class ObligationRow:
    order: str
    agreement: str
    creditor: str
    debtor: str
    method: str
    commodity: str
    outstanding: Decimal
    invoice: str
    due_on: date
    days_overdue: int

    @property
    def cursor(self) -> str:
        """The key of this row in the listing's order; the next page starts after it."""
        return ",".join(
            (self.due_on.isoformat(), self.order, self.commodity, self.debtor, self.creditor)
        )

    @property
    def key(self) -> Cursor:
        return (self.due_on, self.order, self.commodity, self.debtor, self.creditor)


def _netting_debts(uow: UnitOfWork, party: str | None, as_of: date) -> list[NettingDebt]:
    """The obligations netting statements created (where `party` is a side), open at the end
    of `as_of`; few."""
    return [
        d
        for st in uow.netting.statements()
        if party is None or party in st.parties
        for d in st.debts(as_of)
        if not d.outstanding.is_zero() and (party is None or party in (d.debtor, d.creditor))
    ]


def parse_cursor(text: str) -> Cursor:
    """The key after which a page of obligations starts: ``due date,order,commodity,debtor,
    creditor`` (a row's `cursor`), e.g. ``2026-05-01,RELOS-IN-2026-000042,INR,IND,RUS``."""
    parts = text.split(",")
    try:
        if len(parts) != 5 or not all(parts[1:]):
            raise ValueError
        return date.fromisoformat(parts[0]), parts[1], parts[2], parts[3], parts[4]
    except ValueError:
        raise ValidationError(
            "after", text, "give the cursor of a row: due date,order,commodity,debtor,creditor"
        ) from None


def obligations(
    uow: UnitOfWork,
    as_of: date,
    party: str | None = None,
    overdue_only: bool = False,
    limit: int | None = None,
    after: Cursor | None = None,
) -> list[ObligationRow]:
    """Invoiced, unsettled obligations with their due date and days overdue on `as_of`; and
    the obligations netting statements created (method ``netting``; the statement's number
    stands in the order's and the invoice's place), due the agreement's cash window after the
    posting. In the order of due date, then order and commodity (the most overdue first; a
    row's `cursor`): those after `after`, at most `limit` (all without). The orders' debts
    are the kept ones (`OrderRepo.open_debts`), read a page at a time in the database.

    As they stood at the end of `as_of` (`Order.debts_on`): an order invoiced later is not
    listed; one settled or converted later owes what it owed then (those orders' debts are
    summed apart, `OrderRepo.changed_debts`, and merged in)."""
    if limit is not None and limit < 1:
        raise ValidationError("limit", limit, "at least 1")
    with uow.reading():
        # an order owes one commodity once: its first three parts place an order's row
        start = None if after is None else (after[0], after[1], after[2])
        owed = uow.orders.open_debts(as_of, party, overdue_only, start, limit)
        debts = _netting_debts(uow, party, as_of)
        then = uow.orders.changed_debts(as_of, party)
    owed += [
        d
        for d in then
        if not (overdue_only and d.due_on >= as_of)
        and (start is None or (d.due_on, d.order, d.commodity) > start)
    ]
    rows = []
    for d in debts:
        late = days_overdue(d.due_on, as_of)
        if overdue_only and late == 0:
            continue
        if after is not None and (
            (d.due_on, d.statement, d.amount.commodity, d.debtor, d.creditor) <= after
        ):
            continue
        rows.append(
            ObligationRow(
                d.statement,
                d.agreement,
                d.creditor,
                d.debtor,
                "netting",
                d.amount.commodity,
                d.outstanding.number,
                d.statement,
                d.due_on,
                late,
            )
        )
    for o in owed:
        rows.append(
            ObligationRow(
                o.order,
                o.agreement,
                o.creditor,
                o.debtor,
                _METHOD_NAMES[o.method],
                o.commodity,
                o.outstanding,
                o.invoice,
                o.due_on,
                days_overdue(o.due_on, as_of),
            )
        )
    rows.sort(key=lambda r: r.key)
    return rows if limit is None else rows[:limit]


@dataclass(frozen=True)
class AgingRow:
    """What `debtor` owes `creditor` in one commodity, per band of days overdue (`BANDS`)."""

    debtor: str
    creditor: str
    commodity: str
    not_due: Decimal
    days_1_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    over_90: Decimal
    total: Decimal


def aging(uow: UnitOfWork, as_of: date, party: str | None = None) -> list[AgingRow]:
    """The obligations listing's rows on `as_of` (every one, the netting statements' too)
    summed per debtor, creditor and commodity and band of days overdue; what the orders owed
    then summed in the database (`OrderRepo.aging`), none listed, but for the orders converted
    after `as_of`: what is kept for them is taken off and what they owed then is added, both
    summed in the database too."""
    with uow.reading():
        if party is not None and uow.reference.find_party(party) is None:
            raise ValidationError("party", party, "no such party")
        sums = dict(uow.orders.aging(as_of, party))
        debts = _netting_debts(uow, party, as_of)
        kept = uow.orders.converted_kept(as_of, party)
        then = uow.orders.converted_debts(as_of, party)
    for sign, owed in ((-1, kept), (1, then)):
        for od in owed:
            key = (od.creditor, od.debtor, od.commodity, band(days_overdue(od.due_on, as_of)))
            sums[key] = sums.get(key, Decimal(0)) + sign * od.outstanding
    for d in debts:
        key = (d.creditor, d.debtor, d.amount.commodity, band(days_overdue(d.due_on, as_of)))
        sums[key] = sums.get(key, Decimal(0)) + d.outstanding.number
    per: dict[tuple[str, str, str], list[Decimal]] = {}
    for (creditor, debtor, commodity, i), amount in sums.items():
        if not amount:  # what orders settled since owed on `as_of`, taken off again
            continue
        per.setdefault((debtor, creditor, commodity), [Decimal(0)] * len(BANDS))[i] += amount
    rows = []
    for (debtor, creditor, commodity), bands in sorted(per.items()):
        q = [quantize(b, commodity) for b in bands]
        total = quantize(sum(q, Decimal(0)), commodity)
        rows.append(AgingRow(debtor, creditor, commodity, q[0], q[1], q[2], q[3], q[4], total))
    return rows


def entries(uow: UnitOfWork, book: str | None = None, order: str | None = None) -> list[Entry]:
    with uow.reading():
        return uow.ledger.entries(book, order)
