"""Journal exports open in the tools officers use: Beancount's own checker and loader, and hledger,
agree with relos on every balance of every book."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data

from relos.services import journal, reports
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.integration.builders import NSN_OIL_COMMODITY, lifecycle, world

BEAN_CHECK = Path(sys.executable).parent / "bean-check"
BOOKS: list[str | None] = [None, "IND", "RUS"]

Balances = dict[tuple[str, str], Decimal]


def expected(uow: SqlUnitOfWork, book: str | None, commodity: dict[str, str]) -> Balances:
    """relos's own balances, under the journal's account and commodity names."""
    out: Balances = {}
    for r in reports.balances(uow, book):
        name = journal.account_name(r.book, r.account, r.counterparty, r.method)
        out[(name, commodity.get(r.commodity, r.commodity))] = r.amount
    return out


def non_zero(found: dict[tuple[str, str], Decimal]) -> Balances:
    return {k: v for k, v in found.items() if v != 0}


def relos_commodities(uow: SqlUnitOfWork) -> set[str]:
    with uow:
        return {p.amount.commodity for e in uow.ledger.entries() for p in e.postings}


@pytest.fixture
def built(uow: SqlUnitOfWork) -> SqlUnitOfWork:
    world(uow)
    lifecycle(uow)
    return uow


def test_beancount_export_passes_bean_check_and_matches_relos_balances(
    built: SqlUnitOfWork, tmp_path: Path
) -> None:
    assert BEAN_CHECK.exists(), f"{BEAN_CHECK} missing: install the dev extras (beancount>=3)"
    names = journal.commodity_names(relos_commodities(built))
    assert names[NSN_OIL_COMMODITY] != NSN_OIL_COMMODITY  # renamed: starts with a digit
    for book in BOOKS:
        path = tmp_path / f"{book or 'all'}.beancount"
        path.write_text(journal.beancount(built, book), encoding="utf-8")
        checked = subprocess.run(
            [str(BEAN_CHECK), str(path)], capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr

        entries, errors, _options = loader.load_file(str(path))
        assert errors == []
        found: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for entry in entries:
            if isinstance(entry, data.Transaction):
                for posting in entry.postings:
                    units = posting.units
                    assert units is not None
                    assert isinstance(units.number, Decimal)
                    found[(posting.account, units.currency)] += units.number
        want = expected(built, book, names)
        assert want
        assert non_zero(found) == want, book


def test_beancount_export_keeps_every_entry_with_its_order_txn_and_description(
    built: SqlUnitOfWork, tmp_path: Path
) -> None:
    path = tmp_path / "ind.beancount"
    path.write_text(journal.beancount(built, "IND"), encoding="utf-8")
    entries, errors, options = loader.load_file(str(path))
    assert errors == []
    with built:
        ours = built.ledger.entries("IND")
    txns = [e for e in entries if isinstance(e, data.Transaction)]
    assert sorted((t.meta["txn"], t.date, t.narration) for t in txns) == sorted(
        (e.txn, e.on, e.description) for e in ours
    )
    narrations = [t.narration or "" for t in txns]
    assert any('"balance"; received' in n for n in narrations)  # quotes and ; survive
    assert any("неверная сумма" in n for n in narrations)
    for t in txns:
        assert t.meta["order"] in t.tags
        assert t.meta["book"] == "IND"
        assert all(
            p.account.startswith(
                ("Assets:IND:", "Liabilities:IND:", "Income:IND:", "Expenses:IND:", "Equity:IND:")
            )
            for p in t.postings
        )
    first_use: dict[str, object] = {}
    for t in sorted(txns, key=lambda t: t.date):
        for p in t.postings:
            first_use.setdefault(p.account, t.date)
    opened = {e.account: e.date for e in entries if isinstance(e, data.Open)}
    assert opened == first_use
    declared = {
        e.currency: e.meta["relos_commodity"] for e in entries if isinstance(e, data.Commodity)
    }
    used = {p.amount.commodity for e in ours for p in e.postings}
    assert set(declared.values()) == used
    assert {"INR", "RUB", "F76_T", NSN_OIL_COMMODITY} <= used
    names = journal.commodity_names(used)
    assert declared == {names[c]: c for c in used}
    assert options["operating_currency"] == ["INR"]


def test_every_account_the_ledger_posts_has_a_named_journal_account(built: SqlUnitOfWork) -> None:
    with built:
        used = {p.account for e in built.ledger.entries() for p in e.postings}
    assert used == set(journal.ACCOUNTS) - {"netting"}
    assert journal.account_name("IND", "receivable", "RUS", "cash") == (
        "Assets:IND:Receivable:RUS:Cash"
    )
    assert journal.account_name("IND", "payable", "RUS", "rik") == "Liabilities:IND:Payable:RUS:RIK"


def test_exports_of_an_empty_ledger_are_valid_and_empty(uow: SqlUnitOfWork, tmp_path: Path) -> None:
    world(uow)
    path = tmp_path / "empty.beancount"
    path.write_text(journal.beancount(uow, "IND"), encoding="utf-8")
    checked = subprocess.run(
        [str(BEAN_CHECK), str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    assert not [e for e in entries if isinstance(e, data.Transaction)]


def _hledger() -> str:
    found = shutil.which("hledger") or (
        "/usr/bin/hledger" if Path("/usr/bin/hledger").exists() else None
    )
    if found is None:
        pytest.fail(
            "hledger is not installed: `make test` installs it (apt-get install -y hledger)",
            pytrace=False,
        )
    return found


def _run(*args: str) -> str:
    done = subprocess.run(list(args), capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_hledger_export_passes_hledger_check_and_matches_relos_balances(
    built: SqlUnitOfWork, tmp_path: Path
) -> None:
    hledger = _hledger()
    for book in BOOKS:
        path = tmp_path / f"{book or 'all'}.journal"
        path.write_text(journal.hledger(built, book), encoding="utf-8")
        _run(hledger, "-f", str(path), "check", "-s", "ordereddates")
        out = _run(hledger, "-f", str(path), "bal", "-O", "csv", "--layout=bare", "-N")
        rows = list(csv.reader(io.StringIO(out)))
        assert rows[0] == ["account", "commodity", "balance"]
        found: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for account, commodity, amount in rows[1:]:
            found[(account, commodity)] += Decimal(amount)
        want = expected(built, book, {})
        assert want
        assert non_zero(found) == want, book

        printed = _run(hledger, "-f", str(path), "print", "-O", "csv")
        described = {r["description"] for r in csv.DictReader(io.StringIO(printed))}
        with built:
            ours = built.ledger.entries(book)
        assert described == {e.description.replace(";", ",") for e in ours}
