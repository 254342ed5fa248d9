"""Voyage planning: where along a sea route a unit can take fuel without falling below its reserve.

Pure: the sea distances between ports are given (precomputed by the service with `searoute` and
cached); the search is a label-setting shortest path over the complete graph of allowed ports.

**Fuel model** (docs/planning.md). A unit's record gives its consumption ``c`` in tonnes per day
and its range ``R`` in nautical miles, both taken at the planned speed ``v`` knots. A leg of
``d`` nm takes ``d / v`` hours and burns ``c * d / (24 v)`` tonnes; the usable tank is
``c * R / (24 v)`` tonnes (the fuel that carries the unit its range). With a reserve fraction
``r`` (20 % → 0.2) the unit must still hold ``r`` of its tank on arrival anywhere, so a leg is
possible only when ``d <= (1 - r) * R``. At every stop it refills what it burnt since the last
fill; the cost of a stop is that quantity times the stop's price per tonne (in the planning
party's currency). Quantities are Decimal, rounded up to 0.1 t; distances are floats (nm).

**Ice.** A leg whose route goes north of 66.5° N is an Arctic leg. A unit that is not ice-class
may sail it only when every Arctic end of it (a port north of 66.5° N) is in its open-water
season on the day it arrives there or leaves it. Otherwise the leg is not used: when the origin
or destination itself is out of season the plan is refused (``arctic_out_of_season``), when an
intermediate stop is, the plan routes around it and says so.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_UP, Decimal

from relos.domain.errors import RuleViolation, ValidationError

ARCTIC_LATITUDE = 66.5
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Port:
    """A port the planner may use: `stop` tells whether the unit may take fuel there."""

    code: str
    party: str
    latitude: float
    longitude: float
    stop: bool = True
    price_per_t: Decimal | None = None  # in the planning party's currency; None = not priced
    season: tuple[str, str] | None = None  # ("MM-DD", "MM-DD") for units that are not ice-class
    why_not: str = ""  # when stop is False: why (lacks the grade, not open, ...)

    def in_season(self, on: date) -> bool:
        if self.season is None:
            return True
        a, b = self.season
        day = on.strftime("%m-%d")
        return a <= day <= b if a <= b else (day >= a or day <= b)

    @property
    def arctic(self) -> bool:
        return self.latitude > ARCTIC_LATITUDE


@dataclass(frozen=True)
class Hop:
    """The sea route between two ports: its length and the highest latitude it reaches."""

    distance_nm: float
    max_latitude: float

    @property
    def arctic(self) -> bool:
        return self.max_latitude > ARCTIC_LATITUDE


@dataclass(frozen=True)
class Vessel:
    code: str
    fuel_grade: str
    consumption_t_per_day: Decimal
    range_nm: int
    ice_class: bool = False


@dataclass(frozen=True)
class Leg:
    origin: str
    destination: str
    distance_nm: float
    hours: float
    fuel_t: Decimal
    departs: datetime
    arrives: datetime
    arctic: bool


@dataclass(frozen=True)
class Plan:
    legs: tuple[Leg, ...]
    stops: tuple[str, ...]  # intermediate ports where the unit takes fuel
    fuel_t: Decimal
    cost: Decimal  # of the fuel taken at the stops, in the planning party's currency
    notes: tuple[str, ...] = ()

    @property
    def distance_nm(self) -> float:
        return sum(leg.distance_nm for leg in self.legs)


class NoPlan(RuleViolation):
    """No plan: the reasons say which leg is beyond range, which port lacks the grade."""

    def __init__(self, rule: str, field_: str, value: object, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(rule, field_, value, "; ".join(reasons))


def parse_reserve(value: str | Decimal) -> Decimal:
    """ "20%" or "0.2" → Decimal("0.2"); between 0 and 1 (excluded)."""
    text = str(value).strip()
    try:
        r = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except ArithmeticError:
        raise ValidationError(
            "reserve", text, "a fraction such as 0.2 or a percentage such as 20%"
        ) from None
    if not (0 <= r < 1):
        raise ValidationError("reserve", text, "from 0 up to (not including) 100%")
    return r


def fuel_for(vessel: Vessel, distance_nm: float, speed_kn: Decimal) -> Decimal:
    """Tonnes burnt over `distance_nm` at `speed_kn`: c * d / (24 v), rounded up to 0.1 t."""
    d = Decimal(str(round(distance_nm, 1)))
    return (vessel.consumption_t_per_day * d / (24 * speed_kn)).quantize(TENTH, ROUND_UP)


def usable_range(vessel: Vessel, reserve: Decimal) -> float:
    return float(Decimal(vessel.range_nm) * (1 - reserve))


def tank_t(vessel: Vessel, speed_kn: Decimal) -> Decimal:
    """The usable tank: the fuel that carries the unit its range at this speed."""
    return (vessel.consumption_t_per_day * vessel.range_nm / (24 * speed_kn)).quantize(
        TENTH, ROUND_UP
    )


def plan_voyage(
    vessel: Vessel,
    origin: str,
    destination: str,
    ports: Mapping[str, Port],
    hops: Mapping[tuple[str, str], Hop],
    *,
    speed_kn: Decimal,
    reserve: Decimal,
    depart: datetime,
    stop_hours: float = 24.0,
    cheapest: bool = False,
) -> Plan:
    """The plan with the fewest stops (then the shortest distance), or with `cheapest` the lowest
    fuel cost (then the fewest stops). `hops[(a, b)]` is the route a → b (missing: no route)."""
    if speed_kn <= 0:
        raise ValidationError("speed", str(speed_kn), "a positive speed in knots")
    if vessel.range_nm <= 0 or vessel.consumption_t_per_day <= 0:
        raise ValidationError("unit", vessel.code, "needs a range and a consumption")
    for end in (origin, destination):
        if end not in ports:
            raise ValidationError("port", end, "not a known port")
    limit = usable_range(vessel, reserve)
    speed = float(speed_kn)
    notes: list[str] = []

    def arctic_ok(a: str, b: str, leaves: datetime, arrives: datetime) -> bool:
        if vessel.ice_class or not hops[(a, b)].arctic:
            return True
        pa, pb = ports[a], ports[b]
        return (not pa.arctic or pa.in_season(leaves.date())) and (
            not pb.arctic or pb.in_season(arrives.date())
        )

    # the ends themselves: an Arctic end out of season is refused outright
    if not vessel.ice_class:
        dest = ports[destination]
        if dest.arctic and dest.season is not None:
            direct = hops.get((origin, destination))
            eta = depart + timedelta(hours=(direct.distance_nm if direct else 0) / speed)
            if not dest.in_season(eta.date()):
                raise NoPlan(
                    "arctic_out_of_season",
                    "to",
                    destination,
                    [
                        f"{destination} is north of {ARCTIC_LATITUDE}°N and out of its "
                        f"open-water season ({dest.season[0]} to {dest.season[1]}) around "
                        f"{eta.date().isoformat()}; {vessel.code} is not ice-class: refused"
                    ],
                )

    # label: (key, stops, distance, cost, time, node, path)
    start = (0, 0.0, Decimal(0))
    heap: list[tuple[tuple[object, ...], int, str, datetime, tuple[str, ...]]] = []
    counter = 0

    def key(stops: int, dist: float, cost: Decimal) -> tuple[object, ...]:
        return (cost, stops, dist) if cheapest else (stops, dist, cost)

    heapq.heappush(heap, (key(*start), counter, origin, depart, (origin,)))
    best: dict[str, tuple[object, ...]] = {origin: key(*start)}
    avoided: set[str] = set()
    settled: set[str] = set()
    candidates = [(c, p) for c, p in ports.items() if p.stop or c == destination]
    found: tuple[tuple[object, ...], datetime, tuple[str, ...]] | None = None
    while heap:
        k, _, node, at, path = heapq.heappop(heap)
        if best.get(node, k) < k:
            continue
        if node == destination:
            found = (k, at, path)
            break
        stops, dist, cost = (k[1], k[2], k[0]) if cheapest else (k[0], k[1], k[2])
        assert isinstance(stops, int)
        assert isinstance(dist, float)
        assert isinstance(cost, Decimal)
        settled.add(node)
        leaves = at if node == origin else at + timedelta(hours=stop_hours)
        for nxt, port in candidates:
            if nxt in settled:
                continue
            hop = hops.get((node, nxt))
            if hop is None or hop.distance_nm > limit:
                continue
            if hop.arctic and not vessel.ice_class:
                arrives = leaves + timedelta(hours=hop.distance_nm / speed)
                if not arctic_ok(node, nxt, leaves, arrives):
                    avoided.add(nxt if ports[nxt].arctic else node)
                    continue
            is_stop = nxt != destination
            add_cost = Decimal(0)
            if is_stop and cheapest:
                if port.price_per_t is None:
                    continue
                add_cost = fuel_for(vessel, hop.distance_nm, speed_kn) * port.price_per_t
            nk = key(stops + (1 if is_stop else 0), dist + hop.distance_nm, cost + add_cost)
            seen = best.get(nxt)
            if seen is not None and seen <= nk:
                continue
            best[nxt] = nk
            counter += 1
            arrives = leaves + timedelta(hours=hop.distance_nm / speed)
            heapq.heappush(heap, (nk, counter, nxt, arrives, (*path, nxt)))
    if found is None:
        raise NoPlan(
            "no_voyage_plan",
            "to",
            destination,
            _why(vessel, origin, destination, ports, hops, limit, avoided),
        )
    _, _, path = found
    legs: list[Leg] = []
    at = depart
    total_cost = Decimal(0)
    for i, (a, b) in enumerate(itertools.pairwise(path)):
        hop = hops[(a, b)]
        leaves = at if i == 0 else at + timedelta(hours=stop_hours)
        hours = hop.distance_nm / speed
        arrives = leaves + timedelta(hours=hours)
        fuel = fuel_for(vessel, hop.distance_nm, speed_kn)
        legs.append(Leg(a, b, hop.distance_nm, hours, fuel, leaves, arrives, hop.arctic))
        if b != destination and ports[b].price_per_t is not None:
            total_cost += fuel * (ports[b].price_per_t or Decimal(0))
        at = arrives
    if avoided and not vessel.ice_class:
        try:  # would the plan have used an Arctic leg out of season? then say it routed around
            free = plan_voyage(
                Vessel(
                    vessel.code,
                    vessel.fuel_grade,
                    vessel.consumption_t_per_day,
                    vessel.range_nm,
                    True,
                ),
                origin,
                destination,
                ports,
                hops,
                speed_kn=speed_kn,
                reserve=reserve,
                depart=depart,
                stop_hours=stop_hours,
                cheapest=cheapest,
            )
        except NoPlan:
            free = None
        if free is not None and free.stops != tuple(path[1:-1]):
            for leg in free.legs:
                if leg.arctic and not arctic_ok(
                    leg.origin, leg.destination, leg.departs, leg.arrives
                ):
                    notes.append(
                        f"routed around the Arctic leg {leg.origin}->{leg.destination}: out of "
                        f"the open-water season and {vessel.code} is not ice-class"
                    )
    return Plan(
        tuple(legs),
        tuple(path[1:-1]),
        sum((leg.fuel_t for leg in legs), Decimal(0)),
        total_cost,
        tuple(notes),
    )


def _why(
    vessel: Vessel,
    origin: str,
    destination: str,
    ports: Mapping[str, Port],
    hops: Mapping[tuple[str, str], Hop],
    limit: float,
    avoided: set[str],
) -> list[str]:
    reasons: list[str] = []
    direct = hops.get((origin, destination))
    if direct is None:
        reasons.append(f"no sea route from {origin} to {destination}")
    elif direct.distance_nm > limit:
        reasons.append(
            f"leg {origin}->{destination} is {direct.distance_nm:.0f} nm, beyond the "
            f"{limit:.0f} nm {vessel.code} can sail keeping its reserve"
        )
    for code, port in sorted(ports.items()):
        if code in (origin, destination):
            continue
        if not port.stop:
            reasons.append(f"{code} cannot refuel {vessel.code}: {port.why_not}")
    for code in sorted(avoided):
        reasons.append(f"{code} avoided: Arctic leg out of season for a unit that is not ice-class")
    reached = {origin}
    frontier = [origin]
    while frontier:
        a = frontier.pop()
        for b, port in ports.items():
            if b in reached or not port.stop or b == destination:
                continue
            hop = hops.get((a, b))
            if hop is not None and hop.distance_nm <= limit:
                reached.add(b)
                frontier.append(b)
    reasons.append(
        f"reachable from {origin} within {limit:.0f} nm a leg: "
        + (", ".join(sorted(reached - {origin})) or "no stop")
    )
    onward = [
        (hops[(a, b)].distance_nm, a, b)
        for a in reached
        for b, port in ports.items()
        if b not in reached and (port.stop or b == destination) and (a, b) in hops
    ]
    if onward:
        d, a, b = min(onward)
        reasons.append(
            f"the shortest leg onward is {a}->{b}, {d:.0f} nm: beyond the {limit:.0f} nm "
            f"{vessel.code} can sail keeping its reserve"
        )
    return reasons
