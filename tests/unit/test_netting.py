"""Netting arithmetic: positions, fewest payments, coverage, one-currency postings, rounding."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from relos.domain.errors import NotFound, RuleViolation
from relos.domain.ledger import balances, mirror_mismatches
from relos.domain.money import Amount
from relos.domain.netting import Obligation, Statement, check_fresh, post, propose
from relos.domain.rates import Rate

AS_OF = date(2026, 3, 31)
AT = datetime(2026, 3, 31, 12, tzinfo=UTC)
RATES = [
    Rate(date(2026, 3, 1), "RUB", "INR", Decimal("1.05"), "CBR"),
    Rate(date(2026, 3, 20), "RUB", "INR", Decimal("1.10"), "CBR"),
    Rate(date(2026, 3, 1), "USD", "INR", Decimal("83.00"), "CBR"),
]


def rub(n: str) -> Amount:
    return Amount(Decimal(n), "RUB")


def inr(n: str) -> Amount:
    return Amount(Decimal(n), "INR")


def ob(order: str, debtor: str, creditor: str, a: Amount, day: int = 5) -> Obligation:
    return Obligation(order, debtor, creditor, a, date(2026, 3, day))


def net(
    obs: list[Obligation],
    parties: tuple[str, ...] = ("IND", "RUS"),
    currency: str = "INR",
    rule: str = "netting_date",
) -> Statement:
    return propose(
        "NET-1",
        "RELOS",
        parties,
        AS_OF,
        obs,
        RATES,
        rule=rule,
        source="CBR",
        currency=currency,
        proposed_by="ind-fo",
        proposed_at=AT,
    )


def test_two_parties_offset_and_one_net_payment_stays_on_the_creditors_invoices() -> None:
    # IND owes RUS 1,000 RUB (= 1,100 INR at 1.10); RUS owes IND 1,500 INR and 500 INR
    st = net(
        [
            ob("A", "IND", "RUS", rub("1000")),
            ob("B", "RUS", "IND", inr("1500"), 6),
            ob("C", "RUS", "IND", inr("500"), 7),
        ]
    )
    assert {p: a.number for p, a in st.positions().items()} == {
        "IND": Decimal("900.00"),
        "RUS": Decimal("-900.00"),
    }
    assert [(p.payer, p.payee, p.amount) for p in st.payments] == [("RUS", "IND", inr("900.00"))]
    assert st.payments[0].new_obligation.is_zero()
    covered = {ln.order: ln.covered for ln in st.lines}
    # the latest invoice keeps what is left to pay: C keeps 500, B keeps 400
    assert covered == {"A": rub("1000"), "B": inr("1100.00"), "C": inr("0")}
    a = st.lines[0]
    assert (a.rate, a.rate_on, a.source) == (Decimal("1.10"), date(2026, 3, 20), "CBR")
    assert st.trading_imbalance() == {}


def test_the_rate_of_the_invoice_date_under_that_rule() -> None:
    st = net(
        [ob("A", "IND", "RUS", rub("1000"), 5), ob("B", "RUS", "IND", inr("2000"))],
        rule="invoice_date",
    )
    assert (st.lines[0].rate, st.lines[0].converted) == (Decimal("1.05"), inr("1050.00"))


def test_posting_never_mixes_currencies_and_the_trading_account_is_equal_at_the_rate() -> None:
    st = net([ob("A", "IND", "RUS", rub("1000")), ob("B", "RUS", "IND", inr("2000"))])
    entries = post(st, AS_OF)
    assert all(len({p.amount.commodity for p in e.postings}) == 1 for e in entries)
    assert all(not e.unbalanced() for e in entries)
    bal = balances(entries)
    for book in ("IND", "RUS"):
        netting = {k[4]: v for k, v in bal.items() if k[0] == book and k[1] == "netting"}
        assert netting["RUB"] * Decimal("1.10") == -netting["INR"]
    assert bal[("RUS", "receivable", "IND", "cash", "RUB")] == Decimal("-1000")
    assert bal[("IND", "payable", "RUS", "cash", "RUB")] == Decimal("1000")
    assert bal[("IND", "receivable", "RUS", "cash", "INR")] == Decimal("-1100.00")
    assert mirror_mismatches(bal) == []


def test_netting_in_the_other_currency_converts_the_other_side() -> None:
    st = net(
        [ob("A", "IND", "RUS", rub("1000")), ob("B", "RUS", "IND", inr("1.01"))], currency="RUB"
    )
    # 1.01 INR at 1/1.10 = 0.909090909091 -> 0.918181818... -> 0.92 RUB (half-even)
    assert st.lines[1].converted == rub("0.92")
    assert st.payments[0].amount == rub("999.08")
    assert st.lines[0].covered == rub("0.92")
    assert st.trading_imbalance() == {}


def test_obligations_that_offset_exactly_leave_no_payment() -> None:
    st = net([ob("A", "IND", "RUS", rub("1000")), ob("B", "RUS", "IND", inr("1100"))])
    assert st.payments == []
    assert all(ln.remaining.is_zero() for ln in st.lines)


def test_three_parties_settle_in_at_most_two_payments() -> None:
    # a chain: IND owes RUS 1,100 INR-worth, RUS owes USA 500 INR, USA owes IND 200 INR
    st = net(
        [
            ob("A", "IND", "RUS", rub("1000")),
            ob("B", "RUS", "USA", inr("500")),
            ob("C", "USA", "IND", inr("200")),
        ],
        parties=("IND", "RUS", "USA"),
    )
    pos = {p: a.number for p, a in st.positions().items()}
    assert pos == {"IND": Decimal("-900.00"), "RUS": Decimal("600.00"), "USA": Decimal("300")}
    assert sum(pos.values()) == 0
    pays = [(p.payer, p.payee, p.amount.number) for p in st.payments]
    assert pays == [("IND", "RUS", Decimal("600.00")), ("IND", "USA", Decimal("300.00"))]
    # IND has no invoice of USA's to leave 300 on: a new obligation, posted in one currency
    assert [p.new_obligation.number for p in st.payments] == [Decimal("600.00"), Decimal("300.00")]
    entries = post(st, AS_OF)
    assert all(len({p.amount.commodity for p in e.postings}) == 1 for e in entries)
    bal = balances(entries)
    assert mirror_mismatches(bal) == []
    assert bal[("USA", "receivable", "IND", "netting", "INR")] == Decimal("300.00")
    assert st.trading_imbalance() == {}


def test_a_three_party_cycle_cancels_out() -> None:
    st = net(
        [
            ob("A", "IND", "RUS", inr("100")),
            ob("B", "RUS", "USA", inr("100")),
            ob("C", "USA", "IND", inr("100")),
        ],
        parties=("IND", "RUS", "USA"),
    )
    assert st.payments == []
    assert all(ln.covered == inr("100") for ln in st.lines)


def test_a_missing_rate_refuses_the_proposal() -> None:
    with pytest.raises(NotFound):
        net([ob("A", "IND", "RUS", Amount(Decimal(10), "JPY")), ob("B", "RUS", "IND", inr("1"))])


def test_nothing_to_net_is_refused() -> None:
    with pytest.raises(RuleViolation) as err:
        net([])
    assert err.value.rule == "netting_nothing_to_net"


def test_a_changed_obligation_makes_the_statement_stale() -> None:
    obs = [ob("A", "IND", "RUS", rub("1000")), ob("B", "RUS", "IND", inr("2000"))]
    st = net(obs)
    check_fresh(st, obs)
    with pytest.raises(RuleViolation) as err:
        check_fresh(st, [obs[0], ob("B", "RUS", "IND", inr("1999"))])
    assert err.value.rule == "netting_stale"
