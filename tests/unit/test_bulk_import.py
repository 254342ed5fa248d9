"""Bulk import of orders (`relos import orders`): the same books as orders entered one by one,
every problem of a bad file listed with nothing written, batches, resume, and once only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from relos.domain.errors import (
    AlreadyExists,
    Conflict,
    Invalid,
    NotFound,
    PermissionDenied,
    RelosError,
    ValidationError,
)
from relos.domain.orders import OrderState
from relos.domain.users import Importer, Role, require_order_action
from relos.services import bulk_import
from tests.fakes import FakeImportRepo, FakeUnitOfWork, seeded_uow
from tests.import_world import (
    HEADER,
    ORDERS,
    TODAY,
    Line,
    books,
    enter_one_by_one,
    ind_order,
    rows_of,
    total_rows,
    write_csv,
)


def run(uow: FakeUnitOfWork, path: Path, **kw: Any) -> bulk_import.ImportSummary:
    kw.setdefault("today", TODAY)
    return bulk_import.import_orders(uow, kw.pop("actor", "ind-admin"), path, **kw)


@pytest.mark.parametrize("workers", [1, 2])
def test_imported_orders_give_the_books_of_the_same_orders_entered_one_by_one(
    tmp_path: Path, workers: int
) -> None:
    by_hand = seeded_uow()
    enter_one_by_one(by_hand, ORDERS)
    imported = seeded_uow()
    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))
    summary = run(imported, path, batch=3, workers=workers)
    assert (summary.rows, summary.orders) == (total_rows(ORDERS), len(ORDERS))
    assert summary.workers == workers
    assert summary.batches > 1
    expected, got = books(by_hand), books(imported)
    assert got["orders"] == expected["orders"]
    assert got["entries"] == expected["entries"]
    assert got["balances"] == expected["balances"]
    assert summary.entries == len(got["entries"])


def test_imported_orders_reach_the_states_their_rows_record(tmp_path: Path) -> None:
    uow = seeded_uow()
    run(uow, write_csv(tmp_path / "orders.csv", rows_of(ORDERS)))
    with uow:
        states = [uow.orders.get(n).state for n in uow.orders.numbers()]
    assert sorted(states) == sorted(
        [
            OrderState.INVOICED,
            OrderState.PARTIALLY_RECEIVED,
            OrderState.RECEIVED,
            OrderState.ACCEPTED,
            OrderState.INVOICED,
            OrderState.INVOICED,
        ]
    )


def test_the_price_is_fixed_from_the_price_list_valid_on_the_order_date(tmp_path: Path) -> None:
    uow = seeded_uow()
    specs = [
        ind_order("A", "2026-06-30", Line("F76", "1")),
        ind_order("B", "2026-07-01", Line("F76", "1")),
    ]
    run(uow, write_csv(tmp_path / "orders.csv", rows_of(specs)))
    with uow:
        prices = [uow.orders.get(n).lines[0].unit_price for n in uow.orders.numbers()]
    assert [str(p.number) for p in prices if p] == ["65000.00", "70000.00"]


@pytest.mark.parametrize(("workers", "batch"), [(1, bulk_import.DEFAULT_BATCH), (2, 2)])
def test_a_bad_file_lists_every_problem_with_line_field_and_value_and_writes_nothing(
    tmp_path: Path, workers: int, batch: int
) -> None:
    """Found alike when the batches are built in this process or, two rows each, by two
    worker processes side by side."""
    uow = seeded_uow()
    rows = rows_of(ORDERS)
    rows[0] = {**rows[0], "quantity": "four"}  # line 2
    rows[3] = {**rows[3], "received_quantity": "250"}  # line 5: RATION 250 > 200 ordered
    rows[5] = {**rows[5], "item": "CAVIAR"}  # line 7: not on Russia's price list
    rows[7] = {**rows[7], "facility": "RU-KRN"}  # line 9: another facility on the same order
    rows[8] = {**rows[8], "invoiced_on": "2026-01-01"}  # line 10: invoice before receipt
    path = write_csv(tmp_path / "bad.csv", rows)
    before = books(uow)
    with pytest.raises(Invalid) as e:
        run(uow, path, workers=workers, batch=batch)
    found = {(p.field, p.value, p.rule) for p in e.value.problems}
    assert ("line 2: quantity", "four", "invalid_input") in found
    assert ("line 5: received_quantity", "250", "receipt_exceeds_order") in found
    assert ("line 7: item", "CAVIAR", "item_not_on_price_list") in found
    assert ("line 9: facility", "RU-KRN", "order_fields_differ") in found
    assert ("line 10: invoiced_on", "2026-01-01", "invoice_before_receipt") in found
    assert len(found) == 5
    assert books(uow) == before
    with uow:
        assert uow.imports.unfinished_jobs("orders") == []
        assert list(uow.audit.records("import")) == []


@pytest.mark.parametrize(
    ("change", "rule", "field"),
    [
        (
            {"ordered_on": "2025-06-01", "required_by": "2025-06-01"},
            "agreement_not_in_force",
            "ordered_on",
        ),
        ({"method": "barter"}, "invalid_input", "method"),
        ({"unit": "RFS-GORSHKOV"}, "unit_not_requesters", "unit"),
        ({"facility": "RU-KRN"}, "facility_not_open", "facility"),
        ({"facility": "IN-VTZ"}, "facility_not_suppliers", "facility"),
        ({"received_on": "2026-12-01"}, "receipt_in_future", "received_on"),
        ({"received_on": "2026-01-20"}, "receipt_before_order", "received_on"),
        ({"received_on": ""}, "invalid_input", "received_on"),
        ({"agreement": "LEMOA"}, "not_found", "agreement"),
        ({"use": "exercise", "purpose": ""}, "", ""),  # a permitted use: fine
        ({"use": "other_agreed"}, "use_not_permitted", "use"),
    ],
)
def test_each_rule_of_an_order_is_checked_on_import(
    tmp_path: Path, change: dict[str, str], rule: str, field: str
) -> None:
    uow = seeded_uow()
    spec = ind_order("X-1", "2026-02-01", Line("F76", "10", "2026-02-02", "10"))
    row = {**rows_of([spec])[0], **change}
    header = [*HEADER, "use"]
    path = write_csv(tmp_path / "one.csv", [row], header)
    if not rule:
        assert run(uow, path).orders == 1
        return
    with pytest.raises(Invalid) as e:
        run(uow, path)
    problems = {(p.rule, p.field) for p in e.value.problems}
    assert (rule, f"line 2: {field}") in problems


def test_the_same_file_imported_again_is_refused(tmp_path: Path) -> None:
    uow = seeded_uow()
    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))
    run(uow, path)
    once = books(uow)
    with pytest.raises(AlreadyExists) as e:
        run(uow, path)
    assert "orders.csv" in str(e.value.value)
    with pytest.raises(AlreadyExists):
        run(uow, path, resume=True)
    assert books(uow) == once


def test_an_order_reference_already_imported_is_refused_in_another_file(tmp_path: Path) -> None:
    uow = seeded_uow()
    run(uow, write_csv(tmp_path / "a.csv", rows_of(ORDERS[:2])))
    again = [ORDERS[1], ind_order("NEW", "2026-03-02", Line("F76", "1"))]
    with pytest.raises(Invalid) as e:
        run(uow, write_csv(tmp_path / "b.csv", rows_of(again)))
    assert [(p.rule, p.field, p.value) for p in e.value.problems] == [
        ("order_ref_imported", "line 2: order_ref", "IND-0002")
    ]


@pytest.mark.parametrize("sort_run", [bulk_import.SORT_RUN, 1], ids=["one-run", "runs-of-one"])
def test_the_rows_of_an_order_are_consecutive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sort_run: int
) -> None:
    """The references are sorted a run at a time and the runs merged: a repeat is found when
    its two hashes sort into different runs as well as into one."""
    monkeypatch.setattr(bulk_import, "SORT_RUN", sort_run)
    uow = seeded_uow()
    rows = rows_of(ORDERS[:2])
    rows = [rows[0], rows[2], rows[1], rows[3]]  # IND-0001, IND-0002, IND-0001, IND-0002
    with pytest.raises(Invalid) as e:
        run(uow, write_csv(tmp_path / "split.csv", rows))
    assert [(p.rule, p.field) for p in e.value.problems] == [
        ("order_rows_not_consecutive", "line 4: order_ref"),
        ("order_rows_not_consecutive", "line 5: order_ref"),
    ]


def test_a_file_without_the_columns_is_refused_naming_them(tmp_path: Path) -> None:
    uow = seeded_uow()
    header = [c for c in HEADER if c not in ("item", "invoiced_on")] + ["colour"]
    with pytest.raises(Invalid) as e:
        run(uow, write_csv(tmp_path / "cols.csv", rows_of(ORDERS), header))
    assert {(p.field, p.value) for p in e.value.problems} == {
        ("line 1: header", "item"),
        ("line 1: header", "invoiced_on"),
        ("line 1: header", "colour"),
    }


def test_problems_are_listed_up_to_the_limit(tmp_path: Path) -> None:
    uow = seeded_uow()
    rows = [{**r, "quantity": "-1"} for r in rows_of(ORDERS)]
    with pytest.raises(Invalid) as e:
        run(uow, write_csv(tmp_path / "bad.csv", rows), max_problems=3)
    assert len(e.value.problems) == 4  # three, and a note that the check stopped
    assert "stopped after 3 problems" in e.value.problems[-1].message


def test_only_a_party_admin_imports_and_only_orders_of_its_own_party(tmp_path: Path) -> None:
    uow = seeded_uow()
    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))
    with pytest.raises(PermissionDenied):
        run(uow, path, actor="ind-fo")
    with pytest.raises(PermissionDenied):
        run(uow, path, actor=None)
    outsider = Importer("aus-admin", "AUS", Role.PARTY_ADMIN)
    with pytest.raises(PermissionDenied):
        require_order_action(outsider, "accept", "IND", "RUS")
    require_order_action(Importer("rus-admin", "RUS", Role.PARTY_ADMIN), "receive", "IND", "RUS")
    assert run(uow, path, actor="rus-admin").orders == len(ORDERS)  # either side's admin


def test_imported_steps_are_signed_by_the_importer_as_party_admin(tmp_path: Path) -> None:
    uow = seeded_uow()
    run(uow, write_csv(tmp_path / "orders.csv", rows_of(ORDERS[:1])))
    with uow:
        order = uow.orders.get(uow.orders.numbers()[0])
    assert [(g.action, g.user, g.role, g.party) for g in order.signatures] == [
        (a, "ind-admin", "party_admin", "IND") for a in ("submit", "accept", "receive", "invoice")
    ]


def test_one_audit_record_per_batch(tmp_path: Path) -> None:
    uow = seeded_uow()
    summary = run(uow, write_csv(tmp_path / "orders.csv", rows_of(ORDERS)), batch=4)
    with uow:
        records = list(uow.audit.records("import"))
    assert [r.action for r in records] == ["import.start"] + ["import.batch"] * summary.batches
    assert records[-1].after is not None
    assert records[-1].after["finished"] is True
    assert sum(r.after["order_count"] for r in records[1:] if r.after) == len(ORDERS)


class FailingImports(FakeImportRepo):
    """Fails the n-th batch's write, as a killed process or a lost connection would."""

    def __init__(self, uow: FakeUnitOfWork, fail_at: int) -> None:
        super().__init__(uow)
        self.calls = 0
        self.fail_at = fail_at

    def add_order_rows(self, job_id: int, rows: Any) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("connection lost")
        super().add_order_rows(job_id, rows)


