"""Matching two parties' views of their orders, line by line (pure domain)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from relos.domain.errors import RuleViolation, ValidationError
from relos.domain.reconciliation import (
    LineView,
    MatchStatus,
    OrderView,
    match,
    mirror_balance_differences,
    one_year_after,
)

AT = datetime(2026, 6, 1, 12, tzinfo=UTC)


def view(number: str = "RELOS-IN-2026-000001", **changes: object) -> OrderView:
    base = OrderView(
        number=number,
        revision=1,
        state="invoiced",
        requesting="IND",
        supplying="RUS",
        method="cash",
        transaction_date=date(2026, 3, 2),
        lines=(LineView(1, "F76", Decimal(400), Decimal(400), Decimal("65000.00"), "RUB"),),
        receipts=((1, date(2026, 3, 2), ((1, Decimal(400)),)),),
        invoices=(("INV-1", date(2026, 3, 3), date(2026, 4, 2), Decimal("26000000.00"), "RUB"),),
        settlements=((1, "cash", date(2026, 3, 20), Decimal("1000000.00"), "RUB", None),),
        value=Decimal("26000000.00"),
        currency="RUB",
        outstanding=(("RUB", Decimal("25000000.00")),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def statuses(ours: list[OrderView], theirs: list[OrderView]) -> list[tuple[str, MatchStatus]]:
    return [(ln.order, ln.status) for ln in match(ours, theirs)]


def test_identical_views_match() -> None:
    (line,) = match([view()], [view()])
    assert line.status is MatchStatus.MATCHED
    assert line.details == ()
    assert not line.open


def test_the_same_number_written_with_other_trailing_zeros_still_matches() -> None:
    theirs = view(value=Decimal("26000000"), outstanding=(("RUB", Decimal("25000000.0")),))
    assert match([view()], [theirs])[0].status is MatchStatus.MATCHED


def test_a_settlement_of_another_amount_is_an_amount_mismatch() -> None:
    theirs = view(
        settlements=((1, "cash", date(2026, 3, 20), Decimal("1000001.00"), "RUB", None),),
        outstanding=(("RUB", Decimal("24999999.00")),),
    )
    (line,) = match([view()], [theirs])
    assert line.status is MatchStatus.AMOUNT_MISMATCH
    assert "settlements differ" in line.details
    assert any(d.startswith("outstanding") for d in line.details)


def test_a_unit_price_of_another_amount_is_an_amount_mismatch() -> None:
    theirs = view(
        lines=(LineView(1, "F76", Decimal(400), Decimal(400), Decimal("65000.01"), "RUB"),)
    )
    assert match([view()], [theirs])[0].status is MatchStatus.AMOUNT_MISMATCH


def test_another_received_quantity_is_a_quantity_mismatch_even_when_the_value_differs_too() -> None:
    theirs = view(
        lines=(LineView(1, "F76", Decimal(400), Decimal(399), Decimal("65000.00"), "RUB"),),
        value=Decimal("25935000.00"),
    )
    (line,) = match([view()], [theirs])
    assert line.status is MatchStatus.QUANTITY_MISMATCH
    assert any("value" in d for d in line.details)  # every difference is still listed


def test_an_order_only_we_hold_is_missing_on_their_side() -> None:
    assert statuses([view("A"), view("B")], [view("A")]) == [
        ("A", MatchStatus.MATCHED),
        ("B", MatchStatus.MISSING_THEIRS),
    ]


def test_an_order_only_they_hold_is_missing_on_our_side() -> None:
    (line,) = match([], [view("C")])
    assert (line.order, line.status, line.our_state, line.their_state) == (
        "C",
        MatchStatus.MISSING_OURS,
        None,
        "invoiced",
    )


def test_another_state_is_a_state_mismatch_and_outranks_every_other_difference() -> None:
    theirs = view(state="settled", outstanding=(("RUB", Decimal(0)),))
    (line,) = match([view()], [theirs])
    assert line.status is MatchStatus.STATE_MISMATCH
    assert line.details[0] == "state: ours invoiced, theirs settled"


def test_another_revision_is_a_state_mismatch() -> None:
    assert match([view()], [view(revision=2)])[0].status is MatchStatus.STATE_MISMATCH


def test_lines_are_numbered_in_order_number_order_and_an_order_twice_is_refused() -> None:
    lines = match([view("B"), view("A")], [view("C")])
    assert [(ln.line_no, ln.order) for ln in lines] == [(1, "A"), (2, "B"), (3, "C")]
    with pytest.raises(ValidationError):
        match([], [view("A"), view("A")])


def test_a_line_is_disputed_then_resolved_with_notes() -> None:
    (line,) = match([], [view()])
    disputed = line.dispute("in_finance", "  we never ordered this  ", AT)
    assert (disputed.disputed_note, disputed.disputed_by) == ("we never ordered this", "in_finance")
    assert disputed.open
    resolved = disputed.resolve("in_finance", "their duplicate; they withdrew it", AT)
    assert not resolved.open
    with pytest.raises(RuleViolation):
        resolved.resolve("in_finance", "again", AT)
    with pytest.raises(RuleViolation):
        resolved.dispute("in_finance", "again", AT)


def test_a_note_is_required_and_a_matched_line_cannot_be_disputed() -> None:
    (line,) = match([], [view()])
    with pytest.raises(ValidationError):
        line.dispute("in_finance", "   ", AT)
    (matched,) = match([view()], [view()])
    with pytest.raises(RuleViolation):
        matched.dispute("in_finance", "why", AT)
    with pytest.raises(RuleViolation):
        matched.resolve("in_finance", "why", AT)


def test_a_line_unreconciled_for_over_a_year_is_flagged_until_resolved() -> None:
    (line,) = match([view()], [view(state="settled")])
    assert line.transaction_date == date(2026, 3, 2)
    assert not line.overdue(date(2027, 3, 2))
    assert line.overdue(date(2027, 3, 3))
    assert not line.resolve("x", "agreed", AT).overdue(date(2030, 1, 1))
    (matched,) = match([view()], [view()])
    assert not matched.overdue(date(2030, 1, 1))
    assert one_year_after(date(2024, 2, 29)) == date(2025, 2, 28)


def test_balances_are_compared_as_mirrors() -> None:
    ours = {("receivable", "cash", "RUB"): Decimal(100)}
    assert mirror_balance_differences(ours, {("payable", "cash", "RUB"): Decimal(-100)}) == []
    assert mirror_balance_differences(ours, {("payable", "cash", "RUB"): Decimal(-90)}) != []


def test_a_view_round_trips_through_its_document_and_floats_are_refused() -> None:
    v = view()
    assert OrderView.from_document(v.document()) == v
    doc = v.document()
    doc["value"] = 1.5
    with pytest.raises(ValidationError):
        OrderView.from_document(doc)
