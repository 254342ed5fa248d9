"""The audit chain: each record hashes its content and its predecessor's hash, so an edited,
inserted or deleted record is found and named (its seq and the kind of problem)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from relos.domain.audit import (
    DELETED,
    EDITED,
    GENESIS,
    INSERTED,
    AuditProblem,
    AuditRecord,
    chain_hash,
    next_record,
    verify,
)
from relos.domain.errors import PermissionDenied
from relos.services import audit, catalogue, ordering, people
from tests.fakes import ORDER_DATA, FakeUnitOfWork
from tests.unit.conftest import AT, DAY

T0 = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)


def chain(n: int) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    for i in range(n):
        records.append(
            next_record(
                records[-1] if records else None,
                at=T0 + timedelta(minutes=i),
                user="ind-oo",
                party="IND",
                request_id=f"req{i}",
                action="order.submit",
                entity="order",
                key=f"RELOS-IN-2026-{i:06d}",
                before={"state": "draft"},
                after={"state": "submitted", "note": "Североморск"},
            )
        )
    return records


def kinds(problems: list[AuditProblem]) -> set[tuple[int, str]]:
    return {(p.seq, p.kind) for p in problems}


# -- building the chain ---------------------------------------------------------------------------


def test_first_record_starts_the_chain_and_each_next_links_to_the_one_before() -> None:
    a, b, c = chain(3)
    assert (a.seq, b.seq, c.seq) == (1, 2, 3)
    assert a.prev_hash == GENESIS == "0" * 64
    assert b.prev_hash == a.hash
    assert c.prev_hash == b.hash
    assert len({a.hash, b.hash, c.hash}) == 3


def test_hash_is_sha256_of_the_canonical_json_of_every_field_but_the_hash() -> None:
    r = chain(1)[0]
    content = {
        "seq": 1,
        "at": "2026-03-01T09:00:00.123456+00:00",
        "user": "ind-oo",
        "party": "IND",
        "request_id": "req0",
        "action": "order.submit",
        "entity": "order",
        "key": "RELOS-IN-2026-000000",
        "before": {"state": "draft"},
        "after": {"state": "submitted", "note": "Североморск"},
        "prev_hash": GENESIS,
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert r.hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert chain_hash(GENESIS, r.fields()) == r.hash


def test_time_is_hashed_in_utc_whatever_zone_it_was_given_in() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    given = next_record(
        None,
        at=T0.astimezone(ist),
        user="u",
        party="IND",
        request_id="r",
        action="a",
        entity="e",
        key="k",
        before=None,
        after=None,
    )
    assert given.at.tzinfo is UTC
    assert given.hash == replace(given, at=T0.replace(tzinfo=None)).computed_hash()


def test_a_naive_time_is_refused_and_so_is_a_value_json_cannot_hold() -> None:
    with pytest.raises(ValueError, match="time zone"):
        next_record(None, at=datetime(2026, 3, 1), user="u", party="", request_id="r",
                    action="a", entity="e", key="k", before=None, after=None)  # fmt: skip
    with pytest.raises(TypeError):
        next_record(None, at=T0, user="u", party="", request_id="r", action="a",
                    entity="e", key="k", before=None, after={"x": Decimal("1.5")})  # fmt: skip


# -- verifying it ---------------------------------------------------------------------------------


def test_an_intact_chain_has_no_problem() -> None:
    assert verify(chain(6)) == []
    assert verify([]) == []


def test_an_edited_record_is_named_edited() -> None:
    records = chain(5)
    records[2] = replace(records[2], after={"state": "accepted"})
    problems = verify(records)
    assert kinds(problems) == {(3, EDITED)}
    assert "hash does not match" in problems[0].detail


def test_a_deleted_record_is_named_by_its_missing_seq() -> None:
    records = chain(5)
    del records[2]
    problems = verify(records)
    assert kinds(problems) == {(3, DELETED)}
    assert "seq 3 missing: seq 4 follows seq 2" in problems[0].detail


def test_deleted_records_at_the_start_and_a_run_of_them_are_named() -> None:
    records = chain(7)
    problems = verify(records[1:3] + records[5:])
    assert kinds(problems) == {(1, DELETED), (4, DELETED)}
    assert "seqs 4-5 missing" in problems[1].detail


def test_an_inserted_record_the_chain_passes_by_is_named_inserted() -> None:
    records = chain(5)
    # a forger writes a well-formed record after seq 2 and renumbers nothing: the seq repeats
    forged = next_record(
        records[1],
        at=T0,
        user="rus-fo",
        party="RUS",
        request_id="forged",
        action="order.settle",
        entity="order",
        key="RELOS-IN-2026-000002",
        before=None,
        after={"state": "settled"},
    )
    problems = verify([*records[:2], forged, *records[2:]])
    assert (3, INSERTED) in kinds(problems)
    assert all(p.kind == INSERTED for p in problems)


def test_an_inserted_record_that_the_next_one_links_past_is_the_one_named() -> None:
    records = chain(4)
    forged = next_record(
        records[1],
        at=T0,
        user="x",
        party="IND",
        request_id="forged",
        action="order.close",
        entity="order",
        key="K",
        before=None,
        after=None,
    )
    # renumber the rest as the forger would, keeping their stored hashes
    shifted = [replace(r, seq=r.seq + 1) for r in records[2:]]
    problems = verify([*records[:2], forged, *shifted])
    assert (3, INSERTED) in kinds(problems)
    assert "passes it by" in next(p.detail for p in problems if p.seq == 3)
    # the renumbered records no longer match their hashes either
    assert {(4, EDITED), (5, EDITED)} <= kinds(problems)


def test_a_forged_record_that_does_not_link_to_its_predecessor_is_named_inserted() -> None:
    records = chain(4)
    forged = next_record(
        records[0],  # links to seq 1, but is written as seq 5 after seq 4
        at=T0,
        user="x",
        party="IND",
        request_id="forged",
        action="order.close",
        entity="order",
        key="K",
        before=None,
        after=None,
    )
    forged = replace(forged, seq=5)
    forged = replace(forged, hash=forged.computed_hash())
    problems = verify([*records, forged])
    assert kinds(problems) == {(5, INSERTED)}
    assert "prev_hash is not the hash of seq 4" in problems[0].detail


def test_every_problem_is_reported_not_only_the_first() -> None:
    records = chain(8)
    records[1] = replace(records[1], user="someone else")
    del records[4]
    records[-1] = replace(records[-1], before=None)
    assert kinds(verify(records)) == {(2, EDITED), (5, DELETED), (8, EDITED)}


# -- the services record every change on the fake node, with who, party, request and snapshots --


def _order(uow: FakeUnitOfWork) -> str:
    return ordering.draft(
        uow,
        "ind-oo",
        agreement="RELOS",
        supplying="RUS",
        facility="RU-SEV",
        unit="INS-TABAR",
        method="cash",
        use="port_call",
        required_by=DAY + timedelta(days=30),
        lines=[("F76", "400")],
        data=ORDER_DATA,
        at=AT,
    ).number


def test_an_order_step_is_recorded_with_who_party_request_before_and_after(
    uow: FakeUnitOfWork,
) -> None:
    number = _order(uow)
    ordering.submit(uow, "ind-oo", number, AT)
    ordering.accept(uow, "rus-ao", number, AT)
    records = audit.log(uow, "order", number)
    assert [r.action for r in records] == ["order.draft", "order.submit", "order.accept"]
    draft, submit, accept = records
    assert draft.before is None
    assert draft.after is not None
    assert draft.after["state"] == "draft"
    assert draft.after["lines"][0]["quantity"] == "400"
    assert submit.before == draft.after
    assert submit.after is not None
    assert submit.after["state"] == "submitted"
    assert (accept.user, accept.party) == ("rus-ao", "RUS")
    assert accept.after is not None
    assert accept.after["lines"][0]["unit_price"] == "65000.00"
    assert len({r.request_id for r in records}) == 3
    assert audit.verify(uow) == []


def test_the_log_of_one_request_lists_only_that_requests_records(
    uow: FakeUnitOfWork,
) -> None:
    number = _order(uow)
    ordering.submit(uow, "ind-oo", number, AT)
    draft, submit = audit.log(uow, "order", number)
    assert audit.log(uow, request=submit.request_id) == [submit]
    assert audit.log(uow, "order", number, request=draft.request_id) == [draft]
    assert audit.log(uow, request="no-such-request") == []


def test_a_refused_action_writes_no_audit_record(uow: FakeUnitOfWork) -> None:
    number = _order(uow)
    before = len(audit.log(uow))
    with pytest.raises(PermissionDenied):
        ordering.accept(uow, "ind-oo", number, AT)  # the requesting side may not accept
    assert len(audit.log(uow)) == before


def test_reference_data_and_users_are_recorded_without_credentials(uow: FakeUnitOfWork) -> None:
    actions = [(r.action, r.user) for r in audit.log(uow)]
    assert ("party.add", "(administration)") in actions
    assert ("price_item.add", "(administration)") in actions
    assert ("user.add", "ind-admin") in actions
    people.disable_user(uow, "ind-admin", "ind-ro")
    last = audit.log(uow, "user", "ind-ro")[-1]
    assert last.action == "user.disable"
    assert last.before == {"name": "ind-ro", "party": "IND", "role": "receiving_officer",
                           "active": True}  # fmt: skip
    assert last.after is not None
    assert last.after["active"] is False
    catalogue.record_step(uow, "RELOS", "IND", "President's assent", DAY)
    step = audit.log(uow, "agreement", "RELOS")[-1]
    assert step.action == "agreement.ratification_step"
    assert step.before != step.after
    assert audit.verify(uow) == []


def test_the_unit_of_work_names_its_request() -> None:
    fixed = FakeUnitOfWork(request_id="req-42")
    catalogue.add_party(fixed, {"code": "AUS", "name": "Australia", "currency": "AUD"})
    record = audit.log(fixed)[-1]
    assert (record.request_id, record.user, record.party) == ("req-42", "(administration)", "")


def test_an_audit_record_of_an_uncommitted_unit_of_work_vanishes(uow: FakeUnitOfWork) -> None:
    count = len(audit.log(uow))
    with uow:
        audit.record(uow, None, "party.add", "party", "XXX", None, {"code": "XXX"})
        assert len(list(uow.audit.records())) == count + 1
    assert len(audit.log(uow)) == count
