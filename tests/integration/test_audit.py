"""The audit log on SQLite and PostgreSQL: one record per change, in the change's transaction;
tampering with the table directly (UPDATE, DELETE, INSERT) is found and named; concurrent
writers never fork the chain."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, delete, func, insert, select, update

from relos.domain.audit import DELETED, EDITED, INSERTED, chain_hash
from relos.domain.errors import InvalidTransition, PermissionDenied
from relos.services import audit, ordering, people
from relos.storage.audit_tables import audit_log
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.integration.builders import DATA, at, placed, snapshot, world


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def _problems(engine: Engine) -> set[tuple[int, str]]:
    return {(p.seq, p.kind) for p in audit.verify(SqlUnitOfWork(engine))}


@pytest.fixture
def populated(engine: Engine) -> Engine:
    """The RELOS world and one order placed and received: an intact chain of some records."""
    uow = SqlUnitOfWork(engine)
    world(uow)
    number = placed(uow, "IND", "cash", [("F76", "400")])
    ordering.receive_all(uow, "in_receive", number, date(2026, 3, 2), at(date(2026, 3, 2)))
    return engine


def test_a_lifecycle_writes_one_record_per_change_with_who_party_request_and_snapshots(
    engine: Engine,
) -> None:
    setup = SqlUnitOfWork(engine)
    world(setup)
    loaded = _count(engine)
    # 2 parties, 1 agreement, 2 facilities, 2 units, 5 price items, 8 users
    assert loaded == 20
    uow = SqlUnitOfWork(engine, request_id="req-draft")
    number = placed(uow, "IND", "cash", [("F76", "400")])
    ordering.receive(
        uow, "in_receive", number, [(1, "150")], date(2026, 3, 2), at(date(2026, 3, 2))
    )
    ordering.invoice(uow, "ru_finance", number, date(2026, 3, 3), at(date(2026, 3, 3)))
    ordering.settle(uow, "in_finance", number, "9750000.00", on=date(2026, 3, 9))

    records = audit.log(SqlUnitOfWork(engine), "order", number)
    assert [r.action for r in records] == [
        "order.draft",
        "order.submit",
        "order.accept",
        "order.receive",
        "order.invoice",
        "order.settle",
    ]
    assert [r.seq for r in records] == list(range(loaded + 1, loaded + 7))
    assert [(r.user, r.party) for r in records] == [
        ("in_order", "IND"),
        ("in_order", "IND"),
        ("ru_accept", "RUS"),
        ("in_receive", "IND"),
        ("ru_finance", "RUS"),
        ("in_finance", "IND"),
    ]
    assert {r.request_id for r in records} == {"req-draft"}
    draft, submit, accept, receive, invoice, settle = records
    assert draft.before is None
    assert draft.after is not None
    assert draft.after["data"]["point_of_contact"] == DATA["point_of_contact"]  # Cyrillic intact
    assert submit.before == draft.after
    assert accept.before is not None
    assert accept.after is not None
    assert accept.before["lines"][0]["unit_price"] is None
    assert accept.after["lines"][0]["unit_price"] == "65000.00"
    assert receive.after is not None
    assert (receive.after["state"], len(receive.after["receipts"])) == ("partially_received", 1)
    assert invoice.after is not None
    assert invoice.after["invoices"][0]["value"]["number"] == "9750000.00"
    assert settle.after is not None
    assert settle.after["settlements"][0]["amount"]["number"] == "9750000.00"
    assert all(r.at.tzinfo is UTC for r in records)
    assert audit.verify(SqlUnitOfWork(engine)) == []


def test_each_outermost_unit_of_work_gets_its_own_request_id(engine: Engine) -> None:
    world(SqlUnitOfWork(engine))
    ids = [r.request_id for r in audit.log(SqlUnitOfWork(engine), "user")]
    assert len(ids) == len(set(ids)) == 8
    assert all(len(i) == 32 for i in ids)
    # each is found by its id (an HTTP request's X-Request-ID, in the access log)
    found = audit.log(SqlUnitOfWork(engine), request=ids[3])
    assert [(r.entity, r.request_id) for r in found] == [("user", ids[3])]


def test_a_refused_action_writes_no_audit_record(populated: Engine) -> None:
    uow = SqlUnitOfWork(populated)
    number = audit.log(uow, "order")[0].key
    before = snapshot(populated)
    with pytest.raises(PermissionDenied):
        ordering.invoice(uow, "in_finance", number)  # only the supplier invoices
    with pytest.raises(InvalidTransition):
        ordering.submit(uow, "in_order", number)  # long past submission
    with pytest.raises(PermissionDenied):
        people.disable_user(uow, "in_order", "in_receive")
    assert snapshot(populated) == before


def test_times_read_back_equal_to_the_microsecond_and_hashes_recompute(populated: Engine) -> None:
    uow = SqlUnitOfWork(populated)
    stamp = datetime(2026, 3, 1, 23, 59, 59, 987654, tzinfo=UTC)
    with uow:
        written = audit.record(uow, None, "party.note", "party", "IND", None, {"x": "é"}, stamp)
        uow.commit()
    read = audit.log(SqlUnitOfWork(populated), "party", "IND")[-1]
    assert read == written
    assert read.at == stamp
    assert chain_hash(read.prev_hash, read.fields()) == read.hash


def test_an_update_of_a_record_is_named_edited(populated: Engine) -> None:
    target = 21  # the order's draft
    with populated.begin() as conn:
        row = conn.execute(select(audit_log.c.after).where(audit_log.c.seq == target)).one()
        forged = {**row.after, "state": "closed"}
        conn.execute(update(audit_log).where(audit_log.c.seq == target).values(after=forged))
    assert _problems(populated) == {(target, EDITED)}


def test_a_deleted_record_is_named_by_its_seq(populated: Engine) -> None:
    total = _count(populated)
    with populated.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 5))
    assert _problems(populated) == {(5, DELETED)}
    assert _count(populated) == total - 1


def test_a_forged_record_is_named_inserted(populated: Engine) -> None:
    """A forger who knows the hash but not the chain's head: the record does not link."""
    with populated.connect() as conn:
        last = conn.execute(select(func.max(audit_log.c.seq))).scalar_one()
    seq = int(last) + 1
    content = {
        "seq": seq,
        "at": datetime(2026, 3, 4, tzinfo=UTC),
        "user": "ru_finance",
        "party": "RUS",
        "request_id": "f" * 32,
        "action": "order.settle",
        "entity": "order",
        "key": "RELOS-IN-2026-000001",
        "before": None,
        "after": {"state": "settled"},
        "prev_hash": "1" * 64,
    }
    with populated.begin() as conn:
        conn.execute(
            insert(audit_log).values(
                seq=seq,
                at=datetime(2026, 3, 4),
                user_name=content["user"],
                party=content["party"],
                request_id=content["request_id"],
                action=content["action"],
                entity=content["entity"],
                entity_key=content["key"],
                before=None,
                after=content["after"],
                prev_hash=content["prev_hash"],
                hash=chain_hash("1" * 64, content),
            )
        )
    assert _problems(populated) == {(seq, INSERTED)}


