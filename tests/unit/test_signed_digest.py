"""A signature's digest is the SHA-256 of the canonical JSON of {"order": document, "action": ...,
**the step's data}; `signed_text_digest` splices the order's document text in, and
`Order.document_text` writes that text straight from the order: both must hash exactly the text
the encoder writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from relos.domain.agreements import Method
from relos.domain.money import Amount
from relos.domain.orders import (
    _CANONICAL,
    Order,
    OrderLine,
    digest,
    signed_text_digest,
)

text = st.text(max_size=12)
#: text an officer may type: any script, quotes, backslashes, control characters, emoji
typed = st.text(st.characters(codec="utf-8"), max_size=10)
scalar = st.one_of(st.none(), st.booleans(), st.integers(), text)
value = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=8,
)
#: the keys the order's steps sign beside the document, and any other
step_key = st.one_of(
    st.sampled_from(
        [
            "action",
            "amount",
            "invoice",
            "on",
            "order",
            "quantities",
            "reason",
            "receipt",
            "received_on",
            "reverses",
            "settlement",
            "statement",
            "value",
        ]
    ),
    text,
)


@given(
    document=st.dictionaries(text, value, max_size=6),
    action=text,
    extra=st.dictionaries(step_key, value, max_size=4),
)
def test_the_spliced_digest_is_the_digest_of_the_whole_document(
    document: dict[str, Any], action: str, extra: dict[str, Any]
) -> None:
    whole = digest({"order": document, "action": action, **extra})
    assert signed(document, action, extra) == whole


def signed(document: dict[str, Any], action: str, extra: dict[str, Any]) -> str:
    return signed_text_digest(_CANONICAL.encode(document), action, extra)


def test_an_orders_steps_sign_the_digest_of_the_whole_step() -> None:
    document: dict[str, Any] = {
        "number": "RELOS-IN-2026-000001",
        "revision": 1,
        "lines": [{"line": 1, "item": "F76", "quantity": "1.5", "unit_price": None}],
        "data": {"purpose": "Порт-заход, पोर्ट कॉल"},
    }
    steps: list[tuple[str, dict[str, Any]]] = [
        ("submit", {}),
        ("receive", {"receipt": 1, "received_on": "2026-02-02", "quantities": [[1, "1.5"]]}),
        ("invoice", {"invoice": "INV-RELOS-IN-2026-000001-1", "value": "12.00 RUB"}),
    ]
    for action, extra in steps:
        assert signed(document, action, extra) == digest(
            {"order": document, "action": action, **extra}
        )
    changed = {**document, "revision": 2}
    assert signed(changed, "amend", {}) == digest({"order": changed, "action": "amend"})
    assert signed(changed, "amend", {}) != signed(document, "amend", {})


line = st.builds(
    OrderLine,
    line_no=st.integers(1, 10_000),
    item_code=typed,
    quantity=st.decimals(Decimal("0.001"), Decimal("1e9"), places=3),
    unit_of_measure=typed,
    unit_price=st.none()
    | st.builds(
        Amount,
        st.decimals(Decimal("-1e12"), Decimal("1e12"), places=2),
        st.sampled_from(["INR", "RUB", "USD", "DIESEL_T"]),
    ),
)
order = st.builds(
    Order,
    number=typed,
    agreement=typed,
    requesting=typed,
    supplying=typed,
    facility=typed,
    unit=typed,
    method=st.sampled_from(list(Method)),
    use=typed,
    required_by=st.dates(date(2000, 1, 1), date(2100, 12, 31)),
    lines=st.lists(line, max_size=5),
    data=st.dictionaries(typed, typed, max_size=5),
    revision=st.integers(1, 10**6),
)


@given(order)
def test_an_orders_document_text_is_the_canonical_json_of_its_document(o: Order) -> None:
    assert o.document_text() == _CANONICAL.encode(o.document())


@given(order, text, st.dictionaries(step_key, value, max_size=4))
def test_a_step_signed_on_the_documents_text_has_the_digest_of_the_whole(
    o: Order, action: str, extra: dict[str, Any]
) -> None:
    whole = digest({"order": o.document(), "action": action, **extra})
    assert signed_text_digest(o.document_text(), action, extra) == whole


def _fresh(o: Order) -> str:
    return _CANONICAL.encode(o.document())


def _priced_order() -> Order:
    return Order(
        "RELOS-IN-2026-000001",
        "RELOS",
        "IND",
        "RUS",
        "RU-SEV",
        "INS-TABAR",
        Method.CASH,
        "port_call",
        date(2026, 3, 20),
        [OrderLine(1, "F76", Decimal("250"), unit_price=Amount(Decimal("70000.00"), "RUB"))],
        {"purpose": "port call"},
    )


def test_an_orders_text_is_written_again_after_any_change_even_to_an_equal_value() -> None:
    """The text kept from the last order written is only reused for the very same objects:
    Decimal("250") equals Decimal("250.0") and True equals 1, but each writes otherwise."""
    o = _priced_order()
    assert o.document_text() == _fresh(o)
    changes: list[Callable[[], object]] = [
        lambda: o.lines.__setitem__(0, replace(o.lines[0], quantity=Decimal("250.0"))),
        lambda: o.lines.append(OrderLine(2, "WATER", Decimal("1"))),
        lambda: o.data.__setitem__("purpose", "port call, Severomorsk"),
        lambda: o.data.__setitem__("delivery_location", "berth 3"),
        lambda: setattr(o, "revision", True),
        lambda: setattr(o, "revision", 2),
        lambda: setattr(o, "required_by", date(2026, 3, 21)),
        lambda: setattr(o, "method", Method.RIK),
    ]
    for change in changes:
        before = o.document_text()
        change()
        assert o.document_text() == _fresh(o) != before


def test_an_orders_text_is_not_kept_for_free_data_that_may_change_in_place() -> None:
    o = _priced_order()
    listed: list[str] = ["berth 3"]
    o.data = {"delivery_location": listed}  # type: ignore[dict-item]  # as loaded JSON could be
    assert o.document_text() == _fresh(o)
    listed.append("berth 4")
    assert o.document_text() == _fresh(o)


def test_two_orders_of_equal_values_each_sign_the_text_of_their_own() -> None:
    one, other = _priced_order(), _priced_order()
    other.lines = [replace(other.lines[0], unit_price=Amount(Decimal("70000.0"), "RUB"))]
    assert one.document_text() == _fresh(one)
    assert other.document_text() == _fresh(other) != _fresh(one)
