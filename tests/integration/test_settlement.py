"""The settlement engine on SQLite and PostgreSQL: conversion of overdue in-kind debts through the
real services and storage, the annual report against hand-computed figures, and its files."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from relos.domain.ledger import mirror_mismatches
from relos.domain.money import Amount
from relos.domain.orders import OrderState
from relos.domain.reconciliation import MatchStatus
from relos.domain.settlement import alerts as compute_alerts
from relos.domain.settlement import annual_report as compute_report
from relos.services import annual_files, ordering, people, reconciliation, settlement
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.fakes import KEY_PASSPHRASE
from tests.integration.builders import (
    IND_NATIVE,
    NSN_OIL_COMMODITY,
    RUS_NATIVE,
    at,
    lifecycle,
    placed,
    snapshot,
    world,
)
from tests.integration.nodes import change_price

AS_OF = date(2027, 3, 10)  # RIK due 2027-03-06, EVE due 2027-03-09 (365 days after delivery)
AT = datetime(2027, 3, 10, 12, tzinfo=UTC)
RELOS = Path(sys.executable).parent / "relos"


def books_agree_with_orders(uow: SqlUnitOfWork) -> None:
    """Every entry balances, kept balances equal the postings, receivable mirrors payable, and
    each creditor's receivable equals what its open orders say is owed."""
    with uow:
        entries = uow.ledger.entries()
        kept = uow.ledger.balances()
        assert kept == uow.ledger.summed_balances()
        orders = [uow.orders.get(n) for n in uow.orders.numbers()]
    assert all(not e.unbalanced() for e in entries)
    assert mirror_mismatches(kept) == []
    owed: dict[tuple[str, str, str], Decimal] = {}
    for o in orders:
        for c, n in o.obligations().items():
            if n:
                key = (o.supplying, o.requesting, c)
                owed[key] = owed.get(key, Decimal(0)) + n
    receivable: dict[tuple[str, str, str], Decimal] = {}
    for (book, account, cp, _m, c), n in kept.items():
        if account == "receivable":
            receivable[book, cp, c] = receivable.get((book, cp, c), Decimal(0)) + n
    assert {k: v for k, v in receivable.items() if v} == owed


def test_overdue_in_kind_debts_convert_to_cash_once(engine: Engine) -> None:
    uow = SqlUnitOfWork(engine)
    world(uow)
    lc = lifecycle(uow)
    books_agree_with_orders(uow)
    # nothing is due a day before the RIK window closes
    assert settlement.run(uow, "in_finance", date(2027, 3, 6), AT).converted == []
    # India converts what Russia owes it in kind; Russia what India owes it (EVE)
    ind = settlement.run(uow, "in_finance", AS_OF, AT)
    assert [c.order for c in ind.converted] == [lc.rik_ru]
    conv = ind.converted[0].conversion
    assert conv.cleared == (
        Amount(Decimal("200"), NSN_OIL_COMMODITY),
        Amount(Decimal("70.5"), "F76_T"),
    )
    assert conv.amount == Amount.of("6054500.00", "INR")  # 70.5 x 85,000 + 200 x 310
    assert ind.converted[0].due_on == date(2027, 4, 9)  # cash: 30 days after the conversion
    rus = settlement.run(uow, "ru_finance", AS_OF, AT)
    assert [(c.order, c.conversion.amount) for c in rus.converted] == [
        (lc.eve_in, Amount.of("20050.00", "RUB"))  # 200 x 150.25 - 10,000 provided back
    ]
    books_agree_with_orders(uow)
    with uow:
        o2 = uow.orders.get(lc.rik_ru)
        assert o2.state is OrderState.INVOICED
        assert o2.obligations() == {"INR": Decimal("6054500.00")}
        assert o2.conversions == [conv]
        entries = [e for e in uow.ledger.entries("IND", lc.rik_ru) if e.event == "conversion"]
        assert len(entries) == 1
        assert [r.action for r in uow.audit.records("order", lc.rik_ru)][-1] == "order.convert"
    before = snapshot(engine)
    assert settlement.run(uow, "in_finance", AS_OF, AT).converted == []
    assert settlement.run(uow, "ru_finance", AS_OF, AT).converted == []
    assert snapshot(engine) == before  # twice changes nothing
    # the converted debt is paid in cash like any other
    ordering.settle(uow, "ru_finance", lc.rik_ru, "6054500.00", "INR", AS_OF, at=AT)
    books_agree_with_orders(uow)
    assert ordering.show(uow, lc.rik_ru).state is OrderState.SETTLED


