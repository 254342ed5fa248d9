"""The read side: obligations with due dates and days overdue, balances, orders by state."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from relos.domain.errors import ValidationError
from relos.services import ordering, reports
from tests.fakes import FakeUnitOfWork
from tests.unit.conftest import draft, later, to_accepted, to_invoiced

ISSUED = later(2).date()  # 2026-03-03: to_invoiced issues its invoices then


def test_a_cash_invoice_is_overdue_the_day_after_its_30_days(uow: FakeUnitOfWork) -> None:
    o = to_invoiced(uow)
    due = date(2026, 4, 2)
    (row,) = reports.obligations(uow, as_of=due)
    assert (row.order, row.creditor, row.debtor, row.method) == (o.number, "RUS", "IND", "cash")
    assert (row.commodity, row.outstanding) == ("RUB", Decimal("26000000.00"))
    assert (row.invoice, row.due_on, row.days_overdue) == (f"INV-{o.number}-1", due, 0)
    assert reports.obligations(uow, as_of=date(2026, 4, 3))[0].days_overdue == 1
    assert reports.obligations(uow, as_of=date(2026, 5, 2))[0].days_overdue == 30


def test_overdue_only_hides_what_is_not_yet_due(uow: FakeUnitOfWork) -> None:
    to_invoiced(uow)
    assert reports.obligations(uow, as_of=date(2026, 4, 2), overdue_only=True) == []
    assert len(reports.obligations(uow, as_of=date(2026, 4, 3), overdue_only=True)) == 1


def test_a_rik_obligation_is_due_a_year_after_delivery_in_its_commodity(
    uow: FakeUnitOfWork,
) -> None:
    to_invoiced(uow, method="rik")
    (row,) = reports.obligations(uow, as_of=date(2027, 3, 10))
    assert (row.commodity, row.outstanding, row.method) == ("DIESEL_T", Decimal(400), "rik")
    assert row.due_on == date(2027, 3, 2)
    assert row.days_overdue == 8


def test_partial_payment_lowers_the_obligation_and_settlement_removes_it(
    uow: FakeUnitOfWork,
) -> None:
    o = to_invoiced(uow)
    ordering.settle(uow, "ind-fo", o.number, "6000000", at=later(5))
    (row,) = reports.obligations(uow, as_of=date(2026, 4, 10))
    assert (row.outstanding, row.days_overdue) == (Decimal("20000000.00"), 8)
    ordering.settle(uow, "ind-fo", o.number, "20000000", at=later(6))
    assert reports.obligations(uow, as_of=date(2026, 4, 10)) == []


def test_the_most_overdue_obligation_comes_first_and_party_filters(uow: FakeUnitOfWork) -> None:
    cash = to_invoiced(uow)
    rik = to_invoiced(
        uow,
        actor="rus-oo",
        unit="RFS-GORSHKOV",
        supplying="IND",
        facility="IN-VTZ",
        method="rik",
        lines=[("HSD", "10")],
    )
    rows = reports.obligations(uow, as_of=date(2027, 6, 1))
    assert [r.order for r in rows] == [cash.number, rik.number]
    assert rows[0].days_overdue > rows[1].days_overdue > 0
    assert [r.debtor for r in rows] == ["IND", "RUS"]
    assert len(reports.obligations(uow, as_of=date(2027, 6, 1), party="RUS")) == 2


def test_balances_report_by_book_and_date(uow: FakeUnitOfWork) -> None:
    o = to_accepted(uow)
    ordering.receive(uow, "ind-ro", o.number, [(1, "100")], at=later(1))
    ordering.receive(uow, "ind-ro", o.number, [(1, "300")], at=later(3))
    rows = reports.balances(uow, book="RUS", include_flows=False)
    assert [(r.account_name, r.amount) for r in rows] == [
        ("receivable:IND:cash", Decimal("26000000.00"))
    ]
    early = reports.balances(uow, book="IND", as_of=later(2).date(), include_flows=False)
    assert [(r.account_name, r.amount) for r in early] == [
        ("payable:RUS:cash", Decimal("-6500000.00"))
    ]
    assert reports.balances(uow, as_of=date(2026, 1, 1)) == []
    assert {r.book for r in reports.balances(uow)} == {"IND", "RUS"}
    with pytest.raises(ValidationError) as e:
        reports.balances(uow, book="USA")
    assert (e.value.field, e.value.value) == ("book", "USA")


def test_open_orders_and_counts_by_state(uow: FakeUnitOfWork) -> None:
    a = draft(uow)
    b = to_accepted(uow)
    ordering.cancel(uow, "ind-oo", a.number, "not needed", at=later(1))
    assert [r.number for r in reports.open_orders(uow)] == [b.number]
    counts = reports.orders_by_state(uow)
    assert counts["accepted"] == 1
    assert counts["cancelled"] == 1
    assert counts["closed"] == 0
    assert sum(counts.values()) == 2
    assert reports.orders_by_state(uow, party="IND") == counts
