"""Aging and the paged obligations listing, in SQL, on SQLite and PostgreSQL.

The kept debts (`order_debts`) are what `OrderRepository.debts` sums from receipts, settlements
and conversions, written with each order and by the import; aging sums them per band of days
overdue in the database and equals the obligations listing grouped in Python, to the digit; the
listing read a page at a time by cursor is the whole listing, in the same order.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from relos.domain.aging import BAND_NAMES, band
from relos.domain.money import from_minor
from relos.domain.orders import OrderDebt
from relos.services import bulk_import, catalogue, ordering, people, reports, settlement
from relos.storage.debt_tables import debt_days, debt_invoice_days, order_debts
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.fakes import USERS, relos_document
from tests.import_world import ORDERS, TODAY, rows_of, write_csv
from tests.integration.builders import at, lifecycle, world
from tests.integration.test_obligations import AS_OF, rounding_orders

DAYS = (date(2026, 3, 1), date(2026, 6, 1), date(2026, 9, 15), AS_OF, date(2028, 1, 1))
PARTIES = (None, "IND", "RUS")


def kept(uow: SqlUnitOfWork, party: str | None = None) -> list[OrderDebt]:
    with uow:
        found = uow.orders.open_debts(AS_OF, party)
    return sorted(found, key=lambda d: (d.order, d.commodity))


def summed(uow: SqlUnitOfWork, party: str | None = None) -> list[OrderDebt]:
    with uow:
        return uow.orders.debts(party)


def grouped(rows: list[reports.ObligationRow]) -> dict[tuple[str, str, str], dict[str, str]]:
    """The listing summed per debtor, creditor and commodity and band, in Python."""
    out: dict[tuple[str, str, str], dict[str, Decimal]] = {}
    for r in rows:
        per = out.setdefault((r.debtor, r.creditor, r.commodity), {})
        name = BAND_NAMES[band(r.days_overdue)]
        per[name] = per.get(name, Decimal(0)) + r.outstanding
    return {k: {n: str(v) for n, v in per.items()} for k, per in out.items()}


def aged(rows: list[reports.AgingRow]) -> dict[tuple[str, str, str], dict[str, str]]:
    out = {}
    for r in rows:
        assert r.total == sum((getattr(r, n) for n in BAND_NAMES), Decimal(0))
        out[r.debtor, r.creditor, r.commodity] = {
            n: str(getattr(r, n)) for n in BAND_NAMES if getattr(r, n)
        }
    return out


@pytest.fixture
def books(engine: Engine) -> SqlUnitOfWork:
    uow = SqlUnitOfWork(engine)
    world(uow)
    lifecycle(uow)
    water, rations = rounding_orders(uow)
    # settled after 2026-06-01 and not converted (decision 65): water (13.07 RUB) paid 2.00
    # before the day, 5.00 after it and that reversed after it; rations paid off after it
    ordering.settle(
        uow, "ru_finance", water, "2.00", on=date(2026, 5, 20), at=at(date(2026, 5, 20))
    )
    ordering.settle(uow, "ru_finance", water, "5.00", on=date(2026, 7, 1), at=at(date(2026, 7, 1)))
    ordering.reverse(uow, "ru_finance", water, 2, "paid twice", at(date(2026, 8, 3)))
    ordering.settle(
        uow, "in_finance", rations, "17.02", on=date(2026, 7, 15), at=at(date(2026, 7, 15))
    )
    settlement.run(uow, "in_finance", AS_OF, at(AS_OF))  # in-kind debts converted to cash
    return uow


def per_due_date(uow: SqlUnitOfWork) -> dict[tuple[str, str, str, date], Decimal]:
    """The kept sums per creditor, debtor, commodity and due date (none zero)."""
    with uow.engine.connect() as c:
        rows = c.execute(select(debt_days)).all()
    return {(r[0], r[1], r[2], r[3]): from_minor(r[4], r[2]) for r in rows if r[4]}


def per_invoice_day(uow: SqlUnitOfWork) -> dict[tuple[object, ...], int]:
    """The kept sums per invoice day, creditor, debtor, commodity and due date (none zero),
    and the kept debts summed so."""
    with uow.engine.connect() as c:
        rows = c.execute(select(debt_invoice_days)).all()
        debts = c.execute(select(order_debts)).all()
    summed: dict[tuple[object, ...], int] = {}
    for d in debts:
        key = (d.invoiced_on, d.creditor, d.debtor, d.commodity, d.due_on)
        summed[key] = summed.get(key, 0) + d.outstanding_minor
    kept = {tuple(r[:5]): r[5] for r in rows if r[5]}
    assert kept == {k: v for k, v in summed.items() if v}
    return kept


def test_the_kept_debts_are_the_debts_summed_from_the_orders(books: SqlUnitOfWork) -> None:
    for party in PARTIES:
        assert kept(books, party) == summed(books, party)
    assert per_due_date(books) == days_of(summed(books))
    assert len({k[0] for k in per_invoice_day(books)}) > 1
    methods = {d.method.value for d in kept(books)}
    assert {"cash", "rik"} <= methods  # converted and in-kind debts are both there


def days_of(debts: list[OrderDebt]) -> dict[tuple[str, str, str, date], Decimal]:
    days: dict[tuple[str, str, str, date], Decimal] = {}
    for d in debts:
        key = (d.creditor, d.debtor, d.commodity, d.due_on)
        days[key] = days.get(key, Decimal(0)) + d.outstanding
    return days


def test_aging_is_the_listing_grouped_by_band_to_the_digit(books: SqlUnitOfWork) -> None:
    seen_bands = set()
    due = sorted({r.due_on for r in reports.obligations(books, AS_OF)})
    for day in (*DAYS, due[0] + timedelta(days=45), due[-1] + timedelta(days=75)):
        for party in PARTIES:
            got = aged(reports.aging(books, day, party))
            assert got == grouped(reports.obligations(books, day, party))
            seen_bands |= {n for per in got.values() for n in per}
    assert seen_bands == set(BAND_NAMES)  # every band met on some day


@pytest.mark.parametrize(
    ("late", "name"),
    [
        (-1, "not_due"),
        (0, "not_due"),
        (1, "days_1_30"),
        (30, "days_1_30"),
        (31, "days_31_60"),
        (60, "days_31_60"),
        (61, "days_61_90"),
        (90, "days_61_90"),
        (91, "over_90"),
    ],
)
def test_the_band_edges_are_the_listings_days_overdue(engine: Engine, late: int, name: str) -> None:
    uow = SqlUnitOfWork(engine)
    world(uow)
    water, _ = rounding_orders(uow)  # IND owes RUS 13.07 RUB for water
    (row,) = [r for r in reports.obligations(uow, date(2026, 5, 4)) if r.order == water]
    day = row.due_on + timedelta(days=late)
    (listed,) = [r for r in reports.obligations(uow, day) if r.order == water]
    assert listed.days_overdue == max(0, late)
    rows = {(r.debtor, r.commodity): r for r in reports.aging(uow, day, "IND")}
    assert {n: str(getattr(rows["IND", "RUB"], n)) for n in BAND_NAMES} == {
        n: "13.07" if n == name else "0.00" for n in BAND_NAMES
    }


def test_the_listing_read_page_by_page_is_the_whole_listing(books: SqlUnitOfWork) -> None:
    for day in (date(2026, 6, 1), AS_OF):
        for party in PARTIES:
            for overdue in (False, True):
                whole = reports.obligations(books, day, party, overdue)
                for size in (1, 2, 5):
                    pages, after = [], None
                    while True:
                        page = reports.obligations(books, day, party, overdue, size, after)
                        assert len(page) <= size
                        pages += page
                        if len(page) < size:
                            break
                        after = reports.parse_cursor(page[-1].cursor)
                    assert pages == whole
    first = reports.obligations(books, AS_OF, limit=3)
    assert first == reports.obligations(books, AS_OF)[:3]
    assert [r.due_on for r in first] == sorted(r.due_on for r in first)


def test_imported_orders_keep_their_debts(engine: Engine, tmp_path: Path) -> None:
    uow = SqlUnitOfWork(engine)
    catalogue.load(uow, relos_document())
    for name, (party, role) in USERS.items():
        admin = None if role == "party_admin" else f"{party.lower()}-admin"
        people.add_user(uow, admin, name, party, role)
    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))
    bulk_import.import_orders(uow, "ind-admin", path, today=TODAY, batch=3)
    found = kept(uow)
    assert found
    assert found == summed(uow)
    assert per_due_date(uow) == days_of(found)
    assert per_invoice_day(uow)
    assert aged(reports.aging(uow, TODAY)) == grouped(reports.obligations(uow, TODAY))


def test_orders_paid_or_converted_after_a_day_are_summed_as_they_stood_that_day(
    books: SqlUnitOfWork,
) -> None:
    """The orders settled or converted since (summed in SQL apart from the kept debts: those
    converted as `debts` sums, those only settled from what is kept and the settlements since)
    owe on the day what `Order.debts_on` says; the books hold some of each."""
    day = date(2026, 6, 1)
    with books:
        then = books.orders.changed_debts(day)
        converted = books.orders.converted_debts(day)
        kept = books.orders.converted_kept(day)
        orders = books.orders.load(books.orders.numbers())
    changed = {d.order for d in then}
    assert converted
    assert changed - {d.order for d in converted}, "no order only settled since"
    assert then == [d for o in orders if o.number in changed for d in o.debts_on(day)]
    assert converted == [d for d in then if d.order in {c.order for c in converted}]
    assert {d.order for d in kept} <= {d.order for d in converted}
    assert [(d.order, d.commodity) for d in kept] != [(d.order, d.commodity) for d in converted]
    assert reports.obligations(books, AS_OF) != reports.obligations(books, day)
