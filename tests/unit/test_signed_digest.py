"""A signature's digest is the SHA-256 of the canonical JSON of {"order": document, "action": ...,
**the step's data}; `signed_digest` splices the order's document text in (and reuses it for the
next step that signs the same document) and must hash exactly the same text."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from relos.domain.orders import digest, signed_digest

text = st.text(max_size=12)
scalar = st.one_of(st.none(), st.booleans(), st.integers(), text)
value = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=8,
)
#: what an order's document holds (`Order.document`): text, integers and None, never a boolean,
#: which equals an integer (False == 0) yet encodes otherwise, so that `signed_digest`'s reuse
#: of the last document's text (compared with ==) would hash the other one's text
document_value = st.recursive(
    st.one_of(st.none(), st.integers(), text),
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
    document=st.dictionaries(text, document_value, max_size=6),
    action=text,
    extra=st.dictionaries(step_key, value, max_size=4),
)
def test_the_spliced_digest_is_the_digest_of_the_whole_document(
    document: dict[str, Any], action: str, extra: dict[str, Any]
) -> None:
    whole = digest({"order": document, "action": action, **extra})
    assert signed_digest(document, action, extra) == whole
    assert signed_digest(document, action, extra) == whole  # the document's text reused


def test_an_order_signs_the_same_digests_step_after_step() -> None:
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
        assert signed_digest(document, action, extra) == digest(
            {"order": document, "action": action, **extra}
        )
    changed = {**document, "revision": 2}
    assert signed_digest(changed, "amend", {}) == digest({"order": changed, "action": "amend"})
    assert signed_digest(changed, "amend", {}) != signed_digest(document, "amend", {})
