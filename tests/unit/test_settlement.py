"""Deadlines, conversion of overdue in-kind debts, alerts and the annual report: the rules alone,
then the use cases on a fake node."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from relos.domain.agreements import Category, Ceiling, Method
from relos.domain.errors import NotFound, PermissionDenied, RuleViolation
from relos.domain.ledger import balances, mirror_mismatches, post_receipt, post_settlement
from relos.domain.money import Amount
from relos.domain.orders import Order, OrderState, SettlementKind
from relos.domain.rates import Rate
from relos.domain.reconciliation import MatchStatus, ReconLine, ReconRun
from relos.domain.settlement import (
    AlertKind,
    alert_states,
    alerts,
    annual_report,
    conversion_due,
    convert,
    due_on,
    in_kind_outstanding,
    post_conversion,
)
from relos.services import ordering, settlement
from tests.fakes import FakeUnitOfWork, World
from tests.unit.conftest import (
    AT,
    DAY,
    OrderFactory,
    assert_books_consistent,
    draft,
    invoiced,
    later,
    officer,
    received,
    snapshot,
)

DELIVERED = DAY + timedelta(days=1)  # 2026-03-02, what `received` records
DUE = DELIVERED + timedelta(days=365)  # RELOS: in kind within 365 days of delivery
AFTER = DUE + timedelta(days=1)
CONVERTED_AT = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)


def rik_with_return(make_order: OrderFactory, w: World, method: Method = Method.RIK) -> Order:
    """400 t of diesel at 65,000 RUB/t (26,000,000 RUB), a quarter returned or provided back."""
    o = invoiced(make_order(method=method), w)
    back = Amount(Decimal(100), "DIESEL_T") if method is Method.RIK else Amount.of("6500000", "RUB")
    o.settle(officer(w, "IND", "fo"), later(10), DAY + timedelta(days=10), back)
    return o


# -- deadlines ------------------------------------------------------------------------------------


def test_an_uninvoiced_in_kind_delivery_is_due_the_window_after_delivery(
    make_order: OrderFactory, w: World
) -> None:
    o = received(make_order(method=Method.RIK), w)
    assert o.state is OrderState.RECEIVED
    assert not o.invoices
    assert due_on(o, w.relos) == DUE
    assert not conversion_due(o, w.relos, DUE)
    assert conversion_due(o, w.relos, AFTER)


def test_an_uninvoiced_cash_delivery_has_no_due_date_yet(
    make_order: OrderFactory, w: World
) -> None:
    o = received(make_order(method=Method.CASH), w)
    assert due_on(o, w.relos) is None
    assert not conversion_due(o, w.relos, date(2030, 1, 1))


def test_cash_is_due_thirty_days_after_the_invoice(make_order: OrderFactory, w: World) -> None:
    o = invoiced(make_order(method=Method.CASH), w)
    assert due_on(o, w.relos) == DAY + timedelta(days=3 + 30)
    assert not conversion_due(o, w.relos, date(2030, 1, 1))  # cash never converts


# -- conversion -----------------------------------------------------------------------------------


def test_an_overdue_rik_debt_converts_at_the_original_price(
    make_order: OrderFactory, w: World
) -> None:
    o = rik_with_return(make_order, w)
    conv, entries = convert(o, officer(w, "RUS", "fo"), CONVERTED_AT, AFTER, w.relos, w.prices)
    assert conv.basis == "original"
    assert conv.cleared == (Amount(Decimal(300), "DIESEL_T"),)
    assert conv.amount == Amount.of("19500000.00", "RUB")  # 300 t x 65,000
    assert o.obligations() == {"RUB": Decimal("19500000.00")}
    assert o.state is OrderState.INVOICED
    assert o.invoices[-1].issued_on == AFTER
    assert o.invoices[-1].due_on == AFTER + timedelta(days=30)  # a cash debt now
    assert o.signatures[-1].action == "convert"
    assert all(not e.unbalanced() for e in entries)


def test_a_converted_debt_is_owed_in_kind_until_the_conversion_day_and_in_cash_from_it(
    make_order: OrderFactory, w: World
) -> None:
    o = rik_with_return(make_order, w)
    first = o.invoices[0]
    convert(o, officer(w, "RUS", "fo"), CONVERTED_AT, AFTER, w.relos, w.prices)
    (second,) = o.invoices[1:]
    assert second.issued_on == AFTER  # a second invoice only by a conversion, on its day
    assert o.debts_on(first.issued_on - timedelta(days=1)) == []
    (in_kind,) = o.debts_on(AFTER - timedelta(days=1))
    assert (in_kind.commodity, in_kind.outstanding) == ("DIESEL_T", Decimal("300.000"))
    assert (in_kind.invoice, in_kind.due_on) == (first.number, first.due_on)
    assert o.debts_on(AFTER) == o.debts()
    (cash,) = o.debts()
    assert (cash.commodity, cash.outstanding, cash.invoice) == (
        "RUB",
        Decimal("19500000.00"),
        second.number,
    )


def test_an_overdue_rik_debt_converts_at_the_current_price_when_the_agreement_says_so(
    make_order: OrderFactory, w: World
) -> None:
    o = rik_with_return(make_order, w)
    current = replace(w.relos, conversion_price="current")
    conv, _ = convert(o, officer(w, "RUS", "fo"), CONVERTED_AT, AFTER, current, w.prices)
    assert conv.basis == "current"
    assert conv.amount == Amount.of("21000000.00", "RUB")  # 300 t x 70,000 (from 2026-07-01)
    assert conv.unit_prices == ((1, Decimal(300), Amount.of("70000.00", "RUB")),)


def test_an_overdue_eve_debt_converts_at_its_value_or_repriced(
    make_order: OrderFactory, w: World
) -> None:
    o = rik_with_return(make_order, w, Method.EVE)
    assert in_kind_outstanding(o) == {"RUB": Decimal("19500000.00")}
    conv, _ = convert(o, officer(w, "RUS", "fo"), CONVERTED_AT, AFTER, w.relos, w.prices)
    assert conv.amount == Amount.of("19500000.00", "RUB")
    o2 = rik_with_return(make_order, w, Method.EVE)
    current = replace(w.relos, conversion_price="current")
    conv2, _ = convert(o2, officer(w, "RUS", "fo"), CONVERTED_AT, AFTER, current, w.prices)
    assert conv2.amount == Amount.of("21000000.00", "RUB")  # 3/4 of 400 t at 70,000


def test_a_converted_order_has_nothing_left_to_convert(make_order: OrderFactory, w: World) -> None:
    o = rik_with_return(make_order, w)
    convert(o, officer(w, "RUS", "fo"), CONVERTED_AT, AFTER, w.relos, w.prices)
    assert not conversion_due(o, w.relos, AFTER + timedelta(days=400))
    with pytest.raises(RuleViolation) as e:
        convert(o, officer(w, "RUS", "fo"), CONVERTED_AT, AFTER, w.relos, w.prices)
    assert e.value.rule == "conversion_not_due"
    assert len(o.conversions) == 1


def test_a_debt_is_not_converted_before_it_is_due(make_order: OrderFactory, w: World) -> None:
    o = rik_with_return(make_order, w)
    with pytest.raises(RuleViolation):
        convert(o, officer(w, "RUS", "fo"), CONVERTED_AT, DUE, w.relos, w.prices)
    assert o.conversions == []


@pytest.mark.parametrize("who", ["ind-fo", "rus-ao", "rus-oo", "rus-admin"])
def test_only_a_finance_officer_of_the_creditor_converts(
    who: str, make_order: OrderFactory, w: World
) -> None:
    o = rik_with_return(make_order, w)
    with pytest.raises(PermissionDenied):
        convert(o, w.users[who], CONVERTED_AT, AFTER, w.relos, w.prices)
    assert o.conversions == []


def test_conversion_postings_keep_both_books_balanced_and_mirrored(
    make_order: OrderFactory, w: World
) -> None:
    o = rik_with_return(make_order, w)
    entries = post_receipt(o, o.receipts[0]) + post_settlement(o, o.settlements[0])
    conv, posted = convert(o, officer(w, "RUS", "fo"), CONVERTED_AT, AFTER, w.relos, w.prices)
    assert posted == post_conversion(o, conv)
    entries += posted
    b = balances(entries)
    assert mirror_mismatches(b) == []
    assert ("RUS", "receivable", "IND", "rik", "DIESEL_T") not in b  # the in-kind debt is gone
    assert b[("RUS", "receivable", "IND", "cash", "RUB")] == Decimal("19500000.00")
    assert b[("IND", "payable", "RUS", "cash", "RUB")] == Decimal("-19500000.00")
    # then the cash is paid like any cash debt, and the order is settled
    s = o.settle(officer(w, "IND", "fo"), CONVERTED_AT, AFTER, Amount.of("19500000", "RUB"))
    assert s.kind is SettlementKind.CASH
    assert o.state is OrderState.SETTLED
    b = balances(entries + post_settlement(o, s))
    assert ("RUS", "receivable", "IND", "cash", "RUB") not in b
    assert mirror_mismatches(b) == []


# -- alerts ---------------------------------------------------------------------------------------


def test_alerts_follow_role_and_party(make_order: OrderFactory, w: World) -> None:
    waiting = make_order(number="RELOS-IN-2026-000001")
    waiting.submit(officer(w, "IND", "oo"), AT, w.relos, w.facilities["RU-SEV"], w.prices_of("RUS"))
    not_invoiced = received(make_order(number="RELOS-IN-2026-000002"), w)
    cash = invoiced(make_order(number="RELOS-IN-2026-000003"), w)  # due 2026-04-03
    in_kind = received(make_order(number="RELOS-IN-2026-000004", method=Method.RIK), w)
    orders = [waiting, not_invoiced, cash, in_kind]
    ags = {"RELOS": w.relos}

    def kinds(user: str, on: date) -> set[tuple[AlertKind, str]]:
        return {(a.kind, a.order[-1]) for a in alerts(w.users[user], orders, ags, on)}

    assert kinds("rus-ao", DAY) == {(AlertKind.AWAITING_ACCEPTANCE, "1")}
    assert kinds("ind-ao", DAY) == set()  # the requester does not accept
    assert kinds("ind-oo", date(2027, 6, 1)) == set()
    assert kinds("rus-fo", date(2026, 3, 25)) == {(AlertKind.DUE_SOON, "3")}
    assert kinds("rus-fo", date(2026, 4, 10)) == {
        (AlertKind.NOT_INVOICED, "2"),
        (AlertKind.NOT_INVOICED, "4"),
        (AlertKind.OVERDUE, "3"),
    }
    assert kinds("ind-fo", date(2026, 4, 10)) == {(AlertKind.OVERDUE, "3")}
    assert (AlertKind.CONVERSION_DUE, "4") in kinds("ind-fo", AFTER)
    assert (AlertKind.CONVERSION_DUE, "4") in kinds("rus-fo", AFTER)


ALERT_DAYS = (DAY, date(2026, 3, 25), date(2026, 4, 10), AFTER)


def orders_in_many_states(make_order: OrderFactory, w: World) -> list[Order]:
    """A draft, a submitted order, received ones (cash, in kind), an invoiced and a settled one."""
    submitted = make_order(number="RELOS-IN-2026-000001")
    submitted.submit(
        officer(w, "IND", "oo"), AT, w.relos, w.facilities["RU-SEV"], w.prices_of("RUS")
    )
    paid = invoiced(make_order(number="RELOS-IN-2026-000005"), w)
    paid.settle(officer(w, "RUS", "fo"), later(3), DAY, Amount.of("26000000", "RUB"))
    assert paid.state is OrderState.SETTLED
    return [
        make_order(number="RELOS-IN-2026-000006"),  # a draft
        submitted,
        received(make_order(number="RELOS-IN-2026-000002"), w),
        invoiced(make_order(number="RELOS-IN-2026-000003"), w),
        received(make_order(number="RELOS-IN-2026-000004", method=Method.RIK), w),
        paid,
    ]


def test_only_orders_in_the_users_alert_states_give_it_alerts(
    make_order: OrderFactory, w: World
) -> None:
    """The service reads only the orders in `alert_states(user)` (a page at a time): no order
    in another state gives that user an alert, on any day."""
    orders = orders_in_many_states(make_order, w)
    ags = {"RELOS": w.relos}
    seen: set[OrderState] = set()
    for name, user in w.users.items():
        wanted = alert_states(user)
        for day in ALERT_DAYS:
            for a in alerts(user, orders, ags, day):
                state = next(o.state for o in orders if o.number == a.order)
                assert state in wanted, (name, a)
                seen.add(state)
    assert seen == {OrderState.SUBMITTED, OrderState.RECEIVED, OrderState.INVOICED}
    assert alert_states(replace(w.users["rus-fo"], active=False)) == frozenset()


def test_alerts_read_a_page_of_orders_at_a_time_are_those_of_every_order(
    uow: FakeUnitOfWork, make_order: OrderFactory, w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders = orders_in_many_states(make_order, w)
    with uow:
        for o in orders:
            uow.orders.add(o)
        uow.commit()
    ags = {"RELOS": w.relos}
    found = 0
    for who in ("rus-ao", "rus-fo", "ind-fo", "ind-oo"):
        for day in ALERT_DAYS:
            every = alerts(w.users[who], orders, ags, day)  # the rule over every order
            assert settlement.alerts(uow, who, day) == every
            monkeypatch.setattr(settlement, "ALERT_PAGE", 1)
            assert settlement.alerts(uow, who, day) == every
            monkeypatch.undo()
            found += len(every)
    assert found > 5
    assert uow.cursors_open_at_end == []


# -- annual report --------------------------------------------------------------------------------


def test_the_annual_report_matches_hand_computed_figures(
    make_order: OrderFactory, w: World
) -> None:
    # RUS -> IND: 400 t diesel (pol) at 65,000 = 26,000,000 RUB in March, 10,000,000 paid
    fuel = invoiced(make_order(number="RELOS-IN-2026-000001"), w)
    fuel.settle(officer(w, "IND", "fo"), later(5), DAY + timedelta(days=5), Amount.of("1e7", "RUB"))
    # RUS -> IND: 10 m3 water (150) + 2 rations (900.50) = 3,301 RUB, unpaid
    mixed = invoiced(
        make_order(number="RELOS-IN-2026-000002", lines=[("WATER", "10"), ("RATION", "2")]), w
    )
    # IND -> RUS: 100 m3 fresh water at 120.50 INR = 12,050 INR, unpaid
    water = invoiced(
        make_order(
            number="RELOS-RU-2026-000001",
            lines=[("FW", "100")],
            facility="IN-VTZ",
            unit="RFS-GORSHKOV",
            supplying="IND",
        ),
        w,
    )
    ceiling = Ceiling("IND liabilities", "20000000", "RUB", (Category.POL,))
    ag = replace(w.relos, ceilings=(ceiling,))
    rep = annual_report(ag, [fuel, mixed, water], 2026, as_of=date(2027, 6, 1))
    got = {
        (r.giver, r.receiver, r.category, r.currency): (r.total_value, r.collected, r.outstanding)
        for r in rep.rows
    }
    d = Decimal
    assert got == {
        ("RUS", "IND", "pol", "RUB"): (d("26000000"), d("10000000"), d("16000000")),
        ("RUS", "IND", "water", "RUB"): (d("1500"), d("0"), d("1500")),
        ("RUS", "IND", "food", "RUB"): (d("1801"), d("0"), d("1801")),
        ("IND", "RUS", "water", "INR"): (d("12050"), d("0"), d("12050")),
    }
    march = rep.monthly[("RUS", "IND", "RUB")]
    assert march[2] == d("26003301")
    assert sum(march) == d("26003301")
    assert rep.unreconciled == []  # unreconciled means a reconciliation said so, not unpaid
    ind = next(c for c in rep.ceilings if c.party == "IND" and c.direction == "received")
    assert (ind.used, ind.exempt) == (d("3301"), d("26000000"))  # POL is not counted
    rus = next(c for c in rep.ceilings if c.party == "RUS" and c.direction == "received")
    assert rus.not_counted == {"INR": d("12050")}
    assert rus.used == 0
    assert annual_report(ag, [fuel, mixed, water], 2025).rows == []


# -- the use cases on a fake node ----------------------------------------------------------------


def _rik_on_node(uow: FakeUnitOfWork) -> str:
    o = draft(uow, method="rik")
    ordering.submit(uow, "ind-oo", o.number, at=AT)
    ordering.accept(uow, "rus-ao", o.number, at=AT)
    ordering.receive_all(uow, "ind-ro", o.number, on=DELIVERED, at=later(1))
    return o.number


def test_a_settlement_run_converts_once_and_a_second_run_changes_nothing(
    uow: FakeUnitOfWork,
) -> None:
    n = _rik_on_node(uow)
    early = settlement.run(uow, "rus-fo", DUE, at=CONVERTED_AT)
    assert early.converted == []
    result = settlement.run(uow, "rus-fo", AFTER, at=CONVERTED_AT)
    assert [c.order for c in result.converted] == [n]
    assert result.converted[0].conversion.amount == Amount.of("26000000", "RUB")
    assert_books_consistent(uow)
    first = snapshot(uow)
    assert first[0][n].state is OrderState.INVOICED
    assert first[0][n].obligations() == {"RUB": Decimal("26000000.00")}
    with uow:
        assert [r.action for r in uow.audit.records("order", n)][-1] == "order.convert"
        assert [x for x, _ in uow.conversions.conversions("RELOS")] == [n]
    again = settlement.run(uow, "rus-fo", AFTER, at=CONVERTED_AT)
    assert again.converted == []
    assert again.skipped == []
    assert snapshot(uow) == first


def test_a_settlement_run_reading_one_order_a_page_converts_every_due_one(
    uow: FakeUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run checks the owing orders a page at a time (decision 66's paging): with pages of
    one order, each due in-kind order is converted, the cash one left, no cursor left open."""
    due = [_rik_on_node(uow) for _ in range(3)]
    cash = draft(uow)
    ordering.submit(uow, "ind-oo", cash.number, at=AT)
    ordering.accept(uow, "rus-ao", cash.number, at=AT)
    ordering.receive_all(uow, "ind-ro", cash.number, on=DELIVERED, at=later(1))
    monkeypatch.setattr(settlement, "REPORT_PAGE", 1)
    result = settlement.run(uow, "rus-fo", AFTER, at=CONVERTED_AT)
    assert sorted(c.order for c in result.converted) == sorted(due)
    assert result.skipped == []
    assert uow.cursors_open_at_end == []
    assert_books_consistent(uow)