def test_the_annual_report_matches_the_built_ledger(engine: Engine) -> None:
    uow = SqlUnitOfWork(engine)
    world(uow)
    lifecycle(uow)
    report, names = settlement.annual_report(uow, "in_finance", "RELOS", 2026)
    got = {
        (r.giver, r.receiver, r.category, r.currency): (r.total_value, r.collected, r.outstanding)
        for r in report.rows
    }
    d = Decimal
    assert got == {
        # cash order: 500 t x 65,000 and 100 m3 x 150.25, paid in full; EVE: 200 m3 x 150.25,
        # 10,000 provided back (collected shared by value among an order's categories)
        ("RUS", "IND", "pol", "RUB"): (d("32500000"), d("32500000"), d("0")),
        ("RUS", "IND", "water", "RUB"): (d("45075"), d("25025"), d("20050")),
        # RIK: 120.5 t x 85,000 + 200 L x 310, 50 t returned (valued at 85,000)
        ("IND", "RUS", "pol", "INR"): (d("10304500"), d("4250000"), d("6054500")),
        # cash: 250 rations x 450.50, paid
        ("IND", "RUS", "food", "INR"): (d("112625"), d("112625"), d("0")),
    }
    assert report.monthly[("RUS", "IND", "RUB")][2] == d("32545075")
    assert report.unreconciled == []
    late, _ = settlement.annual_report(uow, "in_finance", "RELOS", 2026, date(2027, 3, 31))
    assert late.unreconciled == []  # unpaid is not unreconciled: no reconciliation found a gap
    assert names["IND"] == ("India", IND_NATIVE)


def test_the_annual_report_reads_the_orders_received_in_its_year_and_equals_the_rule(
    engine: Engine,
) -> None:
    """The service reads only the orders with a receipt in the year (in SQL), a page at a time
    (decision 66): the report is the rule applied to every order of the party."""
    uow = SqlUnitOfWork(engine)
    world(uow)
    lifecycle(uow)
    jan = date(2027, 1, 10)
    late = placed(uow, "IND", "cash", [("WATER", "10")], jan)
    ordering.receive(uow, "in_receive", late, [(1, "10")], jan, at(jan, 12))
    with uow:
        every = uow.orders.load(uow.orders.numbers(agreement="RELOS", party="IND"))
        in_2026 = uow.orders.numbers(agreement="RELOS", party="IND", received_in=2026)
        in_2027 = uow.orders.numbers(agreement="RELOS", party="IND", received_in=2027)
        agreement = uow.reference.find_agreement("RELOS")
        rates = uow.netting.rates()
    assert agreement is not None
    assert in_2027 == [late]
    assert in_2026 == [o.number for o in every if {r.received_on.year for r in o.receipts} & {2026}]
    assert len(in_2026) > 1
    for year in (2025, 2026, 2027):
        report, _ = settlement.annual_report(uow, "in_finance", "RELOS", year)
        assert report == compute_report(agreement, every, year, None, rates)
        assert bool(report.rows) is (year != 2025)


