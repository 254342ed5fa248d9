"""The reciprocal ledger: posting rules of DESIGN.md, per book.

Each party keeps a **book**. Every event (a receipt, a payment, a return in kind, an equal-value
provision, a reversal) posts one **entry** to the supplier's book and its mirror to the receiver's.
Each entry balances per commodity (currency or item unit). Nothing is updated or deleted: a wrong
entry is corrected by a reversing one. Debits are positive, credits negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from relos.domain.errors import RuleViolation
from relos.domain.money import Amount
from relos.domain.orders import Order, Receipt, Settlement, SettlementKind


@dataclass(frozen=True)
class Posting:
    account: str  # e.g. "receivable", "support_provided", "settlement_cash"
    amount: Amount  # debit > 0, credit < 0
    counterparty: str = ""
    method: str = ""

    @property
    def name(self) -> str:
        """Full account name: ``receivable:IND:cash``, ``support_provided:IND``."""
        return ":".join(p for p in (self.account, self.counterparty, self.method) if p)


@dataclass(frozen=True)
class Entry:
    book: str
    txn: str  # the event both mirrored entries belong to
    on: date
    event: str  # receipt | cash | rik_return | eve_provision | reversal
    order: str
    postings: tuple[Posting, ...]
    description: str = ""
    reverses: str | None = None  # txn reversed

    def unbalanced(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for p in self.postings:
            totals[p.amount.commodity] = (
                totals.get(p.amount.commodity, Decimal(0)) + p.amount.number
            )
        return {c: n for c, n in totals.items() if n != 0}

    def check(self) -> Entry:
        off = self.unbalanced()
        if off:
            raise RuleViolation(
                "entry_unbalanced", "postings", off, f"entry {self.txn} does not balance"
            )
        return self


def _pair(
    order: Order,
    txn: str,
    on: date,
    event: str,
    c_postings: list[Posting],
    d_postings: list[Posting],
    description: str,
    reverses: str | None = None,
) -> list[Entry]:
    return [
        Entry(
            order.supplying, txn, on, event, order.number, tuple(c_postings), description, reverses
        ).check(),
        Entry(
            order.requesting, txn, on, event, order.number, tuple(d_postings), description, reverses
        ).check(),
    ]


def post_receipt(order: Order, receipt: Receipt) -> list[Entry]:
    """C supplies D: C's receivable from D, D's payable to C, under the order's method: the
    receipt's value as DESIGN.md's rule posts it, one posting per account and commodity (the
    lines' obligations summed per commodity: a currency, or an item's unit for RIK)."""
    c, d, k = order.supplying, order.requesting, order.method.value
    owed: dict[str, Amount] = {}
    for _ln, _qty, _value, ob in order.receipt_amounts(receipt):
        before = owed.get(ob.commodity)
        owed[ob.commodity] = ob if before is None else before + ob
    cp: list[Posting] = []
    dp: list[Posting] = []
    for ob in owed.values():
        cp += [Posting("receivable", ob, d, k), Posting("support_provided", -ob, d)]
        dp += [Posting("support_received", ob, c), Posting("payable", -ob, c, k)]
    txn = f"{order.number}/R{receipt.seq}"
    return _pair(
        order,
        txn,
        receipt.received_on,
        "receipt",
        cp,
        dp,
        f"receipt {receipt.seq} of {order.number}",
    )


def post_settlement(order: Order, s: Settlement) -> list[Entry]:
    """A payment, a return in kind or an equal-value provision clears the obligation.

    A reversal posts the negation of the settlement it reverses.
    """
    c, d = order.supplying, order.requesting
    a = s.amount
    if s.kind is SettlementKind.CASH:
        cp = [Posting("settlement_cash", a), Posting("receivable", -a, d, "cash")]
        dp = [Posting("payable", a, c, "cash"), Posting("settlement_cash", -a)]
    elif s.kind is SettlementKind.RIK_RETURN:
        cp = [Posting("support_returned", a, d), Posting("receivable", -a, d, "rik")]
        dp = [Posting("payable", a, c, "rik"), Posting("support_returned", -a, c)]
    else:
        cp = [Posting("support_received", a, d), Posting("receivable", -a, d, "eve")]
        dp = [Posting("payable", a, c, "eve"), Posting("support_provided", -a, c)]
    txn = f"{order.number}/S{s.seq}"
    if s.reverses is not None:
        cp = [Posting(p.account, -p.amount, p.counterparty, p.method) for p in cp]
        dp = [Posting(p.account, -p.amount, p.counterparty, p.method) for p in dp]
        return _pair(
            order,
            txn,
            s.on,
            "reversal",
            cp,
            dp,
            f"reversal of settlement {s.reverses} of {order.number}: {s.note}",
            f"{order.number}/S{s.reverses}",
        )
    return _pair(
        order,
        txn,
        s.on,
        s.kind.value,
        cp,
        dp,
        f"{s.kind.value} {a} on {order.number}" + (f": {s.note}" if s.note else ""),
    )


BalanceKey = tuple[str, str, str, str, str]  # book, account, counterparty, method, commodity


def balances(entries: list[Entry]) -> dict[BalanceKey, Decimal]:
    """Sum of postings per book, account, counterparty, method and commodity (zeros dropped)."""
    out: dict[BalanceKey, Decimal] = {}
    for e in entries:
        for p in e.postings:
            key = (e.book, p.account, p.counterparty, p.method, p.amount.commodity)
            out[key] = out.get(key, Decimal(0)) + p.amount.number
    return {k: v for k, v in out.items() if v != 0}


def mirror_mismatches(bal: dict[BalanceKey, Decimal]) -> list[str]:
    """Where C's receivable from D differs from D's payable to C (should be none)."""
    problems = []
    keys = {(b, cp, m, c) for (b, acc, cp, m, c) in bal if acc in ("receivable", "payable")}
    for book, cp, m, c in keys:
        rec = bal.get((book, "receivable", cp, m, c), Decimal(0))
        pay = bal.get((cp, "payable", book, m, c), Decimal(0))
        if rec != -pay:
            problems.append(f"{book} receivable from {cp} {m} {c} = {rec}, {cp} payable = {-pay}")
    return problems
