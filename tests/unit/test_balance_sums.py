"""What appended entries add to the kept balances, computed apart and merged."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine

from relos.storage.repositories import balance_sums, merged_balance_sums

START = date(2026, 1, 30)

leg = st.tuples(
    st.sampled_from(("receivable", "payable", "support_provided")),
    st.sampled_from(("IND", "RUS")),
    st.sampled_from(("cash", "rik")),
    st.sampled_from(("INR", "RUB", "F76_T")),
    st.integers(min_value=-(10**15), max_value=10**15),
)


@st.composite
def entry_rows(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Rows as `entry_rows` gives them; only the book, the day and the legs count here."""
    out = []
    for k in range(draw(st.integers(min_value=0, max_value=12))):
        on = START + timedelta(days=draw(st.integers(min_value=0, max_value=40)))
        book = draw(st.sampled_from(("IND", "RUS")))
        legs = draw(st.lists(leg, min_size=1, max_size=3))
        out.append((book, f"T{k}", on.isoformat(), "receipt", "O1", None, None, on, legs))
    return out


@given(parts=st.lists(entry_rows(), min_size=1, max_size=5), pg=st.booleans())
def test_merged_sums_of_parts_are_the_sums_of_the_whole(
    parts: list[list[tuple[Any, ...]]], pg: bool
) -> None:
    dialect = create_engine("postgresql+psycopg://" if pg else "sqlite://").dialect  # unconnected
    whole = [row for part in parts for row in part]
    merged = merged_balance_sums([balance_sums(dialect, part) for part in parts])
    assert merged == balance_sums(dialect, whole)


def test_a_key_two_parts_change_is_one_row_of_their_sum() -> None:
    day = START.isoformat()
    a: list[list[tuple[Any, ...]]] = [
        [("IND", "receivable", "RUS", "cash", "RUB", 5)],
        [("IND", "x", day, 5)],
        [],
    ]
    b: list[list[tuple[Any, ...]]] = [
        [("IND", "receivable", "RUS", "cash", "RUB", 7)],
        [("IND", "x", day, 7)],
        [],
    ]
    assert merged_balance_sums([a, b]) == [
        [("IND", "receivable", "RUS", "cash", "RUB", 12)],
        [("IND", "x", day, 12)],
        [],
    ]
