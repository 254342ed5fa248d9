"""Obligations a multilateral netting creates (``receivable:P:netting``): due in the agreement's
cash window after posting, listed and alerted, and paid in cash, on the fake node."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from relos.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolation, ValidationError
from relos.domain.settlement import AlertKind
from relos.services import netting, reports, settlement
from tests.fakes import FakeUnitOfWork
from tests.trilateral import AS_OF, CASH_DAYS, CODE, PARTIES, load, posted_netting
from tests.unit.conftest import assert_books_consistent

ABBR = {
    "party_admin": "admin",
    "ordering_officer": "oo",
    "accepting_officer": "ao",
    "receiving_officer": "ro",
    "finance_officer": "fo",
}
POSTED_ON = date(2026, 6, 1)  # the approvals' day, after the statement's date
DUE = POSTED_ON + timedelta(days=CASH_DAYS)
PAY_AT = datetime(2026, 6, 10, 9, tzinfo=UTC)


def name(party: str, role: str) -> str:
    return f"{party.lower()}-{ABBR[role]}"


@pytest.fixture
def node() -> tuple[FakeUnitOfWork, str]:
    uow = FakeUnitOfWork()
    load(uow, name, with_parties=PARTIES)
    return uow, posted_netting(uow, name).number


def stored(uow: FakeUnitOfWork) -> tuple[Any, ...]:
    with uow:
        return (
            uow.ledger.entries(),
            uow.ledger.balances(),
            uow.netting.statements(),
            len(list(uow.audit.records())),
        )


def pay(uow: FakeUnitOfWork, number: str, who: str, amount: str, **kw: Any) -> netting.DebtPaid:
    args: dict[str, Any] = {
        "debtor": "IND",
        "creditor": "RUS",
        "amount": amount,
        "on": date(2026, 6, 10),
        "reference": f"UTR-{amount}",
        "at": PAY_AT,
    }
    return netting.pay(uow, who, number, **{**args, **kw})


def test_a_multilateral_netting_creates_obligations_due_in_the_cash_window(
    node: tuple[FakeUnitOfWork, str],
) -> None:
    uow, number = node
    st = netting.statement(uow, "usa-fo", number)
    assert [(p.payer, p.payee, p.new_obligation.number) for p in st.payments] == [
        ("IND", "RUS", Decimal("600.00")),
        ("IND", "USA", Decimal("300.00")),
    ]
    debts = netting.debts(uow, "ind-fo")
    assert [(d.debtor, d.creditor, d.outstanding.number, d.due_on) for d in debts] == [
        ("IND", "RUS", Decimal("600.00"), DUE),
        ("IND", "USA", Decimal("300.00"), DUE),
    ]
    assert all(d.posted_on == POSTED_ON and d.agreement == CODE for d in debts)
    with uow:
        bal = uow.ledger.balances()
    assert bal[("RUS", "receivable", "IND", "netting", "INR")] == Decimal("600.00")
    assert bal[("IND", "payable", "USA", "netting", "INR")] == Decimal("-300.00")
    assert st.as_of == AS_OF


def test_a_netting_obligation_is_paid_in_part_then_in_full_and_both_books_follow(
    node: tuple[FakeUnitOfWork, str],
) -> None:
    uow, number = node
    first = pay(uow, number, "ind-fo", "250.00")  # the payer records its payment
    assert first.replayed is False
    assert (first.payment.seq, first.payment.party, len(first.payment.digest)) == (1, "IND", 64)
    (left, _) = netting.debts(uow, "rus-fo", CODE)
    assert (left.paid.number, left.outstanding.number) == (Decimal("250.00"), Decimal("350.00"))
    pay(uow, number, "rus-fo", "350.00")  # the payee records the receipt of the rest
    assert [(d.debtor, d.creditor) for d in netting.debts(uow, "rus-fo")] == [("IND", "USA")]
    assert_books_consistent(uow)
    with uow:
        bal = uow.ledger.balances()
        actions = [r.action for r in uow.audit.records("netting", number)]
        entries = [e for e in uow.ledger.entries(order=number) if e.event == "cash"]
    assert ("RUS", "receivable", "IND", "netting", "INR") not in bal
    assert ("IND", "payable", "RUS", "netting", "INR") not in bal
    assert bal[("RUS", "settlement_cash", "", "", "INR")] == Decimal("600.00")
    assert bal[("IND", "settlement_cash", "", "", "INR")] == Decimal("-600.00")
    assert actions.count("netting.pay") == 2
    assert {e.book for e in entries} == {"IND", "RUS"}
    assert len(entries) == 4
    shown = netting.snapshot(netting.statement(uow, "ind-fo", number))
    assert [(p["payer"], p["amount"], p["reference"]) for p in shown["debt_payments"]] == [
        ("IND", "250.00", "UTR-250.00"),
        ("IND", "350.00", "UTR-350.00"),
    ]
    assert [o["outstanding"] for o in shown["obligations"]] == ["0.00", "300.00"]


def test_paying_more_than_outstanding_is_refused_naming_field_and_value_and_writes_nothing(
    node: tuple[FakeUnitOfWork, str],
) -> None:
    uow, number = node
    before = stored(uow)
    with pytest.raises(RuleViolation) as err:
        pay(uow, number, "ind-fo", "600.01")
    assert (err.value.rule, err.value.field, err.value.value) == (
        "settlement_exceeds_outstanding",
        "amount",
        "600.01 INR",
    )
    assert "600.00 INR" in str(err.value)
    assert stored(uow) == before


@pytest.mark.parametrize(
    ("who", "change", "error", "rule"),
    [
        ("usa-fo", {}, PermissionDenied, None),  # a finance officer of neither side
        ("ind-oo", {}, PermissionDenied, None),  # not a finance officer
        ("ind-fo", {"currency": "RUB"}, RuleViolation, "settlement_commodity"),
        ("ind-fo", {"on": date(2026, 5, 31)}, RuleViolation, "payment_before_netting"),
        ("ind-fo", {"debtor": "RUS", "creditor": "IND"}, NotFound, None),
        ("ind-fo", {"amount": "0"}, ValidationError, None),
        ("ind-fo", {"amount": "1.001"}, ValidationError, None),
        ("ind-fo", {"reference": "  "}, ValidationError, None),
    ],
)
def test_a_wrong_payment_of_a_netting_obligation_is_refused_and_writes_nothing(
    node: tuple[FakeUnitOfWork, str],
    who: str,
    change: dict[str, Any],
    error: type[Exception],
    rule: str | None,
) -> None:
    uow, number = node
    before = stored(uow)
    with pytest.raises(error) as err:
        pay(uow, number, who, change.pop("amount", "100.00"), **change)
    if rule:
        assert getattr(err.value, "rule", None) == rule
    assert stored(uow) == before


def test_the_same_reference_has_one_effect_and_other_content_is_a_conflict(
    node: tuple[FakeUnitOfWork, str],
) -> None:
    uow, number = node
    pay(uow, number, "ind-fo", "100.00", reference="UTR-1")
    after_first = stored(uow)
    again = pay(uow, number, "rus-fo", "100.00", reference="UTR-1")
    assert again.replayed is True
    assert again.payment.user == "ind-fo"  # the first record, returned as it was
    assert stored(uow) == after_first
    with pytest.raises(Conflict) as err:
        pay(uow, number, "ind-fo", "101.00", reference="UTR-1")
    assert (err.value.field, err.value.value) == ("reference", "UTR-1")
    with pytest.raises(PermissionDenied):  # a replay is no way around who may pay
        pay(uow, number, "usa-fo", "100.00", reference="UTR-1")
    assert stored(uow) == after_first


def test_netting_obligations_are_in_the_obligations_report_and_alert_both_sides(
    node: tuple[FakeUnitOfWork, str],
) -> None:
    uow, number = node
    rows = reports.obligations(uow, DUE + timedelta(days=5), party="USA")
    assert [
        (r.order, r.method, r.debtor, r.outstanding, r.due_on, r.days_overdue) for r in rows
    ] == [(number, "netting", "IND", Decimal("300.00"), DUE, 5)]
    assert reports.obligations(uow, DUE, party="RUS", overdue_only=True) == []

    def kinds(who: str, day: date) -> set[tuple[AlertKind, str, str]]:
        return {(a.kind, a.order, a.counterparty) for a in settlement.alerts(uow, who, day)}

    assert kinds("ind-fo", DUE - timedelta(days=20)) == set()
    assert kinds("usa-fo", DUE - timedelta(days=3)) == {(AlertKind.DUE_SOON, number, "IND")}
    assert kinds("ind-fo", DUE + timedelta(days=1)) == {
        (AlertKind.OVERDUE, number, "RUS"),
        (AlertKind.OVERDUE, number, "USA"),
    }
    assert kinds("ind-oo", DUE + timedelta(days=1)) == set()  # finance officers settle
    pay(uow, number, "usa-fo", "300.00", creditor="USA")
    assert kinds("usa-fo", DUE + timedelta(days=1)) == set()
    assert [r.debtor for r in reports.obligations(uow, DUE, party="USA")] == []


def test_netting_obligations_are_aged_with_the_orders_debts(
    node: tuple[FakeUnitOfWork, str],
) -> None:
    uow, number = node
    rows = reports.aging(uow, DUE + timedelta(days=31), party="USA")
    assert [(r.debtor, r.creditor, r.commodity, r.days_31_60, r.total) for r in rows] == [
        ("IND", "USA", "INR", Decimal("300.00"), Decimal("300.00"))
    ]
    pay(uow, number, "usa-fo", "300.00", creditor="USA")
    assert reports.aging(uow, DUE, party="USA") == []


def test_a_netting_obligation_is_owed_as_of_a_day_from_its_posting_until_its_payment(
    node: tuple[FakeUnitOfWork, str],
) -> None:
    uow, number = node
    pay(uow, number, "usa-fo", "300.00", creditor="USA")  # on 2026-06-10

    def owed(day: date) -> list[tuple[str, Decimal]]:
        rows = reports.obligations(uow, day, party="USA")
        return [(r.order, r.outstanding) for r in rows if r.method == "netting"]

    assert owed(POSTED_ON - timedelta(days=1)) == []
    assert owed(POSTED_ON) == [(number, Decimal("300.00"))]
    assert owed(date(2026, 6, 9)) == [(number, Decimal("300.00"))]
    assert owed(date(2026, 6, 10)) == []
    aged = reports.aging(uow, date(2026, 6, 9), party="USA")
    assert [(r.debtor, r.creditor, r.total) for r in aged] == [("IND", "USA", Decimal("300.00"))]
    assert reports.aging(uow, date(2026, 6, 10), party="USA") == []
