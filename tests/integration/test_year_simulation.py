"""The settlement engine's acceptance test: a year of two parties' activity under RELOS.

Hypothesis draws a year of orders both ways (every reimbursement method, every way an order can
end: rejected, cancelled, accepted only, partly or fully received, invoiced, partly or fully
settled, closed), driven through the services on one shared node (SQLite, and PostgreSQL like
the `engine` fixture). At year end the finance officers invoice whatever was delivered. Then:

1. both books agree: every receivable of one party equals the other's payable (mirror), and the
   kept balances equal the sum of the postings;
2. every obligation is settled, or listed by `reports.obligations` with its due date, flagged
   overdue exactly when its due date has passed (and every one is overdue once the last window
   has closed);
3. the two parties' signed statements, matched against a copy of the node into which known
   discrepancies were injected (an amount changed, an order dropped, a state changed, an order
   added), find exactly those discrepancies, no more and no fewer, in both directions.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from relos.domain.ledger import mirror_mismatches
from relos.domain.money import quantize
from relos.domain.orders import Order, OrderState
from relos.domain.reconciliation import MatchStatus
from relos.services import ordering, people, reconciliation, reports
from relos.storage.engine import make_engine, upgrade
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.conftest import postgres_database
from tests.fakes import KEY_PASSPHRASE
from tests.integration.builders import DATA, FACILITY_OF, PREFIX, UNIT_OF, at, world
from tests.integration.nodes import change_price, change_state, drop_order, second_node

START = date(2026, 1, 5)
YEAR_END = date(2026, 12, 31)
CLOSING = date(2026, 12, 15)  # the finance officers invoice whatever was delivered
AFTER_EVERY_WINDOW = date(2028, 1, 1)
SECOND_ITEM = {"RUS": "WATER", "IND": "RATION"}  # by supplier; both also sell F76

PROGRESS = (
    "submitted",
    "rejected",
    "cancelled",
    "accepted",
    "partial",
    "received",
    "invoiced",
    "part_paid",
    "paid",
    "closed",
)
PRICED = PROGRESS[3:]  # accepted or further: lines carry a price


@dataclass(frozen=True)
class Activity:
    day: int
    requesting: str
    method: str
    quantity: int
    progress: str


def activities(progress: tuple[str, ...]) -> st.SearchStrategy[Activity]:
    return st.builds(
        Activity,
        day=st.integers(0, 300),
        requesting=st.sampled_from(["IND", "RUS"]),
        method=st.sampled_from(["cash", "rik", "eve"]),
        quantity=st.integers(1, 60),
        progress=st.sampled_from(progress),
    )


def get(uow: SqlUnitOfWork, number: str) -> Order:
    with uow:
        return uow.orders.get(number)


def pay(uow: SqlUnitOfWork, payer: str, number: str, day: date, share: Decimal) -> None:
    for commodity, owed in sorted(get(uow, number).obligations().items()):
        amount = quantize(owed * share, commodity)
        if amount > 0:
            ordering.settle(uow, payer, number, str(amount), commodity, on=day, at=at(day))


def run(uow: SqlUnitOfWork, a: Activity) -> str:
    """One order through the services, as far as the activity says."""
    req = a.requesting
    sup = "RUS" if req == "IND" else "IND"
    r, s = PREFIX[req], PREFIX[sup]
    day = START + timedelta(days=a.day)
    o = ordering.draft(
        uow,
        f"{r}_order",
        agreement="RELOS",
        supplying=sup,
        facility=FACILITY_OF[sup],
        unit=UNIT_OF[req],
        method=a.method,
        use="port_call",
        required_by=day + timedelta(days=30),
        lines=[("F76", str(a.quantity)), (SECOND_ITEM[sup], str(a.quantity * 2))],
        data=DATA,
        at=at(day, 9),
    )
    n = o.number
    ordering.submit(uow, f"{r}_order", n, at(day, 10))
    if a.progress == "rejected":
        ordering.reject(uow, f"{s}_accept", n, "no berth", at(day, 11))
        return n
    if a.progress == "cancelled":
        ordering.cancel(uow, f"{r}_order", n, "plans changed", at(day, 11))
        return n
    if a.progress == "submitted":
        return n
    ordering.accept(uow, f"{s}_accept", n, at(day, 11))
    d1, d2, d20 = (day + timedelta(days=k) for k in (1, 2, 20))
    if a.progress == "accepted":
        return n
    if a.progress == "partial":
        ordering.receive(uow, f"{r}_receive", n, [(1, str(a.quantity))], d1, at(d1))
        ordering.receive(uow, f"{r}_receive", n, [(2, "1")], d1, at(d1, 13))
        return n
    ordering.receive_all(uow, f"{r}_receive", n, d1, at(d1))
    if a.progress == "received":
        return n
    ordering.invoice(uow, f"{s}_finance", n, d2, at(d2))
    if a.progress == "part_paid":
        pay(uow, f"{r}_finance", n, d20, Decimal("0.5"))
    elif a.progress in ("paid", "closed"):
        pay(uow, f"{r}_finance", n, d20, Decimal(1))
    if a.progress == "closed":
        d21 = d20 + timedelta(days=1)
        ordering.close(uow, f"{s}_finance", n, at(d21))
    return n


def year_end(uow: SqlUnitOfWork) -> None:
    """The finance officers invoice every delivery not invoiced yet."""
    for o in ordering.find_orders(uow):
        if o.state in (OrderState.RECEIVED, OrderState.PARTIALLY_RECEIVED):
            ordering.invoice(uow, f"{PREFIX[o.supplying]}_finance", o.number, CLOSING, at(CLOSING))


def statement(uow: SqlUnitOfWork, party: str) -> str:
    out = io.StringIO()
    reconciliation.export_statement(
        uow,
        f"{PREFIX[party]}_finance",
        out,
        agreement="RELOS",
        party=party,
        as_of=YEAR_END,
        passphrase=KEY_PASSPHRASE,
    )
    return out.getvalue()


def discrepancies(report: reconciliation.RunReport) -> dict[str, MatchStatus]:
    return {ln.order: ln.status for ln in report.lines if ln.status is not MatchStatus.MATCHED}


def check_books(uow: SqlUnitOfWork) -> None:
    with uow:
        kept = uow.ledger.balances()
        summed = uow.ledger.summed_balances()
    assert mirror_mismatches(kept) == []
    assert {k: v for k, v in kept.items() if v} == {k: v for k, v in summed.items() if v}


def check_obligations(uow: SqlUnitOfWork) -> None:
    listed = {(r.order, r.commodity): r for r in reports.obligations(uow, as_of=YEAR_END)}
    owed = {
        (o.number, c): (o, v)
        for o in ordering.find_orders(uow)
        for c, v in o.obligations().items()
        if v != 0
    }
    assert set(listed) == set(owed)  # nothing owed escapes the report, nothing settled is in it
    for key, (o, v) in owed.items():
        row = listed[key]
        assert o.state is OrderState.INVOICED
        assert row.outstanding == v
        due = o.due_on()
        assert due is not None
        assert row.days_overdue == max(0, (YEAR_END - due).days)
    late = reports.obligations(uow, as_of=AFTER_EVERY_WINDOW, overdue_only=True)
    assert {(r.order, r.commodity) for r in late} == set(owed)
    for o in ordering.find_orders(uow):  # every delivery was invoiced by year end
        assert o.state not in (OrderState.RECEIVED, OrderState.PARTIALLY_RECEIVED)


#: examples per backend: PostgreSQL's round trips make each example about twice as slow there
EXAMPLES = {"sqlite": 4, "postgresql": 2}


@pytest.mark.parametrize(
    "backend", [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_a_year_of_two_parties_closes_with_agreeing_books_and_exact_reconciliation(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    @settings(
        max_examples=EXAMPLES[backend],
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        priced=st.lists(activities(PRICED), min_size=3, max_size=3),
        others=st.lists(activities(PROGRESS), max_size=9),
    )
    def a_year(priced: list[Activity], others: list[Activity]) -> None:
        tmp = tmp_path_factory.mktemp("year")
        with fresh_database(backend, request, tmp) as engine:
            simulate(engine, tmp, priced, others)

    a_year()


@contextmanager
def fresh_database(backend: str, request: pytest.FixtureRequest, tmp: Path) -> Iterator[Engine]:
    """A new migrated database per example: a SQLite file, or a database on the session's
    PostgreSQL server (the `engine` fixture's two backends)."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp / 'shared.db'}")
        upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    server: str = request.getfixturevalue("postgres_url")
    with postgres_database(server) as url:
        engine = make_engine(url)
        upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def simulate(engine: Engine, tmp: Path, priced: list[Activity], others: list[Activity]) -> None:
    uow = SqlUnitOfWork(engine)
    world(uow)
    for party in ("IND", "RUS"):
        people.add_user(uow, None, f"{PREFIX[party]}_admin", party, "party_admin")
    targets = [run(uow, a) for a in priced]
    for a in sorted(others, key=lambda a: a.day):
        run(uow, a)
    year_end(uow)

    check_books(uow)
    check_obligations(uow)

    # reconciliation: both parties sign their view of the shared node
    reconciliation.create_key(uow, "in_admin", "IND", passphrase=KEY_PASSPHRASE)
    reconciliation.create_key(uow, "ru_admin", "RUS", passphrase=KEY_PASSPHRASE)
    russian = statement(uow, "RUS")
    shared = {ln.order: ln.status for ln in match_on(uow, "in_finance", russian).lines}
    assert set(shared.values()) == {MatchStatus.MATCHED}  # one node: nothing to find
    n_orders = len(shared)

    amount, dropped, restated = targets
    with second_node(engine, tmp, copy=True) as copy_engine:
        copy = SqlUnitOfWork(copy_engine)
        change_price(copy_engine, amount)
        drop_order(copy_engine, dropped)
        state = get(copy, restated).state
        change_state(
            copy_engine, restated, "closed" if state is not OrderState.CLOSED else "settled"
        )
        added = run(copy, Activity(340, "IND", "cash", 5, "submitted"))

        # India's (altered) node matches Russia's statement ...
        report = match_on(copy, "in_finance", russian)
        assert discrepancies(report) == {
            amount: MatchStatus.AMOUNT_MISMATCH,
            dropped: MatchStatus.MISSING_OURS,
            restated: MatchStatus.STATE_MISMATCH,
            added: MatchStatus.MISSING_THEIRS,
        }
        assert len(report.lines) == n_orders + 1
        indian = statement(copy, "IND")

    # ... and Russia's node matches India's statement from the altered node
    report = match_on(uow, "ru_finance", indian)
    assert discrepancies(report) == {
        amount: MatchStatus.AMOUNT_MISMATCH,
        dropped: MatchStatus.MISSING_THEIRS,
        restated: MatchStatus.STATE_MISMATCH,
        added: MatchStatus.MISSING_OURS,
    }


def match_on(uow: SqlUnitOfWork, user: str, text: str) -> reconciliation.RunReport:
    return reconciliation.match_statement(uow, user, text)
