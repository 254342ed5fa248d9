"""Voyage planning on small hand-checked networks, and properties over random ones.

Fuel model (docs/planning.md): a leg of d nm at v kn burns c * d / (24 v) tonnes (rounded up to
0.1 t); a leg is possible only when d <= (1 - reserve) * range.
"""

from __future__ import annotations

import itertools
from collections import deque
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relos.domain.errors import ValidationError
from relos.domain.planning import (
    Hop,
    NoPlan,
    Port,
    Vessel,
    fuel_for,
    parse_reserve,
    plan_voyage,
    tank_t,
)

SHIP = Vessel("SHIP", "F-76", Decimal(24), 1000)  # 24 t/day, 1,000 nm
V = Decimal(10)  # 10 kn: 240 nm a day, so 0.1 t per nm
R = Decimal("0.2")  # usable 800 nm a leg
JULY = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
JANUARY = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)


def port(code: str, lat: float = 10.0, **kw: object) -> Port:
    return Port(code, "IND", lat, 70.0, **kw)  # type: ignore[arg-type]


def sym(**d: float) -> dict[tuple[str, str], Hop]:
    """`AB=700` -> routes A->B and B->A of 700 nm, south of the Arctic circle."""
    out = {}
    for k, v in d.items():
        out[(k[0], k[1])] = out[(k[1], k[0])] = Hop(v, 20.0)
    return out


LINE = {c: port(c) for c in "ABCD"}
HOPS = sym(AD=1500, AB=700, BD=800, AC=500, CD=900, CB=300)


def test_leg_fuel_is_consumption_times_days_rounded_up_to_a_tenth() -> None:
    assert fuel_for(SHIP, 700, V) == Decimal("70.0")
    assert fuel_for(SHIP, 333, V) == Decimal("33.3")
    assert fuel_for(SHIP, 333.33, V) == Decimal("33.4")  # 33.33 t rounds up
    assert tank_t(SHIP, V) == Decimal("100.0")
    assert fuel_for(Vessel("T", "F-76", Decimal(25), 4850), 7892.4, Decimal(14)) == Decimal(
        "587.3"
    )  # 25 * 7892.4 / 336 = 587.22 t


def test_reserve_is_read_as_a_percentage_or_a_fraction() -> None:
    assert parse_reserve("20%") == Decimal("0.2")
    assert parse_reserve("0.25") == Decimal("0.25")
    with pytest.raises(ValidationError):
        parse_reserve("100%")
    with pytest.raises(ValidationError):
        parse_reserve("lots")


def test_fewest_stops_takes_one_stop_and_exact_fuel_and_times() -> None:
    p = plan_voyage(SHIP, "A", "D", LINE, HOPS, speed_kn=V, reserve=R, depart=JULY)
    assert p.stops == ("B",)
    assert [(leg.origin, leg.destination, leg.fuel_t) for leg in p.legs] == [
        ("A", "B", Decimal("70.0")),
        ("B", "D", Decimal("80.0")),
    ]
    assert p.fuel_t == Decimal("150.0")
    assert p.distance_nm == 1500
    assert p.legs[0].arrives == datetime(2026, 7, 4, 6, 0, tzinfo=UTC)  # 70 h
    assert p.legs[1].departs == datetime(2026, 7, 5, 6, 0, tzinfo=UTC)  # a day in port
    assert p.legs[1].arrives == datetime(2026, 7, 8, 14, 0, tzinfo=UTC)  # 80 h


def test_cheapest_refuels_where_fuel_is_cheap_even_with_more_stops() -> None:
    ports = {
        **LINE,
        "B": port("B", price_per_t=Decimal(100)),
        "C": port("C", price_per_t=Decimal(10)),
    }
    fewest = plan_voyage(SHIP, "A", "D", ports, HOPS, speed_kn=V, reserve=R, depart=JULY)
    assert fewest.stops == ("B",)
    assert fewest.cost == Decimal("7000.0")  # 70 t at B at 100
    cheap = plan_voyage(
        SHIP, "A", "D", ports, HOPS, speed_kn=V, reserve=R, depart=JULY, cheapest=True
    )
    assert cheap.stops == ("C", "B")
    assert cheap.cost == Decimal("3500.0")  # 50 t at C at 10 + 30 t at B at 100
    assert cheap.fuel_t == Decimal("160.0")


