"""Aging: the obligations listing summed per debtor, creditor and commodity, by days overdue;
and the listing a page at a time."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from relos.domain.aging import BAND_NAMES, band
from relos.domain.errors import ValidationError
from relos.services import ordering, reports
from tests.fakes import FakeUnitOfWork
from tests.unit.conftest import later, to_invoiced

DUE = date(2026, 4, 2)  # to_invoiced's cash invoice: issued 2026-03-03, 30 days


def bands(row: reports.AgingRow) -> dict[str, Decimal]:
    return {name: getattr(row, name) for name in BAND_NAMES if getattr(row, name)}


@pytest.mark.parametrize(
    ("late", "name"),
    [
        (-5, "not_due"),
        (0, "not_due"),
        (1, "days_1_30"),
        (30, "days_1_30"),
        (31, "days_31_60"),
        (60, "days_31_60"),
        (61, "days_61_90"),
        (90, "days_61_90"),
        (91, "over_90"),
        (400, "over_90"),
    ],
)
def test_an_obligation_falls_in_the_band_of_its_days_overdue(
    uow: FakeUnitOfWork, late: int, name: str
) -> None:
    to_invoiced(uow)
    (row,) = reports.aging(uow, DUE + timedelta(days=late))
    assert (row.debtor, row.creditor, row.commodity) == ("IND", "RUS", "RUB")
    assert bands(row) == {name: Decimal("26000000.00")}
    assert row.total == Decimal("26000000.00")
    assert str(row.not_due if name != "not_due" else row.over_90) == "0.00"  # written as money
    assert BAND_NAMES[band(max(0, late))] == name


def test_aging_sums_what_is_still_owed_per_debtor_creditor_and_commodity(
    uow: FakeUnitOfWork,
) -> None:
    first, second = to_invoiced(uow), to_invoiced(uow)
    rik = to_invoiced(
        uow,
        actor="rus-oo",
        unit="RFS-GORSHKOV",
        supplying="IND",
        facility="IN-VTZ",
        method="rik",
        lines=[("HSD", "10")],
    )
    ordering.settle(uow, "ind-fo", first.number, "6000000", at=later(5))
    assert second.number != rik.number
    as_of = date(2026, 5, 10)  # the cash invoices 38 days overdue, the RIK return not yet due
    rows = {(r.debtor, r.creditor, r.commodity): r for r in reports.aging(uow, as_of)}
    assert bands(rows["IND", "RUS", "RUB"]) == {"days_31_60": Decimal("46000000.00")}
    (hsd,) = [r for k, r in rows.items() if k[0] == "RUS"]
    assert bands(hsd) == {"not_due": Decimal("10.000")}
    listed = reports.obligations(uow, as_of)
    assert sum(r.outstanding for r in listed if r.debtor == "IND") == Decimal("46000000.00")


def test_aging_shows_a_party_what_it_owes_and_is_owed_only(uow: FakeUnitOfWork) -> None:
    to_invoiced(uow)
    assert [r.debtor for r in reports.aging(uow, DUE, party="RUS")] == ["IND"]
    assert reports.aging(uow, DUE, party="IND") == reports.aging(uow, DUE)
    with pytest.raises(ValidationError) as err:
        reports.aging(uow, DUE, party="XXX")
    assert (err.value.field, err.value.value) == ("party", "XXX")


def test_the_listing_pages_by_cursor_most_overdue_first(uow: FakeUnitOfWork) -> None:
    for _ in range(5):
        to_invoiced(uow)
    everything = reports.obligations(uow, date(2026, 6, 1))
    assert len(everything) == 5
    pages, after = [], None
    while True:
        page = reports.obligations(uow, date(2026, 6, 1), limit=2, after=after)
        pages.append(page)
        if len(page) < 2:
            break
        after = reports.parse_cursor(page[-1].cursor)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [r for p in pages for r in p] == everything


@pytest.mark.parametrize("text", ["", "2026-04-02", "yesterday,X,INR", "2026-04-02,,INR"])
def test_a_cursor_that_is_not_a_row_key_is_refused(text: str) -> None:
    with pytest.raises(ValidationError) as err:
        reports.parse_cursor(text)
    assert (err.value.field, err.value.value) == ("after", text)


def test_as_of_a_day_before_the_invoice_nothing_is_owed(uow: FakeUnitOfWork) -> None:
    o = to_invoiced(uow)  # invoiced 2026-03-03
    issued = o.invoices[-1].issued_on
    assert reports.aging(uow, issued - timedelta(days=1)) == []
    assert reports.obligations(uow, issued - timedelta(days=1)) == []
    (row,) = reports.aging(uow, issued)
    assert bands(row) == {"not_due": Decimal("26000000.00")}


def test_as_of_a_day_before_a_payment_the_aging_and_the_listing_show_what_was_owed_then(
    uow: FakeUnitOfWork,
) -> None:
    o = to_invoiced(uow)
    paid_on = DUE + timedelta(days=40)
    ordering.settle(uow, "ind-fo", o.number, "6000000", on=paid_on, at=later(80))
    ordering.settle(uow, "ind-fo", o.number, "20000000", on=paid_on + timedelta(days=1))
    assert reports.aging(uow, paid_on + timedelta(days=1)) == []  # settled in full
    (row,) = reports.aging(uow, paid_on)
    assert bands(row) == {"days_31_60": Decimal("20000000.00")}
    (row,) = reports.aging(uow, paid_on - timedelta(days=1))  # 39 days overdue, unpaid
    assert bands(row) == {"days_31_60": Decimal("26000000.00")}
    (listed,) = reports.obligations(uow, paid_on - timedelta(days=1))
    assert (listed.order, listed.outstanding, listed.days_overdue) == (
        o.number,
        Decimal("26000000.00"),
        39,
    )
    assert reports.obligations(uow, paid_on - timedelta(days=1), overdue_only=True) == [listed]
    assert reports.obligations(uow, paid_on + timedelta(days=1)) == []
