"""Ledger invariants as properties: random sequences of orders and settlements, both directions.

After every step: each entry balances per commodity in each book; C's receivable from D is minus
D's payable to C (per method and commodity); no order's outstanding is negative; the kept balances
equal the balances summed from postings; the ledger only grows; and what the orders say is owed
is exactly what the books hold as receivable. A refused step writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from relos.domain.errors import RelosError
from relos.domain.ledger import BalanceKey, Entry, balances, mirror_mismatches
from relos.domain.money import exponent
from relos.domain.orders import Order, OrderState
from relos.services import catalogue, ordering, people
from tests.fakes import ORDER_DATA, USERS, FakeUnitOfWork, relos_document

S = OrderState
START = datetime(2026, 3, 1, 8, tzinfo=UTC)

#: direction -> (requesting unit, supplying party, facility, items the facility provides)
DIRECTIONS = {
    "IND<-RUS": ("INS-TABAR", "RUS", "RU-SEV", ("F76", "WATER", "RATION")),
    "RUS<-IND": ("RFS-GORSHKOV", "IND", "IN-VTZ", ("HSD", "FW", "REPAIR-HR")),
}


def monthly_prices() -> list[dict[str, Any]]:
    """The world's price lists, but every item re-priced each month (so acceptances at
    different dates fix different prices, as an amendment accepted again would)."""
    lists = []
    for pl in relos_document()["price_lists"]:
        items = []
        for base in pl["items"]:
            if base["valid_from"] != "2025-01-01":
                continue  # one base version of each item
            for k in range(60):
                first = date(2026 + (2 + k) // 12, (2 + k) % 12 + 1, 1)
                nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
                price = Decimal(base["unit_price"]) * (10 + k % 7) / 10
                items.append(
                    {
                        **base,
                        "unit_price": str(price.quantize(Decimal("0.01"))),
                        "valid_from": first.isoformat(),
                        "valid_to": (nxt - timedelta(days=1)).isoformat(),
                    }
                )
        lists.append({"supplier": pl["supplier"], "items": items})
    return lists


def template() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    catalogue.load(uow, {**relos_document(), "price_lists": monthly_prices()})
    for name, (party, role) in USERS.items():
        admin = None if role == "party_admin" else f"{party.lower()}-admin"
        people.add_user(uow, admin, name, party, role)
    return uow


TEMPLATE = template()

quantities = st.builds(
    lambda n, scale: Decimal(n).scaleb(-scale),
    st.integers(min_value=1, max_value=5000),
    st.sampled_from([0, 1, 3]),
)
percent = st.integers(min_value=1, max_value=100)


def part(whole: Decimal, pct: int, commodity: str) -> Decimal:
    """`pct` percent of `whole`, rounded down to the commodity's minor unit (at least one)."""
    unit = Decimal(1).scaleb(-exponent(commodity))
    return max(unit, (whole * pct / 100).quantize(unit, rounding=ROUND_DOWN))


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.uow: FakeUnitOfWork = TEMPLATE.fork()
        self.now = START
        self.seen: list[Entry] = []
        self._cache: tuple[int, list[Order]] | None = None

    # -- helpers ---------------------------------------------------------------------------------

    def tick(self, hours: int) -> datetime:
        self.now += timedelta(hours=hours)
        return self.now

    def orders(self, *states: OrderState) -> list[Order]:
        """Stored orders in `states` (read again only after a commit)."""
        if self._cache is None or self._cache[0] != self.uow.commits:
            self._cache = (self.uow.commits, list(self.stored()[0].values()))
        return [o for o in self._cache[1] if o.state in states]

    def pick(self, pick: int, *states: OrderState) -> Order:
        found = self.orders(*states)
        return found[pick % len(found)]

    def stored(self) -> tuple[dict[str, Order], list[Entry], dict[BalanceKey, Decimal]]:
        with self.uow:
            orders = {n: self.uow.orders.get(n) for n in self.uow.orders.numbers()}
            return orders, list(self.uow.committed.entries), self.uow.ledger.balances()

    def refused(self, action: Callable[[], object], rule: str | None = None) -> None:
        """`action` must be refused with a RelosError (of `rule` if given) and write nothing."""
        before, commits = self.stored(), self.uow.commits
        with pytest.raises(RelosError) as e:
            action()
        assert rule is None or e.value.rule == rule, (rule, e.value)
        assert self.stored() == before
        assert self.uow.commits == commits

    @staticmethod
    def officer(party: str, short: str) -> str:
        return f"{party.lower()}-{short}"

    # -- steps -----------------------------------------------------------------------------------

    @initialize()
    def start(self) -> None:
        assert self.stored()[1] == []

    @rule(
        direction=st.sampled_from(sorted(DIRECTIONS)),
        method=st.sampled_from(["cash", "rik", "eve"]),
        picks=st.lists(st.integers(0, 2), min_size=1, max_size=3, unique=True),
        qtys=st.lists(quantities, min_size=3, max_size=3),
        hours=st.integers(0, 24 * 40),
    )
    def place_order(
        self, direction: str, method: str, picks: list[int], qtys: list[Decimal], hours: int
    ) -> None:
        unit, supplier, facility, items = DIRECTIONS[direction]
        at = self.tick(hours)
        requester = "IND" if supplier == "RUS" else "RUS"
        o = ordering.draft(
            self.uow,
            self.officer(requester, "oo"),
            agreement="RELOS",
            supplying=supplier,
            facility=facility,
            unit=unit,
            method=method,
            use="exercise",
            required_by=at.date() + timedelta(days=10),
            lines=[(items[i], str(qtys[i])) for i in picks],
            data=dict(ORDER_DATA),
            at=at,
        )
        ordering.submit(self.uow, self.officer(requester, "oo"), o.number, at=at)
        ordering.accept(self.uow, self.officer(supplier, "ao"), o.number, at=at)

    @precondition(lambda self: self.orders(S.ACCEPTED, S.PARTIALLY_RECEIVED))
    @rule(pick=st.integers(0, 99), pct=percent, beyond=st.booleans(), hours=st.integers(0, 72))
    def receive(self, pick: int, pct: int, beyond: bool, hours: int) -> None:
        o = self.pick(pick, S.ACCEPTED, S.PARTIALLY_RECEIVED)
        at = self.tick(hours)
        open_lines = [ln for ln in o.lines if o.received_quantity(ln.line_no) < ln.quantity]
        ln = open_lines[pick % len(open_lines)]
        rest = ln.quantity - o.received_quantity(ln.line_no)
        qty = rest + part(ln.quantity, pct, "X_T") if beyond else part(rest, pct, "X_T")
        actor = self.officer(o.requesting, "ro")
        if beyond:
            self.refused(
                lambda: ordering.receive(self.uow, actor, o.number, [(ln.line_no, qty)], at=at),
                "receipt_exceeds_order",
            )
        else:
            ordering.receive(self.uow, actor, o.number, [(ln.line_no, qty)], at=at)

    @precondition(lambda self: self.orders(S.ACCEPTED, S.PARTIALLY_RECEIVED))
    @rule(pick=st.integers(0, 99), extra=st.integers(1, 3), hours=st.integers(0, 24 * 30))
    def amend(self, pick: int, extra: int, hours: int) -> None:
        o = self.pick(pick, S.ACCEPTED, S.PARTIALLY_RECEIVED)
        lines = [(ln.item_code, str(ln.quantity * extra)) for ln in o.lines]
        ordering.amend(self.uow, self.officer(o.requesting, "oo"), o.number, lines, at=self.now)
        self.tick(hours)

    @precondition(lambda self: self.orders(S.SUBMITTED))
    @rule(pick=st.integers(0, 99), hours=st.integers(0, 24 * 45))
    def accept_again(self, pick: int, hours: int) -> None:
        o = self.pick(pick, S.SUBMITTED)
        ordering.accept(self.uow, self.officer(o.supplying, "ao"), o.number, at=self.tick(hours))

    @precondition(lambda self: self.orders(S.PARTIALLY_RECEIVED, S.RECEIVED, S.ACCEPTED))
    @rule(pick=st.integers(0, 99), hours=st.integers(0, 72))
    def invoice(self, pick: int, hours: int) -> None:
        o = self.pick(pick, S.PARTIALLY_RECEIVED, S.RECEIVED, S.ACCEPTED)
        at = self.tick(hours)
        actor = self.officer(o.supplying, "fo")
        if o.receipts:
            ordering.invoice(self.uow, actor, o.number, at=at)
        else:
            self.refused(
                lambda: ordering.invoice(self.uow, actor, o.number, at=at),
                "invoice_before_receipt",
            )

    @precondition(lambda self: self.orders(S.INVOICED))
    @rule(
        pick=st.integers(0, 99),
        pct=percent,
        beyond=st.booleans(),
        by_supplier=st.booleans(),
        hours=st.integers(0, 24 * 20),
    )
    def settle(self, pick: int, pct: int, beyond: bool, by_supplier: bool, hours: int) -> None:
        o = self.pick(pick, S.INVOICED)
        at = self.tick(hours)
        actor = self.officer(o.supplying if by_supplier else o.requesting, "fo")
        owed = {c: n for c, n in o.obligations().items() if n > 0}
        commodity = sorted(owed)[pick % len(owed)]
        if beyond:
            amount = owed[commodity] + part(owed[commodity], pct, commodity)
            self.refused(
                lambda: ordering.settle(self.uow, actor, o.number, amount, commodity, at=at),
                "settlement_exceeds_outstanding",
            )
        else:
            amount = part(owed[commodity], pct, commodity)
            ordering.settle(self.uow, actor, o.number, amount, commodity, at=at)

    @precondition(lambda self: any(o.settlements for o in self.orders(S.INVOICED, S.SETTLED)))
    @rule(pick=st.integers(0, 99), hours=st.integers(0, 72))
    def reverse(self, pick: int, hours: int) -> None:
        o = self.pick(pick, S.INVOICED, S.SETTLED)
        at = self.tick(hours)
        actor = self.officer(o.requesting, "fo")
        undone = {s.reverses for s in o.settlements}
        open_ = [s.seq for s in o.settlements if s.reverses is None and s.seq not in undone]
        if open_:
            seq = open_[pick % len(open_)]
            ordering.reverse(self.uow, actor, o.number, seq, "corrected", at=at)
        elif o.settlements:
            seq = o.settlements[pick % len(o.settlements)].seq
            self.refused(lambda: ordering.reverse(self.uow, actor, o.number, seq, "again", at=at))

    @precondition(lambda self: self.orders(S.SETTLED))
    @rule(pick=st.integers(0, 99))
    def close(self, pick: int) -> None:
        o = self.pick(pick, S.SETTLED)
        ordering.close(self.uow, self.officer(o.supplying, "fo"), o.number, at=self.tick(1))

    @precondition(lambda self: self.orders(*(set(S) - {S.ACCEPTED, S.SUBMITTED, S.DRAFT})))
    @rule(pick=st.integers(0, 99), action=st.sampled_from(["cancel", "receive", "close", "amend"]))
    def out_of_turn(self, pick: int, action: str) -> None:
        """Actions that the order's state forbids are refused and write nothing."""
        o = self.pick(pick, *(set(S) - {S.ACCEPTED, S.SUBMITTED, S.DRAFT}))
        req, sup = o.requesting, o.supplying
        if action == "cancel":  # only ever before a receipt; these orders all have one
            self.refused(
                lambda: ordering.cancel(self.uow, self.officer(req, "oo"), o.number, "x"),
                "cancel_after_receipt",
            )
        elif action == "receive" and o.state is not S.PARTIALLY_RECEIVED:
            self.refused(
                lambda: ordering.receive(
                    self.uow, self.officer(req, "ro"), o.number, [(1, "0.001")], at=self.now
                )
            )
        elif action == "close" and o.state is not S.SETTLED:
            self.refused(lambda: ordering.close(self.uow, self.officer(sup, "fo"), o.number))
        elif action == "amend" and o.state is not S.PARTIALLY_RECEIVED:
            lines = [(ln.item_code, str(ln.quantity)) for ln in o.lines]
            self.refused(lambda: ordering.amend(self.uow, self.officer(req, "oo"), o.number, lines))

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def every_entry_balances_per_commodity(self) -> None:
        for e in self.uow.committed.entries:
            assert e.unbalanced() == {}, e

    @invariant()
    def receivables_mirror_payables(self) -> None:
        with self.uow:
            assert mirror_mismatches(self.uow.ledger.balances()) == []

    @invariant()
    def no_order_owes_a_negative_amount(self) -> None:
        for o in self.stored()[0].values():
            assert all(n >= 0 for n in o.obligations().values()), (o.number, o.obligations())

    @invariant()
    def kept_balances_equal_the_sum_of_postings(self) -> None:
        with self.uow:
            kept = self.uow.ledger.balances()
            assert kept == self.uow.ledger.summed_balances()
            assert kept == balances(self.uow.ledger.entries())

    @invariant()
    def the_ledger_only_grows(self) -> None:
        now = list(self.uow.committed.entries)
        assert now[: len(self.seen)] == self.seen
        self.seen = now

    @invariant()
    def receivables_are_what_the_orders_say_is_owed(self) -> None:
        owed: dict[BalanceKey, Decimal] = {}
        for o in self.stored()[0].values():
            for commodity, n in o.obligations().items():
                key = (o.supplying, "receivable", o.requesting, o.method.value, commodity)
                owed[key] = owed.get(key, Decimal(0)) + n
        with self.uow:
            books = self.uow.ledger.balances()
        receivable = {k: v for k, v in books.items() if k[1] == "receivable"}
        assert receivable == {k: v for k, v in owed.items() if v != 0}


LedgerMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerProperties = LedgerMachine.TestCase
