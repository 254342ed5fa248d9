"""Netting and rates use cases on the fake node: who may act, all-or-nothing, stale proposals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from relos.domain.errors import Invalid, PermissionDenied, RuleViolation
from relos.domain.netting import StatementState
from relos.domain.orders import OrderState
from relos.services import netting, ordering
from tests.fakes import FakeUnitOfWork
from tests.unit.conftest import assert_books_consistent, later, snapshot, to_invoiced

RATES_CSV = "date,pair,rate,source\n2026-03-01,RUB/INR,1.05,CBR\n2026-03-20,RUBINR,1.10,CBR\n"
AS_OF = date(2026, 3, 31)


def two_way(uow: FakeUnitOfWork) -> tuple[str, str]:
    """IND owes RUS 26,000,000 RUB; RUS owes IND 12,050 INR (fresh water)."""
    a = to_invoiced(uow)
    b = to_invoiced(
        uow,
        actor="rus-oo",
        supplying="IND",
        facility="IN-VTZ",
        unit="RFS-GORSHKOV",
        lines=[("FW", "100")],
    )
    netting.import_rates(uow, RATES_CSV)
    return a.number, b.number


def test_a_full_netting_needs_both_parties_and_then_posts(uow: FakeUnitOfWork) -> None:
    a, b = two_way(uow)
    st = netting.propose(uow, "ind-fo", "RELOS", AS_OF, at=later(20))
    assert st.currency == "RUB"  # the creditor's currency: the payment stays on its invoice
    assert [(p.payer, p.payee, p.amount.number) for p in st.payments] == [
        ("IND", "RUS", Decimal("25989045.45"))  # 12,050 INR at 1/1.10 = 10,954.55 RUB
    ]
    st = netting.approve(uow, "ind-fo", st.number, at=later(21))
    assert st.state is StatementState.PROPOSED
    with uow:
        assert uow.ledger.entries() == [e for e in uow.ledger.entries() if e.event != "netting"]
    st = netting.approve(uow, "rus-fo", st.number, at=later(22))
    assert st.state is StatementState.POSTED
    assert ordering.show(uow, b).state is OrderState.SETTLED
    oa = ordering.show(uow, a)
    assert oa.state is OrderState.INVOICED
    assert oa.outstanding("RUB") == Decimal("25989045.45")
    assert_books_consistent(uow)
    with uow:
        bal = uow.ledger.balances()
        assert bal[("RUS", "receivable", "IND", "cash", "RUB")] == oa.outstanding("RUB")
        assert ("IND", "receivable", "RUS", "cash", "INR") not in bal
        actions = [r.action for r in uow.audit.records()]
    assert actions.count("netting.approve") == 2
    assert "order.net" in actions


def test_a_party_cannot_approve_twice(uow: FakeUnitOfWork) -> None:
    two_way(uow)
    st = netting.propose(uow, "rus-fo", "RELOS", AS_OF)
    netting.approve(uow, "ind-fo", st.number)
    with pytest.raises(RuleViolation) as err:
        netting.approve(uow, "ind-fo", st.number)
    assert err.value.rule == "netting_already_approved"


@pytest.mark.parametrize("who", ["ind-oo", "rus-ao", "ind-admin"])
def test_only_a_finance_officer_proposes_or_approves(uow: FakeUnitOfWork, who: str) -> None:
    two_way(uow)
    with pytest.raises(PermissionDenied):
        netting.propose(uow, who, "RELOS", AS_OF)
    st = netting.propose(uow, "ind-fo", "RELOS", AS_OF)
    before = snapshot(uow)
    with pytest.raises(PermissionDenied):
        netting.approve(uow, who, st.number)
    assert snapshot(uow) == before
    assert netting.statement(uow, "ind-fo", st.number).approvals == []


def test_a_stale_proposal_cannot_be_posted_and_nothing_is_written(uow: FakeUnitOfWork) -> None:
    a, _ = two_way(uow)
    st = netting.propose(uow, "ind-fo", "RELOS", AS_OF)
    netting.approve(uow, "ind-fo", st.number)
    ordering.settle(uow, "ind-fo", a, "1000", at=later(25))
    before = snapshot(uow)
    with pytest.raises(RuleViolation) as err:
        netting.approve(uow, "rus-fo", st.number)
    assert err.value.rule == "netting_stale"
    assert snapshot(uow) == before
    assert netting.statement(uow, "rus-fo", st.number).state is StatementState.PROPOSED


def test_rates_import_is_all_or_nothing_and_names_line_and_field(uow: FakeUnitOfWork) -> None:
    bad = "date,pair,rate,source\n2026-03-01,RUB/INR,1.05,CBR\n2026-03-02,RUB/INR,1,05,CBR\n"
    bad += "2026-13-01,RUB/INR,1.05,CBR\n2026-03-03,RUB/XYZ,1,CBR\n"
    with pytest.raises(Invalid) as err:
        netting.import_rates(uow, bad)
    text = str(err.value)
    assert "line 4: date" in text
    assert "2026-13-01" in text
    assert "line 5: pair" in text
    assert "RUB/XYZ" in text
    assert netting.rates(uow) == []


def test_reimporting_identical_rates_is_idempotent_a_conflict_is_refused(
    uow: FakeUnitOfWork,
) -> None:
    assert len(netting.import_rates(uow, RATES_CSV).added) == 2
    again = netting.import_rates(uow, RATES_CSV)
    assert (again.added, again.unchanged) == ([], 2)
    with pytest.raises(Invalid) as err:
        netting.import_rates(uow, "date,pair,rate,source\n2026-03-01,RUB/INR,1.06,CBR\n")
    assert err.value.rule == "rate_conflict"
    assert [r.rate for r in netting.rates(uow, "RUB/INR")] == [Decimal("1.05"), Decimal("1.10")]


def test_a_statement_is_seen_by_users_of_its_parties_and_exported_as_csv(
    uow: FakeUnitOfWork,
) -> None:
    two_way(uow)
    st = netting.propose(uow, "ind-fo", "RELOS", AS_OF)
    assert [s.number for s in netting.statements(uow, "rus-ao")] == [st.number]
    csv = netting.statement_csv(st)
    assert csv.splitlines()[0].startswith("statement,kind,order")
    assert len(csv.splitlines()) == 1 + len(st.lines) + len(st.payments)


def test_a_netting_settlement_is_not_reversed_per_order(uow: FakeUnitOfWork) -> None:
    _, b = two_way(uow)
    st = netting.propose(uow, "ind-fo", "RELOS", AS_OF, at=later(20))
    netting.approve(uow, "ind-fo", st.number, at=later(21))
    netting.approve(uow, "rus-fo", st.number, at=later(22))
    ob = ordering.show(uow, b)
    assert [s.kind.value for s in ob.settlements] == ["netting"]
    assert ob.settlements[0].note == st.number
    before = snapshot(uow)
    with pytest.raises(RuleViolation) as err:
        ordering.reverse(uow, "ind-fo", b, 1, "try to undo", at=later(23))
    assert err.value.rule == "netting_not_reversible"
    assert snapshot(uow) == before


def test_a_posted_statement_takes_no_more_approvals(uow: FakeUnitOfWork) -> None:
    two_way(uow)
    st = netting.propose(uow, "ind-fo", "RELOS", AS_OF)
    netting.approve(uow, "ind-fo", st.number)
    netting.approve(uow, "rus-fo", st.number)
    with pytest.raises(RuleViolation) as err:
        netting.approve(uow, "rus-fo", st.number)
    assert err.value.rule == "netting_not_proposed"