def test_every_kind_of_tampering_is_found_in_one_check(populated: Engine) -> None:
    with populated.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(user_name="nobody"))
        conn.execute(delete(audit_log).where(audit_log.c.seq.in_([10, 11])))
        conn.execute(update(audit_log).where(audit_log.c.seq == 15).values(before={"a": 1}))
    assert _problems(populated) == {(3, EDITED), (10, DELETED), (15, EDITED)}


def test_records_are_read_in_batches_in_seq_order(populated: Engine) -> None:
    uow = SqlUnitOfWork(populated)
    with uow:
        uow.audit.batch = 3
        seqs = [r.seq for r in uow.audit.records()]
    assert seqs == list(range(1, _count(populated) + 1))


def test_concurrent_writers_leave_one_unforked_chain(engine: Engine) -> None:
    world(SqlUnitOfWork(engine))
    start = _count(engine)
    workers, each = 4, 5
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        barrier.wait()
        try:
            for i in range(each):
                uow = SqlUnitOfWork(engine, request_id=f"worker-{n}")
                with uow:
                    audit.record(uow, None, "party.note", "party", f"{n}-{i}", None, {"i": i})
                    uow.commit()
        except BaseException as e:  # collected, reported below
            with lock:
                errors.append(e)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    records = audit.log(SqlUnitOfWork(engine))
    assert [r.seq for r in records] == list(range(1, start + workers * each + 1))
    assert len({r.prev_hash for r in records}) == len(records)  # no two records share a parent
    assert audit.verify(SqlUnitOfWork(engine)) == []


def test_concurrent_use_cases_each_record_their_change(engine: Engine) -> None:
    """Drafts by several threads at once: every order has its record and the chain holds."""
    world(SqlUnitOfWork(engine))
    workers = 4
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def draft() -> None:
        barrier.wait()
        try:
            ordering.draft(
                SqlUnitOfWork(engine),
                "in_order",
                agreement="RELOS",
                supplying="RUS",
                facility="RUSMR",
                unit="INS-TABAR",
                method="cash",
                use="port_call",
                required_by=date(2026, 4, 30),
                lines=[("F76", "10")],
                data=DATA,
                at=at(date(2026, 3, 1)),
            )
        except BaseException as e:  # collected, reported below
            with lock:
                errors.append(e)

    threads = [threading.Thread(target=draft) for _ in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    drafted = audit.log(SqlUnitOfWork(engine), "order")
    assert sorted(r.key for r in drafted) == [f"RELOS-IN-2026-{n:06d}" for n in range(1, 5)]
    assert audit.verify(SqlUnitOfWork(engine)) == []