@pytest.mark.parametrize("who", ["ind-fo", "rus-ao", "rus-oo"])
def test_a_settlement_run_is_refused_to_anyone_but_a_finance_officer(
    who: str, uow: FakeUnitOfWork
) -> None:
    _rik_on_node(uow)
    before = snapshot(uow)
    if who == "ind-fo":  # India's finance officer may run, but converts only what India is owed
        assert settlement.run(uow, who, AFTER, at=CONVERTED_AT).converted == []
    else:
        with pytest.raises(PermissionDenied):
            settlement.run(uow, who, AFTER, at=CONVERTED_AT)
    assert snapshot(uow) == before


def test_a_settlement_run_cannot_be_dated_in_the_future(uow: FakeUnitOfWork) -> None:
    with pytest.raises(RuleViolation):
        settlement.run(uow, "rus-fo", date(2027, 3, 4), at=CONVERTED_AT)


def test_the_annual_report_service_hides_an_agreement_of_others(uow: FakeUnitOfWork) -> None:
    _rik_on_node(uow)
    report, names = settlement.annual_report(uow, "ind-fo", "RELOS", 2026)
    assert set(names) == {"IND", "RUS"}
    assert [(r.giver, r.category, r.total_value) for r in report.rows] == [
        ("RUS", "pol", Decimal("26000000.00"))
    ]
    with pytest.raises(NotFound):
        settlement.annual_report(uow, "ind-fo", "NOPE", 2026)


