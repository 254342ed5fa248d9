"""A row's key (reference, agreement, requester, order date) is read without the rest of the
row (`row_key`): the import's reader numbers orders by it and leaves the rest to the builders,
so a row it cannot key must be one `parse_row` refuses, and a keyed row's key must be what
`parse_row` reads."""

from __future__ import annotations

import pytest

from relos.domain.imports import parse_row, row_key, row_reader, row_text
from tests.import_world import HEADER, ORDERS, rows_of

READ = row_reader(HEADER)


def text_of(row: dict[str, str]) -> tuple[str, ...]:
    return READ([row.get(c, "") for c in HEADER])


def test_a_good_rows_key_is_what_parse_row_reads() -> None:
    for line, row in enumerate(rows_of(ORDERS), start=2):
        key = row_key(line, text_of(row))
        parsed, problems = parse_row(line, row_text(text_of(row)), "port_call")
        assert parsed is not None, problems
        assert key is not None
        assert (key.line, key.order_ref, key.agreement, key.requester, key.ordered_on) == (
            parsed.line,
            parsed.order_ref,
            parsed.agreement,
            parsed.requester,
            parsed.ordered_on,
        )


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("order_ref", ""),
        ("order_ref", "has space"),
        ("order_ref", "-starts-with-a-dash"),
        ("order_ref", "x" * 61),
        ("agreement", ""),
        ("requester", ""),
        ("ordered_on", ""),
        ("ordered_on", "2026-02-30"),
        ("ordered_on", "1 March 2026"),
    ],
)
def test_a_row_without_a_key_is_a_row_parse_row_refuses_naming_the_column(
    column: str, value: str
) -> None:
    row = {**rows_of(ORDERS)[0], column: value}
    assert row_key(2, text_of(row)) is None
    parsed, problems = parse_row(2, row_text(text_of(row)), "port_call")
    assert parsed is None
    assert column in {p.field for p in problems}


@pytest.mark.parametrize(
    ("column", "value"),
    [("quantity", "four"), ("method", "barter"), ("required_by", "soon"), ("item", "")],
)
def test_a_row_bad_only_outside_its_key_is_keyed_and_refused_by_parse_row(
    column: str, value: str
) -> None:
    row = {**rows_of(ORDERS)[0], column: value}
    assert row_key(2, text_of(row)) is not None
    parsed, _ = parse_row(2, row_text(text_of(row)), "port_call")
    assert parsed is None
