"""The fake unit of work keeps the promises of the SQL one: commit or nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from relos.domain.agreements import Party
from relos.domain.errors import AlreadyExists, Conflict, NotFound
from relos.domain.ledger import Entry, Posting
from relos.domain.money import Amount
from relos.services import ordering
from relos.services.unit_of_work import UnitOfWork
from tests.fakes import ORDER_DATA, FakeUnitOfWork, seeded_uow
from tests.unit.conftest import AT

CHN = Party("CHN", "China", "中国", "CNY")


def entry(txn: str, on: date, n: str = "10") -> Entry:
    a = Amount.of(n, "RUB")
    return Entry(
        "RUS",
        txn,
        on,
        "receipt",
        "O1",
        (Posting("receivable", a, "IND", "cash"), Posting("support_provided", -a, "IND")),
    )


def test_the_fake_fits_the_unit_of_work_protocol() -> None:
    uow: UnitOfWork = FakeUnitOfWork()
    assert uow.reference is not None


def test_what_is_not_committed_is_discarded() -> None:
    uow = FakeUnitOfWork()
    with uow:
        uow.reference.add_party(CHN)
        assert uow.reference.find_party("CHN") == CHN
    with uow:
        assert uow.reference.find_party("CHN") is None


def test_what_is_committed_stays_and_later_changes_in_the_block_do_not() -> None:
    uow = FakeUnitOfWork()
    with uow:
        uow.reference.add_party(CHN)
        uow.commit()
        uow.ledger.append([entry("T1", date(2026, 1, 1))])
    with uow:
        assert uow.reference.parties() == [CHN]
        assert uow.ledger.entries() == []
    assert uow.commits == 1


def test_an_exception_in_the_block_rolls_back() -> None:
    uow = FakeUnitOfWork()

    def fail_midway() -> None:
        with uow:
            uow.reference.add_party(CHN)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_midway()
    with uow:
        assert uow.reference.parties() == []


def test_rollback_forgets_the_working_copy() -> None:
    uow = FakeUnitOfWork()
    with uow:
        uow.reference.add_party(CHN)
        uow.rollback()
        assert uow.reference.find_party("CHN") is None


def test_repositories_are_used_inside_a_unit_of_work_only() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(RuntimeError):
        uow.reference.parties()


def test_adding_twice_is_refused_and_a_missing_order_is_not_found() -> None:
    uow = seeded_uow()
    with uow:
        with pytest.raises(AlreadyExists) as e:
            uow.reference.add_party(uow.reference.parties()[0])
        assert (e.value.field, e.value.value) == ("code", "IND")
        with pytest.raises(NotFound) as nf:
            uow.orders.get("RELOS-IN-2026-999999")
        assert (nf.value.field, nf.value.value) == ("number", "RELOS-IN-2026-999999")


def test_order_sequences_count_per_prefix() -> None:
    uow = FakeUnitOfWork()
    with uow:
        assert [uow.orders.next_number("A-") for _ in range(3)] == [1, 2, 3]
        assert uow.orders.next_number("B-") == 1
        uow.commit()
    with uow:
        assert uow.orders.next_number("A-") == 4


def test_ledger_keeps_balances_and_filters_by_date_and_book() -> None:
    uow = FakeUnitOfWork()
    with uow:
        uow.ledger.append([entry("T1", date(2026, 1, 1)), entry("T2", date(2026, 2, 1), "5.5")])
        with pytest.raises(AlreadyExists):
            uow.ledger.append([entry("T1", date(2026, 3, 1))])
        key = ("RUS", "receivable", "IND", "cash", "RUB")
        assert uow.ledger.balances()[key] == Decimal("15.50")
        assert uow.ledger.balances(as_of=date(2026, 1, 31))[key] == Decimal("10.00")
        assert uow.ledger.balances(as_of=date(2025, 12, 31)) == {}
        assert uow.ledger.balances(book="IND") == {}
        assert uow.ledger.balances() == uow.ledger.summed_balances()
        assert [e.txn for e in uow.ledger.entries(book="RUS", order="O1")] == ["T1", "T2"]
        assert uow.ledger.entries(order="O2") == []


def test_a_stored_order_is_a_copy_and_its_history_is_only_appended() -> None:
    uow = seeded_uow()
    o = ordering.draft(
        uow,
        "ind-oo",
        agreement="RELOS",
        supplying="RUS",
        facility="RU-SEV",
        unit="INS-TABAR",
        method="cash",
        use="port_call",
        required_by=date(2026, 3, 10),
        lines=[("F76", "1")],
        data=ORDER_DATA,
        at=AT,
    )
    o.lines.clear()  # the caller's object, not the stored one
    ordering.submit(uow, "ind-oo", o.number, at=AT)
    with uow:
        stored = uow.orders.get(o.number)
        assert len(stored.lines) == 1
        assert len(stored.signatures) == 1
        stored.signatures.clear()  # as in SQL, saved history is appended to, never rewritten
        uow.orders.save(stored)
        assert len(uow.orders.get(o.number).signatures) == 1


def test_an_inner_unit_of_work_joins_the_outer_and_commits_with_it() -> None:
    uow = FakeUnitOfWork()
    with uow:
        with uow:
            uow.reference.add_party(CHN)
            uow.commit()  # waits for the outermost commit
        assert uow.commits == 0
        uow.commit()
    assert uow.commits == 1
    with uow:
        assert uow.reference.parties() == [CHN]


def test_an_inner_failure_forbids_the_outer_commit() -> None:
    uow = FakeUnitOfWork()

    def inner_fails() -> None:
        with uow:
            uow.reference.add_party(CHN)
            raise NotFound("party", "XXX")

    with uow:
        with pytest.raises(NotFound):
            inner_fails()
        with pytest.raises(Conflict):
            uow.commit()
    with uow:
        assert uow.reference.parties() == []
        uow.commit()  # a new outermost unit of work starts afresh
