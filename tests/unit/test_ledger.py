"""Posting rules of DESIGN.md: C supplies, D receives; each entry balances per commodity."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from relos.domain.agreements import Method
from relos.domain.errors import RuleViolation
from relos.domain.ledger import Entry, Posting, balances, mirror_mismatches, post_receipt
from relos.domain.ledger import post_settlement as post
from relos.domain.money import Amount
from relos.domain.orders import Order
from tests.fakes import World
from tests.unit.conftest import DAY, OrderFactory, accepted, invoiced, later, officer


def rub(n: str) -> Amount:
    return Amount.of(n, "RUB")


def lines(e: Entry) -> set[tuple[str, Amount]]:
    return {(p.name, p.amount) for p in e.postings}


def receipt_entries(o: Order, w: World, qty: str) -> list[Entry]:
    r = o.receive(officer(w, o.requesting, "ro"), later(1), DAY, [(1, Decimal(qty))])
    return post_receipt(o, r)


def test_a_cash_receipt_posts_a_receivable_for_c_and_a_payable_for_d(
    make_order: OrderFactory, w: World
) -> None:
    o = accepted(make_order(), w)
    c, d = receipt_entries(o, w, "150")
    assert (c.book, d.book) == ("RUS", "IND")
    assert c.txn == d.txn == f"{o.number}/R1"
    assert c.event == d.event == "receipt"
    assert c.on == d.on == DAY
    assert lines(c) == {
        ("receivable:IND:cash", rub("9750000")),
        ("support_provided:IND", rub("-9750000")),
    }
    assert lines(d) == {
        ("support_received:RUS", rub("9750000")),
        ("payable:RUS:cash", rub("-9750000")),
    }


def test_a_rik_receipt_is_posted_in_the_items_commodity_not_in_money(
    make_order: OrderFactory, w: World
) -> None:
    o = accepted(make_order(method=Method.RIK), w)
    c, d = receipt_entries(o, w, "400")
    t = Amount(Decimal(400), "DIESEL_T")
    assert lines(c) == {("receivable:IND:rik", t), ("support_provided:IND", -t)}
    assert lines(d) == {("support_received:RUS", t), ("payable:RUS:rik", -t)}


def test_an_eve_receipt_is_posted_in_money_under_eve(make_order: OrderFactory, w: World) -> None:
    o = accepted(make_order(method=Method.EVE, lines=[("RATION", "2")]), w)
    c, d = receipt_entries(o, w, "2")
    assert ("receivable:IND:eve", rub("1801.00")) in lines(c)
    assert ("payable:RUS:eve", rub("-1801.00")) in lines(d)


def test_a_receipt_of_several_lines_posts_their_value_once_per_account(
    make_order: OrderFactory, w: World
) -> None:
    """DESIGN.md's rule: a receipt of value A posts A, one posting per account: the lines'
    values are summed per commodity (65,000 + 1,500 RUB)."""
    o = accepted(make_order(lines=[("F76", "1"), ("WATER", "10")]), w)
    r = o.receive(officer(w, "IND", "ro"), later(1), DAY, [(1, Decimal(1)), (2, Decimal(10))])
    c, d = post_receipt(o, r)
    assert lines(c) == {
        ("receivable:IND:cash", rub("66500.00")),
        ("support_provided:IND", rub("-66500.00")),
    }
    assert lines(d) == {
        ("support_received:RUS", rub("66500.00")),
        ("payable:RUS:cash", rub("-66500.00")),
    }
    assert len(c.postings) == len(d.postings) == 2


def test_a_rik_receipt_of_two_items_posts_each_items_commodity_apart(
    make_order: OrderFactory, w: World
) -> None:
    o = accepted(
        make_order(method=Method.RIK, lines=[("F76", "1"), ("WATER", "10"), ("F76", "2")]), w
    )
    got = [(1, Decimal(1)), (2, Decimal(10)), (3, Decimal(2))]
    r = o.receive(officer(w, "IND", "ro"), later(1), DAY, got)
    c, d = post_receipt(o, r)
    diesel = Amount(Decimal(3), o.lines[0].commodity)
    water = Amount(Decimal(10), o.lines[1].commodity)
    assert diesel.commodity != water.commodity
    assert lines(c) == {
        ("receivable:IND:rik", diesel),
        ("support_provided:IND", -diesel),
        ("receivable:IND:rik", water),
        ("support_provided:IND", -water),
    }
    assert lines(d) == {
        ("support_received:RUS", diesel),
        ("payable:RUS:rik", -diesel),
        ("support_received:RUS", water),
        ("payable:RUS:rik", -water),
    }
    assert len(c.postings) == len(d.postings) == 4


def test_a_cash_payment_clears_the_receivable_and_the_payable(
    make_order: OrderFactory, w: World
) -> None:
    o = invoiced(make_order(), w)
    s = o.settle(officer(w, "IND", "fo"), later(9), date(2026, 3, 20), rub("1000"))
    c, d = post(o, s)
    assert c.txn == f"{o.number}/S1"
    assert (c.event, c.on) == ("cash", date(2026, 3, 20))
    assert lines(c) == {("settlement_cash", rub("1000")), ("receivable:IND:cash", rub("-1000"))}
    assert lines(d) == {("payable:RUS:cash", rub("1000")), ("settlement_cash", rub("-1000"))}


def test_a_rik_return_clears_the_commodity(make_order: OrderFactory, w: World) -> None:
    o = invoiced(make_order(method=Method.RIK), w)
    t = Amount(Decimal(400), "DIESEL_T")
    c, d = post(o, o.settle(officer(w, "IND", "fo"), later(9), DAY, t))
    assert c.event == "rik_return"
    assert lines(c) == {("support_returned:IND", t), ("receivable:IND:rik", -t)}
    assert lines(d) == {("payable:RUS:rik", t), ("support_returned:RUS", -t)}


def test_an_eve_provision_is_support_received_by_c(make_order: OrderFactory, w: World) -> None:
    o = invoiced(make_order(method=Method.EVE), w)
    v = rub("500000")
    c, d = post(o, o.settle(officer(w, "IND", "fo"), later(9), DAY, v))
    assert c.event == "eve_provision"
    assert lines(c) == {("support_received:IND", v), ("receivable:IND:eve", -v)}
    assert lines(d) == {("payable:RUS:eve", v), ("support_provided:RUS", -v)}


def test_a_reversal_posts_the_negation_and_names_what_it_reverses(
    make_order: OrderFactory, w: World
) -> None:
    o = invoiced(make_order(), w)
    fo = officer(w, "IND", "fo")
    first = post(o, o.settle(fo, later(9), DAY, rub("1000")))
    undo = post(o, o.reverse_settlement(fo, later(10), 1, "wrong account"))
    for orig, rev in zip(first, undo, strict=True):
        assert rev.event == "reversal"
        assert rev.reverses == orig.txn
        assert rev.txn == f"{o.number}/S2"
        assert lines(rev) == {(n, -a) for n, a in lines(orig)}
        assert "wrong account" in rev.description
    assert balances(first + undo) == {}


def test_an_entry_that_does_not_balance_is_refused() -> None:
    e = Entry(
        "RUS",
        "T1",
        DAY,
        "receipt",
        "X",
        (Posting("receivable", rub("10"), "IND", "cash"), Posting("support_provided", rub("-9"))),
    )
    with pytest.raises(RuleViolation) as err:
        e.check()
    assert (err.value.rule, err.value.field) == ("entry_unbalanced", "postings")
    assert e.unbalanced() == {"RUB": Decimal("1.00")}


def test_an_entry_balances_per_commodity_not_in_total() -> None:
    e = Entry(
        "RUS",
        "T1",
        DAY,
        "netting",
        "X",
        (Posting("netting", rub("10")), Posting("netting", Amount.of("-10", "INR"))),
    )
    assert e.unbalanced() == {"RUB": Decimal("10"), "INR": Decimal("-10")}


def test_balances_sum_per_book_account_counterparty_method_and_commodity(
    make_order: OrderFactory, w: World
) -> None:
    o = accepted(make_order(), w)
    entries = receipt_entries(o, w, "100") + post_receipt(
        o, o.receive(officer(w, "IND", "ro"), later(2), DAY, [(1, Decimal(300))])
    )
    b = balances(entries)
    assert b[("RUS", "receivable", "IND", "cash", "RUB")] == Decimal("26000000.00")
    assert b[("IND", "payable", "RUS", "cash", "RUB")] == Decimal("-26000000.00")
    assert len(b) == 4
    assert mirror_mismatches(b) == []


def test_settled_balances_drop_to_nothing_but_the_flows(make_order: OrderFactory, w: World) -> None:
    o = accepted(make_order(), w)
    entries = receipt_entries(o, w, "400")
    o.invoice(officer(w, "RUS", "fo"), later(3), "INV-1", DAY, w.relos)
    entries += post(o, o.settle(officer(w, "IND", "fo"), later(9), DAY, rub("26000000")))
    accounts = {(k[0], k[1]) for k in balances(entries)}
    assert accounts == {
        ("RUS", "support_provided"),
        ("RUS", "settlement_cash"),
        ("IND", "support_received"),
        ("IND", "settlement_cash"),
    }


def test_mirror_mismatch_is_found_when_one_side_is_missing(
    make_order: OrderFactory, w: World
) -> None:
    o = accepted(make_order(), w)
    c, _d = receipt_entries(o, w, "1")
    problems = mirror_mismatches(balances([c]))
    assert len(problems) == 1
    assert "RUS receivable from IND cash RUB" in problems[0]
