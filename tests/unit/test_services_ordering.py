"""Order use cases on the fake node: each is one transaction, refused ones write nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from relos.domain.errors import (
    Invalid,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RelosError,
    RuleViolation,
    ValidationError,
)
from relos.domain.ledger import Entry
from relos.domain.orders import OrderState
from relos.services import ordering
from tests.fakes import ORDER_DATA, FakeLedgerRepo, FakeUnitOfWork
from tests.unit.conftest import (
    AT,
    assert_books_consistent,
    draft,
    later,
    snapshot,
    to_accepted,
    to_invoiced,
)

S = OrderState


# -- full lifecycles -------------------------------------------------------------------------------


def test_indian_ship_refuels_at_severomorsk_and_pays_cash(uow: FakeUnitOfWork) -> None:
    o = draft(uow)
    assert o.number == "RELOS-IN-2026-000001"
    assert ordering.submit(uow, "ind-oo", o.number, at=AT).state is S.SUBMITTED
    assert ordering.accept(uow, "rus-ao", o.number, at=AT).state is S.ACCEPTED
    o = ordering.receive(uow, "ind-ro", o.number, [(1, "150")], at=later(1))
    assert o.state is S.PARTIALLY_RECEIVED
    o = ordering.receive_all(uow, "ind-ro", o.number, at=later(2))
    assert o.state is S.RECEIVED
    o = ordering.invoice(uow, "rus-fo", o.number, at=later(3))
    assert (o.state, o.invoices[0].number) == (S.INVOICED, f"INV-{o.number}-1")
    o = ordering.settle(uow, "ind-fo", o.number, "1000000", at=later(10))
    assert o.state is S.INVOICED
    o = ordering.reverse(uow, "ind-fo", o.number, 1, "wrong amount", at=later(11))
    assert ordering.outstanding_total(o) == {"RUB": Decimal("26000000.00")}
    o = ordering.settle(uow, "ind-fo", o.number, "26000000", at=later(12))
    assert o.state is S.SETTLED
    o = ordering.close(uow, "rus-fo", o.number, at=later(13))
    assert o.state is S.CLOSED
    assert ordering.show(uow, o.number) == o
    assert [s.action for s in o.signatures] == [
        "submit",
        "accept",
        "receive",
        "receive",
        "invoice",
        "settle",
        "reverse",
        "settle",
        "close",
    ]
    with uow:
        rus = uow.ledger.balances("RUS")
        assert ("RUS", "receivable", "IND", "cash", "RUB") not in rus
        assert rus[("RUS", "settlement_cash", "", "", "RUB")] == Decimal("26000000.00")
        assert len(uow.ledger.entries(order=o.number)) == 2 * 5
    assert_books_consistent(uow)


def test_russian_frigate_takes_diesel_at_visakhapatnam_and_returns_it_in_kind(
    uow: FakeUnitOfWork,
) -> None:
    o = to_invoiced(
        uow,
        actor="rus-oo",
        unit="RFS-GORSHKOV",
        supplying="IND",
        facility="IN-VTZ",
        method="rik",
        lines=[("HSD", "120.5")],
    )
    assert o.number == "RELOS-RU-2026-000001"
    assert o.obligations() == {"HSD_KL": Decimal("120.5")}
    o = ordering.settle(uow, "rus-fo", o.number, "100", at=later(30))
    assert o.state is S.INVOICED
    o = ordering.settle(uow, "ind-fo", o.number, "20.5", "HSD_KL", at=later(31))
    assert o.state is S.SETTLED
    with uow:
        ind = uow.ledger.balances("IND")
    assert ("IND", "support_returned", "RUS", "", "HSD_KL") in ind
    assert not any(k[1] == "receivable" for k in ind)
    assert_books_consistent(uow)


def test_equal_value_exchange_in_both_directions(uow: FakeUnitOfWork) -> None:
    a = to_invoiced(uow, method="eve", lines=[("RATION", "100")])
    b = to_invoiced(
        uow,
        actor="rus-oo",
        unit="RFS-GORSHKOV",
        supplying="IND",
        facility="IN-VTZ",
        method="eve",
        lines=[("REPAIR-HR", "12")],
    )
    ordering.settle(uow, "ind-fo", a.number, "90050", at=later(20))
    ordering.settle(uow, "rus-fo", b.number, "54000", at=later(20))
    with uow:
        assert uow.orders.numbers(states=[S.SETTLED]) == sorted([a.number, b.number])
    assert_books_consistent(uow)


def test_order_numbers_follow_in_sequence_per_requester_and_year(uow: FakeUnitOfWork) -> None:
    numbers = [draft(uow).number for _ in range(3)]
    numbers.append(draft(uow, at=datetime(2027, 1, 2, tzinfo=AT.tzinfo)).number)
    assert numbers == [
        "RELOS-IN-2026-000001",
        "RELOS-IN-2026-000002",
        "RELOS-IN-2026-000003",
        "RELOS-IN-2027-000001",
    ]


def test_a_refused_draft_does_not_use_up_a_number(uow: FakeUnitOfWork) -> None:
    with pytest.raises(RuleViolation) as e:
        draft(uow, supplying="USA")  # refused after the number was drawn
    assert (e.value.rule, e.value.field, e.value.value) == ("not_a_party", "supplying", "USA")
    assert draft(uow).number == "RELOS-IN-2026-000001"


def test_a_planner_may_draft_but_the_supplier_may_not_draft_for_the_requester(
    uow: FakeUnitOfWork,
) -> None:
    from relos.services import people

    people.add_user(uow, "ind-admin", "ind-planner", "IND", "planner")
    assert draft(uow, actor="ind-planner").state is S.DRAFT
    with pytest.raises(PermissionDenied):
        draft(uow, actor="rus-oo")


def test_find_orders_filters_by_state_and_refuses_an_unknown_state(uow: FakeUnitOfWork) -> None:
    a = draft(uow)
    b = to_accepted(uow)
    assert [o.number for o in ordering.find_orders(uow, state="draft")] == [a.number]
    assert [o.number for o in ordering.find_orders(uow, state="accepted")] == [b.number]
    assert len(ordering.find_orders(uow, party="RUS")) == 2
    with pytest.raises(ValidationError) as e:
        ordering.find_orders(uow, state="lost")
    assert (e.value.field, e.value.value) == ("state", "lost")


# -- refused actions write nothing -----------------------------------------------------------------


Action = Callable[[FakeUnitOfWork, str], object]

REFUSALS: dict[str, tuple[str, Action, type[RelosError], str]] = {
    # name: (stage the order is in, action, error, rule)
    "requester_accepts_own_order": (
        "submitted",
        lambda u, n: ordering.accept(u, "ind-ao", n, at=AT),
        PermissionDenied,
        "permission_denied",
    ),
    "receipt_beyond_ordered_quantity": (
        "partially_received",
        lambda u, n: ordering.receive(u, "ind-ro", n, [(1, "300.001")], at=later(2)),
        RuleViolation,
        "receipt_exceeds_order",
    ),
    "receipt_in_the_future": (
        "accepted",
        lambda u, n: ordering.receive(u, "ind-ro", n, [(1, "1")], date(2026, 3, 9), at=AT),
        RuleViolation,
        "receipt_in_future",
    ),
    "invoice_before_receipt": (
        "accepted",
        lambda u, n: ordering.invoice(u, "rus-fo", n, at=later(2)),
        RuleViolation,
        "invoice_before_receipt",
    ),
    "settlement_beyond_outstanding": (
        "invoiced",
        lambda u, n: ordering.settle(u, "ind-fo", n, "26000000.01", at=later(9)),
        RuleViolation,
        "settlement_exceeds_outstanding",
    ),
    "settlement_in_another_currency": (
        "invoiced",
        lambda u, n: ordering.settle(u, "ind-fo", n, "10", "INR", at=later(9)),
        RuleViolation,
        "settlement_commodity",
    ),
    "cancel_after_receipt": (
        "partially_received",
        lambda u, n: ordering.cancel(u, "ind-oo", n, "no longer needed", at=later(2)),
        RuleViolation,
        "cancel_after_receipt",
    ),
    "amend_below_received": (
        "partially_received",
        lambda u, n: ordering.amend(u, "ind-oo", n, [("F76", "99")], at=later(2)),
        RuleViolation,
        "amend_below_received",
    ),
    "amend_to_an_unknown_item": (
        "accepted",
        lambda u, n: ordering.amend(u, "ind-oo", n, [("F76", "500"), ("JP-8", "1")], at=later(2)),
        RuleViolation,
        "item_not_on_price_list",
    ),
    "transition_not_in_table": (
        "invoiced",
        lambda u, n: ordering.close(u, "rus-fo", n, at=later(9)),
        InvalidTransition,
        "invalid_transition",
    ),
    "reverse_unknown_settlement": (
        "invoiced",
        lambda u, n: ordering.reverse(u, "ind-fo", n, 1, "typo", at=later(9)),
        ValidationError,
        "invalid_input",
    ),
    "unknown_user": (
        "submitted",
        lambda u, n: ordering.accept(u, "nobody", n, at=AT),
        NotFound,
        "not_found",
    ),
    "no_user": (
        "submitted",
        lambda u, n: ordering.accept(u, None, n, at=AT),
        PermissionDenied,
        "permission_denied",
    ),
}


def bring_to(uow: FakeUnitOfWork, stage: str) -> str:
    o = draft(uow)
    steps: list[Callable[[], object]] = [
        lambda: ordering.submit(uow, "ind-oo", o.number, at=AT),
        lambda: ordering.accept(uow, "rus-ao", o.number, at=AT),
        lambda: ordering.receive(uow, "ind-ro", o.number, [(1, "100")], at=later(1)),
        lambda: ordering.receive(uow, "ind-ro", o.number, [(1, "300")], at=later(1)),
        lambda: ordering.invoice(uow, "rus-fo", o.number, at=later(2)),
    ]
    order = ["draft", "submitted", "accepted", "partially_received", "received", "invoiced"]
    for step in steps[: order.index(stage)]:
        step()
    assert ordering.show(uow, o.number).state.value == stage
    return o.number


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_a_refused_action_leaves_no_order_change_no_signature_and_no_entry(
    uow: FakeUnitOfWork, name: str
) -> None:
    stage, action, error, rule = REFUSALS[name]
    number = bring_to(uow, stage)
    before, commits = snapshot(uow), uow.commits
    with pytest.raises(error) as e:
        action(uow, number)
    assert e.value.rule == rule
    assert e.value.field
    assert snapshot(uow) == before
    assert uow.commits == commits


def test_a_refused_amendment_does_not_raise_the_revision(uow: FakeUnitOfWork) -> None:
    number = bring_to(uow, "accepted")
    with pytest.raises(Invalid):
        ordering.amend(
            uow, "ind-oo", number, [("JP-8", "1")], data={"point_of_contact": ""}, at=later(1)
        )
    stored = ordering.show(uow, number)
    assert (stored.revision, stored.state, stored.data) == (1, S.ACCEPTED, ORDER_DATA)


def test_each_successful_use_case_commits_once(uow: FakeUnitOfWork) -> None:
    start = uow.commits
    number = bring_to(uow, "invoiced")
    assert uow.commits - start == 6  # draft, submit, accept, two receipts, invoice
    ordering.show(uow, number)
    ordering.find_orders(uow)
    assert uow.commits - start == 6  # reads commit nothing


class FailingLedger(FakeLedgerRepo):
    def append(self, entries: list[Entry]) -> None:
        super().append(entries)
        raise RuntimeError("disk full after writing the postings")


def test_order_signature_and_postings_are_written_together_or_not_at_all(
    uow: FakeUnitOfWork,
) -> None:
    number = bring_to(uow, "accepted")
    before = snapshot(uow)
    uow.ledger = FailingLedger(uow)
    with pytest.raises(RuntimeError):
        ordering.receive(uow, "ind-ro", number, [(1, "100")], at=later(1))
    assert snapshot(uow) == before
    stored = before[0][number]
    assert (stored.state, stored.receipts, len(stored.signatures)) == (S.ACCEPTED, [], 2)


def test_the_same_settlement_cannot_be_posted_twice(uow: FakeUnitOfWork) -> None:
    number = bring_to(uow, "invoiced")
    ordering.settle(uow, "ind-fo", number, "100", at=later(5))
    ordering.reverse(uow, "ind-fo", number, 1, "typo", at=later(6))
    before = snapshot(uow)
    with pytest.raises(RuleViolation) as e:
        ordering.reverse(uow, "rus-fo", number, 1, "typo", at=later(7))
    assert e.value.rule == "already_reversed"
    assert snapshot(uow) == before


def test_rik_with_two_commodities_needs_the_commodity_named(uow: FakeUnitOfWork) -> None:
    o = to_invoiced(uow, method="rik", lines=[("F76", "10"), ("WATER", "20")])
    before = snapshot(uow)
    with pytest.raises(ValidationError) as e:
        ordering.settle(uow, "ind-fo", o.number, "10", at=later(5))
    assert e.value.field == "commodity"
    assert "DIESEL_T" in e.value.message
    assert snapshot(uow) == before
    o = ordering.settle(uow, "ind-fo", o.number, "10", "DIESEL_T", at=later(5))
    assert o.outstanding("WATER_M3") == 20


def test_bad_input_is_refused_before_any_transaction(uow: FakeUnitOfWork) -> None:
    with pytest.raises(ValidationError) as e:
        draft(uow, method="barter")
    assert (e.value.field, e.value.value) == ("method", "barter")
    with pytest.raises(ValidationError) as e2:
        draft(uow, lines=[("F76", 1.5)])
    assert e2.value.field == "lines[1].quantity"
    with pytest.raises(ValidationError) as e3:
        draft(uow, lines=[])
    assert e3.value.field == "lines"
    with pytest.raises(NotFound) as e4:
        draft(uow, facility="RU-XXX")
    assert (e4.value.field, e4.value.value) == ("facility", "RU-XXX")
    assert snapshot(uow)[0] == {}


def test_a_draft_naming_unknown_things_is_refused_for_the_first_in_a_fixed_order(
    uow: FakeUnitOfWork,
) -> None:
    """Agreement, then unit, then the acting user and the permission, then the facility."""
    cases: list[tuple[dict[str, Any], type[RelosError], str]] = [
        ({"agreement": "NOPE", "unit": "NOPE", "facility": "NOPE"}, NotFound, "agreement"),
        ({"unit": "NOPE", "facility": "NOPE"}, NotFound, "unit"),
        ({"actor": "nobody", "facility": "NOPE"}, NotFound, "as"),
        ({"actor": "rus-oo", "facility": "NOPE"}, PermissionDenied, "user"),
        ({"facility": "NOPE"}, NotFound, "facility"),
    ]
    for changes, error, field in cases:
        with pytest.raises(error) as e:
            draft(uow, **changes)
        assert e.value.field == field, changes
    assert snapshot(uow)[0] == {}


def test_amendment_through_the_service_needs_acceptance_again_and_keeps_receipts(
    uow: FakeUnitOfWork,
) -> None:
    number = bring_to(uow, "partially_received")
    o = ordering.amend(uow, "ind-oo", number, [("F76", "500")], at=later(2))
    assert (o.state, o.revision, len(o.receipts)) == (S.SUBMITTED, 2, 1)
    with pytest.raises(InvalidTransition):
        ordering.receive(uow, "ind-ro", number, [(1, "10")], at=later(2))
    o = ordering.accept(uow, "rus-ao", number, at=later(3))
    assert o.state is S.PARTIALLY_RECEIVED
    o = ordering.receive_all(uow, "ind-ro", number, at=later(4))
    assert (o.state, o.received_quantity(1)) == (S.RECEIVED, Decimal(500))
    assert_books_consistent(uow)
    with uow:
        receivable = uow.ledger.balances("RUS")[("RUS", "receivable", "IND", "cash", "RUB")]
    assert receivable == o.outstanding("RUB") == Decimal("32500000.00")


def test_date_defaults_to_now_when_not_given(uow: FakeUnitOfWork) -> None:
    o = draft(uow, at=None)
    assert o.created_on is not None
    assert abs(o.created_on - date.today()) <= timedelta(days=1)