def test_a_port_without_the_grade_is_never_a_stop_and_the_refusal_says_why() -> None:
    ports = {**LINE, "B": port("B", stop=False, why_not="lacks F-76")}
    with pytest.raises(NoPlan) as e:
        plan_voyage(SHIP, "A", "D", ports, HOPS, speed_kn=V, reserve=R, depart=JULY)
    text = e.value.message
    assert e.value.rule == "no_voyage_plan"
    assert "leg A->D is 1500 nm, beyond the 800 nm SHIP can sail keeping its reserve" in text
    assert "B cannot refuel SHIP: lacks F-76" in text
    assert "reachable from A within 800 nm a leg: C" in text
    assert "the shortest leg onward is C->D, 900 nm" in text


def test_the_reserve_shortens_every_leg() -> None:
    hops = sym(AD=850)
    ends = {"A": port("A"), "D": port("D")}
    assert plan_voyage(SHIP, "A", "D", ends, hops, speed_kn=V, reserve=Decimal(0), depart=JULY)
    with pytest.raises(NoPlan, match="850 nm, beyond the 800 nm"):
        plan_voyage(SHIP, "A", "D", ends, hops, speed_kn=V, reserve=R, depart=JULY)


ARCTIC = {
    "O": port("O", 60.0),
    "N": port("N", 70.0, season=("06-01", "10-31")),
    "X": port("X", 69.0, season=("06-01", "10-31")),
    "Y": port("Y", 62.0),
    "W": port("W", 62.0),
    "Z": port("Z", 63.0),
}


def arctic_hops() -> dict[tuple[str, str], Hop]:
    hops = sym(YW=600, OY=600, WZ=600)
    for a, b, d in (("O", "N", 700), ("O", "X", 700), ("X", "Z", 700)):
        hops[(a, b)] = hops[(b, a)] = Hop(d, 70.5)
    return hops


def test_an_arctic_destination_out_of_season_is_refused_for_a_ship_that_is_not_ice_class() -> None:
    with pytest.raises(NoPlan) as e:
        plan_voyage(SHIP, "O", "N", ARCTIC, arctic_hops(), speed_kn=V, reserve=R, depart=JANUARY)
    assert e.value.rule == "arctic_out_of_season"
    assert "refused" in e.value.message
    summer = plan_voyage(SHIP, "O", "N", ARCTIC, arctic_hops(), speed_kn=V, reserve=R, depart=JULY)
    assert summer.legs[0].arctic
    icebreaker = Vessel("ICE", "F-76", Decimal(24), 1000, ice_class=True)
    assert plan_voyage(
        icebreaker, "O", "N", ARCTIC, arctic_hops(), speed_kn=V, reserve=R, depart=JANUARY
    )


def test_an_arctic_stop_out_of_season_is_routed_around_and_the_plan_says_so() -> None:
    summer = plan_voyage(SHIP, "O", "Z", ARCTIC, arctic_hops(), speed_kn=V, reserve=R, depart=JULY)
    assert summer.stops == ("X",)
    winter = plan_voyage(
        SHIP, "O", "Z", ARCTIC, arctic_hops(), speed_kn=V, reserve=R, depart=JANUARY
    )
    assert winter.stops == ("Y", "W")
    assert any("routed around the Arctic leg O->X" in n for n in winter.notes)
    assert not any(leg.arctic for leg in winter.legs)


# -- properties ------------------------------------------------------------------------------------


@st.composite
def networks(draw: st.DrawFn) -> tuple[dict[str, Port], dict[tuple[str, str], Hop], int]:
    n = draw(st.integers(min_value=2, max_value=9))
    xs = draw(st.lists(st.integers(0, 3000), min_size=n, max_size=n))
    ys = draw(st.lists(st.integers(0, 3000), min_size=n, max_size=n))
    codes = [f"P{i}" for i in range(n)]
    ports = {
        c: Port(
            c,
            "IND",
            10.0,
            70.0,
            stop=draw(st.booleans()),
            price_per_t=Decimal(draw(st.integers(1, 500))),
        )
        for c in codes
    }
    hops = {}
    for i, a in enumerate(codes):
        for j, b in enumerate(codes):
            if i != j:
                d = ((xs[i] - xs[j]) ** 2 + (ys[i] - ys[j]) ** 2) ** 0.5 + 1
                hops[(a, b)] = Hop(d, 20.0)
    rng = draw(st.integers(min_value=200, max_value=3000))
    return ports, hops, rng