def interrupted_import(tmp_path: Path, commit_rows: int) -> tuple[FakeUnitOfWork, Path]:
    """An import of ORDERS in 3-row batches whose second batch fails to write."""
    uow = seeded_uow()
    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))
    uow.imports = FailingImports(uow, fail_at=2)
    with pytest.raises(RuntimeError):
        run(uow, path, batch=3, commit_rows=commit_rows)
    return uow, path


def test_an_interrupted_import_resumes_after_its_last_committed_batch(tmp_path: Path) -> None:
    by_hand = seeded_uow()
    enter_one_by_one(by_hand, ORDERS)
    uow, path = interrupted_import(tmp_path, commit_rows=1)  # each batch its own transaction
    with uow:
        (job,) = uow.imports.unfinished_jobs("orders")
        first = len(uow.orders.numbers())
    assert job.batches_done == 1
    assert job.last_line > 1
    assert first > 0
    with pytest.raises(Conflict) as e:
        run(uow, path, batch=3)
    assert "--resume" in e.value.message
    summary = run(uow, path, batch=3, resume=True)
    assert summary.resumed_after_line == job.last_line
    assert summary.orders == len(ORDERS) - first
    assert books(uow) == books(by_hand)


def test_the_planners_statistics_are_refreshed_after_the_first_commit_then_as_rows_double(
    tmp_path: Path,
) -> None:
    """Each order its own transaction: 2, 2, 1, 1, 2 and 1 rows, so written 2, 4, 5, 6, 8."""
    uow = seeded_uow()
    summary = run(uow, write_csv(tmp_path / "o.csv", rows_of(ORDERS)), batch=1, commit_rows=1)
    assert summary.batches == len(ORDERS)
    assert uow.committed.statistics_refreshed == [2, 4, 8]


