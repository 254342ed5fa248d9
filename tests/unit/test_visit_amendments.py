"""Amending and cancelling a visit: a new revision checked again (notice, caps, the unit's other
visits, its orders) without counting itself; cancellation with a reason, before arrival, and
never under an open order (on the fakes)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from relos.domain.errors import PermissionDenied, RuleViolation, ValidationError
from relos.domain.orders import Order
from relos.domain.users import Role
from relos.domain.visits import Visit
from relos.services import ordering, visits
from tests.fakes import FakeUnitOfWork
from tests.visit_world import load_reference, notify, officer, planner

GIVEN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)  # the notice
LATER = GIVEN + timedelta(days=19)  # 20 November: the amendments


def d(day: int) -> date:
    return date(2026, 12, day)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    u = FakeUnitOfWork()
    load_reference(u)
    return u


def create(uow: FakeUnitOfWork, **kw: Any) -> Visit:
    return notify(uow, GIVEN, **kw)


def amend(uow: FakeUnitOfWork, number: str, **kw: Any) -> Visit:
    kw.setdefault("at", LATER)
    actor = kw.pop("actor", planner("IND"))
    return visits.amend(uow, actor, number, **kw)


def draft_order(uow: FakeUnitOfWork, visit: str, **kw: Any) -> Order:
    args: dict[str, Any] = {
        "agreement": "RELOS",
        "supplying": "RUS",
        "facility": "RUVVO",
        "unit": "INS-TABAR",
        "method": "cash",
        "use": "port_call",
        "required_by": d(11),
        "lines": [("RU-DT-GOST305", "120")],
        "visit": visit,
        "at": GIVEN,
    }
    args.update(kw)
    return ordering.draft(uow, planner("IND"), **args)


def test_a_new_commander_inside_the_notice_period_is_a_new_revision_of_the_same_notice(
    uow: FakeUnitOfWork,
) -> None:
    v = create(uow)
    new = amend(uow, v.number, commander_name="Vikram Rao", frequencies=["4.125 MHz", "8.3 MHz"])
    assert (new.revision, new.amended_on, new.notified_on) == (2, LATER.date(), GIVEN.date())
    assert new.commander_name == "Vikram Rao"
    doc = visits.notice(uow, planner("RUS"), v.number)
    assert (doc["revision"], doc["amended_on"], doc["given_on"]) == (2, "2026-11-20", "2026-11-01")
    assert doc["radio_frequencies"] == ["4.125 MHz", "8.3 MHz"]
    with uow:
        (record,) = [r for r in uow.audit.records("visit", v.number) if r.action == "visit.amend"]
    assert record.before is not None
    assert record.after is not None
    assert (record.before["commander_name"], record.after["commander_name"]) == (
        "Arjun Mehta",
        "Vikram Rao",
    )
    assert record.after["revision"] == 2


def test_moving_the_arrival_is_a_fresh_notice_and_must_be_fourteen_days_ahead(
    uow: FakeUnitOfWork,
) -> None:
    v = create(uow)
    with pytest.raises(RuleViolation) as e:  # notified 20 November: 3 December is too soon
        amend(uow, v.number, arrival=d(3))
    assert (e.value.rule, e.value.field, e.value.value) == ("notice_late", "arrival", "2026-12-03")
    moved = amend(uow, v.number, arrival=d(4), departure=d(8))
    assert (moved.arrival, moved.departure, moved.revision) == (d(4), d(8), 2)
    with pytest.raises(RuleViolation) as e2:  # a unit added is notified afresh too
        amend(
            uow,
            moved.number,
            units=["INS-TABAR", "INS-TALWAR"],
            at=datetime(2026, 11, 25, tzinfo=UTC),
        )
    assert e2.value.rule == "notice_late"


def test_an_amended_visit_is_counted_once_against_the_caps(uow: FakeUnitOfWork) -> None:
    five = ["INS-TALWAR", "INS-TRISHUL", "INS-TABAR", "INS-TUSHIL", "INS-TAMAL"]
    v = create(uow, units=five, arrival=d(10), departure=d(14))
    longer = amend(uow, v.number, departure=d(20))  # five ships, itself not counted twice
    assert longer.warships == 5
    other = create(
        uow, units=["INS-VIKRAMADITYA"], facility="RUBLT", arrival=d(22), departure=d(24)
    )
    with pytest.raises(RuleViolation) as e:  # now the sixth warship would be there on the 22nd
        amend(uow, v.number, departure=d(22))
    assert (e.value.rule, e.value.value) == ("cap_exceeded_warships", 6)
    assert other.number in e.value.message
    with uow:
        assert uow.visits.get(v.number).departure == d(20)  # the refusal wrote nothing


def test_an_amendment_that_changes_nothing_is_refused(uow: FakeUnitOfWork) -> None:
    v = create(uow)
    with pytest.raises(ValidationError):
        amend(uow, v.number, commander_name="Arjun Mehta")


def test_an_amendment_may_not_leave_an_open_order_outside_the_visit(uow: FakeUnitOfWork) -> None:
    v = create(uow)
    o = draft_order(uow, v.number, required_by=d(11))
    with pytest.raises(RuleViolation) as e:
        amend(uow, v.number, arrival=d(12), departure=d(14))
    assert (e.value.rule, e.value.field) == ("order_outside_visit", "required_by")
    assert o.number in e.value.message
    ordering.cancel(uow, officer("IND", Role.ORDERING_OFFICER), o.number, "plans changed", at=LATER)
    assert amend(uow, v.number, arrival=d(12), departure=d(14)).arrival == d(12)


def test_an_order_cannot_be_amended_to_outside_its_visit(uow: FakeUnitOfWork) -> None:
    v = create(uow)
    o = draft_order(uow, v.number)
    with pytest.raises(RuleViolation) as e:
        ordering.amend(
            uow,
            officer("IND", Role.ORDERING_OFFICER),
            o.number,
            [("RU-DT-GOST305", "100")],
            required_by=d(20),
            at=LATER,
        )
    assert (e.value.rule, e.value.field) == ("order_outside_visit", "required_by")


def test_a_visit_with_an_open_order_cannot_be_cancelled_until_the_order_is(
    uow: FakeUnitOfWork,
) -> None:
    v = create(uow)
    o = draft_order(uow, v.number)
    with pytest.raises(RuleViolation) as e:
        visits.cancel(uow, planner("IND"), v.number, reason="exercise called off", at=LATER)
    assert e.value.rule == "visit_has_open_orders"
    assert f"{o.number} (draft)" in e.value.message
    ordering.cancel(
        uow, officer("IND", Role.ORDERING_OFFICER), o.number, "exercise called off", at=LATER
    )
    gone = visits.cancel(uow, planner("IND"), v.number, reason="exercise called off", at=LATER)
    assert (gone.status, gone.cancelled_on, gone.cancel_reason) == (
        "cancelled",
        LATER.date(),
        "exercise called off",
    )
    assert visits.notice(uow, planner("RUS"), v.number)["status"] == "cancelled"
    with pytest.raises(RuleViolation) as e2:  # no new order for a cancelled visit
        draft_order(uow, v.number)
    assert e2.value.rule == "order_outside_visit"
    with pytest.raises(RuleViolation) as e3:
        amend(uow, v.number, commander_name="Vikram Rao")
    assert e3.value.rule == "visit_cancelled"
    with uow:
        assert [r.action for r in uow.audit.records("visit", v.number)][-1] == "visit.cancel"


def test_a_cancelled_visit_frees_its_place_under_the_caps(uow: FakeUnitOfWork) -> None:
    five = ["INS-TALWAR", "INS-TRISHUL", "INS-TABAR", "INS-TUSHIL", "INS-TAMAL"]
    v = create(uow, units=five)
    with pytest.raises(RuleViolation):
        create(uow, units=["INS-VIKRAMADITYA"], facility="RUBLT", arrival=d(12), departure=d(13))
    visits.cancel(uow, planner("IND"), v.number, reason="refit", at=LATER)
    assert create(uow, units=["INS-VIKRAMADITYA", "INS-TABAR"], facility="RUBLT").warships == 2
    caps = visits.caps(uow, planner("IND"), "RELOS", d(1), d(31))
    assert [s["visits"] for s in caps["spans"]] == [["RELOS-V-IN-2026-0002"]]


def test_a_visit_is_cancelled_only_before_arrival_and_with_a_reason(uow: FakeUnitOfWork) -> None:
    v = create(uow)
    with pytest.raises(ValidationError):
        visits.cancel(uow, planner("IND"), v.number, reason=" ", at=LATER)
    with pytest.raises(RuleViolation) as e:
        visits.cancel(
            uow, planner("IND"), v.number, reason="late", at=datetime(2026, 12, 10, tzinfo=UTC)
        )
    assert e.value.rule == "visit_started"


def test_only_a_planner_of_the_visiting_party_amends_or_cancels(uow: FakeUnitOfWork) -> None:
    v = create(uow)
    for actor in (planner("RUS"), officer("IND", Role.ORDERING_OFFICER)):
        with pytest.raises(PermissionDenied):
            amend(uow, v.number, actor=actor, commander_name="X")
        with pytest.raises(PermissionDenied):
            visits.cancel(uow, actor, v.number, reason="no", at=LATER)
