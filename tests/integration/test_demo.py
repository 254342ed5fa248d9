"""The demo (``relos demo``) loads a coherent year of RELOS and LEMOA work on a fresh database.

It is loaded once for the module (a few seconds on SQLite); every test reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from relos.domain.agreements import Caps, Method, Status
from relos.domain.errors import ValidationError
from relos.domain.facilities import UnitKind
from relos.domain.ledger import mirror_mismatches
from relos.domain.orders import Order, OrderState, SettlementKind
from relos.services import catalogue, ordering, people, reports
from relos.services.demo import USERS, load_demo, plan_year, reference_document
from relos.storage.engine import make_engine, upgrade
from relos.storage.unit_of_work import SqlUnitOfWork


@dataclass
class Loaded:
    uow: SqlUnitOfWork
    today: date
    summary: dict[str, object]
    orders: list[Order]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    path = tmp_path_factory.mktemp("demo") / "relos.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    uow = SqlUnitOfWork(engine)
    today = date.today()
    summary = load_demo(uow, today)
    yield Loaded(uow, today, summary, ordering.find_orders(uow))
    engine.dispose()


def test_the_demo_reports_what_it_loaded(demo: Loaded) -> None:
    s = demo.summary
    assert s["loaded"] is True
    assert s["parties"] == 3
    assert s["agreements"] == 2
    assert s["users"] == 21
    assert 60 <= len(demo.orders) <= 120
    assert s["orders"] == len(demo.orders)


def test_demo_orders_pass_through_every_order_state(demo: Loaded) -> None:
    by_state = reports.orders_by_state(demo.uow)
    assert [s for s, n in by_state.items() if n == 0] == []
    assert set(by_state) == {s.value for s in OrderState}


def test_every_reimbursement_method_is_used_and_settled(demo: Loaded) -> None:
    kind = {
        Method.CASH: SettlementKind.CASH,
        Method.RIK: SettlementKind.RIK_RETURN,
        Method.EVE: SettlementKind.EVE_PROVISION,
    }
    for method in Method:
        settled = [
            o
            for o in demo.orders
            if o.method is method and any(s.kind is kind[method] for s in o.settlements)
        ]
        assert settled, f"no {method.value} order with a settlement"


def test_cash_is_paid_in_part_and_in_full(demo: Loaded) -> None:
    cash = [o for o in demo.orders if o.method is Method.CASH]
    partly = [o for o in cash if o.state is OrderState.INVOICED and o.settlements]
    in_two = [
        o
        for o in cash
        if o.state in (OrderState.SETTLED, OrderState.CLOSED)
        and len([s for s in o.settlements if s.reverses is None]) >= 2
    ]
    assert partly, "no invoiced order with a partial payment"
    assert in_two, "no order paid in instalments"


def test_rik_debts_are_returned_as_commodities_not_money(demo: Loaded) -> None:
    returns = [s for o in demo.orders for s in o.settlements if s.kind is SettlementKind.RIK_RETURN]
    assert returns
    assert all(s.amount.commodity == "DIESEL_T" for s in returns)


def test_a_wrong_payment_is_corrected_by_a_reversal(demo: Loaded) -> None:
    reversed_ = [o for o in demo.orders if any(s.reverses is not None for s in o.settlements)]
    assert reversed_
    for o in reversed_:
        assert all(v == 0 for v in o.obligations().values()) or o.state is OrderState.INVOICED


def test_an_order_is_amended_to_a_new_revision(demo: Loaded) -> None:
    amended = [o for o in demo.orders if o.revision > 1]
    assert amended
    assert all(any(g.action == "amend" for g in o.signatures) for o in amended)


def test_both_books_hold_receivables_and_payables(demo: Loaded) -> None:
    for book in ("IND", "RUS"):
        rows = reports.balances(demo.uow, book, include_flows=False)
        accounts = {r.account for r in rows}
        assert accounts == {"receivable", "payable"}, book


def test_some_invoiced_obligations_are_overdue_today(demo: Loaded) -> None:
    overdue = reports.obligations(demo.uow, demo.today, overdue_only=True)
    assert len(overdue) >= 3
    assert all(r.days_overdue > 0 and r.due_on < demo.today for r in overdue)
    assert {r.agreement for r in overdue} >= {"RELOS", "LEMOA"}


def test_relos_history_has_the_duma_step_and_relos_is_in_force_today(demo: Loaded) -> None:
    relos = catalogue.show_agreement(demo.uow, "RELOS")
    history = {text: day for day, text in relos.history()}
    duma = [day for text, day in history.items() if "State Duma ratifies" in text]
    assert duma == [date(2025, 12, 2)]
    assert relos.signed_on == date(2025, 2, 18)
    assert relos.status(demo.today) is Status.IN_FORCE
    assert (relos.caps.warships, relos.caps.aircraft, relos.caps.personnel) == (5, 10, 3000)
    assert relos.notice_days == 14


def test_relos_orders_are_signed_only_while_relos_is_in_force(demo: Loaded) -> None:
    relos = catalogue.show_agreement(demo.uow, "RELOS")
    start = relos.entry_into_force()
    assert start is not None
    for o in demo.orders:
        if o.agreement == "RELOS":
            submitted = [g.at.date() for g in o.signatures if g.action == "submit"]
            assert all(day >= start for day in submitted), o.number


def test_nothing_in_the_demo_happens_today_or_later(demo: Loaded) -> None:
    for o in demo.orders:
        assert all(g.at.date() < demo.today for g in o.signatures), o.number
        assert all(r.received_on < demo.today for r in o.receipts), o.number
        assert all(s.on < demo.today for s in o.settlements), o.number


def test_devanagari_and_cyrillic_names_round_trip_exactly(demo: Loaded) -> None:
    assert catalogue.show_party(demo.uow, "IND").native_name == "भारत"
    assert catalogue.show_party(demo.uow, "RUS").native_name == "Россия"
    assert catalogue.show_facility(demo.uow, "RUSMR").native_name == "Североморск"
    assert catalogue.show_facility(demo.uow, "INVTZ").native_name == "विशाखापत्तनम"
    stored = {u.name for u in people.users(demo.uow)}
    wanted = {name for roles in USERS.values() for name in roles.values()}
    assert stored == wanted
    assert "लेफ्टिनेंट कमांडर प्रिया नायर" in stored
    assert "Капитан 2-го ранга Иван Петров" in stored
    signers = {g.user for o in demo.orders for g in o.signatures}
    assert {"लेफ्टिनेंट कमांडर प्रिया नायर", "Капитан 2-го ранга Иван Петров"} <= signers


def test_loading_the_demo_twice_changes_nothing(demo: Loaded) -> None:
    with demo.uow:
        before = demo.uow.ledger.balances()
    by_state = reports.orders_by_state(demo.uow)
    again = load_demo(demo.uow, demo.today)
    assert again["loaded"] is False
    assert "IND" in str(again["reason"])
    with demo.uow:
        assert demo.uow.ledger.balances() == before
    assert reports.orders_by_state(demo.uow) == by_state
    assert len(people.users(demo.uow)) == 21


def test_ledger_mirrors_and_kept_balances_equal_the_postings(demo: Loaded) -> None:
    with demo.uow:
        kept = demo.uow.ledger.balances()
        assert mirror_mismatches(kept) == []
        assert kept == demo.uow.ledger.summed_balances()
        for entry in demo.uow.ledger.entries():
            assert entry.unbalanced() == {}


def test_order_outstanding_equals_the_ledger_receivable(demo: Loaded) -> None:
    owed: dict[tuple[str, str, str, str], Decimal] = {}
    for o in demo.orders:
        for commodity, n in o.obligations().items():
            key = (o.supplying, o.requesting, o.method.value, commodity)
            owed[key] = owed.get(key, Decimal(0)) + n
    with demo.uow:
        kept = demo.uow.ledger.balances()
    receivable = {
        (book, cp, method, c): n
        for (book, account, cp, method, c), n in kept.items()
        if account == "receivable"
    }
    assert {k: v for k, v in owed.items() if v} == receivable


def test_demo_reference_data_ships_in_the_package_and_marks_prices_illustrative() -> None:
    document = reference_document()
    items = [i for pl in document["price_lists"] for i in pl["items"]]
    assert items
    assert all(i["illustrative"] is True for i in items)
    assert {pl["supplier"] for pl in document["price_lists"]} == {"IND", "RUS", "USA"}


def test_the_demo_year_is_the_same_on_every_load_for_a_given_day(demo: Loaded) -> None:
    assert plan_year(demo.uow, demo.today) == plan_year(demo.uow, demo.today)


def test_relos_orders_give_the_14_days_notice_before_support_is_required(demo: Loaded) -> None:
    for o in demo.orders:
        if o.agreement == "RELOS":
            assert o.created_on is not None
            assert (o.required_by - o.created_on).days >= 14, o.number


def test_relos_presence_caps_hold_on_every_day_of_the_year(demo: Loaded) -> None:
    """A visit lasts from the day support is required for about four days (ships and aircraft)."""
    caps = catalogue.show_agreement(demo.uow, "RELOS").caps
    assert caps == Caps(warships=5, aircraft=10, personnel=3000)
    units = {u.code: u for u in catalogue.units(demo.uow)}
    present: dict[tuple[str, date], set[str]] = {}
    for o in demo.orders:
        if o.agreement == "RELOS" and o.state not in (OrderState.REJECTED, OrderState.CANCELLED):
            for d in range(5):
                present.setdefault((o.supplying, o.required_by + timedelta(d)), set()).add(o.unit)
    assert present
    for (host, day), codes in present.items():
        ships = [c for c in codes if units[c].kind is UnitKind.SHIP]
        aircraft = [c for c in codes if units[c].kind is UnitKind.AIRCRAFT]
        crews = sum(units[c].crew or 0 for c in codes)
        assert len(ships) <= 5, (host, day, ships)
        assert len(aircraft) <= 10, (host, day, aircraft)
        assert crews <= 3000, (host, day, crews)


def test_a_day_too_soon_after_relos_enters_into_force_is_refused_before_any_write(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'early.db'}")
    upgrade(engine)
    uow = SqlUnitOfWork(engine)
    with pytest.raises(ValidationError, match="RELOS in force"):
        load_demo(uow, date(2026, 2, 1))
    assert catalogue.parties(uow) == []
    engine.dispose()
