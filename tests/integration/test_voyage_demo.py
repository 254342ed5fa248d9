"""The seed's voyages on the demo data, with real sea routes (searoute, offline).

A Talwar-class frigate (range 4,850 nm at 14 kn) reaches Severomorsk from Mumbai by Suez,
refuelling at the (illustrative) US Navy facilities open to India under LEMOA; with a larger
reserve it cannot, and the planner says which leg is beyond range; in winter, Severomorsk is out
of its open-water season and the frigate is not ice-class: refused. INS
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


def test_a_talwar_frigate_reaches_severomorsk_by_suez_refuelling_at_us_bases_under_lemoa(
    uow: FakeUnitOfWork,
) -> None:
    p = plan(uow, "INS-TABAR", "INBOM", "RUSMR", depart=date(2026, 7, 1))
    # Mumbai -> Souda Bay (3,577 nm, by Suez) -> Rota (1,555) -> Severomorsk (2,845): the only
    # two-stop way within the 3,880 nm a leg a Talwar keeps with 20 % of 4,850 nm in reserve
    assert p["stops"] == ["GRSUD", "ESROT"]
    assert [(leg["from"], leg["to"]) for leg in p["legs"]] == [
        ("INBOM", "GRSUD"),
        ("GRSUD", "ESROT"),
        ("ESROT", "RUSMR"),
    ]
    tank = Decimal(25) * 4850 / (24 * 14)  # 360.9 t: the fuel that carries it 4,850 nm
    for leg in p["legs"]:
        assert leg["distance_nm"] <= 4850 * 0.8  # no leg beyond range
        fuel = Decimal(leg["fuel_t"])
        assert fuel == (Decimal(25) * Decimal(str(leg["distance_nm"])) / (24 * 14)).quantize(
            Decimal("0.1"), ROUND_UP
        )
        assert tank - fuel >= tank * Decimal("0.2")  # the reserve is kept on every arrival
    assert p["legs"][-1]["arctic"]
    assert not p["legs"][0]["arctic"]
    assert Decimal(p["fuel_t"]) == sum(Decimal(leg["fuel_t"]) for leg in p["legs"])
    visits = {v["facility"]: v for v in p["visits_to_notify"]}
    assert [visits[c]["agreement"] for c in ("GRSUD", "ESROT", "RUSMR")] == [
        "LEMOA",
        "LEMOA",
        "RELOS",
    ]
    arrival = date.fromisoformat(visits["RUSMR"]["arrival"])
    assert visits["RUSMR"]["notice_deadline"] == (arrival - timedelta(days=14)).isoformat()
    souda = next(o for o in p["draft_orders"] if o["facility"] == "GRSUD")
    assert (souda["supplying"], souda["currency"], souda["unit_price"]) == ("USA", "USD", "1085.00")
    assert souda["lines"] == [{"item": "9140-00-273-2377", "quantity": p["legs"][0]["fuel_t"]}]


def test_a_larger_reserve_adds_stops_and_beyond_reach_the_planner_says_which_leg(
    uow: FakeUnitOfWork,
) -> None:
    p = plan(uow, "INS-TABAR", "INBOM", "RUMMK", depart=date(2026, 7, 1))
    assert p["stops"] == ["GRSUD", "ESROT"]
    keeping_40 = plan(uow, "INS-TABAR", "INBOM", "RUMMK", reserve="40%", depart=date(2026, 7, 1))
    assert keeping_40["stops"] == ["DJJIB", "GRSUD", "ESROT"]  # 2,910 nm a leg
    assert all(leg["distance_nm"] <= 2910 for leg in keeping_40["legs"])
    with pytest.raises(NoPlan) as e:  # 60 %: 1,940 nm a leg, and Rota-Baltiysk is 2,180 nm
        plan(uow, "INS-TABAR", "INBOM", "RUMMK", reserve="60%", depart=date(2026, 7, 1))
    assert e.value.reasons == [
        "leg INBOM->RUMMK is 7892 nm, beyond the 1940 nm INS-TABAR can sail keeping its reserve",
        "reachable from INBOM within 1940 nm a leg: DJJIB, ESROT, GRSUD, INCOK, INIXZ, INVTZ",
        "the shortest leg onward is ESROT->RUBLT, 2180 nm: beyond the 1940 nm INS-TABAR can "
        "sail keeping its reserve",
    ]


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
