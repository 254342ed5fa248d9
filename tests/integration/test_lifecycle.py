"""Order lifecycles through the real services on SQLite and PostgreSQL: both directions, every
reimbursement method, partial receipts and settlements, amendment and reversal; and refused actions
that leave nothing behind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from relos.domain.errors import PermissionDenied, RelosError
from relos.domain.ledger import BalanceKey, mirror_mismatches
from relos.domain.orders import OrderState
from relos.services import ordering, reports
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.integration.builders import (
    DATA,
    NSN_OIL_COMMODITY,
    at,
    lifecycle,
    placed,
    snapshot,
    world,
)

D = Decimal
S = OrderState


def kept(uow: SqlUnitOfWork) -> dict[BalanceKey, Decimal]:
    with uow:
        bal = uow.ledger.balances()
        assert bal == uow.ledger.summed_balances()
    assert mirror_mismatches(bal) == []
    return bal


def owed(uow: SqlUnitOfWork, creditor: str, debtor: str, method: str, commodity: str) -> Decimal:
    """The creditor's receivable (checked against the debtor's payable by `kept`)."""
    return kept(uow).get((creditor, "receivable", debtor, method, commodity), D(0))


def test_cash_order_runs_from_draft_to_closed_through_amendment_reversal_and_partial_payment(
    uow: SqlUnitOfWork,
) -> None:
    world(uow)
    day = date(2026, 3, 1)
    n = placed(uow, "IND", "cash", [("F76", "400"), ("WATER", "100")], day)
    assert ordering.show(uow, n).state is S.ACCEPTED
    assert kept(uow) == {}

    o = ordering.receive(uow, "in_receive", n, [(1, "150")], day, at(day, 13))
    assert o.state is S.PARTIALLY_RECEIVED
    assert owed(uow, "RUS", "IND", "cash", "RUB") == D("9750000.00")

    o = ordering.amend(uow, "in_order", n, [("F76", "500"), ("WATER", "100")], at=at(day, 14))
    assert o.state is S.SUBMITTED
    assert o.revision == 2
    assert owed(uow, "RUS", "IND", "cash", "RUB") == D("9750000.00")  # receipts stay
    o = ordering.accept(uow, "ru_accept", n, at(day, 15))
    assert o.state is S.PARTIALLY_RECEIVED  # an accepted amendment keeps the receipt made

    o = ordering.receive_all(uow, "in_receive", n, date(2026, 3, 2), at(date(2026, 3, 2)))
    assert o.state is S.RECEIVED
    assert [ln.quantity for ln in o.lines] == [o.received_quantity(1), o.received_quantity(2)]
    total = D("32515025.00")  # 500 t x 65,000.00 + 100 m3 x 150.25
    assert owed(uow, "RUS", "IND", "cash", "RUB") == total

    o = ordering.invoice(uow, "ru_finance", n, date(2026, 3, 3), at(date(2026, 3, 3)))
    assert o.state is S.INVOICED
    assert o.invoices[-1].value.number == total

    o = ordering.settle(uow, "in_finance", n, "1000000.00", on=date(2026, 3, 10))
    assert o.state is S.INVOICED
    assert owed(uow, "RUS", "IND", "cash", "RUB") == total - D("1000000.00")
    o = ordering.reverse(uow, "in_finance", n, 1, "keyed twice", at(date(2026, 3, 11)))
    assert o.state is S.INVOICED
    assert owed(uow, "RUS", "IND", "cash", "RUB") == total
    with uow:
        reversal = [e for e in uow.ledger.entries(order=n) if e.event == "reversal"]
    assert {e.book for e in reversal} == {"IND", "RUS"}
    assert {e.reverses for e in reversal} == {f"{n}/S1"}

    o = ordering.settle(uow, "in_finance", n, "20000000.00", on=date(2026, 3, 12))
    assert o.state is S.INVOICED  # partial settlement stays invoiced
    assert ordering.outstanding_total(o) == {"RUB": D("12515025.00")}
    o = ordering.settle(uow, "ru_finance", n, "12515025.00", on=date(2026, 3, 13))
    assert o.state is S.SETTLED
    o = ordering.close(uow, "ru_finance", n, at(date(2026, 3, 14)))
    assert o.state is S.CLOSED

    bal = kept(uow)
    assert ("RUS", "receivable", "IND", "cash", "RUB") not in bal
    assert ("IND", "payable", "RUS", "cash", "RUB") not in bal
    assert bal[("RUS", "settlement_cash", "", "", "RUB")] == total
    assert bal[("IND", "settlement_cash", "", "", "RUB")] == -total
    assert bal[("RUS", "support_provided", "IND", "", "RUB")] == -total
    assert bal[("IND", "support_received", "RUS", "", "RUB")] == total
    actions = [s.action for s in ordering.show(uow, n).signatures]
    assert actions == [
        "submit",
        "accept",
        "receive",
        "amend",
        "accept",
        "receive",
        "invoice",
        "settle",
        "reverse",
        "settle",
        "settle",
        "close",
    ]


def test_rik_debt_is_counted_and_returned_in_the_items_own_commodity(uow: SqlUnitOfWork) -> None:
    world(uow)
    n = placed(uow, "RUS", "rik", [("F76", "120.5")], date(2026, 3, 4))
    ordering.receive(uow, "ru_receive", n, [(1, "70.25")], date(2026, 3, 5), at(date(2026, 3, 5)))
    assert owed(uow, "IND", "RUS", "rik", "F76_T") == D("70.250")
    ordering.receive_all(uow, "ru_receive", n, date(2026, 3, 6), at(date(2026, 3, 6)))
    o = ordering.invoice(uow, "in_finance", n, date(2026, 3, 7), at(date(2026, 3, 7)))
    assert [(a.number, a.commodity) for a in o.invoices[-1].amounts] == [(D("120.500"), "F76_T")]
    assert o.invoices[-1].value.number == D("10242500.00")  # valued in INR for reports only

    o = ordering.settle(uow, "ru_finance", n, "50", "F76_T", date(2026, 4, 1))
    assert o.state is S.INVOICED
    bal = kept(uow)
    assert bal[("IND", "receivable", "RUS", "rik", "F76_T")] == D("70.500")
    assert bal[("IND", "support_returned", "RUS", "", "F76_T")] == D("50.000")
    assert bal[("RUS", "support_returned", "IND", "", "F76_T")] == D("-50.000")
    assert all(k[4] == "F76_T" for k in bal), "a RIK order posts no money"

    o = ordering.settle(uow, "in_finance", n, "70.5", "F76_T", date(2026, 4, 2))
    assert o.state is S.SETTLED
    assert owed(uow, "IND", "RUS", "rik", "F76_T") == D(0)


def test_eve_debt_is_cleared_by_other_support_of_equal_value(uow: SqlUnitOfWork) -> None:
    world(uow)
    n = placed(uow, "IND", "eve", [("WATER", "200")], date(2026, 3, 8))
    ordering.receive(uow, "in_receive", n, [(1, "120")], date(2026, 3, 8), at(date(2026, 3, 8)))
    ordering.receive(uow, "in_receive", n, [(1, "80")], date(2026, 3, 9), at(date(2026, 3, 9)))
    ordering.invoice(uow, "ru_finance", n, date(2026, 3, 10), at(date(2026, 3, 10)))
    assert owed(uow, "RUS", "IND", "eve", "RUB") == D("30050.00")

    o = ordering.settle(uow, "in_finance", n, "10000.00", on=date(2026, 3, 30))
    assert o.state is S.INVOICED
    bal = kept(uow)
    assert bal[("RUS", "receivable", "IND", "eve", "RUB")] == D("20050.00")
    # the provider of the equal-value support (IND) books it as support provided
    assert bal[("IND", "support_provided", "RUS", "", "RUB")] == D("-10000.00")
    assert bal[("RUS", "support_received", "IND", "", "RUB")] == D("10000.00")
    assert ("IND", "settlement_cash", "", "", "RUB") not in bal


def test_orders_in_both_directions_leave_mirrored_books(uow: SqlUnitOfWork) -> None:
    world(uow)
    built = lifecycle(uow)
    states = {n: ordering.show(uow, n).state for n in vars(built).values()}
    assert states == {
        built.cash_in: S.CLOSED,
        built.rik_ru: S.INVOICED,
        built.eve_in: S.INVOICED,
        built.cash_ru: S.CLOSED,
    }
    bal = kept(uow)
    receivables = {k: v for k, v in bal.items() if k[1] == "receivable"}
    assert receivables == {
        ("IND", "receivable", "RUS", "rik", "F76_T"): D("70.500"),
        ("IND", "receivable", "RUS", "rik", NSN_OIL_COMMODITY): D("200.000"),
        ("RUS", "receivable", "IND", "eve", "RUB"): D("20050.00"),
    }
    assert bal[("IND", "settlement_cash", "", "", "INR")] == D("112625.00")
    assert bal[("RUS", "settlement_cash", "", "", "INR")] == D("-112625.00")
    rows = reports.obligations(uow, date(2026, 12, 31))
    assert {(r.order, r.creditor, r.commodity, r.outstanding) for r in rows} == {
        (built.rik_ru, "IND", "F76_T", D("70.500")),
        (built.rik_ru, "IND", NSN_OIL_COMMODITY, D("200.000")),
        (built.eve_in, "RUS", "RUB", D("20050.00")),
    }


# -- refused actions leave nothing written --------------------------------------------------------

Setup = Callable[[SqlUnitOfWork], Callable[[], object]]


def _received_in_part(uow: SqlUnitOfWork) -> str:
    n = placed(uow, "IND", "cash", [("F76", "400")])
    ordering.receive(uow, "in_receive", n, [(1, "150")], date(2026, 3, 1), at(date(2026, 3, 1)))
    return n


def _invoiced(uow: SqlUnitOfWork, method: str = "cash") -> str:
    n = placed(uow, "RUS", method, [("F76", "10")])
    ordering.receive_all(uow, "ru_receive", n, date(2026, 3, 2), at(date(2026, 3, 2)))
    ordering.invoice(uow, "in_finance", n, date(2026, 3, 3), at(date(2026, 3, 3)))
    return n


def receipt_beyond_ordered(uow: SqlUnitOfWork) -> Callable[[], object]:
    n = _received_in_part(uow)
    return lambda: ordering.receive(
        uow, "in_receive", n, [(1, "250.001")], date(2026, 3, 2), at(date(2026, 3, 2))
    )


def settlement_beyond_outstanding(uow: SqlUnitOfWork) -> Callable[[], object]:
    n = _invoiced(uow)
    ordering.settle(uow, "ru_finance", n, "500000.00", on=date(2026, 3, 4))
    return lambda: ordering.settle(uow, "ru_finance", n, "350000.01", on=date(2026, 3, 5))


def wrong_party_accepting(uow: SqlUnitOfWork) -> Callable[[], object]:
    o = ordering.draft(
        uow,
        "in_order",
        agreement="RELOS",
        supplying="RUS",
        facility="RUSMR",
        unit="INS-TABAR",
        method="cash",
        use="port_call",
        required_by=date(2026, 4, 30),
        lines=[("F76", "10")],
        data=DATA,
        at=at(date(2026, 3, 1)),
    )
    ordering.submit(uow, "in_order", o.number, at(date(2026, 3, 1)))
    return lambda: ordering.accept(uow, "in_accept", o.number, at(date(2026, 3, 1), 13))


def receipt_while_amendment_awaits_acceptance(uow: SqlUnitOfWork) -> Callable[[], object]:
    n = _received_in_part(uow)
    ordering.amend(uow, "in_order", n, [("F76", "500")], at=at(date(2026, 3, 1), 14))
    return lambda: ordering.receive(
        uow, "in_receive", n, [(1, "10")], date(2026, 3, 2), at(date(2026, 3, 2))
    )


def cancel_after_receipt(uow: SqlUnitOfWork) -> Callable[[], object]:
    n = _received_in_part(uow)
    return lambda: ordering.cancel(uow, "in_order", n, "no longer needed", at(date(2026, 3, 2)))


def rik_settled_in_money(uow: SqlUnitOfWork) -> Callable[[], object]:
    n = _invoiced(uow, "rik")
    return lambda: ordering.settle(uow, "ru_finance", n, "850000.00", "INR", date(2026, 3, 5))


def reversal_of_a_reversed_settlement(uow: SqlUnitOfWork) -> Callable[[], object]:
    n = _invoiced(uow)
    ordering.settle(uow, "ru_finance", n, "1000.00", on=date(2026, 3, 4))
    ordering.reverse(uow, "ru_finance", n, 1, "duplicate", at(date(2026, 3, 5)))
    return lambda: ordering.reverse(uow, "in_finance", n, 1, "again", at(date(2026, 3, 6)))


REFUSALS: dict[str, tuple[Setup, type[RelosError], str]] = {
    "receipt_beyond_ordered": (receipt_beyond_ordered, RelosError, "receipt_exceeds_order"),
    "settlement_beyond_outstanding": (
        settlement_beyond_outstanding,
        RelosError,
        "settlement_exceeds_outstanding",
    ),
    "wrong_party_accepting": (wrong_party_accepting, PermissionDenied, "permission_denied"),
    "receipt_while_amendment_awaits_acceptance": (
        receipt_while_amendment_awaits_acceptance,
        RelosError,
        "invalid_transition",
    ),
    "cancel_after_receipt": (cancel_after_receipt, RelosError, "cancel_after_receipt"),
    "rik_settled_in_money": (rik_settled_in_money, RelosError, "settlement_commodity"),
    "reversal_of_a_reversed_settlement": (
        reversal_of_a_reversed_settlement,
        RelosError,
        "already_reversed",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_action_writes_no_signature_no_entry_and_no_state_change(
    case: str, engine: Engine
) -> None:
    uow = SqlUnitOfWork(engine)
    world(uow)
    setup, error, rule = REFUSALS[case]
    refused = setup(uow)
    before = snapshot(engine)
    assert before["signatures"], "the setup signed something"
    with pytest.raises(error) as caught:
        refused()
    assert caught.value.rule == rule, str(caught.value)
    assert snapshot(engine) == before
