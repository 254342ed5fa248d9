"""Party keys, signed statements and reconciliation runs through the services (fake node)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from relos.domain.errors import (
    AlreadyExists,
    NotConfigured,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from relos.domain.reconciliation import MatchStatus
from relos.services import audit, reconciliation
from tests.fakes import KEY_PASSPHRASE, FakeUnitOfWork
from tests.unit.conftest import to_invoiced

AS_OF = date(2026, 6, 30)


def keyed(uow: FakeUnitOfWork) -> FakeUnitOfWork:
    """Both parties' keys on one node, and the counterpart's public key on a second node."""
    reconciliation.create_key(uow, "ind-admin", "IND", passphrase=KEY_PASSPHRASE)
    reconciliation.create_key(uow, "rus-admin", "RUS", passphrase=KEY_PASSPHRASE)
    return uow


def statement(uow: FakeUnitOfWork, party: str = "IND", user: str = "ind-fo") -> str:
    out = io.StringIO()
    reconciliation.export_statement(
        uow, user, out, agreement="RELOS", party=party, as_of=AS_OF, passphrase=KEY_PASSPHRASE
    )
    return out.getvalue()


def test_a_party_admin_creates_its_own_partys_key_only(uow: FakeUnitOfWork) -> None:
    kid = reconciliation.create_key(uow, "ind-admin", "IND", passphrase=KEY_PASSPHRASE)
    assert "PUBLIC KEY" in reconciliation.export_key(uow, "IND")
    with pytest.raises(PermissionDenied):
        reconciliation.create_key(uow, "ind-admin", "RUS", passphrase=KEY_PASSPHRASE)
    with pytest.raises(PermissionDenied):
        reconciliation.create_key(uow, "ind-fo", "IND", passphrase=KEY_PASSPHRASE)
    (record,) = [r for r in audit.log(uow, "party_key") if r.key == kid]
    assert "PRIVATE" not in json.dumps(record.after)


def test_the_private_key_never_leaves_through_the_export(uow: FakeUnitOfWork) -> None:
    reconciliation.create_key(uow, "ind-admin", "IND", passphrase=KEY_PASSPHRASE)
    assert "PRIVATE" not in reconciliation.export_key(uow, "IND")


def test_a_counterparts_public_key_is_imported_by_an_admin_not_ones_own(
    uow: FakeUnitOfWork,
) -> None:
    reconciliation.create_key(uow, "rus-admin", "RUS", passphrase=KEY_PASSPHRASE)
    pem = reconciliation.export_key(uow, "RUS")
    other = FakeUnitOfWork()
    other._committed = uow.committed.copy()
    other._committed.party_keys = []
    kid = reconciliation.import_key(other, "ind-admin", "RUS", pem)
    with other:
        (key,) = other.reconciliation.party_keys("RUS")
    assert (key.key_id, key.private_pem) == (kid, None)
    with pytest.raises(AlreadyExists):
        reconciliation.import_key(other, "ind-admin", "RUS", pem)
    with pytest.raises(RuleViolation):
        reconciliation.import_key(other, "ind-admin", "IND", pem)
    with pytest.raises(PermissionDenied):
        reconciliation.import_key(other, "ind-fo", "RUS", pem)
    with pytest.raises(ValidationError):
        reconciliation.import_key(other, "ind-admin", "RUS", "not a key")


def test_a_statement_needs_a_signing_key_and_a_finance_officer_or_auditor_of_the_party(
    uow: FakeUnitOfWork,
) -> None:
    to_invoiced(uow)
    with pytest.raises(NotFound):
        statement(uow)
    keyed(uow)
    with pytest.raises(PermissionDenied):
        statement(uow, "IND", "rus-fo")
    with pytest.raises(PermissionDenied):
        statement(uow, "IND", "ind-oo")
    doc = json.loads(statement(uow))
    (order,) = doc["orders"]
    assert order["state"] == "invoiced"
    assert doc["header"]["party"] == "IND"
    assert doc["header"]["counterparty"] == "RUS"


def test_their_statement_matches_our_records_on_the_same_node(uow: FakeUnitOfWork) -> None:
    o = to_invoiced(uow)
    keyed(uow)
    report = reconciliation.match_statement(uow, "rus-fo", statement(uow))
    assert [(ln.order, ln.status) for ln in report.lines] == [(o.number, MatchStatus.MATCHED)]
    assert report.run.balance_differences == ()
    assert [r.id for r in reconciliation.runs(uow, "rus-fo")] == [report.run.id]
    assert reconciliation.runs(uow, "ind-fo") == []  # runs are the reconciling party's own


def test_a_run_is_shown_a_page_of_lines_at_a_time_with_every_line_counted(
    uow: FakeUnitOfWork,
) -> None:
    numbers = sorted(to_invoiced(uow).number for _ in range(3))
    keyed(uow)
    run = reconciliation.match_statement(uow, "rus-fo", statement(uow)).run
    first = reconciliation.show(uow, "rus-fo", run.id, limit=2)
    assert [ln.order for ln in first.lines] == numbers[:2]
    assert first.counts() == {"matched": 3}
    assert first.next_after == first.lines[-1].line_no
    rest = reconciliation.show(uow, "rus-fo", run.id, limit=2, after=first.next_after)
    assert ([ln.order for ln in rest.lines], rest.next_after) == (numbers[2:], None)
    assert rest.counts() == {"matched": 3}
    whole = reconciliation.show(uow, "rus-fo", run.id)
    assert (whole.lines, whole.next_after) == (first.lines + rest.lines, None)
    with pytest.raises(ValidationError) as err:
        reconciliation.show(uow, "rus-fo", run.id, limit=0)
    assert (err.value.field, err.value.value) == ("limit", 0)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s.replace('"state":"invoiced"', '"state":"settled"'),
        lambda s: s.replace('"value":"26000000.00"', '"value":"25000000.00"'),
        lambda s: s.replace('"signature":"', '"signature":"A', 1),
    ],
    ids=["state", "amount", "signature"],
)
def test_a_tampered_statement_is_refused_and_nothing_is_stored(
    uow: FakeUnitOfWork, tamper: object
) -> None:
    to_invoiced(uow)
    keyed(uow)
    text = statement(uow)
    changed = tamper(text)  # type: ignore[operator]
    assert changed != text
    with pytest.raises((RuleViolation, ValidationError)) as e:
        reconciliation.match_statement(uow, "rus-fo", changed)
    assert e.value.rule in ("bad_signature", "invalid")
    with uow:
        assert uow.reconciliation.runs() == []
    assert uow.cursors_open_at_end == []


def test_a_statement_signed_by_an_unknown_key_is_refused(uow: FakeUnitOfWork) -> None:
    to_invoiced(uow)
    keyed(uow)
    text = statement(uow)
    other = FakeUnitOfWork()
    other._committed = uow.committed.copy()
    other._committed.party_keys = []
    with pytest.raises(NotFound):
        reconciliation.match_statement(other, "rus-fo", text)


def test_lines_are_disputed_and_resolved_with_notes_and_audited(uow: FakeUnitOfWork) -> None:
    to_invoiced(uow)
    keyed(uow)
    text = statement(uow)
    with uow:  # our (Russia's) copy of the order differs in state
        o = next(iter(uow.orders.numbers()))
        order = uow.orders.get(o)
        order.state = order.state.__class__("settled")
        uow.orders.save(order)
        uow.commit()
    report = reconciliation.match_statement(uow, "rus-fo", text)
    (line,) = report.lines
    assert line.status is MatchStatus.STATE_MISMATCH
    with pytest.raises(NotFound):  # another party's run is not even shown
        reconciliation.dispute(uow, "ind-fo", report.run.id, 1, "not yours")
    with pytest.raises(PermissionDenied):
        reconciliation.dispute(uow, "rus-oo", report.run.id, 1, "not an officer of finance")
    with pytest.raises(ValidationError):
        reconciliation.dispute(uow, "rus-fo", report.run.id, 1, "")
    reconciliation.dispute(uow, "rus-fo", report.run.id, 1, "we recorded the payment")
    reconciliation.resolve(uow, "rus-fo", report.run.id, 1, "their ledger was late; agreed")
    shown = reconciliation.show(uow, "rus-fo", report.run.id, date(2030, 1, 1))
    (after,) = shown.lines
    assert after.disputed_note == "we recorded the payment"
    assert after.resolved_note == "their ledger was late; agreed"
    assert not shown.overdue(after)
    actions = [r.action for r in audit.log(uow, "reconciliation_line")]
    assert actions == ["reconcile.dispute", "reconcile.resolve"]
    with pytest.raises(NotFound):
        reconciliation.show(uow, "ind-fo", report.run.id)


# -- private keys at rest -------------------------------------------------------------------------


def stored_private(uow: FakeUnitOfWork, party: str) -> str:
    with uow:
        (key,) = [k for k in uow.reconciliation.party_keys(party) if k.private_pem is not None]
    assert key.private_pem is not None
    return key.private_pem


def raw_private(pem: str) -> bytes:
    private = serialization.load_pem_private_key(pem.encode(), KEY_PASSPHRASE.encode())
    assert isinstance(private, Ed25519PrivateKey)
    return private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def test_the_private_key_is_stored_encrypted_under_the_passphrase(uow: FakeUnitOfWork) -> None:
    reconciliation.create_key(uow, "ind-admin", "IND", passphrase=KEY_PASSPHRASE)
    pem = stored_private(uow, "IND")
    assert pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    raw = raw_private(pem)  # the passphrase opens it
    der = base64.b64decode("".join(pem.strip().splitlines()[1:-1]))
    assert len(raw) == 32
    assert raw not in der
    assert raw.hex() not in pem
    assert base64.b64encode(raw).decode() not in pem
    with pytest.raises(ValueError, match=r"(?i)decrypt|password"):  # and nothing else does
        serialization.load_pem_private_key(pem.encode(), b"another passphrase")


def test_without_the_passphrase_no_key_is_made_nor_statement_signed_but_public_keys_read(
    uow: FakeUnitOfWork,
) -> None:
    to_invoiced(uow)
    with pytest.raises(NotConfigured) as e:
        reconciliation.create_key(uow, "ind-admin", "IND", passphrase=None)
    assert (e.value.rule, e.value.field) == ("key_passphrase_missing", "RELOS_KEY_PASSPHRASE")
    assert "RELOS_KEY_PASSPHRASE" in e.value.describe()
    keyed(uow)
    with pytest.raises(NotConfigured) as e:
        reconciliation.export_statement(
            uow, "ind-fo", io.StringIO(), agreement="RELOS", party="IND", as_of=AS_OF,
            passphrase=None,
        )  # fmt: skip
    assert (e.value.rule, e.value.field) == ("key_passphrase_missing", "RELOS_KEY_PASSPHRASE")
    assert "PUBLIC KEY" in reconciliation.export_key(uow, "IND")
    (ind,) = reconciliation.public_keys(uow, "rus-fo", "IND")
    assert (ind.party, ind.signing) == ("IND", True)


def test_signing_with_the_wrong_passphrase_is_a_clear_error_naming_the_setting_and_key(
    uow: FakeUnitOfWork,
) -> None:
    to_invoiced(uow)
    kid = reconciliation.create_key(uow, "ind-admin", "IND", passphrase=KEY_PASSPHRASE)
    out = io.StringIO()
    with pytest.raises(NotConfigured) as e:
        reconciliation.export_statement(
            uow, "ind-fo", out, agreement="RELOS", party="IND", as_of=AS_OF,
            passphrase="not the passphrase",
        )  # fmt: skip
    assert (e.value.rule, e.value.field, e.value.value) == (
        "key_passphrase_wrong",
        "RELOS_KEY_PASSPHRASE",
        kid,
    )
    assert "not the passphrase" not in str(e.value)
    assert out.getvalue() == ""  # nothing written before the key opened
    with uow:
        assert not [r for r in uow.audit.records() if r.action == "statement.export"]


def test_a_key_stored_unencrypted_is_refused_until_protected_then_signs(
    uow: FakeUnitOfWork,
) -> None:
    to_invoiced(uow)
    kid = reconciliation.create_key(uow, "ind-admin", "IND", passphrase=KEY_PASSPHRASE)
    reconciliation.create_key(uow, "rus-admin", "RUS", passphrase=KEY_PASSPHRASE)
    plain = serialization.load_pem_private_key(
        stored_private(uow, "IND").encode(), KEY_PASSPHRASE.encode()
    ).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with uow:  # as a node of the previous version stored it
        uow.reconciliation.set_private(kid, plain.decode())
        uow.commit()
    with pytest.raises(NotConfigured) as e:
        statement(uow)
    assert (e.value.rule, e.value.value) == ("key_not_encrypted", kid)
    assert "relos key protect" in str(e.value)
    with pytest.raises(NotConfigured):
        reconciliation.protect_keys(uow, None)
    assert reconciliation.protect_keys(uow, KEY_PASSPHRASE) == [kid]
    assert reconciliation.protect_keys(uow, KEY_PASSPHRASE) == []  # nothing left to do
    assert stored_private(uow, "IND").startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    report = reconciliation.match_statement(uow, "rus-fo", statement(uow))
    assert {ln.status for ln in report.lines} == {MatchStatus.MATCHED}
    # a new passphrase: the old one re-encrypts both keys, then only the new one signs
    with pytest.raises(NotConfigured) as e:
        reconciliation.protect_keys(uow, "new passphrase", old_passphrase="not the old one")
    assert (e.value.rule, e.value.field) == ("key_passphrase_wrong", "old passphrase")
    changed = reconciliation.protect_keys(uow, "new passphrase", old_passphrase=KEY_PASSPHRASE)
    every = [
        k.key_id
        for party, reader in (("IND", "ind-fo"), ("RUS", "rus-fo"))
        for k in reconciliation.public_keys(uow, reader, party)
    ]
    assert sorted(changed) == sorted(every)
    with pytest.raises(NotConfigured):
        statement(uow)
    out = io.StringIO()
    reconciliation.export_statement(
        uow, "ind-fo", out, agreement="RELOS", party="IND", as_of=AS_OF,
        passphrase="new passphrase",
    )  # fmt: skip
    actions = [r.action for r in audit.log(uow, "party_key")]
    assert actions.count("key.protect") == 3
    assert all("PRIVATE" not in json.dumps(r.after) for r in audit.log(uow, "party_key"))


def test_rotating_a_key_makes_the_new_one_sign_and_keeps_the_old_one_readable(
    uow: FakeUnitOfWork,
) -> None:
    to_invoiced(uow)
    keyed(uow)
    old = statement(uow)
    new_kid = reconciliation.create_key(uow, "ind-admin", "IND", passphrase=KEY_PASSPHRASE)
    keys = reconciliation.public_keys(uow, "ind-admin", "IND")
    assert [(k.key_id == new_kid, k.signing) for k in keys] == [(False, False), (True, True)]
    assert json.loads(statement(uow))["header"]["key_id"] == new_kid
    assert reconciliation.match_statement(uow, "rus-fo", old).run.their_key_id != new_kid


# -- statements read streamed ---------------------------------------------------------------------


def signer(uow: FakeUnitOfWork, party: str = "IND") -> Ed25519PrivateKey:
    private = serialization.load_pem_private_key(
        stored_private(uow, party).encode(), KEY_PASSPHRASE.encode()
    )
    assert isinstance(private, Ed25519PrivateKey)
    return private


def rewritten(uow: FakeUnitOfWork, change: Callable[[list[dict[str, Any]]], None]) -> str:
    """Our statement, its orders changed by `change`, signed again with India's key."""
    doc = json.loads(statement(uow))
    orders = doc["orders"]
    change(orders)
    out = io.StringIO()
    reconciliation.write_statement(out, doc["header"], orders, signer(uow))
    return out.getvalue()