def fewest_stops_by_breadth_first(
    ports: dict[str, Port], hops: dict[tuple[str, str], Hop], limit: float, a: str, z: str
) -> int | None:
    seen = {a: 0}
    queue = deque([a])
    while queue:
        x = queue.popleft()
        for y in ports:
            if y == x or y in seen or hops[(x, y)].distance_nm > limit:
                continue
            if y == z:
                return seen[x]
            if ports[y].stop:
                seen[y] = seen[x] + 1
                queue.append(y)
    return None


@settings(max_examples=150, deadline=None)
@given(networks(), st.sampled_from(["0%", "10%", "20%", "35%"]), st.booleans())
def test_no_leg_is_beyond_range_and_stops_are_only_where_allowed(
    net: tuple[dict[str, Port], dict[tuple[str, str], Hop], int], reserve: str, cheapest: bool
) -> None:
    ports, hops, rng = net
    ship = Vessel("S", "F-76", Decimal(30), rng)
    r = parse_reserve(reserve)
    limit = float(Decimal(rng) * (1 - r))
    codes = sorted(ports)
    origin, dest = codes[0], codes[-1]
    expected = fewest_stops_by_breadth_first(ports, hops, limit, origin, dest)
    try:
        p = plan_voyage(
            ship, origin, dest, ports, hops, speed_kn=V, reserve=r, depart=JULY, cheapest=cheapest
        )
    except NoPlan:
        assert expected is None
        return
    assert expected is not None
    assert p.legs[0].origin == origin
    assert p.legs[-1].destination == dest
    for leg in p.legs:
        assert leg.distance_nm <= limit  # never below the reserve
        assert leg.fuel_t <= tank_t(ship, V) * (1 - r) + Decimal("0.1")
    assert all(ports[s].stop for s in p.stops)
    assert p.fuel_t == sum(leg.fuel_t for leg in p.legs)
    if not cheapest:
        assert len(p.stops) == expected


def cheapest_by_enumeration(
    ship: Vessel,
    ports: dict[str, Port],
    hops: dict[tuple[str, str], Hop],
    limit: float,
    a: str,
    z: str,
) -> Decimal | None:
    """The lowest fuel cost over every simple path a → z (Decimal arithmetic throughout)."""
    stops = [c for c, p in ports.items() if c not in (a, z) and p.stop]
    best: Decimal | None = None
    for k in range(len(stops) + 1):
        for middle in itertools.permutations(stops, k):
            path = [a, *middle, z]
            if any(hops[(x, y)].distance_nm > limit for x, y in itertools.pairwise(path)):
                continue
            cost = sum(
                (
                    fuel_for(ship, hops[(x, y)].distance_nm, V) * (ports[y].price_per_t or 0)
                    for x, y in itertools.pairwise(path)
                    if y != z
                ),
                Decimal(0),
            )
            best = cost if best is None else min(best, cost)
    return best


@settings(max_examples=120, deadline=None)
@given(networks(), st.sampled_from(["0%", "20%"]))
def test_cheapest_costs_exactly_the_least_of_every_possible_path(
    net: tuple[dict[str, Port], dict[tuple[str, str], Hop], int], reserve: str
) -> None:
    ports, hops, rng = net
    if len(ports) > 7:
        ports = {c: ports[c] for c in sorted(ports)[:7]}
    ship = Vessel("S", "F-76", Decimal("30.5"), rng)
    r = parse_reserve(reserve)
    limit = float(Decimal(rng) * (1 - r))
    origin, dest = min(ports), max(ports)
    expected = cheapest_by_enumeration(ship, ports, hops, limit, origin, dest)
    try:
        p = plan_voyage(
            ship, origin, dest, ports, hops, speed_kn=V, reserve=r, depart=JULY, cheapest=True
        )
    except NoPlan:
        assert expected is None
        return
    assert p.cost == expected