def test_batches_sharing_a_transaction_are_rolled_back_together(tmp_path: Path) -> None:
    """Batches are committed together until a transaction holds `commit_rows` rows: a failure
    in the second batch of a shared transaction loses the first one too, and the job resumes
    from the start of the file."""
    by_hand = seeded_uow()
    enter_one_by_one(by_hand, ORDERS)
    uow, path = interrupted_import(tmp_path, commit_rows=total_rows(ORDERS))
    with uow:
        (job,) = uow.imports.unfinished_jobs("orders")
        assert uow.orders.numbers() == []
        assert [r.action for r in uow.audit.records("import")] == ["import.start"]
    assert (job.batches_done, job.last_line) == (0, 0)
    summary = run(uow, path, batch=3, resume=True)
    assert summary.resumed_after_line == 0
    assert summary.batches > 2
    assert summary.orders == len(ORDERS)
    assert books(uow) == books(by_hand)


@pytest.mark.parametrize("setting", ["commit_rows", "checkpoint_pages"])
def test_a_transaction_of_no_rows_or_a_log_checkpointed_every_zero_pages_is_refused(
    tmp_path: Path, setting: str
) -> None:
    uow = seeded_uow()
    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))
    with pytest.raises(ValidationError) as e:
        run(uow, path, **{setting: 0})
    assert (e.value.field, e.value.value) == (setting, 0)
    with uow:
        assert uow.orders.numbers() == []


