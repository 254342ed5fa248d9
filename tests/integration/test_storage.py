"""Storage on SQLite and PostgreSQL: what goes in comes back out, kept balances equal the postings,
the two books mirror each other, and concurrent drafts get distinct order numbers."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from relos.domain.audit import utc
from relos.domain.errors import AlreadyExists, Unauthenticated
from relos.domain.ledger import balances as summed_from_entries
from relos.domain.ledger import mirror_mismatches
from relos.domain.orders import OrderState
from relos.services import auth, catalogue, ordering, people, reports
from relos.storage.repositories import next_in_sequence
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.integration.builders import (
    DATA,
    GORSHKOV_NATIVE,
    IND_NATIVE,
    MUMBAI_NATIVE,
    RUS_NATIVE,
    SEVEROMORSK_NATIVE,
    at,
    lifecycle,
    placed,
    world,
)


def test_devanagari_and_cyrillic_names_round_trip(uow: SqlUnitOfWork) -> None:
    world(uow)
    people.add_user(uow, None, "अनिल कुमार", "IND", "auditor")
    people.add_user(uow, None, "Иван Петров", "RUS", "auditor")
    number = placed(uow, "IND", "cash", [("F76", "1")])
    note = "ईंधन प्राप्त — топливо получено"
    ordering.amend(
        uow, "in_order", number, [("F76", "2")], data={"remark": note}, at=at(date(2026, 3, 1), 15)
    )

    assert catalogue.show_party(uow, "IND").native_name == IND_NATIVE
    assert catalogue.show_party(uow, "RUS").native_name == RUS_NATIVE
    assert catalogue.show_facility(uow, "INBOM").native_name == MUMBAI_NATIVE
    assert catalogue.show_facility(uow, "RUSMR").native_name == SEVEROMORSK_NATIVE
    assert catalogue.show_unit(uow, "ADM-GORSHKOV").native_name == GORSHKOV_NATIVE
    assert {u.name for u in people.users(uow)} >= {"अनिल कुमार", "Иван Петров"}
    prices = {(p.supplier, p.code): p.description for p in catalogue.price_items(uow)}
    assert prices[("RUS", "F76")] == "Дизельное топливо F-76"
    assert prices[("IND", "RATION")] == "राशन पैक"
    order = ordering.show(uow, number)
    assert order.data == {**DATA, "remark": note}
    assert order.data["point_of_contact"] == DATA["point_of_contact"]


def test_an_order_reads_back_exactly_as_it_was_written(uow: SqlUnitOfWork) -> None:
    world(uow)
    built = lifecycle(uow)
    for number in (built.cash_in, built.rik_ru, built.eve_in, built.cash_ru):
        with uow:
            stored = uow.orders.get(number)
        fresh = SqlUnitOfWork(uow.engine)
        with fresh:
            again = fresh.orders.get(number)
        assert again == stored
        assert stored.signatures, number
        assert [s.seq for s in stored.receipts] == list(range(1, len(stored.receipts) + 1))


def test_kept_balances_equal_the_sum_of_postings(uow: SqlUnitOfWork) -> None:
    world(uow)
    lifecycle(uow)
    with uow:
        kept = uow.ledger.balances()
        summed = uow.ledger.summed_balances()
        entries = uow.ledger.entries()
    assert kept
    assert kept == summed
    assert summed_from_entries(entries) == kept
    as_of_today = {
        (r.book, r.account, r.counterparty, r.method, r.commodity): r.amount
        for r in reports.balances(uow, as_of=date(2100, 1, 1))
    }
    assert as_of_today == kept


def test_every_entry_balances_per_commodity_and_books_mirror_each_other(
    uow: SqlUnitOfWork,
) -> None:
    world(uow)
    lifecycle(uow)
    with uow:
        entries = uow.ledger.entries()
        kept = uow.ledger.balances()
    assert entries
    assert all(not e.unbalanced() for e in entries)
    assert mirror_mismatches(kept) == []
    # and the invariant is not vacuous: both directions carry open receivables
    assert kept[("IND", "receivable", "RUS", "rik", "F76_T")] == Decimal("70.500")
    assert kept[("RUS", "payable", "IND", "rik", "F76_T")] == Decimal("-70.500")
    assert kept[("RUS", "receivable", "IND", "eve", "RUB")] == Decimal("20050.00")
    assert kept[("IND", "payable", "RUS", "eve", "RUB")] == Decimal("-20050.00")


def test_mirror_check_finds_a_one_sided_posting(uow: SqlUnitOfWork) -> None:
    world(uow)
    lifecycle(uow)
    with uow:
        kept = uow.ledger.balances()
    kept[("IND", "receivable", "RUS", "rik", "F76_T")] += Decimal("1")
    assert len(mirror_mismatches(kept)) == 1


def test_what_an_order_names_is_read_in_one_look_up_and_unknown_codes_come_back_empty(
    uow: SqlUnitOfWork,
) -> None:
    world(uow)
    with uow:
        known = uow.reference.order_references("RELOS", "INS-TABAR", "RUSMR")
        one_by_one = (
            uow.reference.find_agreement("RELOS"),
            uow.reference.find_unit("INS-TABAR"),
            uow.reference.find_facility("RUSMR"),
        )
        unknown = uow.reference.order_references("NOPE", "INS-TABAR", "RUSMR-X")
        mixed_up = uow.reference.order_references("INS-TABAR", "RUSMR", "RELOS")
    assert None not in known
    assert known == one_by_one
    assert unknown == (None, one_by_one[1], None)
    assert mixed_up == (None, None, None)  # each code is looked up only in its own table


def test_a_changed_agreement_is_what_the_next_order_look_up_reads(uow: SqlUnitOfWork) -> None:
    """What an order names is parsed once per document text (decision 59): a document saved
    since is read anew, on both engines, not the object parsed before."""
    world(uow)
    with uow:
        before, unit, facility = uow.reference.order_references("RELOS", "INS-TABAR", "RUSMR")
        assert before is not None
        assert unit is not None
        assert facility is not None
        assert before.notice_days != 90
        uow.reference.save_agreement(replace(before, notice_days=90))
        uow.commit()
    with uow:
        after, unit_again, facility_again = uow.reference.order_references(
            "RELOS", "INS-TABAR", "RUSMR"
        )
    assert after is not None
    assert after.notice_days == 90
    assert after == replace(before, notice_days=90)
    assert (unit_again, facility_again) == (unit, facility)


def test_an_order_stored_twice_is_refused_naming_its_number_and_the_first_stays(
    uow: SqlUnitOfWork,
) -> None:
    world(uow)
    number = placed(uow, "IND", "cash", [("F76", "1")])
    with uow:
        stored = uow.orders.get(number)
        with pytest.raises(AlreadyExists) as refused:
            uow.orders.add(replace(stored, required_by=date(2027, 1, 1)))
    assert (refused.value.field, refused.value.value) == ("number", number)
    with uow:
        assert uow.orders.get(number) == stored


def test_order_numbers_stream_in_pages_in_code_point_order_while_orders_are_read_between(
    uow: SqlUnitOfWork,
) -> None:
    """What a statement walks: pages of at most `size` numbers, in the order Python sorts
    text whatever the database's collation (a hyphen before a letter, capitals before small
    letters), with other statements run on the connection between pages."""
    world(uow)
    if uow.engine.dialect.name == "postgresql":  # as a database made with a language's rules
        with uow.engine.begin() as conn:
            conn.exec_driver_sql(
                'ALTER TABLE orders ALTER COLUMN number TYPE varchar(40) COLLATE "und-x-icu"'
            )
    first = placed(uow, "IND", "cash", [("F76", "1")])
    placed(uow, "RUS", "cash", [("F76", "2")])
    with uow:
        stored = uow.orders.get(first)
        for number in ("RELOSA-1", "RELOS-a-1", "relos-1", "RELOS-IN-2026-9", "RELOS.1"):
            uow.orders.add(replace(stored, number=number))
        uow.commit()
    with uow:
        every = uow.orders.numbers()
        pages = []
        for page in uow.orders.number_pages(2):
            pages.append(page)
            assert [o.number for o in uow.orders.load(page)] == page
        drafts_left_out = list(
            uow.orders.number_pages(3, party="RUS", states=[OrderState.ACCEPTED])
        )
    assert [n for page in pages for n in page] == sorted(every)
    assert len(every) == 7
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    assert [n for page in drafts_left_out for n in page] == sorted(every)


def test_a_sequence_starts_after_the_numbers_used_before_it_and_counts_on(engine: Engine) -> None:
    with engine.begin() as conn:
        assert [next_in_sequence(conn, "A-") for _ in range(3)] == [1, 2, 3]
        assert next_in_sequence(conn, "B-", start=41) == 42
        assert next_in_sequence(conn, "B-", start=41) == 43  # `start` counts only for a new one
        assert next_in_sequence(conn, "A-", start=100) == 4


def test_a_stored_response_reads_back_as_written_and_its_key_is_taken_once(
    uow: SqlUnitOfWork,
) -> None:
    """The few rows a use case writes go to the driver directly (`bulk_insert.insert_values`):
    what reads back is what SQLAlchemy's own path stores, and the driver's refusal of a taken
    key is still SQLAlchemy's `IntegrityError`, which the idempotent write answers."""
    world(uow)
    at = datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=UTC)
    body = {"number": "RELOS-IN-2026-000001", "lines": [{"quantity": "12.500"}], "नाम": "Тест"}
    with uow:
        uow.auth.add_response("in_order", "key-1", "d" * 64, 201, body, {"ETag": 'W/"x-1"'}, at)
        uow.commit()
    with uow:
        stored = uow.auth.find_response("in_order", "key-1")
        assert stored is not None
        assert stored["response"] == body
        assert stored["headers"] == {"ETag": 'W/"x-1"'}
        assert (stored["status_code"], stored["request_digest"]) == (201, "d" * 64)
        assert utc(stored["created_at"]) == at
        with pytest.raises(IntegrityError):
            uow.auth.add_response("in_order", "key-1", "e" * 64, 200, {}, {}, at)


