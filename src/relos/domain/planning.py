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
import math
from collections.abc import Callable, Iterable, Mapping
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


class SeaNetwork:
    """Ports indexed 0..n-1 with, for every ordered pair, the sea distance (nm; ``inf``: no
    route) and the highest latitude of the route, as rows of floats. Built once and reused by
    every plan over the same ports: the search reads one row per port it settles instead of
    looking a pair up at a time."""

    def __init__(
        self,
        codes: Iterable[str],
        distance: list[list[float]],
        max_latitude: list[list[float]],
    ) -> None:
        self.codes = tuple(codes)
        self.index = {c: i for i, c in enumerate(self.codes)}
        n = len(self.codes)
        if len(distance) != n or len(max_latitude) != n:
            raise ValueError("a row of distances and of latitudes per port")
        self.distance = distance
        self.max_latitude = max_latitude

    @classmethod
    def of(cls, codes: Iterable[str], hops: Mapping[tuple[str, str], Hop]) -> SeaNetwork:
        """From routes by pair (`hops[(a, b)]`; a missing pair has no route)."""
        codes = tuple(codes)
        inf = math.inf
        get = hops.get
        distance, latitude = [], []
        for a in codes:
            row = [get((a, b)) if a != b else None for b in codes]
            distance.append([inf if h is None else h.distance_nm for h in row])
            latitude.append([-90.0 if h is None else h.max_latitude for h in row])
        return cls(codes, distance, latitude)

    def hop(self, a: str, b: str) -> Hop | None:
        i, j = self.index.get(a), self.index.get(b)
        if i is None or j is None or self.distance[i][j] == math.inf:
            return None
        return Hop(self.distance[i][j], self.max_latitude[i][j])


def plan_voyage(
    vessel: Vessel,
    origin: str,
    destination: str,
    ports: Mapping[str, Port],
    hops: Mapping[tuple[str, str], Hop] | SeaNetwork,
    *,
    speed_kn: Decimal,
    reserve: Decimal,
    depart: datetime,
    stop_hours: float = 24.0,
    cheapest: bool = False,
) -> Plan:
    """The plan with the fewest stops (then the shortest distance), or with `cheapest` the lowest
    fuel cost (then the fewest stops, then the shortest distance). `hops[(a, b)]` is the route
    a → b (missing: no route); a `SeaNetwork` built once may be given instead, for speed.

    The search is Dijkstra over the ports with one label per port (stops, distance and, with
    `cheapest`, the exact cost as an integer number of the prices' smallest unit): a stop refills
    what the leg into it burnt, so a port's best label does not depend on the path behind it.
    """
    if speed_kn <= 0:
        raise ValidationError("speed", str(speed_kn), "a positive speed in knots")
    if vessel.range_nm <= 0 or vessel.consumption_t_per_day <= 0:
        raise ValidationError("unit", vessel.code, "needs a range and a consumption")
    for end in (origin, destination):
        if end not in ports:
            raise ValidationError("port", end, "not a known port")
    net = hops if isinstance(hops, SeaNetwork) else SeaNetwork.of(ports, hops)
    limit = usable_range(vessel, reserve)
    speed = float(speed_kn)
    notes: list[str] = []

    def arctic_ok(a: str, b: str, leaves: datetime, arrives: datetime) -> bool:
        hop = net.hop(a, b)
        if vessel.ice_class or hop is None or not hop.arctic:
            return True
        pa, pb = ports[a], ports[b]
        return (not pa.arctic or pa.in_season(leaves.date())) and (
            not pb.arctic or pb.in_season(arrives.date())
        )

    # the ends themselves: an Arctic end out of season is refused outright
    if not vessel.ice_class:
        dest = ports[destination]
        if dest.arctic and dest.season is not None:
            direct = net.hop(origin, destination)
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

    avoided: set[str] = set()
    path = _search(vessel, origin, destination, ports, net, limit, speed_kn, depart, stop_hours,
                   cheapest, arctic_ok, avoided)  # fmt: skip
    if path is None:
        raise NoPlan(
            "no_voyage_plan",
            "to",
            destination,
            _why(vessel, origin, destination, ports, net, limit, avoided),
        )
    legs: list[Leg] = []
    at = depart
    total_cost = Decimal(0)
    for i, (a, b) in enumerate(itertools.pairwise(path)):
        hop = net.hop(a, b)
        assert hop is not None
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
                net,
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