def test_resuming_another_file_is_refused(tmp_path: Path) -> None:
    uow = seeded_uow()
    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))
    uow.imports = FailingImports(uow, fail_at=2)
    with pytest.raises(RuntimeError):
        run(uow, path, batch=3)
    other = write_csv(tmp_path / "other.csv", rows_of(ORDERS[:1]))
    with pytest.raises(Conflict) as e:
        run(uow, other, resume=True)
    assert "orders.csv" in e.value.message


def test_resuming_with_nothing_to_resume_is_refused(tmp_path: Path) -> None:
    uow = seeded_uow()
    with pytest.raises(NotFound):
        run(uow, write_csv(tmp_path / "orders.csv", rows_of(ORDERS)), resume=True)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    uow = seeded_uow()
    with pytest.raises(RelosError):
        run(uow, write_csv(tmp_path / "empty.csv", []))


def test_workers_and_the_spill_directory_are_checked_before_anything_is_read(
    tmp_path: Path,
) -> None:
    uow = seeded_uow()
    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))
    with pytest.raises(RelosError) as e:
        run(uow, path, workers=0)
    assert (e.value.field, e.value.value) == ("workers", 0)
    with pytest.raises(NotFound) as missing:
        run(uow, path, spill_dir=tmp_path / "nowhere")
    assert (missing.value.field, missing.value.value) == ("spill_dir", str(tmp_path / "nowhere"))
    with uow:
        assert uow.orders.numbers() == []


def test_checked_batches_wait_for_the_write_in_the_spill_directory_given(
    tmp_path: Path,
) -> None:
    """The spill is an unnamed temporary file; while the import writes, this process holds it
    open in the directory given (seen through /proc/self/fd)."""
    spill_dir = tmp_path / "spill"
    spill_dir.mkdir()
    held: list[str] = []

    def look(phase: str, done: int, total: int | None) -> None:
        if phase == "write" and done == 0:
            fds = Path("/proc/self/fd")
            held.extend(str(f.readlink()) for f in fds.iterdir() if f.is_symlink())

    uow = seeded_uow()
    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))
    run(uow, path, batch=3, spill_dir=spill_dir, progress=look)
    assert any(h.startswith(str(spill_dir)) for h in held), held
    assert list(spill_dir.iterdir()) == []  # gone when the import ended
    with uow:
        assert len(uow.orders.numbers()) == len(ORDERS)