def test_the_annual_report_files_can_be_read_back(engine: Engine, tmp_path: Path) -> None:
    uow = SqlUnitOfWork(engine)
    world(uow)
    lifecycle(uow)
    report, names = settlement.annual_report(uow, "ru_finance", "RELOS", 2026)
    xlsx = tmp_path / "annual.xlsx"
    annual_files.write(report, names, "xlsx", xlsx)
    wb = load_workbook(xlsx)
    rows = [tuple(r) for r in wb["Support"].iter_rows(min_row=4, values_only=True)]
    assert ("RUS", "IND", "pol", "RUB", "32500000.00", "32500000.00", "0.00", 1) in rows
    parties = {r[0]: r[2] for r in wb["Parties"].iter_rows(min_row=2, values_only=True)}
    assert parties == {"IND": IND_NATIVE, "RUS": RUS_NATIVE}
    with zipfile.ZipFile(xlsx) as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())
    data = json.loads(_written(report, names, "json", tmp_path).read_text())
    assert data["parties"]["RUS"]["native_name"] == RUS_NATIVE
    assert data["support"][0]["currency"] in ("INR", "RUB")
    pdf = _written(report, names, "pdf", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert shutil.which("pdftotext"), "poppler-utils: `make test-deps` installs it"
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert RUS_NATIVE in text
    assert "32,500,000" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "Devanagari" in fonts  # the Devanagari names are set in a font that has them


def _written(report: object, names: annual_files.Names, fmt: str, tmp: Path) -> Path:
    from relos.domain.settlement import AnnualReport

    assert isinstance(report, AnnualReport)
    path = tmp / f"annual.{fmt}"
    annual_files.write(report, names, fmt, path)
    return path


def test_the_alerts_of_invoiced_orders_from_what_is_kept_equal_the_rule_over_every_order(
    engine: Engine,
) -> None:
    """A finance officer's alerts of invoiced orders come from the kept debts, the rest from
    the orders a page at a time (decision 70): together the rule applied to every order, on
    days when the debts are not yet due, due soon, overdue and due for conversion, and after
    the in-kind ones were converted (a converted equal-value debt is owed in cash)."""
    uow = SqlUnitOfWork(engine)
    world(uow)
    lc = lifecycle(uow)
    d = date
    part_paid = placed(uow, "IND", "cash", [("F76", "10"), ("WATER", "3")], d(2026, 5, 1))
    overdue = placed(uow, "RUS", "cash", [("RATION", "30")], d(2026, 5, 2))
    received = placed(uow, "IND", "cash", [("WATER", "5")], d(2026, 5, 3))
    for n, buyer, seller in (
        (part_paid, "in", "ru"),
        (overdue, "ru", "in"),
        (received, "in", "ru"),
    ):
        ordering.receive_all(uow, f"{buyer}_receive", n, d(2026, 5, 4), at(d(2026, 5, 4)))
        if n != received:
            ordering.invoice(uow, f"{seller}_finance", n, d(2026, 5, 5), at(d(2026, 5, 5)))
    ordering.settle(
        uow, "in_finance", part_paid, "1000.00", on=d(2026, 5, 20), at=at(d(2026, 5, 20))
    )
    seen: set[str] = set()

    def alerts_are_the_rule(days: tuple[date, ...]) -> None:
        with uow:
            every = uow.orders.load(uow.orders.numbers())
            agreements = {a.code: a for a in uow.reference.agreements()}
        for who in ("in_finance", "ru_finance"):
            with uow:
                user = uow.reference.find_user(who)
            assert user is not None
            for day in days:
                rule = compute_alerts(user, every, agreements, day)
                assert settlement.alerts(uow, who, day) == rule
                seen.update(f"{a.kind.value} {a.order}" for a in rule)

    alerts_are_the_rule((d(2026, 5, 6), d(2026, 5, 25), d(2026, 6, 20), AS_OF))
    assert {f"due_soon {part_paid}", f"overdue {part_paid}", f"overdue {overdue}"} <= seen
    assert {f"not_invoiced {received}", f"conversion_due {lc.rik_ru}"} <= seen
    assert f"conversion_due {lc.eve_in}" in seen
    seen.clear()
    assert settlement.run(uow, "in_finance", AS_OF, AT).converted
    assert settlement.run(uow, "ru_finance", AS_OF, AT).converted
    alerts_are_the_rule((AS_OF, d(2027, 4, 1), d(2027, 6, 1)))
    assert {f"overdue {lc.rik_ru}", f"overdue {lc.eve_in}"} <= seen
    assert not {a for a in seen if a.startswith("conversion_due")}


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_commands_write_the_report_and_list_alerts(engine: Engine, tmp_path: Path) -> None:
    uow = SqlUnitOfWork(engine)
    world(uow)
    lc = lifecycle(uow)
    env = {**os.environ, "RELOS_DATABASE_URL": str(engine.url)}
    env.pop("RELOS_USER", None)

    def relos(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(RELOS), *args], capture_output=True, text=True, env=env)

    out = tmp_path / "r.pdf"
    r = relos("report", "annual", "--agreement", "RELOS", "--year", "2026", "--format", "pdf",
              "--output", str(out), "--as", "in_finance")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(b"%PDF")
    r = relos("alerts", "--as-of", "2026-04-30", "--json", "--as", "in_finance")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["alerts"] == []  # in-kind debts run a year; cash ones are paid
    r = relos("alerts", "--as-of", "2027-03-08", "--json", "--as", "in_finance")
    assert r.returncode == 0, r.stderr
    kinds = {(a["kind"], a["order"]) for a in json.loads(r.stdout)["alerts"]}
    assert kinds == {
        ("conversion_due", lc.rik_ru),  # India is owed in kind since 2027-03-06
        ("overdue", lc.rik_ru),
        ("due_soon", lc.eve_in),  # India owes equal value by 2027-03-09
    }
    r = relos("settle", "run", "--as", "in_order")
    assert r.returncode == 5, r.stderr  # only a finance officer runs conversions
    r = relos("settle", "run", "--json", "--as", "in_finance")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["converted"] == []