def _search(
    vessel: Vessel,
    origin: str,
    destination: str,
    ports: Mapping[str, Port],
    net: SeaNetwork,
    limit: float,
    speed_kn: Decimal,
    depart: datetime,
    stop_hours: float,
    cheapest: bool,
    arctic_ok: Callable[[str, str, datetime, datetime], bool],
    avoided: set[str],
) -> list[str] | None:
    """The best path origin → destination as port codes, or None. Labels are kept in lists
    indexed like the network; costs are exact integers (tenths of a tonne × the prices scaled to
    whole numbers), so ties are ties and the order is the Decimal order."""
    index = net.index
    o, t = index.get(origin), index.get(destination)
    if o is None or t is None:
        return None
    codes = net.codes
    n = len(codes)
    allowed = [
        index[c]
        for c, p in ports.items()
        if c in index
        and c != origin
        and (c == destination or (p.stop and (not cheapest or p.price_per_t is not None)))
    ]
    # exact fuel in tenths of a tonne: ceil(c * d10 / (24 v)), d10 the distance in tenths of nm
    cn, cd = vessel.consumption_t_per_day.as_integer_ratio()
    vn, vd = speed_kn.as_integer_ratio()
    num, den = cn * vd, cd * 24 * vn
    price = [0] * n
    if cheapest:
        exponents = [
            int(p.price_per_t.as_tuple().exponent)
            for p in ports.values()
            if p.price_per_t is not None
        ]
        scale = 10 ** max([0, *(-e for e in exponents)])
        for c, p in ports.items():
            if p.price_per_t is not None and c in index:
                price[index[c]] = int(p.price_per_t * scale)
    inf = math.inf
    best_s: list[float] = [inf] * n  # stops
    best_d: list[float] = [inf] * n  # nm
    best_c: list[float] = [inf] * n  # exact cost (an int once reached)
    at_h = [0.0] * n  # hours after departure on arrival
    pred = [-1] * n
    settled = bytearray(n)
    best_s[o], best_d[o], best_c[o] = 0, 0.0, 0
    heap: list[tuple[float, ...]] = [(0, 0, 0.0, o) if cheapest else (0, 0.0, o)]
    speed = float(speed_kn)
    check_ice = not vessel.ice_class
    while heap:
        item = heapq.heappop(heap)
        i = int(item[-1])
        if settled[i]:
            continue
        settled[i] = 1
        if i == t:
            break
        s_i, d_i, c_i = best_s[i], best_d[i], best_c[i]
        leaves = at_h[i] if i == o else at_h[i] + stop_hours
        row = net.distance[i]
        north = net.max_latitude[i]
        for j in [j for j in allowed if row[j] <= limit]:
            if settled[j]:
                continue
            d = row[j]
            if check_ice and north[j] > ARCTIC_LATITUDE:
                leaves_at = depart + timedelta(hours=leaves)
                if not arctic_ok(
                    codes[i], codes[j], leaves_at, leaves_at + timedelta(hours=d / speed)
                ):
                    avoided.add(codes[j] if ports[codes[j]].arctic else codes[i])
                    continue
            ns = s_i if j == t else s_i + 1
            nd = d_i + d
            if cheapest:
                nc = c_i
                if j != t:
                    d10 = round(round(d, 1) * 10)
                    nc = c_i + -((-num * d10) // den) * price[j]
                bc = best_c[j]
                if nc > bc or (
                    nc == bc and (ns > best_s[j] or (ns == best_s[j] and nd >= best_d[j]))
                ):
                    continue
                best_c[j] = nc
                heapq.heappush(heap, (nc, ns, nd, j))
            else:
                bs = best_s[j]
                if ns > bs or (ns == bs and nd >= best_d[j]):
                    continue
                heapq.heappush(heap, (ns, nd, j))
            best_s[j], best_d[j], pred[j], at_h[j] = ns, nd, i, leaves + d / speed
    if not settled[t]:
        return None
    path = [t]
    while path[-1] != o:
        path.append(pred[path[-1]])
    return [codes[k] for k in reversed(path)]


def _why(
    vessel: Vessel,
    origin: str,
    destination: str,
    ports: Mapping[str, Port],
    net: SeaNetwork,
    limit: float,
    avoided: set[str],
) -> list[str]:
    reasons: list[str] = []

    def distance(a: str, b: str) -> float | None:
        hop = net.hop(a, b)
        return None if hop is None else hop.distance_nm

    direct = distance(origin, destination)
    if direct is None:
        reasons.append(f"no sea route from {origin} to {destination}")
    elif direct > limit:
        reasons.append(
            f"leg {origin}->{destination} is {direct:.0f} nm, beyond the "
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
            d = distance(a, b)
            if d is not None and d <= limit:
                reached.add(b)
                frontier.append(b)
    reasons.append(
        f"reachable from {origin} within {limit:.0f} nm a leg: "
        + (", ".join(sorted(reached - {origin})) or "no stop")
    )
    onward = [
        (d, a, b)
        for a in reached
        for b, port in ports.items()
        if b not in reached
        and (port.stop or b == destination)
        and (d := distance(a, b)) is not None
    ]
    if onward:
        d, a, b = min(onward)
        reasons.append(
            f"the shortest leg onward is {a}->{b}, {d:.0f} nm: beyond the {limit:.0f} nm "
            f"{vessel.code} can sail keeping its reserve"
        )
    return reasons
