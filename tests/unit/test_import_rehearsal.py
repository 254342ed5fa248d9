"""The import's check pass rehearses each order (`imports.Rehearsal`): the same steps and rules as
the order that is written, without the digests; and it finds prices in a per-item index that must
give what `price_on` finds in the whole price list."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from relos.domain.errors import RelosError
from relos.domain.facilities import price_on
from relos.domain.imports import (
    ALL_COLUMNS,
    ImportRow,
    Reference,
    Rehearsal,
    build_order,
    locate,
    parse_row,
    row_reader,
    row_text,
)
from relos.domain.orders import Order
from relos.domain.users import Importer, Role
from relos.services import bulk_import
from tests.fakes import seeded_uow
from tests.import_world import HEADER, ORDERS, TODAY, Line, ind_order, rows_of

ADMIN = Importer("ind-admin", "IND", Role.PARTY_ADMIN)


def reference() -> Reference:
    uow = seeded_uow()
    with uow:
        return bulk_import._reference(uow)


def parsed(rows: list[dict[str, str]], header: list[str] = HEADER) -> list[ImportRow]:
    read = row_reader(header)
    out = []
    for line, r in enumerate(rows, start=2):
        text = row_text(read([r.get(c, "") for c in header]))
        row, problems = parse_row(line, text, "port_call")
        assert row is not None, problems
        out.append(row)
    return out


def orders_of(rows: list[ImportRow]) -> list[list[ImportRow]]:
    groups: dict[str, list[ImportRow]] = {}
    for r in rows:
        groups.setdefault(r.order_ref, []).append(r)
    return list(groups.values())


def facts(order: Order) -> tuple[object, ...]:
    return (
        order.state,
        order.lines,
        [(r.seq, r.received_on, r.quantities) for r in order.receipts],
        order.invoices,
        [(g.action, g.user, g.role, g.at, g.revision, g.note) for g in order.signatures],
        order.obligations(),
    )


def test_a_rehearsed_order_takes_every_step_of_the_written_one_without_digests() -> None:
    ref = reference()
    for rows in orders_of(parsed(rows_of(ORDERS))):
        number = "RELOS-IN-2026-000007"
        real, real_entries = build_order(rows, number, ADMIN, ref, TODAY)
        rehearsed, entries = build_order(rows, number, ADMIN, ref, TODAY, rehearse=True)
        assert type(real) is Order
        assert isinstance(rehearsed, Rehearsal)
        assert facts(rehearsed) == facts(real)
        assert entries == real_entries
        assert all(len(g.digest) == 64 for g in real.signatures)
        assert all(len(r.digest) == 64 for r in real.receipts)
        assert {g.digest for g in rehearsed.signatures} == {""}
        assert {r.digest for r in rehearsed.receipts} <= {""}


@pytest.mark.parametrize(
    "change",
    [
        {"ordered_on": "2025-06-01", "required_by": "2025-06-01"},
        {"unit": "RFS-GORSHKOV"},
        {"facility": "RU-KRN"},
        {"facility": "IN-VTZ"},
        {"received_on": "2026-12-01"},
        {"received_on": "2026-01-20"},
        {"received_quantity": "11"},
        {"item": "CAVIAR"},
        {"invoiced_on": "2026-02-01"},
        {"agreement": "LEMOA"},
        {"use": "other_agreed"},
    ],
)
def test_a_rehearsal_breaks_the_rules_the_written_order_breaks(change: dict[str, str]) -> None:
    ref = reference()
    spec = ind_order(
        "X-1", "2026-02-01", Line("F76", "10", "2026-02-02", "10"), invoiced_on="2026-02-03"
    )
    rows = parsed([{**rows_of([spec])[0], **change}], [*HEADER, "use"])
    found = []
    for rehearse in (False, True):
        with pytest.raises(RelosError) as e:
            build_order(rows, "RELOS-IN-2026-000001", ADMIN, ref, TODAY, rehearse=rehearse)
        found.append([(p.line, p.field, p.value, p.rule) for p in locate(e.value, rows)])
    assert found[0] == found[1]
    assert found[0]  # the change breaks a rule


def test_the_price_items_of_an_order_are_those_price_on_finds_in_the_whole_list() -> None:
    ref = reference()
    everything = [p for items in ref.prices.values() for p in items]
    codes = [*sorted({p.code for p in everything}), "CAVIAR"]
    days = {d for p in everything for d in (p.valid_from, p.valid_to) if d is not None}
    days |= {d + timedelta(days=k) for d in set(days) for k in (-1, 1)} | {date(2026, 7, 1)}
    for supplier in [*ref.prices, "JPN"]:
        whole = ref.prices.get(supplier, [])
        for code in codes:
            some = ref.price_items(supplier, [code, code, "F76"])
            for day in sorted(days):
                try:
                    expected: object = price_on(whole, supplier, code, day)
                except RelosError as e:
                    expected = e.message
                try:
                    got: object = price_on(some, supplier, code, day)
                except RelosError as e:
                    got = e.message
                assert got == expected


def test_a_row_is_read_by_its_header_whatever_the_columns_order() -> None:
    row = rows_of(ORDERS)[0]
    header = list(reversed(HEADER))
    values = [f"  {row.get(c, '')} " for c in header]
    read = row_text(row_reader(header)(values))
    assert list(read) == list(ALL_COLUMNS)
    assert read == {c: row.get(c, "").strip() for c in ALL_COLUMNS}
    assert read["use"] == ""  # an optional column the file lacks
