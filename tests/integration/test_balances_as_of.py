"""Balances as of a day, counted forward from the start of the history or back from now.

`LedgerRepository.balances(book, as_of)` sums each key's kept monthly and daily changes from
the nearer end of the history (decision 48): forward (months before the day's month, then its
days up to the day) for a day in the older half, backward (the balance now, less the later
months and the later days of the day's month) for a day in the newer half. Over two years of
postings, every day of a few months at both ends and in the middle, every edge of a month, and
days before and after the whole history equal the postings summed, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from relos.domain.ledger import Entry, Posting
from relos.domain.money import Amount
from relos.storage.engine import make_engine, upgrade
from relos.storage.repositories import SPAN, LedgerRepository, as_of_statement

START = date(2025, 1, 1)
DAYS = 730
BOOKS = ("IND", "RUS", "USA")


def history(n: int = 600, seed: int = 48) -> list[Entry]:
    rnd = random.Random(seed)
    out = []
    for k in range(n):
        book = rnd.choice(BOOKS)
        cp = rnd.choice([b for b in BOOKS if b != book])
        commodity, method = rnd.choice((("INR", "cash"), ("RUB", "eve"), ("F76_T", "rik")))
        amount = Amount.of(f"{rnd.randint(-50_000, 90_000)}.25", commodity)
        on = START + timedelta(days=rnd.randrange(DAYS))
        postings = (
            Posting("receivable", amount, cp, method),
            Posting("support_provided", -amount, cp),
        )
        out.append(Entry(book, f"H{k}", on, "receipt", f"O{k % 40}", postings))
    return out


def test_balances_as_of_any_day_equal_the_postings_from_either_end(engine: Engine) -> None:
    with engine.connect() as conn:
        ledger = LedgerRepository(conn)
        ledger.append(history())
        end = START + timedelta(days=DAYS - 1)
        days = {START - timedelta(days=1), START, end, end + timedelta(days=40)}
        for year, month in ((2025, 2), (2025, 12), (2026, 1), (2026, 11)):
            first = date(year, month, 1)
            days |= {first + timedelta(days=k) for k in range(31)}
            days.add(first - timedelta(days=1))
        for day in sorted(days):
            for book in (None, "RUS"):
                assert ledger.balances(book, day) == ledger.summed_balances(book, day), (book, day)
        assert ledger.balances(None, end) == ledger.balances(None)
        assert ledger.balances(None, START - timedelta(days=1)) == {}
        conn.rollback()


def _plan(conn: Connection, statement: Any, params: dict[str, Any]) -> list[str]:
    compiled = statement.compile(dialect=conn.dialect)
    values = compiled.construct_params(params)
    args = tuple(values[name] for name in compiled.positiontup or ())
    args = tuple(a.isoformat() if isinstance(a, date) else a for a in args)
    return [str(r[3]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), args)]


def test_on_sqlite_a_day_is_found_by_the_primary_key_and_the_span_by_the_day_index(
    tmp_path: Path,
) -> None:
    """Without the amount in the daily table's indexes (migration 0015), SQLite still reads no
    kept table whole: each key's days and months are a range of the primary key, and the first
    and last kept day one step down the index on `day`."""
    engine = make_engine(f"sqlite:///{tmp_path / 'relos.db'}")
    upgrade(engine)
    params = {"first": date(2025, 7, 1), "as_of": date(2025, 7, 9), "after": date(2025, 8, 1)}
    try:
        with engine.connect() as conn:
            LedgerRepository(conn).append(history(60))
            conn.exec_driver_sql("ANALYZE")
            for forward in (True, False):
                for book in (None, "RUS"):
                    plan = _plan(
                        conn,
                        as_of_statement(True, forward, book is not None),
                        {**params, "book": book},
                    )
                    kept = [step for step in plan if "_balances" in step]
                    assert not [s for s in kept if s.startswith("SCAN") and "daily" in s], plan
                    assert not [s for s in kept if s.startswith("SCAN") and "monthly" in s], plan
                    assert any("daily_balances USING PRIMARY KEY" in s for s in kept), plan
                    assert any("monthly_balances USING PRIMARY KEY" in s for s in kept), plan
            span = _plan(conn, SPAN, {})
            assert sum("COVERING INDEX ix_daily_balances_day" in s for s in span) == 2, span
    finally:
        engine.dispose()