def test_the_annual_report_lists_what_reconciliation_left_open_over_a_year_in_every_format(
    engine: Engine, tmp_path: Path
) -> None:
    """Russia signs its view; India's record of one order differs (a price): India's run finds
    it, India disputes it, and a year after the delivery the annual report lists it with date,
    country and value, the same in JSON, XLSX and PDF."""
    uow = SqlUnitOfWork(engine)
    world(uow)
    lc = lifecycle(uow)
    people.add_user(uow, None, "ru_admin", "RUS", "party_admin")
    reconciliation.create_key(uow, "ru_admin", "RUS", passphrase=KEY_PASSPHRASE)
    russian = io.StringIO()
    reconciliation.export_statement(
        uow,
        "ru_finance",
        russian,
        agreement="RELOS",
        party="RUS",
        as_of=date(2026, 12, 31),
        passphrase=KEY_PASSPHRASE,
    )
    change_price(engine, lc.rik_ru)  # India's copy of one order now differs
    run = reconciliation.match_statement(
        uow, "in_finance", russian.getvalue(), at=datetime(2027, 1, 5, tzinfo=UTC)
    )
    (line,) = [ln for ln in run.lines if ln.status is not MatchStatus.MATCHED]
    assert (line.order, line.status) == (lc.rik_ru, MatchStatus.AMOUNT_MISMATCH)
    reconciliation.dispute(uow, "in_finance", run.run.id, line.line_no, "price per RELOS list")
    delivered = line.transaction_date
    within, _ = settlement.annual_report(
        uow, "in_finance", "RELOS", 2026, delivered.replace(year=2027)
    )
    assert within.unreconciled == []  # a year has not passed yet
    report, names = settlement.annual_report(uow, "in_finance", "RELOS", 2026, date(2027, 3, 31))
    (u,) = report.unreconciled
    assert (u.order, u.transaction_date, u.country, u.status, u.disputed) == (
        lc.rik_ru,
        delivered,
        "RUS",
        "amount_mismatch",
        True,
    )
    assert u.value is not None
    assert u.value.commodity == "INR"
    assert u.value.number == line.our_value
    auditor, _ = settlement.annual_report(uow, "ru_finance", "RELOS", 2026, date(2027, 3, 31))
    assert auditor.unreconciled == []  # Russia ran no reconciliation: nothing of India's shows

    data = json.loads(_written(report, names, "json", tmp_path).read_text())
    (row,) = data["unreconciled_over_a_year"]
    assert row == {
        "transaction_date": delivered.isoformat(),
        "country": "RUS",
        "order": lc.rik_ru,
        "value": str(u.value.number),
        "currency": "INR",
        "status": "amount_mismatch",
        "disputed": True,
        "run": run.run.id,
        "line": line.line_no,
        "details": list(line.details),
    }
    assert "reconciliation" in data["unreconciled_rule"]
    wb = load_workbook(_written(report, names, "xlsx", tmp_path))
    sheet = [tuple(r) for r in wb["Unreconciled"].iter_rows(values_only=True)]
    assert sheet[0] == tuple(annual_files.UNRECONCILED_COLUMNS)
    assert sheet[1][:6] == (
        delivered.isoformat(),
        "RUS",
        lc.rik_ru,
        row["value"],
        "INR",
        row["status"],
    )
    pdf = _written(report, names, "pdf", tmp_path)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for cell in (lc.rik_ru, delivered.isoformat(), "amount_mismatch"):
        assert cell in text
