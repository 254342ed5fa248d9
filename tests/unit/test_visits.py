"""Visits: notice period, permitted use, open facility, presence caps on every day of overlap,
the cap timeline, the notice's particulars, and orders tied to a visit (on the fakes)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from relos.domain.agreements import Caps
from relos.domain.errors import PermissionDenied, RuleViolation
from relos.domain.users import Role
from relos.domain.visits import Visit, new_visit
from relos.services import catalogue, ordering, visits
from tests.fakes import FakeUnitOfWork
from tests.visit_world import load_reference, notify, officer, planner

GIVEN = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # the day the notices are given
DEC = date(2026, 12, 1)


def d(day: int) -> date:
    return date(2026, 12, day)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    u = FakeUnitOfWork()
    load_reference(u)
    return u


def create(uow: FakeUnitOfWork, **kw: Any) -> Visit:
    return notify(uow, GIVEN, **kw)


def test_a_visit_carries_every_particular_of_the_relos_notice(uow: FakeUnitOfWork) -> None:
    v = create(uow, units=["INS-TABAR", "INS-TALWAR"], pilot=True, tugs=2)
    assert v.number == "RELOS-V-IN-2026-0001"
    assert (v.visiting, v.host, v.warships, v.personnel) == ("IND", "RUS", 2, 360)
    doc = visits.notice(uow, planner("RUS"), v.number)  # the host reads it too
    assert doc["missing_particulars"] == []
    assert doc["number_of_ships"] == 2
    tabar = next(u for u in doc["units"] if u["code"] == "INS-TABAR")
    assert (tabar["class"], tabar["displacement_t"], tabar["length_m"], tabar["beam_m"]) == (
        "Talwar class (Project 11356)",
        4035,
        "124.8",
        "15.2",
    )
    assert tabar["draught_m"] == "4.2"
    assert doc["purpose"] == "port_call"
    assert (doc["arrival"], doc["departure"]) == ("2026-12-10", "2026-12-14")
    assert doc["commander"] == {"name": "Arjun Mehta", "rank": "Captain"}
    assert doc["radio_frequencies"] == ["4.125 MHz"]
    assert doc["requests"] == {"pilot": True, "tugs": 2, "other": ""}
    assert doc["notice_deadline"] == "2026-11-26"


def test_a_notice_given_less_than_fourteen_days_ahead_is_refused(uow: FakeUnitOfWork) -> None:
    with pytest.raises(RuleViolation) as e:
        create(uow, arrival=date(2026, 12, 3), departure=d(5))
    assert (e.value.rule, e.value.field, e.value.value) == ("notice_late", "arrival", "2026-12-03")
    assert "no earlier than 2026-12-04" in e.value.message
    assert create(uow, arrival=date(2026, 12, 4), departure=d(5))  # exactly 14 days
    with uow:
        assert len(uow.visits.overlapping()) == 1


def test_a_use_the_agreement_does_not_permit_is_refused(uow: FakeUnitOfWork) -> None:
    with pytest.raises(RuleViolation) as e:
        create(uow, agreement="LEMOA", facility="USSAN", use="hadr")
    assert (e.value.rule, e.value.field, e.value.value) == ("use_not_permitted", "use", "hadr")


def test_a_facility_not_open_under_the_agreement_is_refused(uow: FakeUnitOfWork) -> None:
    with uow:
        a = catalogue.agreement(uow, "RELOS")
        f = replace(catalogue.facility(uow, "RUVVO"), open_under=())
        tabar = catalogue.unit(uow, "INS-TABAR")
    with pytest.raises(RuleViolation) as e:
        new_visit(
            "V1", a, f, [tabar], use="port_call", arrival=d(10), departure=d(12),
            commander_name="A", commander_rank="Capt", frequencies=["x"], notified_on=GIVEN.date(),
            others=[],
        )  # fmt: skip
    assert (e.value.rule, e.value.field, e.value.value) == (
        "facility_not_open",
        "facility",
        "RUVVO",
    )
    with pytest.raises(RuleViolation) as e2:  # a party outside the agreement
        create(uow, facility="USSAN")
    assert e2.value.rule == "not_a_party"


def test_warships_are_capped_on_every_day_of_overlap_per_direction(uow: FakeUnitOfWork) -> None:
    three = ["INS-TALWAR", "INS-TRISHUL", "INS-TABAR"]
    create(uow, units=three, facility="RUVVO", arrival=d(10), departure=d(20))
    create(uow, units=["INS-TUSHIL", "INS-TAMAL"], facility="RUMMK", arrival=d(15), departure=d(25))
    # Russia's ships in India count in the other direction, not against India's five
    create(
        uow,
        actor=planner("RUS"),
        units=["RFS-VARYAG"],
        facility="INBOM",
        arrival=d(12),
        departure=d(22),
    )
    with pytest.raises(RuleViolation) as e:  # a sixth Indian warship on 20 December only
        create(uow, units=["INS-VIKRAMADITYA"], facility="RUBLT", arrival=d(20), departure=d(22))
    assert (e.value.rule, e.value.field, e.value.value) == ("cap_exceeded_warships", "warships", 6)
    assert "from 2026-12-20 to 2026-12-20" in e.value.message
    v = create(uow, units=["INS-VIKRAMADITYA"], facility="RUBLT", arrival=d(21), departure=d(22))
    caps = visits.caps(uow, planner("IND"), "RELOS", d(1), d(31))
    ind = [
        (s["from"], s["to"], s["warships"], s["personnel"])
        for s in caps["spans"]
        if s["visiting"] == "IND"
    ]
    assert ind == [
        ("2026-12-10", "2026-12-14", 3, 540),
        ("2026-12-15", "2026-12-20", 5, 900),
        ("2026-12-21", "2026-12-22", 3, 1960),
        ("2026-12-23", "2026-12-25", 2, 360),
    ]
    assert v.personnel == 1600
    assert caps["caps"] == {"warships": 5, "aircraft": 10, "personnel": 3000}


def test_personnel_and_aircraft_caps_refuse_with_rule_field_and_value(uow: FakeUnitOfWork) -> None:
    with uow:
        a = replace(catalogue.agreement(uow, "RELOS"), caps=Caps(5, 0, 2000))
        f = catalogue.facility(uow, "RUVVO")
        ships = [catalogue.unit(uow, c) for c in ("INS-VIKRAMADITYA", "INS-TABAR")]
        other = [catalogue.unit(uow, c) for c in ("INS-TALWAR", "INS-TRISHUL")]
        plane = catalogue.unit(uow, "RF-IL38N")
        ind_port = catalogue.facility(uow, "INBOM")
    common: dict[str, Any] = {
        "use": "port_call",
        "commander_name": "A",
        "commander_rank": "Capt",
        "frequencies": ["x"],
        "notified_on": GIVEN.date(),
    }
    first = new_visit("V1", a, f, ships, arrival=d(10), departure=d(12), others=[], **common)
    with pytest.raises(RuleViolation) as e:  # 1600 + 180 + 360 = 2140 > 2000 on 12 December
        new_visit("V2", a, f, other, arrival=d(12), departure=d(13), others=[first], **common)
    assert (e.value.rule, e.value.field, e.value.value) == (
        "cap_exceeded_personnel",
        "personnel",
        2140,
    )
    with pytest.raises(RuleViolation) as e2:
        new_visit("V3", a, ind_port, [plane], arrival=d(10), departure=d(11), others=[], **common)
    assert (e2.value.rule, e2.value.value) == ("cap_exceeded_aircraft", 1)


def test_only_a_planner_of_the_visiting_party_gives_notice(uow: FakeUnitOfWork) -> None:
    with pytest.raises(PermissionDenied):
        create(uow, actor=officer("IND", Role.ORDERING_OFFICER))
    with pytest.raises(PermissionDenied):
        create(uow, actor=planner("RUS"))
    with uow:
        assert uow.visits.overlapping() == []


def test_an_order_for_a_visit_must_be_for_its_unit_facility_and_dates(uow: FakeUnitOfWork) -> None:
    v = create(uow, units=["INS-TABAR"], facility="RUVVO", arrival=d(10), departure=d(14))

    def draft(**kw: Any) -> Any:
        args: dict[str, Any] = {
            "agreement": "RELOS",
            "supplying": "RUS",
            "facility": "RUVVO",
            "unit": "INS-TABAR",
            "method": "cash",
            "use": "port_call",
            "required_by": d(11),
            "lines": [("RU-DT-GOST305", "120")],
            "visit": v.number,
            "at": GIVEN,
        }
        args.update(kw)
        return ordering.draft(uow, planner("IND"), **args)

    o = draft()
    with uow:
        assert uow.visits.order_visit(o.number) == v.number
    for change, field in (
        ({"required_by": d(15)}, "required_by"),
        ({"unit": "INS-TALWAR"}, "unit"),
        ({"facility": "RUMMK"}, "facility"),
    ):
        with pytest.raises(RuleViolation) as e:
            draft(**change)
        assert (e.value.rule, e.value.field) == ("order_outside_visit", field)
    with uow:
        assert len(uow.orders.numbers()) == 1
    assert draft(visit=None, required_by=d(15))  # an order outside any visit stays possible
