"""The command's tables: what Rich draws, and what is drawn without it for long tables."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from relos.cli import render

# letters of the scripts the parties write in (a Devanagari vowel sign and virama take no
# cell, a CJK character two), digits, punctuation, spaces, markup and emoji look-alikes, a
# new line and a carriage return (not a tab: Rich measures it as no width, then wraps the cell)
ALPHABET = "ab Z09.,-/:()[]{}#ाअर्जुनВолковПетров漢字\n\r"


@contextmanager
def captured(width: int = 10_000) -> Iterator[io.StringIO]:
    """render's console writing to a buffer, as to a file: no styles, this width."""
    buffer = io.StringIO()
    kept = render.out
    render.out = Console(file=buffer, width=width, color_system=None)
    try:
        yield buffer
    finally:
        render.out = kept


def drawn(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[str] = ()
) -> str:
    with captured() as buffer:
        render.table(title, columns, rows, numeric)
    return buffer.getvalue()


def boxed(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[str] = ()
) -> str:
    right = [c in numeric for c in columns]
    return "".join(line + "\n" for line in render.boxed_lines(title, columns, rows, right))


@st.composite
def tables(draw: st.DrawFn) -> tuple[str, list[str], list[list[str]], list[str]]:
    n = draw(st.integers(1, 5))
    columns = [f"c{i}" + draw(st.text("xyzДж", max_size=6)) for i in range(n)]
    rows = draw(
        st.lists(
            st.lists(st.text(ALPHABET, max_size=12), min_size=n, max_size=n), min_size=1, max_size=8
        )
    )
    numeric = [c for c in columns if draw(st.booleans())]
    return "t", columns, rows, numeric


@settings(max_examples=300, deadline=None)
@given(tables())
def test_a_table_drawn_without_rich_is_the_table_rich_draws(
    table: tuple[str, list[str], list[list[str]], list[str]],
) -> None:
    title, columns, rows, numeric = table
    assert boxed(title, columns, rows, numeric) == drawn(title, columns, rows, numeric)


def test_a_table_of_more_than_rich_rows_is_written_as_rich_draws_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [
        [f"RELOS-IN-2026-{i:06d}", "लेफ्टिनेंट कमांडर प्रिया नायर" if i % 3 else "Волков", f"{i * 7:,}"]
        for i in range(render.RICH_ROWS + 1)
    ]
    columns = ["order", "user", "amount"]
    calls: list[int] = []
    boxed_lines = render.boxed_lines

    def counted(
        title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]
    ) -> Iterator[str]:
        calls.append(1)
        return boxed_lines(title, columns, rows, right)

    monkeypatch.setattr(render, "boxed_lines", counted)
    written = drawn("orders", columns, rows, numeric=["amount"])
    assert calls == [1]
    assert len(written.splitlines()) == len(rows) + 5  # title, three rules, header, the rows
    monkeypatch.setattr(render, "RICH_ROWS", len(rows))  # now Rich draws it
    assert drawn("orders", columns, rows, numeric=["amount"]) == written
    assert calls == [1]


@pytest.mark.parametrize("rows", [1, render.RICH_ROWS + 1])
def test_a_cell_is_shown_as_written_never_read_as_markup_or_emoji(rows: int) -> None:
    texts = ["Pier [/B]", "[b]bold[/b]", ":anchor: :warning:", "[red]x"]
    out = drawn("facilities", ["name"], [[t] for t in texts] * rows)
    for t in texts:
        assert f"│ {t}" in out
    assert out.count("[/B]") == rows


def test_a_table_without_rows_says_none() -> None:
    assert drawn("alerts on 2026-11-27 [b]", ["kind"], []) == "alerts on 2026-11-27 [b]: none\n"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(ALPHABET + '"\\', max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text("abДж", max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(json_values, max_size=5))
def test_a_json_array_written_item_by_item_is_the_array_written_whole(
    items: list[object],
) -> None:
    whole, parts = io.StringIO(), io.StringIO()
    with redirect_stdout(whole):
        render.emit_json(items)
    with redirect_stdout(parts):
        render.emit_json_items(iter(items))
    assert parts.getvalue() == whole.getvalue()
