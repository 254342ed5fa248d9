"""What invoiced orders still owe is summed in the database, and it is what the orders say.

`OrderRepository.debts` sums receipt lines, conversions and settlements of every invoiced order
in SQL (no order loaded); `Order.debts` is the rule, order by order. On SQLite and PostgreSQL,
on books with every reimbursement method, partial receipts and returns, a reversed settlement,
conversions of in-kind debts to cash, and values that round half-even, the two agree to the
digit (the same Decimal, written the same way), for the whole node and for each party.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Engine

from relos.domain.orders import OrderDebt
from relos.services import ordering, reports, settlement
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.integration.builders import at, lifecycle, placed, world

AS_OF = date(2027, 3, 10)  # past the RIK and EVE windows of the lifecycle's orders


def order_by_order(uow: SqlUnitOfWork, party: str | None = None) -> list[OrderDebt]:
    with uow:
        numbers = uow.orders.numbers(party=party)
        return [d for o in uow.orders.load(numbers) for d in o.debts()]


def in_sql(uow: SqlUnitOfWork, party: str | None = None) -> list[OrderDebt]:
    with uow:
        return uow.orders.debts(party)


def agree(uow: SqlUnitOfWork) -> list[OrderDebt]:
    for party in (None, "IND", "RUS"):
        found, expected = in_sql(uow, party), order_by_order(uow, party)
        assert found == expected
        with uow:  # the kept debts (aging, the paged listing) are the same
            kept = uow.orders.open_debts(AS_OF, party)
        assert sorted(kept, key=lambda d: (d.order, d.commodity)) == expected
        assert [str(d.outstanding) for d in found] == [str(d.outstanding) for d in expected]
    return in_sql(uow)


def rounding_orders(uow: SqlUnitOfWork) -> tuple[str, str]:
    """Cash orders whose receipt lines' values end in half a minor unit, both ways."""
    d = date(2026, 5, 4)
    # water at 150.25 RUB: 0.020 -> 3.005 -> 3.00; 0.060 -> 9.015 -> 9.02; 0.007 -> 1.05175 -> 1.05
    water = placed(uow, "IND", "cash", [("WATER", "0.087")], d)
    for k, qty in enumerate(("0.020", "0.060", "0.007")):
        ordering.receive(uow, "in_receive", water, [(1, qty)], d, at(d, 12 + k))
    ordering.invoice(uow, "ru_finance", water, d, at(d, 16))
    # rations at 450.50 INR: 0.010 -> 4.505 -> 4.50; 0.030 -> 13.515 -> 13.52; one returned unpaid
    rations = placed(uow, "RUS", "cash", [("RATION", "0.04")], d)
    ordering.receive(uow, "ru_receive", rations, [(1, "0.010")], d, at(d, 12))
    ordering.receive(uow, "ru_receive", rations, [(1, "0.030")], d, at(d, 13))
    ordering.invoice(uow, "in_finance", rations, d, at(d, 16))
    ordering.settle(uow, "ru_finance", rations, "1.00", on=d, at=at(d, 17))
    return water, rations


def test_debts_summed_in_sql_equal_the_orders_own(engine: Engine) -> None:
    uow = SqlUnitOfWork(engine)
    world(uow)
    lc = lifecycle(uow)
    water, rations = rounding_orders(uow)
    before = {(d.order, d.commodity): d.outstanding for d in agree(uow)}
    assert before[water, "RUB"] == Decimal("13.07")  # 3.00 + 9.02 + 1.05
    assert before[rations, "INR"] == Decimal("17.02")  # 4.50 + 13.52 - 1.00
    assert before[lc.rik_ru, "F76_T"] == Decimal("70.500")  # 120.5 t received, 50 returned
    assert (lc.cash_in, "RUB") not in before  # settled in full: not invoiced any more
    # in-kind debts past their window become cash debts
    settlement.run(uow, "in_finance", AS_OF, at(AS_OF))
    settlement.run(uow, "ru_finance", AS_OF, at(AS_OF))
    after = {(d.order, d.commodity): d for d in agree(uow)}
    assert after[lc.rik_ru, "INR"].outstanding == Decimal("6054500.00")
    assert (lc.rik_ru, "F76_T") not in after
    assert after[lc.eve_in, "RUB"].outstanding == Decimal("20050.00")
    # part of a converted debt paid, a payment reversed: still the same both ways
    ordering.settle(uow, "ru_finance", lc.rik_ru, "54500.00", "INR", AS_OF, at=at(AS_OF, 13))
    ordering.reverse(uow, "ru_finance", lc.rik_ru, 2, "keyed twice", at(AS_OF, 14))
    ordering.settle(uow, "ru_finance", lc.rik_ru, "4500.00", "INR", AS_OF, at=at(AS_OF, 15))
    last = {(d.order, d.commodity): d for d in agree(uow)}
    assert last[lc.rik_ru, "INR"].outstanding == Decimal("6050000.00")


def report_order_by_order(
    uow: SqlUnitOfWork, as_of: date, party: str | None, overdue_only: bool
) -> list[reports.ObligationRow]:
    """The obligations report computed order by order, every order loaded: what each owed at
    the end of `as_of` (`Order.debts_on`)."""
    rows = []
    with uow:
        for o in uow.orders.load(uow.orders.numbers(party=party)):
            for d in o.debts_on(as_of):
                late = max(0, (as_of - d.due_on).days)
                if overdue_only and late == 0:
                    continue
                rows.append(
                    reports.ObligationRow(
                        o.number,
                        o.agreement,
                        o.supplying,
                        o.requesting,
                        o.method.value,
                        d.commodity,
                        d.outstanding,
                        d.invoice,
                        d.due_on,
                        late,
                    )
                )
    return sorted(rows, key=lambda r: (-r.days_overdue, r.due_on, r.order))


def test_the_obligations_report_is_the_order_by_order_one(engine: Engine) -> None:
    uow = SqlUnitOfWork(engine)
    world(uow)
    lifecycle(uow)
    rounding_orders(uow)
    settlement.run(uow, "in_finance", AS_OF, at(AS_OF))
    for as_of in (date(2026, 3, 1), date(2026, 6, 1), AS_OF, date(2028, 1, 1)):
        for party in (None, "IND", "RUS", "USA"):
            for overdue in (False, True):
                got = reports.obligations(uow, as_of, party, overdue)
                assert got == report_order_by_order(uow, as_of, party, overdue)
    assert reports.obligations(uow, AS_OF, party="USA") == []
    assert len(reports.obligations(uow, date(2028, 1, 1), overdue_only=True)) >= 4
