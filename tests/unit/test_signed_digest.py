"""A signature's digest is the SHA-256 of the canonical JSON of {"order": document, "action": ...,
**the step's data}; `signed_text_digest` splices the order's document text in, and
`Order.document_text` writes that text straight from the order: both must hash exactly the text
the encoder writes."""

from __future__ import annotations

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
