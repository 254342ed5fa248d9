"""Visits on SQLite and PostgreSQL: stored and read back whole, caps and notice refused with
nothing written, an order's visit kept in its column, the notice as PDF."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from relos.domain.errors import RuleViolation
from relos.domain.users import Role
from relos.services import ordering, visits
from relos.services.notice_pdf import notice_pdf
from relos.storage import tables as t
from relos.storage import visit_tables as vt
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.visit_world import load_reference, officer, planner

GIVEN = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def d(day: int) -> date:
    return date(2026, 12, day)


def create(uow: SqlUnitOfWork, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "agreement": "RELOS",
        "facility": "RUVVO",
        "units": ["INS-TABAR"],
        "use": "port_call",
        "arrival": d(10),
        "departure": d(14),
        "commander_name": "Арджун Мехта",
        "commander_rank": "Captain",
        "frequencies": ["4.125 MHz", "VHF 16"],
        "at": GIVEN,
    }
    args.update(kw)
    return visits.create(uow, planner("IND"), **args)


def counts(uow: SqlUnitOfWork) -> tuple[int, int]:
    with uow.engine.connect() as c:
        return (
            c.execute(select(func.count()).select_from(vt.visits)).scalar_one(),
            c.execute(select(func.count()).select_from(vt.visit_units)).scalar_one(),
        )


def test_a_visit_reads_back_as_written_and_caps_and_notice_refuse_writing_nothing(
    uow: SqlUnitOfWork,
) -> None:
    load_reference(uow)
    v = create(uow, units=["INS-TALWAR", "INS-TRISHUL", "INS-TABAR"], pilot=True, tugs=1)
    assert visits.show(uow, planner("RUS"), v.number) == v
    create(uow, units=["INS-TUSHIL", "INS-TAMAL"], facility="RUMMK", arrival=d(14), departure=d(20))
    before = counts(uow)
    assert before == (2, 5)
    with pytest.raises(RuleViolation) as e:
        create(uow, units=["INS-VIKRAMADITYA"], facility="RUBLT", arrival=d(13), departure=d(16))
    assert (e.value.rule, e.value.value) == ("cap_exceeded_warships", 6)
    assert "from 2026-12-14 to 2026-12-14" in e.value.message
    with pytest.raises(RuleViolation) as e2:
        create(uow, units=["INS-VIKRAMADITYA"], arrival=date(2026, 11, 30), departure=d(2))
    assert (e2.value.rule, e2.value.field) == ("notice_late", "arrival")
    assert counts(uow) == before
    spans = visits.caps(uow, planner("RUS"), "RELOS")["spans"]
    assert [(s["from"], s["to"], s["warships"]) for s in spans] == [
        ("2026-12-10", "2026-12-13", 3),
        ("2026-12-14", "2026-12-14", 5),
        ("2026-12-15", "2026-12-20", 2),
    ]


def test_an_orders_visit_is_kept_on_the_order(uow: SqlUnitOfWork) -> None:
    load_reference(uow)
    v = create(uow)
    o = ordering.draft(
        uow,
        planner("IND"),
        agreement="RELOS",
        supplying="RUS",
        facility="RUVVO",
        unit="INS-TABAR",
        method="cash",
        use="port_call",
        required_by=d(12),
        lines=[("RU-DT-GOST305", "100")],
        at=GIVEN,
        visit=v.number,
    )
    with uow.engine.connect() as c:
        stored = c.execute(select(t.orders.c.visit).where(t.orders.c.number == o.number))
        assert stored.scalar_one() == v.number
    with pytest.raises(RuleViolation):
        ordering.draft(
            uow,
            planner("IND"),
            agreement="RELOS",
            supplying="RUS",
            facility="RUVVO",
            unit="INS-TABAR",
            method="cash",
            use="port_call",
            required_by=d(20),
            lines=[("RU-DT-GOST305", "100")],
            at=GIVEN,
            visit=v.number,
        )
    with uow.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(t.orders)).scalar_one() == 1


def test_the_notice_pdf_names_the_ships_and_the_commander(
    uow: SqlUnitOfWork, tmp_path: Path
) -> None:
    if uow.engine.dialect.name != "sqlite":
        return  # the PDF does not depend on the database: once is enough
    load_reference(uow)
    v = create(uow, units=["INS-TABAR"])
    pdf = notice_pdf(visits.notice(uow, planner("IND"), v.number))
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext") is None:  # make test-deps installs poppler-utils
        pytest.fail("pdftotext missing: run make test-deps")
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = " ".join(text.split())
    for expected in (
        "INS Tabar",
        "Talwar class (Project 11356)",
        "124.8",
        "15.2",
        "Арджун Мехта",
        "4.125 MHz",
    ):
        assert expected in text


def test_an_amended_then_cancelled_visit_reads_back_with_its_revision_and_reason(
    uow: SqlUnitOfWork, tmp_path: Path
) -> None:
    load_reference(uow)
    v = create(uow, units=["INS-TABAR"], at=datetime(2026, 11, 1, tzinfo=UTC))
    amended = visits.amend(
        uow,
        planner("IND"),
        v.number,
        units=["INS-TABAR", "INS-TALWAR"],
        departure=d(15),
        at=GIVEN,
    )
    assert visits.show(uow, planner("RUS"), v.number) == amended
    assert (amended.revision, amended.warships, amended.departure) == (2, 2, d(15))
    assert counts(uow) == (1, 2)
    o = ordering.draft(
        uow,
        planner("IND"),
        agreement="RELOS",
        supplying="RUS",
        facility="RUVVO",
        unit="INS-TALWAR",
        method="cash",
        use="port_call",
        required_by=d(15),
        lines=[("RU-DT-GOST305", "80")],
        at=GIVEN,
        visit=v.number,
    )
    with pytest.raises(RuleViolation) as e:  # an open order holds the visit
        visits.cancel(uow, planner("IND"), v.number, reason="called off", at=GIVEN)
    assert e.value.rule == "visit_has_open_orders"
    with pytest.raises(RuleViolation):  # nor may the visit leave the order outside
        visits.amend(uow, planner("IND"), v.number, units=["INS-TABAR"], at=GIVEN)
    assert visits.show(uow, planner("IND"), v.number) == amended  # nothing written
    with uow:
        assert uow.visits.orders_of(v.number) == [o.number]
    ordering.cancel(uow, officer("IND", Role.ORDERING_OFFICER), o.number, "called off", at=GIVEN)
    gone = visits.cancel(uow, planner("IND"), v.number, reason="called off", at=GIVEN)
    back = visits.show(uow, planner("RUS"), v.number)
    assert back == gone
    assert (back.status, back.cancelled_by, back.cancel_reason) == (
        "cancelled",
        planner("IND"),
        "called off",
    )
    assert visits.caps(uow, planner("IND"), "RELOS")["spans"] == []
    if uow.engine.dialect.name != "sqlite" or shutil.which("pdftotext") is None:
        return
    path = tmp_path / "notice.pdf"
    path.write_bytes(notice_pdf(visits.notice(uow, planner("IND"), v.number)))
    text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.split()
    )
    assert "revision 2 (amended on 2026-11-20)" in text
    assert "CANCELLED on 2026-11-20: called off" in text
