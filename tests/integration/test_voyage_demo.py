"""The seed's voyages on the demo data, with real sea routes (searoute, offline).

A Talwar-class frigate (range 4,850 nm at 14 kn) cannot reach Severomorsk or Murmansk from
Mumbai through partner ports alone: the planner says which leg is beyond range; in winter,
Severomorsk is out of its open-water season and the frigate is not ice-class: refused. INS
Vikramaditya reaches Vladivostok without a stop; the plan gives the visit to notify and the fuel
order priced from Russia's price list."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_UP, Decimal
from typing import Any

import pytest

from relos.domain.errors import PermissionDenied
from relos.domain.planning import NoPlan
from relos.services import planning
from tests.fakes import FakeUnitOfWork
from tests.visit_world import load_reference, planner

TODAY = date(2026, 5, 1)


@pytest.fixture(scope="module")
def uow() -> FakeUnitOfWork:
    u = FakeUnitOfWork()
    load_reference(u)
    return u


def plan(uow: FakeUnitOfWork, unit: str, origin: str, to: str, **kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"speed_kn": "14", "reserve": "20%", "today": TODAY}
    args.update(kw)
    return planning.plan(
        uow,
        planner("IND"),
        unit=unit,
        origin=origin,
        destination=to,
        **args,
    )


def test_a_talwar_frigate_cannot_reach_severomorsk_through_partner_ports(
    uow: FakeUnitOfWork,
) -> None:
    with pytest.raises(NoPlan) as e:
        plan(uow, "INS-TABAR", "INBOM", "RUSMR", depart=date(2026, 7, 1))
    text = e.value.message
    assert "leg INBOM->RUSMR is" in text
    assert "beyond the 3880 nm INS-TABAR can sail keeping its reserve" in text
    assert "reachable from INBOM within 3880 nm a leg: INCOK, INIXZ, INVTZ" in text
    with pytest.raises(NoPlan, match="leg INBOM->RUMMK is 7892 nm"):
        plan(uow, "INS-TABAR", "INBOM", "RUMMK", depart=date(2026, 7, 1))


def test_severomorsk_in_winter_is_refused_to_a_frigate_that_is_not_ice_class(
    uow: FakeUnitOfWork,
) -> None:
    with pytest.raises(NoPlan) as e:
        plan(uow, "INS-TABAR", "INBOM", "RUSMR", depart=date(2026, 12, 1))
    assert e.value.rule == "arctic_out_of_season"
    assert "06-01 to 10-31" in e.value.message


def test_vikramaditya_sails_to_vladivostok_without_a_stop(uow: FakeUnitOfWork) -> None:
    p = plan(uow, "INS-VIKRAMADITYA", "INBOM", "RUVVO", depart=date(2026, 8, 1))
    assert p["stops"] == []
    (leg,) = p["legs"]
    distance = Decimal(str(leg["distance_nm"]))
    assert 5400 < distance < 5700
    fuel = (Decimal(180) * distance / (24 * 14)).quantize(Decimal("0.1"), ROUND_UP)
    assert Decimal(leg["fuel_t"]) == fuel  # 180 t/day for distance / 14 kn / 24 h
    (visit,) = p["visits_to_notify"]
    arrival = date.fromisoformat(visit["arrival"])
    assert (visit["facility"], visit["agreement"]) == ("RUVVO", "RELOS")
    assert visit["notice_deadline"] == (arrival - timedelta(days=14)).isoformat()
    (order,) = p["draft_orders"]
    assert order["lines"] == [{"item": "RU-DT-GOST305", "quantity": str(fuel)}]
    assert order["unit_price"] == "71500.00"  # Russia's price from 1 July 2026
    assert Decimal(order["amount"]) == fuel * Decimal("71500.00")
    assert order["currency"] == "RUB"
    geo = planning.geojson(planning.plan(
        uow, planner("IND"), unit="INS-VIKRAMADITYA", origin="INBOM", destination="RUVVO",
        speed_kn="14", depart=date(2026, 8, 1), today=TODAY,
    ))  # fmt: skip
    assert geo["type"] == "FeatureCollection"
    assert geo["features"][0]["geometry"]["type"] == "LineString"


def test_a_frigate_keeping_fifteen_percent_reaches_vladivostok_via_port_blair(
    uow: FakeUnitOfWork,
) -> None:
    p = plan(uow, "INS-TABAR", "INBOM", "RUVVO", reserve="15%", depart=date(2026, 8, 1))
    assert p["stops"] == ["INIXZ"]
    assert [v["facility"] for v in p["visits_to_notify"]] == ["RUVVO"]
    for leg in p["legs"]:
        assert leg["distance_nm"] <= 4850 * 0.85
    cheap = plan(
        uow,
        "INS-TABAR",
        "INBOM",
        "RUVVO",
        reserve="15%",
        depart=date(2026, 8, 1),
        cheapest=True,
        rates={"RUB": Decimal("1.05"), "USD": Decimal("88.5")},
    )
    assert Decimal(cheap["cost"]) <= Decimal("92000") * Decimal(p["fuel_t"])


def test_a_voyage_is_planned_only_for_ones_own_unit(uow: FakeUnitOfWork) -> None:
    with pytest.raises(PermissionDenied):
        planning.plan(
            uow, planner("RUS"), unit="INS-TABAR", origin="INBOM", destination="RUVVO",
            speed_kn="14",
        )  # fmt: skip