def test_a_statement_is_json_with_its_header_first_and_one_order_per_line(
    uow: FakeUnitOfWork,
) -> None:
    o = to_invoiced(uow)
    keyed(uow)
    text = statement(uow)
    doc = json.loads(text)
    assert list(doc) == ["format", "header", "orders", "digest", "signature"]
    assert doc["format"] == "relos-statement/2"
    framed = (reconciliation.canonical(doc["header"]) + "\n").encode()
    framed += b"".join((reconciliation.canonical(x) + "\n").encode() for x in doc["orders"])
    assert hashlib.sha256(framed).hexdigest() == doc["digest"]
    assert any(line.startswith('{"currency"') and o.number in line for line in text.splitlines())


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        (lambda os: os.append(dict(os[0])), "orders", "RELOS-IN-2026-000001"),
        (
            lambda os: os.insert(0, {**os[0], "number": "RELOS-IN-2026-000009"}),
            "orders",
            "RELOS-IN-2026-000001",
        ),
    ],
    ids=["twice", "unsorted"],
)
def test_a_statement_must_list_each_order_once_sorted_by_number(
    uow: FakeUnitOfWork, change: Callable[[list[dict[str, Any]]], None], field: str, value: str
) -> None:
    to_invoiced(uow)
    keyed(uow)
    with pytest.raises(ValidationError) as e:
        reconciliation.match_statement(uow, "rus-fo", rewritten(uow, change))
    assert (e.value.field, e.value.value) == (field, value)
    with uow:
        assert uow.reconciliation.runs() == []


