"""The read side: balances, open orders, orders by state, obligations with due dates and aging."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from relos.domain.agreements import Method
from relos.domain.errors import ValidationError
from relos.domain.ledger import Entry
from relos.domain.order_search import OrderHead, OrderSearch
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
    with uow:
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


def open_orders(uow: UnitOfWork, party: str | None = None) -> list[OrderRow]:
    """Orders not closed, rejected or cancelled (where `party` requests or supplies), by number:
    headers only, found in one query."""
    with uow:
        heads = uow.orders.search(OrderSearch(party=party, states=OPEN_STATES))
    return [OrderRow.of(h) for h in heads]


def orders_by_state(uow: UnitOfWork, party: str | None = None) -> dict[str, int]:
    with uow:
        counts = uow.orders.state_counts(OrderSearch(party=party))
    return {s.value: counts.get(s.value, 0) for s in OrderState}


_METHOD_NAMES = {m: m.value for m in Method}  # cheaper than `.value` for thousands of rows


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


def obligations(
    uow: UnitOfWork, as_of: date, party: str | None = None, overdue_only: bool = False
) -> list[ObligationRow]:
    """Invoiced, unsettled obligations with their due date and days overdue on `as_of`; and
    the obligations netting statements created (method ``netting``; the statement's number
    stands in the order's and the invoice's place), due the agreement's cash window after the
    posting. The orders' debts are summed in the database (`OrderRepo.debts`), none loaded."""
    with uow:
        owed = uow.orders.debts(party)
        debts = [
            d
            for st in uow.netting.statements()
            if party is None or party in st.parties
            for d in st.debts()
            if not d.outstanding.is_zero() and (party is None or party in (d.debtor, d.creditor))
        ]
    rows = []
    for d in debts:
        late = max(0, (as_of - d.due_on).days)
        if overdue_only and late == 0:
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
        late = max(0, (as_of - o.due_on).days)
        if overdue_only and late == 0:
            continue
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
                late,
            )
        )
    return sorted(rows, key=lambda r: (-r.days_overdue, r.due_on, r.order))


def entries(uow: UnitOfWork, book: str | None = None, order: str | None = None) -> list[Entry]:
    with uow:
        return uow.ledger.entries(book, order)
