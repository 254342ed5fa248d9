"""Two parties' nodes (two databases) loaded with the same orders: one party's signed statement
is matched against the other's records, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from relos.domain.errors import RuleViolation
from relos.domain.reconciliation import MatchStatus
from relos.services import ordering, people, reconciliation
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.fakes import KEY_PASSPHRASE
from tests.integration.builders import Lifecycle, at, lifecycle, placed, world
from tests.integration.nodes import second_node

AS_OF = date(2026, 4, 30)


def node(engine: Engine) -> tuple[SqlUnitOfWork, Lifecycle]:
    uow = SqlUnitOfWork(engine)
    world(uow)
    people.add_user(uow, None, "in_admin", "IND", "party_admin")
    people.add_user(uow, None, "ru_admin", "RUS", "party_admin")
    people.add_user(uow, "in_admin", "in_audit", "IND", "auditor")
    return uow, lifecycle(uow)


def export(uow: SqlUnitOfWork, path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        reconciliation.export_statement(
            uow,
            "in_finance",
            out,
            agreement="RELOS",
            party="IND",
            as_of=AS_OF,
            passphrase=KEY_PASSPHRASE,
        )
    return path


def test_indias_statement_matches_russias_records_and_finds_what_differs(
    engine: Engine, tmp_path: Path
) -> None:
    ind, lc = node(engine)
    with second_node(engine, tmp_path) as rus_engine:
        rus, _ = node(rus_engine)
        # keys: each node holds its own party's key pair and the counterpart's public key
        reconciliation.create_key(ind, "in_admin", "IND", passphrase=KEY_PASSPHRASE)
        reconciliation.create_key(rus, "ru_admin", "RUS", passphrase=KEY_PASSPHRASE)
        reconciliation.import_key(rus, "ru_admin", "IND", reconciliation.export_key(ind, "IND"))
        reconciliation.import_key(ind, "in_admin", "RUS", reconciliation.export_key(rus, "RUS"))

        first = export(ind, tmp_path / "ind-1.json")
        report = reconciliation.match_statement(rus, "ru_finance", first.read_text("utf-8"))
        assert len(report.lines) == 4
        assert {ln.status for ln in report.lines} == {MatchStatus.MATCHED}
        assert report.run.balance_differences == ()

        # India records a payment Russia has not; Russia accepts an order India never saw
        eve = lc.eve_in  # the equal-value order, partly provided back
        day = date(2026, 4, 2)
        ordering.settle(ind, "in_finance", eve, "500.00", on=day, at=at(day))
        extra = placed(rus, "IND", "cash", [("WATER", "10")], date(2026, 4, 3))
        second = export(ind, tmp_path / "ind-2.json")
        report = reconciliation.match_statement(rus, "ru_finance", second.read_text("utf-8"))
        found = {ln.order: ln.status for ln in report.lines if ln.status is not MatchStatus.MATCHED}
        assert found == {eve: MatchStatus.AMOUNT_MISMATCH, extra: MatchStatus.MISSING_THEIRS}
        assert report.run.balance_differences != ()  # India's payable is 500 lower

        shown = reconciliation.show(rus, "ru_finance", report.run.id, date(2026, 5, 1))
        assert [ln.status for ln in shown.lines] == [ln.status for ln in report.lines]
        assert shown.counts() == {
            "matched": 3,
            MatchStatus.AMOUNT_MISMATCH.value: 1,
            MatchStatus.MISSING_THEIRS.value: 1,
        }
        page = reconciliation.show(rus, "ru_finance", report.run.id, limit=2, after=1)
        assert (page.lines, page.next_after) == (shown.lines[1:3], shown.lines[2].line_no)
        with rus.reading():
            unmatched = rus.reconciliation.lines(report.run.id, unmatched=True)
            third = rus.reconciliation.line(report.run.id, shown.lines[2].line_no)
        assert unmatched == [ln for ln in shown.lines if ln.order in (eve, extra)]
        assert third == shown.lines[2]
        line = next(ln for ln in shown.lines if ln.order == eve)
        reconciliation.dispute(rus, "ru_finance", report.run.id, line.line_no, "no such payment")
        assert [r.id for r in reconciliation.runs(rus, "ru_finance")] == [1, 2]

        # a changed byte is refused, and nothing is stored
        tampered = second.read_text("utf-8").replace('"amount":"500.00"', '"amount":"5000.00"')
        assert tampered != second.read_text("utf-8")
        with pytest.raises(RuleViolation) as e:
            reconciliation.match_statement(rus, "ru_finance", tampered)
        assert e.value.rule == "bad_signature"
        assert len(reconciliation.runs(rus, "ru_finance")) == 2


def test_a_statement_written_streamed_is_the_canonical_json_that_was_signed(
    engine: Engine, tmp_path: Path
) -> None:
    import hashlib
    import json

    ind, _ = node(engine)
    reconciliation.create_key(ind, "in_admin", "IND", passphrase=KEY_PASSPHRASE)
    doc = json.loads(export(ind, tmp_path / "s.json").read_text("utf-8"))
    framed = "".join(
        reconciliation.canonical(part) + "\n" for part in [doc["header"], *doc["orders"]]
    ).encode("utf-8")
    assert hashlib.sha256(framed).hexdigest() == doc["digest"]
    assert len(doc["orders"]) == 4
    numbers = [o["number"] for o in doc["orders"]]
    assert numbers == sorted(numbers)
    # the auditor may export too; the statement names who produced it
    with (tmp_path / "a.json").open("w", encoding="utf-8") as out:
        reconciliation.export_statement(
            ind,
            "in_audit",
            out,
            agreement="RELOS",
            party="IND",
            as_of=AS_OF,
            passphrase=KEY_PASSPHRASE,
        )


def test_a_statement_reads_our_orders_whole_but_for_their_signature_trail(
    engine: Engine,
) -> None:
    """What `_views` reads (in sets, `signatures=False`) is each order as stored, but for the
    signatures no view shows; and the views equal those of the orders read one at a time."""
    from relos.domain.reconciliation import order_view

    uow, lc = node(engine)
    numbers = sorted([lc.cash_in, lc.rik_ru, lc.eve_in, lc.cash_ru])
    with uow:
        whole = [uow.orders.get(n) for n in numbers]
        bare = uow.orders.load(numbers, signatures=False)
        views = list(reconciliation._views(uow, "RELOS", "IND", "RUS", AS_OF))
    assert all(o.signatures for o in whole)  # the lifecycle signed every order
    assert [o.signatures for o in bare] == [[]] * len(numbers)
    for o, b in zip(whole, bare, strict=True):
        o.signatures = []
        assert b == o
    assert views == [order_view(o, AS_OF) for o in whole]