@pytest.mark.parametrize(
    ("tamper", "field"),
    [
        (
            lambda s: s.replace('"format":"relos-statement/2"', '"format":"relos-statement/1"'),
            "format",
        ),
        (lambda s: s[: len(s) // 2], "statement"),
        (lambda s: s + "{}", "statement"),
        (
            lambda s: s.replace('"revision":', '"revision":1.5,"x":', 1),
            "orders[RELOS-IN-2026-000001]",
        ),
        (lambda s: s.replace('{"format"', '{"header":{},"format"', 1), "header"),
        (lambda s: s.replace(',\n"digest"', ',"signature":"x",\n"digest"', 1), "statement"),
    ],
    ids=[
        "version-1",
        "truncated",
        "trailing",
        "float",
        "header-twice",
        "layout",
    ],
)
def test_a_malformed_statement_is_refused_naming_what_is_wrong_and_nothing_is_stored(
    uow: FakeUnitOfWork, tamper: Callable[[str], str], field: str
) -> None:
    to_invoiced(uow)
    keyed(uow)
    with pytest.raises(ValidationError) as e:
        reconciliation.match_statement(uow, "rus-fo", tamper(statement(uow)))
    assert e.value.field == field
    with uow:
        assert uow.reconciliation.runs() == []
    assert uow.cursors_open_at_end == []  # our orders' query ended inside its transaction


def test_a_statement_laid_out_otherwise_still_verifies_read_by_ijson(
    uow: FakeUnitOfWork,
) -> None:
    """Re-indented, keys moved, an unsigned key added: the values are what is signed."""
    o = to_invoiced(uow)
    keyed(uow)
    doc = json.loads(statement(uow))
    moved = {"signature": doc["signature"], "note": "unsigned", **doc}
    text = json.dumps(moved, indent=2, ensure_ascii=False)
    report = reconciliation.match_statement(uow, "rus-fo", text)
    assert [(ln.order, ln.status) for ln in report.lines] == [(o.number, MatchStatus.MATCHED)]
    assert report.run.statement_digest == doc["digest"]
    doc["orders"][0]["state"] = "settled"
    with pytest.raises(RuleViolation) as e:
        reconciliation.match_statement(uow, "rus-fo", json.dumps(doc, indent=2))
    assert e.value.rule == "bad_signature"


def test_a_bad_signature_names_the_statement_and_the_key(uow: FakeUnitOfWork) -> None:
    to_invoiced(uow)
    keyed(uow)
    text = statement(uow)
    kid = json.loads(text)["header"]["key_id"]
    with pytest.raises(RuleViolation) as e:
        reconciliation.match_statement(
            uow, "rus-fo", text.replace('"as_of":"2026-06-30"', '"as_of":"2026-06-29"')
        )
    assert (e.value.rule, e.value.field, e.value.value) == ("bad_signature", "signature", kid)
    assert "statement of IND for RUS under RELOS as of 2026-06-29" in e.value.message