# -- unreconciled lines (from the reconciliation runs) --------------------------------------------


def _line(
    n: int,
    status: MatchStatus,
    on: date,
    resolved: str | None = None,
    value: tuple[str | None, str | None] = (None, None),
    resolved_at: datetime | None = None,
    disputed: str | None = None,
) -> ReconLine:
    ours, theirs = (None if v is None else Decimal(v) for v in value)
    return ReconLine(
        n, f"RELOS-IN-2026-00000{n}", status, on, "invoiced", "invoiced", ours, theirs, "RUB",
        ("a detail",), disputed_note=disputed, resolved_note=resolved, resolved_at=resolved_at,
    )  # fmt: skip


def test_lines_open_a_year_after_their_transaction_alert_finance_officers(
    uow: FakeUnitOfWork,
) -> None:
    on = date(2026, 3, 2)
    run = ReconRun(0, "RELOS", "IND", "RUS", on, "k", "d", "ind-fo", AT)
    lines = [
        _line(1, MatchStatus.AMOUNT_MISMATCH, on),
        _line(2, MatchStatus.MATCHED, on),
        _line(3, MatchStatus.MISSING_THEIRS, on, resolved="their copy found"),
        _line(4, MatchStatus.STATE_MISMATCH, date(2026, 9, 1)),
    ]
    with uow:
        uow.reconciliation.add_run(run, lines)
        uow.commit()
    year_on = date(2027, 3, 3)
    got = settlement.alerts(uow, "ind-fo", year_on)
    assert [(a.kind, a.order) for a in got] == [(AlertKind.UNRECONCILED, "RELOS-IN-2026-000001")]
    assert settlement.alerts(uow, "ind-fo", date(2027, 3, 2)) == []  # not yet over a year
    assert settlement.alerts(uow, "ind-ao", year_on) == []  # finance officers reconcile
    assert settlement.alerts(uow, "rus-fo", year_on) == []  # India's run, India's lines


