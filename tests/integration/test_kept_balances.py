"""Balances kept for speed always equal the sum of postings, on SQLite and PostgreSQL.

Tables kept in step with the postings: `balances` (per book, account, counterparty, method and
commodity), `daily_balances` and `monthly_balances` (the same, per day and per month: the net
change); as of a day, the months before its month and its month's days are summed. As a
property: for random entries appended in random batches (a batch as large as an import's or a
single entry), the balances now equal the postings summed, and the balances as of any day (the
kept daily changes summed up to it) equal the postings up to that day summed, for every book and
for one book; and both equal what the appended entries say, computed here without SQL. Each
example runs in a transaction rolled back at its end, so each starts from an empty ledger.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, func, select

from relos.domain.errors import AlreadyExists
from relos.domain.ledger import BalanceKey, Entry, Posting
from relos.domain.money import Amount, from_minor
from relos.storage import tables
from relos.storage.engine import make_engine, upgrade
from relos.storage.repositories import LedgerRepository, balance_sums
from tests.conftest import postgres_database

BOOKS = ("IND", "RUS", "USA")
START = date(2026, 1, 1)
COMMODITIES = ("INR", "RUB", "JPY", "F76_T")


@st.composite
def entries(draw: st.DrawFn) -> list[Entry]:
    n = draw(st.integers(min_value=1, max_value=40))
    out = []
    for k in range(n):
        book = draw(st.sampled_from(BOOKS))
        cp = draw(st.sampled_from([b for b in BOOKS if b != book]))
        method = draw(st.sampled_from(("cash", "rik", "eve")))
        commodity = draw(st.sampled_from(COMMODITIES))
        minor = draw(st.integers(min_value=-(10**12), max_value=10**12))
        amount = Amount(from_minor(minor, commodity), commodity)
        on = START + timedelta(days=draw(st.integers(min_value=0, max_value=75)))
        account = draw(st.sampled_from(("receivable", "payable", "settlement_cash")))
        postings = (Posting(account, amount, cp, method), Posting("support_provided", -amount, cp))
        out.append(Entry(book, f"T{k}", on, "receipt", f"O{k % 5}", postings))
    return out


def expected(found: list[Entry], book: str | None, as_of: date | None) -> dict[BalanceKey, Decimal]:
    """The balances the entries say, summed in Python (integers: minor units)."""
    sums: dict[BalanceKey, int] = {}
    for e in found:
        if (book and e.book != book) or (as_of is not None and e.on > as_of):
            continue
        for p in e.postings:
            key = (e.book, p.account, p.counterparty, p.method, p.amount.commodity)
            sums[key] = sums.get(key, 0) + p.amount.minor
    return {k: from_minor(v, k[4]) for k, v in sums.items() if v != 0}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def ledger_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One migrated database per backend for the module (each example rolls back its work)."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("kept") / "relos.db"
        eng = make_engine(f"sqlite:///{path}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    with postgres_database(request.getfixturevalue("postgres_url")) as url:
        eng = make_engine(url)
        upgrade(eng)
        yield eng
        eng.dispose()


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn.begin()
        try:
            yield conn
        finally:
            conn.rollback()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    found=entries(),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=4),
    data=st.data(),
)
def test_kept_balances_and_daily_balances_equal_the_sum_of_postings_as_of_any_day(
    ledger_engine: Engine, found: list[Entry], cuts: list[int], data: st.DataObject
) -> None:
    with rolled_back(ledger_engine) as conn:
        ledger = LedgerRepository(conn)
        bounds = sorted({0, len(found), *(c for c in cuts if c < len(found))})
        for a, b in itertools.pairwise(bounds):
            ledger.append(found[a:b])
        assert_kept_as_summed(conn, ledger, found, data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    found=entries(),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=4),
    data=st.data(),
)
def test_appends_whose_sums_are_added_together_keep_the_same_balances_as_of_any_day(
    ledger_engine: Engine, found: list[Entry], cuts: list[int], data: st.DataObject
) -> None:
    """As the import writes a transaction's batches: each batch's entries appended without
    their sums, then every batch's sums added at once, a key the batches share upserted once."""
    with rolled_back(ledger_engine) as conn:
        ledger = LedgerRepository(conn)
        bounds = sorted({0, len(found), *(c for c in cuts if c < len(found))})
        sums = []
        for a, b in itertools.pairwise(bounds):
            rows = ledger.entry_rows(found[a:b])
            sums.append(balance_sums(conn.dialect, rows))
            ledger.append_rows(rows, sums[-1], balances=False)
        ledger.add_balance_sums(sums)
        assert_kept_as_summed(conn, ledger, found, data)


