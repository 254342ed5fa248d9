"""Party keys, signed statements and reconciliation runs through the services (fake node)."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest

from relos.domain.errors import (
    AlreadyExists,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from relos.domain.reconciliation import MatchStatus
from relos.services import audit, reconciliation
from tests.fakes import FakeUnitOfWork
from tests.unit.conftest import to_invoiced

AS_OF = date(2026, 6, 30)


def keyed(uow: FakeUnitOfWork) -> FakeUnitOfWork:
    """Both parties' keys on one node, and the counterpart's public key on a second node."""
    reconciliation.create_key(uow, "ind-admin", "IND")
    reconciliation.create_key(uow, "rus-admin", "RUS")
    return uow


def statement(uow: FakeUnitOfWork, party: str = "IND", user: str = "ind-fo") -> str:
    out = io.StringIO()
    reconciliation.export_statement(uow, user, out, agreement="RELOS", party=party, as_of=AS_OF)
    return out.getvalue()


def test_a_party_admin_creates_its_own_partys_key_only(uow: FakeUnitOfWork) -> None:
    kid = reconciliation.create_key(uow, "ind-admin", "IND")
    assert "PUBLIC KEY" in reconciliation.export_key(uow, "IND")
    with pytest.raises(PermissionDenied):
        reconciliation.create_key(uow, "ind-admin", "RUS")
    with pytest.raises(PermissionDenied):
        reconciliation.create_key(uow, "ind-fo", "IND")
    (record,) = [r for r in audit.log(uow, "party_key") if r.key == kid]
    assert "PRIVATE" not in json.dumps(record.after)


def test_the_private_key_never_leaves_through_the_export(uow: FakeUnitOfWork) -> None:
    reconciliation.create_key(uow, "ind-admin", "IND")
    assert "PRIVATE" not in reconciliation.export_key(uow, "IND")


def test_a_counterparts_public_key_is_imported_by_an_admin_not_ones_own(
    uow: FakeUnitOfWork,
) -> None:
    reconciliation.create_key(uow, "rus-admin", "RUS")
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
    (order,) = doc["statement"]["orders"]
    assert order["state"] == "invoiced"
    assert doc["statement"]["party"] == "IND"
    assert doc["statement"]["counterparty"] == "RUS"


def test_their_statement_matches_our_records_on_the_same_node(uow: FakeUnitOfWork) -> None:
    o = to_invoiced(uow)
    keyed(uow)
    report = reconciliation.match_statement(uow, "rus-fo", statement(uow))
    assert [(ln.order, ln.status) for ln in report.lines] == [(o.number, MatchStatus.MATCHED)]
    assert report.run.balance_differences == ()
    assert [r.id for r in reconciliation.runs(uow, "rus-fo")] == [report.run.id]
    assert reconciliation.runs(uow, "ind-fo") == []  # runs are the reconciling party's own


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