def test_ceiling_use_converts_other_currencies_only_with_a_rate(
    make_order: OrderFactory, w: World
) -> None:
    water = invoiced(
        make_order(
            number="RELOS-RU-2026-000001",
            lines=[("FW", "100")],  # 12,050 INR
            facility="IN-VTZ",
            unit="RFS-GORSHKOV",
            supplying="IND",
        ),
        w,
    )
    ag = replace(w.relos, ceilings=(Ceiling("RUS liabilities", "1000000", "RUB"),))
    rate = Rate(date(2026, 12, 1), "INR", "RUB", Decimal("1.10"), w.relos.rate_source or "RBI")
    late = Rate(date(2027, 1, 2), "INR", "RUB", Decimal("9"), rate.source)  # after the year
    rep = annual_report(ag, [water], 2026, rates=[rate, late])
    rus = next(c for c in rep.ceilings if c.party == "RUS" and c.direction == "received")
    assert rus.used == Decimal("13255.00")  # 12,050 x 1.10
    assert rus.not_counted == {}
    assert rus.converted == [("INR", Decimal("12050.00"), Decimal("1.10"), rate.on, rate.source)]
    bare = annual_report(ag, [water], 2026)
    rus = next(c for c in bare.ceilings if c.party == "RUS" and c.direction == "received")
    assert rus.used == 0
    assert rus.not_counted == {"INR": Decimal("12050.00")}
    assert "not converted" in bare.currency_note