def assert_kept_as_summed(
    conn: Connection, ledger: LedgerRepository, found: list[Entry], data: st.DataObject
) -> None:
    """The kept, daily and monthly balances are the postings summed, as of any day: one row
    per key (and day or month)."""
    days = data.draw(
        st.lists(
            st.dates(min_value=START - timedelta(days=1), max_value=START + timedelta(days=76)),
            min_size=1,
            max_size=4,
        )
    )
    for book in (None, data.draw(st.sampled_from(BOOKS))):
        assert ledger.balances(book) == ledger.summed_balances(book) == expected(found, book, None)
        for day in days:
            assert (
                ledger.balances(book, day)
                == ledger.summed_balances(book, day)
                == expected(found, book, day)
            )
    daily = tables.daily_balances.c
    rows = conn.execute(select(func.count()).select_from(tables.daily_balances)).scalar_one()
    keys_days = {
        (e.book, p.account, p.counterparty, p.method, p.amount.commodity, e.on)
        for e in found
        for p in e.postings
    }
    assert rows == len(keys_days)  # one row per key and day, bumped in place
    months = conn.execute(select(func.count()).select_from(tables.monthly_balances))
    assert months.scalar_one() == len({(*k[:5], k[5].replace(day=1)) for k in keys_days})
    assert conn.execute(select(func.min(daily.day))).scalar_one() == min(e.on for e in found)


def test_a_duplicate_in_a_batch_is_refused_and_the_batch_writes_nothing(
    ledger_engine: Engine,
) -> None:
    a = Amount(Decimal("5"), "INR")
    postings = (Posting("receivable", a, "RUS", "cash"), Posting("support_provided", -a, "RUS"))
    first = Entry("IND", "D1", START, "receipt", "O1", postings)
    second = Entry("IND", "D2", START, "receipt", "O1", postings)
    with rolled_back(ledger_engine) as conn:
        ledger = LedgerRepository(conn)
        ledger.append([first])
        with pytest.raises(AlreadyExists, match="IND D1"):
            ledger.append([second, first])  # the stored one
        with pytest.raises(AlreadyExists, match="IND D2"):
            ledger.append([second, second])  # twice in one batch
        assert len(ledger.entries()) == 1
        assert ledger.balances() == ledger.summed_balances() == expected([first], None, None)
        assert ledger.balances(as_of=START) == expected([first], None, START)


def test_an_appends_postings_belong_to_its_entries_when_an_entry_was_numbered_by_hand_ahead(
    ledger_engine: Engine,
) -> None:
    """The ids of appended entries are read back above the largest id before the insert; an
    entry given a large id by hand puts PostgreSQL's sequence behind it (the new ids fall
    below), and the entries are then found by (book, txn): either way each posting is its
    entry's."""

    def entry(txn: str, minor: int) -> Entry:
        a = Amount(from_minor(minor, "INR"), "INR")
        legs = (Posting("receivable", a, "RUS", "cash"), Posting("support_provided", -a, "RUS"))
        return Entry("IND", txn, START, "receipt", "O1", legs)

    with rolled_back(ledger_engine) as conn:
        ledger = LedgerRepository(conn)
        ledger.append([entry("A1", 100)])
        conn.execute(
            tables.ledger_entries.insert().values(
                id=1_000_000,
                book="RUS",
                txn="BY-HAND",
                on=START,
                event="receipt",
                order_number="O2",
                description="",
            )
        )
        appended = [entry(f"B{k}", 200 + k) for k in range(3)]
        ledger.append(appended)
        got = {e.txn: e.postings for e in ledger.entries(book="IND")}
        assert got == {e.txn: e.postings for e in [entry("A1", 100), *appended]}
        assert ledger.balances("IND") == expected([entry("A1", 100), *appended], "IND", None)