def test_a_token_is_read_with_its_user_and_refused_once_revoked_or_the_user_disabled(
    uow: SqlUnitOfWork,
) -> None:
    world(uow)
    token, text = auth.create_token(uow, None, "in_order", "ci", ["read", "write"])
    _, other_text = auth.create_token(uow, None, "in_accept", "ci", ["read"])
    with uow:
        assert uow.auth.find_token_and_user(token.id) == (
            uow.auth.find_token(token.id),
            uow.reference.find_user("in_order"),
        )
        assert uow.auth.find_token_and_user("0" * len(token.id)) is None
    caller = auth.token_principal(uow, text)
    assert (caller.user.name, caller.user.party, caller.scopes) == (
        "in_order",
        "IND",
        frozenset(token.scopes),
    )
    auth.revoke_token(uow, None, token.id)
    with pytest.raises(Unauthenticated, match="revoked"):
        auth.token_principal(uow, text)
    assert auth.token_principal(uow, other_text).user.name == "in_accept"
    people.add_user(uow, None, "in_admin", "IND", "party_admin")
    people.disable_user(uow, "in_admin", "in_accept")
    with pytest.raises(Unauthenticated, match="disabled"):
        auth.token_principal(uow, other_text)


def test_concurrent_drafts_get_distinct_order_numbers(engine: Engine) -> None:
    setup = SqlUnitOfWork(engine)
    world(setup)
    workers = 6
    barrier = threading.Barrier(workers)
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def draft() -> None:
        barrier.wait()
        try:
            o = ordering.draft(
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
            return
        with lock:
            numbers.append(o.number)

    threads = [threading.Thread(target=draft) for _ in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert sorted(numbers) == [f"RELOS-IN-2026-{n:06d}" for n in range(1, workers + 1)]
    stored = ordering.find_orders(SqlUnitOfWork(engine), party="IND")
    assert sorted(o.number for o in stored) == sorted(numbers)