def test_the_annual_report_lists_lines_unreconciled_over_a_year_with_date_country_and_value(
    w: World,
) -> None:
    """10 U.S.C. 2342(h): every transaction unreconciled after a year, with its date, country
    and value, read from the party's standing reconciliation run per counterparty."""
    on = date(2026, 3, 2)
    old = ReconRun(1, "RELOS", "IND", "RUS", on, "k", "d", "ind-fo", AT)
    standing = replace(old, id=2, run_at=later(30))
    too_late = replace(old, id=3, run_at=datetime(2027, 7, 1, tzinfo=UTC))  # after the day
    other = replace(old, id=4, agreement="LEMOA", run_at=later(40))
    day = date(2027, 6, 1)
    resolved_late = datetime(2027, 6, 2, tzinfo=UTC)  # resolved after the report's day
    runs = [
        (old, [_line(9, MatchStatus.AMOUNT_MISMATCH, on)]),  # superseded by the next run
        (
            standing,
            [
                _line(1, MatchStatus.AMOUNT_MISMATCH, on, value=("100.00", "100.01")),
                _line(2, MatchStatus.MATCHED, on),
                _line(3, MatchStatus.MISSING_THEIRS, on, "found", resolved_at=later(60)),
                _line(4, MatchStatus.STATE_MISMATCH, date(2026, 9, 1)),  # under a year
                _line(5, MatchStatus.MISSING_OURS, on, value=(None, "7.50"), disputed="theirs?"),
                _line(6, MatchStatus.QUANTITY_MISMATCH, on, "ok", resolved_at=resolved_late),
            ],
        ),
        (too_late, [_line(7, MatchStatus.AMOUNT_MISMATCH, on)]),
        (other, [_line(8, MatchStatus.AMOUNT_MISMATCH, on)]),
    ]
    rep = annual_report(w.relos, [], 2026, as_of=day, runs=runs)
    got = [
        (u.order[-1], u.transaction_date, u.country, u.value, u.status) for u in rep.unreconciled
    ]
    assert got == [
        ("1", on, "RUS", Amount.of("100.00", "RUB"), "amount_mismatch"),
        ("5", on, "RUS", Amount.of("7.50", "RUB"), "missing_on_our_side"),
        ("6", on, "RUS", None, "quantity_mismatch"),
    ]
    assert [(u.run, u.line, u.disputed) for u in rep.unreconciled] == [
        (2, 1, False),
        (2, 5, True),
        (2, 6, False),
    ]
    assert annual_report(w.relos, [], 2026, runs=runs).unreconciled == []  # under a year


def test_the_annual_report_shows_reconciliation_lines_only_to_their_readers(
    uow: FakeUnitOfWork,
) -> None:
    on = date(2026, 3, 2)
    with uow:
        uow.reconciliation.add_run(
            ReconRun(0, "RELOS", "IND", "RUS", on, "k", "d", "ind-fo", AT),
            [_line(1, MatchStatus.AMOUNT_MISMATCH, on, value=("1.00", "2.00"))],
        )
        uow.commit()
    day = date(2027, 3, 3)
    fo, _ = settlement.annual_report(uow, "ind-fo", "RELOS", 2026, day)
    assert [(u.order, u.country) for u in fo.unreconciled] == [("RELOS-IN-2026-000001", "RUS")]
    ao, _ = settlement.annual_report(uow, "ind-ao", "RELOS", 2026, day)
    assert ao.unreconciled == []  # the run is read by finance officers, auditors and admins
    rus, _ = settlement.annual_report(uow, "rus-fo", "RELOS", 2026, day)
    assert rus.unreconciled == []  # India's run, India's lines