def test_progress_is_reported_per_batch(tmp_path: Path) -> None:
    uow = seeded_uow()
    seen: list[tuple[str, int, int | None]] = []
    run(
        uow,
        write_csv(tmp_path / "orders.csv", rows_of(ORDERS)),
        batch=4,
        progress=lambda *a: seen.append(a),
    )
    writes = [s for s in seen if s[0] == "write"]
    assert writes[-1] == ("write", total_rows(ORDERS), total_rows(ORDERS))
    assert [w[1] for w in writes] == sorted(w[1] for w in writes)


def test_an_order_entered_by_hand_while_an_import_is_written_keeps_its_number(
    tmp_path: Path,
) -> None:
    by_hand = seeded_uow()
    enter_one_by_one(by_hand, ORDERS)
    imported = seeded_uow()

    def officer_enters_the_first(phase: str, done: int, total: int | None) -> None:
        if phase == "write" and done == 0:
            enter_one_by_one(imported, ORDERS[:1])

    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS[1:]))
    summary = run(imported, path, batch=3, progress=officer_enters_the_first)
    assert summary.orders == len(ORDERS) - 1
    assert books(imported) == books(by_hand)


def test_a_file_changed_while_it_is_written_is_refused_if_it_must_be_read_again(
    tmp_path: Path,
) -> None:
    """Orders are built again from the file only when their foreseen numbers were taken; if
    the file is not the one checked any more, that batch is refused."""
    imported = seeded_uow()
    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS[1:]))

    def edit_and_enter(phase: str, done: int, total: int | None) -> None:
        if phase == "write" and done == 0:
            write_csv(path, rows_of(ORDERS[2:]))
            enter_one_by_one(imported, ORDERS[:1])

    with pytest.raises(Conflict) as e:
        run(imported, path, batch=3, progress=edit_and_enter)
    assert "changed while it was imported" in e.value.message
    with imported:
        assert len(imported.orders.numbers()) == 1  # the order entered by hand only


def test_a_file_changed_while_it_is_checked_is_refused_and_nothing_written(
    tmp_path: Path,
) -> None:
    uow = seeded_uow()
    path = write_csv(tmp_path / "orders.csv", rows_of(ORDERS))

    def edit(phase: str, done: int, total: int | None) -> None:
        if phase == "check" and total is not None:  # the check has just read the last row
            write_csv(path, rows_of(ORDERS[:2]))

    with pytest.raises(Conflict) as e:
        run(uow, path, progress=edit)
    assert "changed while it was checked" in e.value.message
    with uow:
        assert uow.orders.numbers() == []
        assert uow.imports.unfinished_jobs("orders") == []


@pytest.mark.parametrize(("workers", "batch"), [(1, bulk_import.DEFAULT_BATCH), (2, 2)])
def test_rows_with_a_bad_key_and_rows_with_other_bad_columns_are_listed_alike(
    tmp_path: Path, workers: int, batch: int
) -> None:
    """The reader checks a row's key columns (reference, agreement, requester, order date) and
    the builders the rest: a file with both kinds lists every problem, as one pass would."""
    uow = seeded_uow()
    rows = rows_of(ORDERS)
    rows[1] = {**rows[1], "ordered_on": "2026-02-30"}  # line 3: a key column
    rows[4] = {**rows[4], "order_ref": ""}  # line 6: a key column
    rows[6] = {**rows[6], "quantity": "-5", "received_on": "2026-13-01"}  # line 8: the rest
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(Invalid) as e:
        run(uow, path, workers=workers, batch=batch)
    found = sorted((p.field, p.value, p.rule) for p in e.value.problems)
    assert found == [
        ("line 3: ordered_on", "2026-02-30", "invalid_input"),
        ("line 6: order_ref", "", "invalid_input"),
        ("line 8: quantity", "-5", "invalid_input"),
        ("line 8: received_on", "2026-13-01", "invalid_input"),
    ]
    assert books(uow) == books(seeded_uow())
