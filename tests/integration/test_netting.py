"""Netting on SQLite and PostgreSQL: a full netting posts balanced one-currency entries, the
trading account's two balances are equal at the rate, orders and ledger agree, the books still
pass bean-check, and the statement renders as CSV and as a PDF carrying the parties' names."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from relos.domain.agreements import Method
from relos.domain.errors import Invalid, RuleViolation
from relos.domain.ledger import mirror_mismatches
from relos.domain.money import is_currency
from relos.domain.netting import StatementState
from relos.domain.orders import Order, OrderState
from relos.services import journal, netting, ordering, settlement
from relos.services.netting_pdf import statement_html, statement_pdf
from relos.storage.unit_of_work import SqlUnitOfWork
from tests import trilateral
from tests.integration.builders import (
    IND_NATIVE,
    RUS_NATIVE,
    at,
    lifecycle,
    placed,
    snapshot,
    world,
)
from tests.integration.test_obligations import AS_OF as LATER
from tests.integration.test_obligations import rounding_orders

BEAN_CHECK = Path(sys.executable).parent / "bean-check"
RATES = "date,pair,rate,source\n2026-03-01,RUB/INR,1.05,CBR\n2026-03-20,RUB/INR,1.0725,CBR\n"
AS_OF = date(2026, 3, 31)


def invoiced(uow: SqlUnitOfWork, requesting: str, lines: list[tuple[str, str]]) -> str:
    n = placed(uow, requesting, "cash", lines)
    req, sup = ("in", "ru") if requesting == "IND" else ("ru", "in")
    ordering.receive_all(uow, f"{req}_receive", n, date(2026, 3, 2), at(date(2026, 3, 2)))
    ordering.invoice(uow, f"{sup}_finance", n, date(2026, 3, 5), at(date(2026, 3, 5)))
    return n


@pytest.fixture
def two_way(uow: SqlUnitOfWork) -> tuple[str, str, str]:
    """IND owes RUS 6,500,000 RUB (100 t F-76); RUS owes IND 8,585,000 INR in two invoices."""
    world(uow)
    a = invoiced(uow, "IND", [("F76", "100")])
    b = invoiced(uow, "RUS", [("F76", "100")])  # 8,500,000.00 INR
    c = invoiced(uow, "RUS", [("RATION", "200")])  # 90,100.00 INR
    netting.import_rates(uow, RATES)
    return a, b, c


def test_a_full_netting_posts_one_currency_entries_and_orders_and_ledger_agree(
    uow: SqlUnitOfWork, two_way: tuple[str, str, str], tmp_path: Path
) -> None:
    a, b, c = two_way
    st = netting.propose(uow, "ru_finance", "RELOS", AS_OF, at=at(AS_OF, 9))
    # 6,500,000 RUB x 1.0725 = 6,971,250.00 INR against 8,590,100.00 INR: RUS pays the rest
    assert st.currency == "INR"
    assert [(p.payer, p.payee, p.amount.number) for p in st.payments] == [
        ("RUS", "IND", Decimal("1618850.00"))
    ]
    line_a = next(ln for ln in st.lines if ln.order == a)
    assert (line_a.rate, line_a.rate_on, line_a.source) == (
        Decimal("1.0725"),
        date(2026, 3, 20),
        "CBR",
    )
    netting.approve(uow, "in_finance", st.number, at=at(AS_OF, 10))
    st = netting.approve(uow, "ru_finance", st.number, at=at(AS_OF, 11))
    assert st.state is StatementState.POSTED
    assert netting.statement(uow, "in_finance", st.number) == st  # stored as shown

    with uow:
        entries = uow.ledger.entries()
        kept = uow.ledger.balances()
        assert kept == uow.ledger.summed_balances()
    nets = [e for e in entries if e.event == "netting"]
    assert nets
    assert all(len({p.amount.commodity for p in e.postings}) == 1 for e in nets)
    assert all(not e.unbalanced() for e in entries)
    assert mirror_mismatches(kept) == []
    for book in ("IND", "RUS"):
        trading = {k[4]: v for k, v in kept.items() if k[0] == book and k[1] == "netting"}
        assert set(trading) == {"RUB", "INR"}
        assert trading["RUB"] * Decimal("1.0725") == -trading["INR"]

    oa, ob, oc = (ordering.show(uow, n) for n in (a, b, c))
    assert oa.state is OrderState.SETTLED
    # what is left to pay stays on the latest invoices: all of c, then part of b
    assert (ob.state, oc.state) == (OrderState.INVOICED, OrderState.INVOICED)
    assert ob.outstanding("INR") == Decimal("1528750.00")
    assert oc.outstanding("INR") == Decimal("90100.00")
    for o in (oa, ob, oc):
        cur = o.lines[0].unit_price.commodity if o.lines[0].unit_price else ""
        rec = kept.get((o.supplying, "receivable", o.requesting, "cash", cur), Decimal(0))
        owed_to_supplier = sum(
            (x.outstanding(cur) for x in (oa, ob, oc) if x.supplying == o.supplying),
            Decimal(0),
        )
        assert rec == owed_to_supplier

    path = tmp_path / "all.beancount"
    path.write_text(journal.beancount(uow), encoding="utf-8")
    checked = subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    csv_text = netting.statement_csv(st)
    assert f"{st.number},payment,,RUS,IND,INR,1618850.00" in csv_text
    pdf = statement_pdf(st, netting.party_names(uow, st))
    assert pdf.startswith(b"%PDF")
    pdf_path = tmp_path / "statement.pdf"
    pdf_path.write_bytes(pdf)
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext missing: make test-deps installs poppler-utils"
    text = subprocess.run(
        [tool, str(pdf_path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert RUS_NATIVE in text
    assert IND_NATIVE in text
    assert st.number in text


def test_a_stale_or_unauthorised_approval_writes_nothing(
    uow: SqlUnitOfWork, engine: Engine, two_way: tuple[str, str, str]
) -> None:
    a, _, _ = two_way
    st = netting.propose(uow, "in_finance", "RELOS", AS_OF)
    netting.approve(uow, "in_finance", st.number)
    before = snapshot(engine)
    with pytest.raises(RuleViolation):
        netting.approve(uow, "in_finance", st.number)
    assert snapshot(engine) == before
    ordering.settle(uow, "in_finance", a, "100.00", on=AS_OF)
    before = snapshot(engine)
    with pytest.raises(RuleViolation) as err:
        netting.approve(uow, "ru_finance", st.number)
    assert err.value.rule == "netting_stale"
    assert snapshot(engine) == before


def test_rate_import_errors_name_line_field_and_value_and_write_nothing(
    uow: SqlUnitOfWork, engine: Engine
) -> None:
    world(uow)
    before = snapshot(engine)
    bad = "date,pair,rate,source\n2026-03-01,RUB/INR,1.05,CBR\n2026-03-02,RUB/INR,abc,CBR\n"
    with pytest.raises(Invalid) as err:
        netting.import_rates(uow, bad)
    assert err.value.field == "line 3: rate"
    assert err.value.value == "abc"
    assert snapshot(engine) == before
    netting.import_rates(uow, RATES)
    assert len(netting.import_rates(uow, RATES).added) == 0
    assert [str(r.rate) for r in netting.rates(uow, "RUBINR")] == ["1.05", "1.0725"]


def trilateral_name(party: str, role: str) -> str:
    return f"{party.lower()}_{role}"


def test_a_multilateral_netting_obligation_is_paid_in_cash_and_both_books_agree(
    uow: SqlUnitOfWork, engine: Engine, tmp_path: Path
) -> None:
    """India owes Russia 600 INR by the netting alone: paid in two parts, the second sent twice
    with one reference (one effect), an overpayment refused naming field and value."""
    trilateral.load(uow, trilateral_name, with_parties=trilateral.PARTIES)
    st = trilateral.posted_netting(uow, trilateral_name)
    fo = trilateral_name("IND", "finance_officer")
    ru_fo = trilateral_name("RUS", "finance_officer")
    day = date(2026, 6, 10)
    kw: dict[str, Any] = {"debtor": "IND", "creditor": "RUS", "on": day, "at": at(day)}
    netting.pay(uow, fo, st.number, amount="250.00", reference="UTR-1", **kw)
    before = snapshot(engine)
    with pytest.raises(RuleViolation) as err:
        netting.pay(uow, ru_fo, st.number, amount="350.01", reference="UTR-2", **kw)
    assert (err.value.field, err.value.value) == ("amount", "350.01 INR")
    assert snapshot(engine) == before
    done = netting.pay(uow, ru_fo, st.number, amount="350.00", reference="UTR-2", **kw)
    after = snapshot(engine)
    again = netting.pay(uow, ru_fo, st.number, amount="350.00", reference="UTR-2", **kw)
    assert (done.replayed, again.replayed) == (False, True)
    assert snapshot(engine) == after  # the replay wrote nothing

    shown = netting.statement(uow, fo, st.number)
    assert [(p.seq, p.amount.number, p.reference) for p in shown.debt_payments] == [
        (1, Decimal("250.00"), "UTR-1"),
        (2, Decimal("350.00"), "UTR-2"),
    ]
    assert [(d.creditor, d.outstanding.number) for d in shown.debts()] == [
        ("RUS", Decimal("0.00")),
        ("USA", Decimal("300.00")),
    ]
    with uow:
        kept = uow.ledger.balances()
        assert kept == uow.ledger.summed_balances()
        entries = uow.ledger.entries()
        paid = [r for r in uow.audit.records("netting", st.number) if r.action == "netting.pay"]
    assert all(not e.unbalanced() for e in entries)
    assert mirror_mismatches(kept) == []
    assert ("RUS", "receivable", "IND", "netting", "INR") not in kept
    assert kept[("USA", "receivable", "IND", "netting", "INR")] == Decimal("300.00")
    assert kept[("IND", "payable", "USA", "netting", "INR")] == Decimal("-300.00")
    assert kept[("RUS", "settlement_cash", "", "", "INR")] == Decimal("600.00")
    assert len(paid) == 2
    rows = netting.statement_csv(shown).splitlines()
    assert f"{st.number},obligation,,IND,RUS,INR,600.00,600.00,0.00,INR" in rows
    html = statement_html(shown, netting.party_names(uow, shown))
    assert "Netting obligations created (due 2026-07-01)" in html
    assert "UTR-2" in html
    path = tmp_path / "three.beancount"
    path.write_text(journal.beancount(uow), encoding="utf-8")
    checked = subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def offset_by_the_rule(orders: list[Order], agreement: str, day: date) -> list[tuple[Any, ...]]:
    """What netting offsets, order by order: each invoiced order's outstanding cash (a cash
    order's, or a converted one's) if its last invoice was issued by `day`."""
    out = []
    for o in sorted(orders, key=lambda o: o.number):
        if o.agreement != agreement or o.state is not OrderState.INVOICED:
            continue
        if o.invoices[-1].issued_on > day or (o.method is not Method.CASH and not o.conversions):
            continue
        for commodity, owed in sorted(o.obligations().items()):
            if is_currency(commodity) and owed > 0:
                out.append(
                    (
                        o.number,
                        o.requesting,
                        o.supplying,
                        str(owed),
                        commodity,
                        o.invoices[-1].issued_on,
                    )
                )
    return out


def test_netting_offsets_the_kept_cash_debts_which_are_the_orders_own(engine: Engine) -> None:
    """Decision 67: the obligations a statement offsets are read from the kept debts in one
    query; they are what the orders themselves say, to the string of each amount (a
    statement's fingerprint hashes those strings), in the same order."""
    uow = SqlUnitOfWork(engine)
    world(uow)
    lifecycle(uow)
    rounding_orders(uow)
    for fo in ("in_finance", "ru_finance"):
        settlement.run(uow, fo, LATER, at(LATER))  # in-kind debts converted to cash
    with uow:
        orders = uow.orders.load(uow.orders.numbers())
    converted = {o.number for o in orders if o.conversions}
    seen: set[str] = set()
    for day in (date(2026, 3, 1), date(2026, 4, 1), date(2026, 6, 1), LATER):
        with uow:
            got = [
                (
                    o.order,
                    o.debtor,
                    o.creditor,
                    str(o.outstanding.number),
                    o.outstanding.commodity,
                    o.invoiced_on,
                )
                for o in netting.obligations(uow, "RELOS", day)
            ]
        assert got == offset_by_the_rule(orders, "RELOS", day)
        seen |= {g[0] for g in got}
    assert converted & seen, "no converted order offset"
    assert seen - converted, "no cash order offset"
