"""Voyage planning over the port network: sea distances from `searoute` (offline, cached), the
search in `relos.domain.planning`, and what the plan means for the agreements: the visits to
notify with their notice deadlines and the fuel orders priced from each host's price list.

Nothing is written: the visits and orders are proposals (the planner creates them with
``relos visit create`` and ``relos order draft``).
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from relos.domain.agreements import Agreement, Category, Status
from relos.domain.errors import PermissionDenied, RuleViolation, ValidationError
from relos.domain.facilities import Facility, FacilityKind, PriceItem, Unit, UnitKind
from relos.domain.planning import (
    Hop,
    NoPlan,
    Plan,
    Port,
    SeaNetwork,
    Vessel,
    parse_reserve,
    plan_voyage,
)
from relos.services import catalogue
from relos.services.actors import acting_user
from relos.services.unit_of_work import UnitOfWork

#: the commodity a fuel grade is bought as on price lists (NATO F-76 naval distillate = diesel)
FUEL_COMMODITY = {"F-76": "DIESEL_T", "F-44": "JET_T", "JP-5": "JET_T", "TS-1": "JET_T"}
SEA_KINDS = (FacilityKind.PORT, FacilityKind.NAVAL_BASE)


@dataclass(frozen=True)
class Route:
    hop: Hop
    coordinates: tuple[tuple[float, float], ...]  # (lon, lat)


_ROUTES: dict[tuple[float, float, float, float], Route] = {}


def sea_route(a: tuple[float, float], b: tuple[float, float]) -> Route:
    """The sea route between two (lon, lat) points, computed once per process and cached."""
    key = (a[0], a[1], b[0], b[1])
    found = _ROUTES.get(key)
    if found is not None:
        return found
    import searoute  # heavy (loads its maritime network): only when a distance is missing

    feature = searoute.searoute(list(a), list(b), units="naut")
    coords = tuple((float(x), float(y)) for x, y in feature["geometry"]["coordinates"])
    length = float(feature["properties"]["length"])
    route = Route(Hop(length, max((y for _, y in coords), default=max(a[1], b[1]))), coords)
    _ROUTES[key] = route
    _ROUTES[(b[0], b[1], a[0], a[1])] = Route(route.hop, tuple(reversed(coords)))
    return route


def sea_routes_from(
    a: tuple[float, float], targets: list[tuple[float, float]]
) -> dict[tuple[float, float], Route]:
    """The sea routes from `a` to every point of `targets` (lon, lat), cached like `sea_route`.

    One shortest-path search from `a` over searoute's maritime network that stops once every
    target is reached, instead of one search per pair: the same network, weights and
    restrictions (the Northwest Passage closed) as ``searoute.searoute``, and the same length
    (recomputed by searoute over the route's coordinates, in nautical miles). When searoute's
    internals differ (another version), each pair is routed with ``searoute.searoute``.
    """
    missing = [b for b in targets if b != a and (a[0], a[1], b[0], b[1]) not in _ROUTES]
    if missing:
        try:
            _route_from(a, missing)
        except (ImportError, AttributeError, KeyError, TypeError):
            for b in missing:
                sea_route(a, b)
    return {b: _ROUTES[(a[0], a[1], b[0], b[1])] for b in targets if b != a}


def _route_from(a: tuple[float, float], targets: list[tuple[float, float]]) -> None:
    from searoute.searoute import setup_M  # heavy: loads the maritime network (once)
    from searoute.utils import distance_length, process_route

    network = setup_M()
    restricted = network.restrictions
    source = network.kdtree.query(a)
    ends = {b: network.kdtree.query(b) for b in targets}
    wanted = set(ends.values()) - {source}
    dist = {source: 0.0}
    pred: dict[Any, Any] = {}
    done: set[Any] = set()
    heap: list[tuple[float, int, Any]] = [(0.0, 0, source)]
    counter = 0
    while heap and wanted:
        d, _, u = heapq.heappop(heap)
        if u in done:
            continue
        done.add(u)
        wanted.discard(u)
        for v, edge in network.adj[u].items():
            if v in done or edge.get("passage") in restricted:
                continue
            nd = d + edge["weight"]
            if nd < dist.get(v, math.inf):
                dist[v] = nd
                pred[v] = u
                counter += 1
                heapq.heappush(heap, (nd, counter, v))
    for b, end in ends.items():
        if end != source and end not in done:
            sea_route(a, b)  # unreachable within the network: let searoute say so
            continue
        nodes = [end]
        while nodes[-1] != source:
            nodes.append(pred[nodes[-1]])
        line, _ = process_route(list(reversed(nodes)), network, False)
        coords = tuple((float(x), float(y)) for x, y in line)
        length = float(distance_length(line, units="naut"))
        route = Route(Hop(length, max((y for _, y in coords), default=max(a[1], b[1]))), coords)
        _ROUTES[(a[0], a[1], b[0], b[1])] = route
        _ROUTES[(b[0], b[1], a[0], a[1])] = Route(route.hop, tuple(reversed(coords)))


_NETWORK: dict[tuple[tuple[str, float, float], ...], SeaNetwork] = {}


def sea_network(points: Mapping[str, tuple[float, float]]) -> SeaNetwork:
    """The sea distances between these ports (code -> (lon, lat)) as a `SeaNetwork`, built once
    per set of ports in the process (the last one is kept) from the cached sea routes."""
    key = tuple(sorted((c, p[0], p[1]) for c, p in points.items()))
    found = _NETWORK.get(key)
    if found is not None:
        return found
    codes = [k[0] for k in key]
    distance: list[list[float]] = []
    latitude: list[list[float]] = []
    for a in codes:
        pa = points[a]
        routes = sea_routes_from(pa, [points[b] for b in codes])
        d_row: list[float] = []
        l_row: list[float] = []
        for b in codes:
            pb = points[b]
            if b == a:
                d_row.append(math.inf)
                l_row.append(-90.0)
            else:
                hop = _route(pa, pb, routes).hop
                d_row.append(hop.distance_nm)
                l_row.append(hop.max_latitude)
        distance.append(d_row)
        latitude.append(l_row)
    net = SeaNetwork(codes, distance, latitude)
    _NETWORK.clear()
    _NETWORK[key] = net
    return net


def _route(
    a: tuple[float, float],
    b: tuple[float, float],
    found: Mapping[tuple[float, float], Route] | None = None,
) -> Route:
    """The cached route a -> b (two facilities at the same point: a route of no length)."""
    if a == b:
        return Route(Hop(0.0, a[1]), (a,))
    if found is not None and b in found:
        return found[b]
    return _ROUTES.get((a[0], a[1], b[0], b[1])) or sea_route(a, b)


def load_routes(path: Path) -> int:
    """Read sea routes cached in a file by `save_routes` (a missing or bad file is ignored)."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    n = 0
    for row in rows if isinstance(rows, list) else []:
        try:
            key = (float(row["a"][0]), float(row["a"][1]), float(row["b"][0]), float(row["b"][1]))
            coords = tuple((float(x), float(y)) for x, y in row["coordinates"])
            _ROUTES[key] = Route(Hop(float(row["nm"]), float(row["max_lat"])), coords)
            n += 1
        except (KeyError, TypeError, ValueError):
            continue
    return n


def save_routes(path: Path) -> None:
    """Write the routes known to this process, so the next process need not run searoute."""
    rows = [
        {
            "a": [k[0], k[1]],
            "b": [k[2], k[3]],
            "nm": r.hop.distance_nm,
            "max_lat": r.hop.max_latitude,
            "coordinates": [list(c) for c in r.coordinates],
        }
        for k, r in _ROUTES.items()
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rows), encoding="utf-8")
    tmp.replace(path)


def _where(f: Facility) -> tuple[float, float] | None:
    if f.latitude is None or f.longitude is None:
        return None
    return (float(f.longitude), float(f.latitude))


def fuel_item(items: list[PriceItem], supplier: str, grade: str, on: date) -> PriceItem | None:
    """The supplier's price item for fuel of `grade` valid on `on` (by commodity or name)."""
    commodity = FUEL_COMMODITY.get(grade.upper())
    for p in items:
        if p.supplier != supplier or p.category is not Category.POL or not p.valid_on(on):
            continue
        if (commodity and p.rik_commodity == commodity) or grade.upper() in p.description.upper():
            return p
    return None


def _agreement_for(
    agreements: list[Agreement], unit: Unit, f: Facility, on: date
) -> Agreement | None:
    for a in agreements:
        if (
            unit.party in a.parties
            and f.party in a.parties
            and a.code in f.open_under
            and a.status(on) is Status.IN_FORCE
        ):
            return a
    return None


def plan(
    uow: UnitOfWork,
    actor: str | None,
    *,
    unit: str,
    origin: str,
    destination: str,
    speed_kn: Decimal | str,
    reserve: Decimal | str = "20%",
    depart: date | None = None,
    cheapest: bool = False,
    rates: Mapping[str, Decimal] | None = None,
    today: date | None = None,
    route_cache: Path | None = None,
) -> dict[str, Any]:
    """A voyage plan as plain data (legs, stops, visits to notify, proposed fuel orders).

    `rates` give the value of one unit of a foreign currency in the unit's party's currency;
    with `cheapest`, every priced stop in a foreign currency needs its rate.
    """
    try:
        speed = Decimal(str(speed_kn))
    except ArithmeticError:
        raise ValidationError("speed", speed_kn, "a speed in knots") from None
    if speed <= 0:
        raise ValidationError("speed", speed_kn, "a positive speed in knots")
    r = parse_reserve(reserve if isinstance(reserve, str) else str(reserve))
    today = today or datetime.now(UTC).date()
    depart = depart or today
    rates = dict(rates or {})
    with uow:
        user = acting_user(uow, actor, "plan a voyage")
        u = catalogue.unit(uow, unit)
        if user.party != u.party:
            raise PermissionDenied(user.name, "plan a voyage", f"{u.code} belongs to {u.party}")
        own_currency = catalogue.show_party(uow, u.party).currency
        facilities = {f.code: f for f in catalogue.facilities(uow)}
        agreements = catalogue.agreements(uow)
        items = catalogue.price_items(uow)
        currencies = {p.code: p.currency for p in catalogue.parties(uow)}
    if u.kind is not UnitKind.SHIP:
        raise ValidationError("unit", u.code, "the voyage planner plans for ships")
    if not u.fuel_grade or u.consumption_t_per_day is None or not u.range_nm:
        raise ValidationError("unit", u.code, "needs a fuel grade, a consumption and a range")
    for field, code in (("from", origin), ("to", destination)):
        if code not in facilities:
            raise ValidationError(field, code, "not a facility with coordinates")
        if _where(facilities[code]) is None:
            raise ValidationError(field, code, "the facility has no coordinates")
    vessel = Vessel(u.code, u.fuel_grade, u.consumption_t_per_day, u.range_nm, u.ice_class)

    ports: dict[str, Port] = {}
    under: dict[str, Agreement] = {}
    prices: dict[str, PriceItem] = {}
    for code, f in sorted(facilities.items()):
        where = _where(f)
        if where is None or f.kind not in SEA_KINDS:
            continue
        why = ""
        agreement = None
        if f.party != u.party:
            agreement = _agreement_for(agreements, u, f, depart)
            if agreement is None:
                why = f"not open to {u.party} under an agreement in force"
            else:
                under[code] = agreement
        if not why and u.fuel_grade not in f.fuel_grades:
            why = f"lacks {u.fuel_grade}"
        item = fuel_item(items, f.party, u.fuel_grade, depart)
        price: Decimal | None = None
        if item is not None:
            prices[code] = item
            cur = item.unit_price.commodity
            if cur == own_currency:
                price = item.unit_price.number
            elif cur in rates:
                price = item.unit_price.number * rates[cur]
            elif cheapest and not why:
                raise RuleViolation(
                    "rate_missing",
                    "rate",
                    cur,
                    f"--cheapest compares costs in {own_currency}: give --rate {cur}=<value>",
                )
        ports[code] = Port(
            code,
            f.party,
            where[1],
            where[0],
            stop=not why,
            price_per_t=price,
            season=(f.season_start, f.season_end) if f.season_start and f.season_end else None,
            why_not=why,
        )
    for code in (origin, destination):
        if code not in ports:
            raise ValidationError("port", code, "not a seaport")
    known = len(_ROUTES)
    if route_cache is not None and not known:
        known = load_routes(route_cache)
    net = sea_network({c: (p.longitude, p.latitude) for c, p in ports.items()})
    if route_cache is not None and len(_ROUTES) > known:
        save_routes(route_cache)
    start = datetime.combine(depart, time(8, 0), UTC)
    result = plan_voyage(
        vessel,
        origin,
        destination,
        ports,
        net,
        speed_kn=speed,
        reserve=r,
        depart=start,
        cheapest=cheapest,
    )
    routes = {
        (leg.origin, leg.destination): _route(
            (ports[leg.origin].longitude, ports[leg.origin].latitude),
            (ports[leg.destination].longitude, ports[leg.destination].latitude),
        )
        for leg in result.legs
    }
    described = _describe(
        result,
        u,
        facilities,
        under,
        prices,
        routes,
        own_currency,
        currencies,
        r,
        speed,
        today,
        cheapest,
    )
    # the cost counts only stops priced in the unit's currency (foreign prices need a --rate)
    described["unpriced_stops"] = [c for c in result.stops if ports[c].price_per_t is None]
    return described


def _describe(
    p: Plan,
    u: Unit,
    facilities: dict[str, Facility],
    under: dict[str, Agreement],
    prices: dict[str, PriceItem],
    routes: dict[tuple[str, str], Route],
    own_currency: str,
    currencies: dict[str, str],
    reserve: Decimal,
    speed: Decimal,
    today: date,
    cheapest: bool,
) -> dict[str, Any]:
    visits = []
    orders = []
    for leg in p.legs:
        f = facilities[leg.destination]
        if f.party == u.party:
            continue
        a = under.get(f.code)
        if a is None:  # the destination may be a partner's port not open under an agreement
            continue
        arrival = leg.arrives.date()
        deadline = arrival - timedelta(days=a.notice_days)
        visits.append(
            {
                "facility": f.code,
                "host": f.party,
                "agreement": a.code,
                "arrival": arrival.isoformat(),
                "notice_deadline": deadline.isoformat(),
                "notice_late": deadline < today,
            }
        )
        item = prices.get(f.code)
        if item is not None:
            amount = (leg.fuel_t * item.unit_price.number).quantize(Decimal("0.01"))
            orders.append(
                {
                    "agreement": a.code,
                    "supplying": f.party,
                    "facility": f.code,
                    "unit": u.code,
                    "method": "cash",
                    "use": "port_call",
                    "required_by": arrival.isoformat(),
                    "lines": [{"item": item.code, "quantity": str(leg.fuel_t)}],
                    "unit_price": str(item.unit_price.number),
                    "amount": str(amount),
                    "currency": item.unit_price.commodity,
                }
            )
    return {
        "unit": u.code,
        "fuel_grade": u.fuel_grade,
        "speed_kn": str(speed),
        "reserve": str(reserve),
        "objective": "cheapest" if cheapest else "fewest_stops",
        "origin": p.legs[0].origin,
        "destination": p.legs[-1].destination,
        "distance_nm": round(p.distance_nm, 1),
        "fuel_t": str(p.fuel_t),
        "stops": list(p.stops),
        "cost": str(p.cost.quantize(Decimal("0.01"))),
        "cost_currency": own_currency,
        "legs": [
            {
                "from": leg.origin,
                "to": leg.destination,
                "distance_nm": round(leg.distance_nm, 1),
                "hours": round(leg.hours, 1),
                "fuel_t": str(leg.fuel_t),
                "departs": leg.departs.isoformat(timespec="minutes"),
                "arrives": leg.arrives.isoformat(timespec="minutes"),
                "arctic": leg.arctic,
            }
            for leg in p.legs
        ],
        "visits_to_notify": visits,
        "draft_orders": orders,
        "notes": list(p.notes),
        "geometry": [
            [list(c) for c in routes[(leg.origin, leg.destination)].coordinates] for leg in p.legs
        ],
    }


def geojson(
    plan_: Mapping[str, Any], facilities: Mapping[str, Facility] | None = None
) -> dict[str, Any]:
    """The plan as a GeoJSON FeatureCollection: one LineString per leg."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": coords},
            "properties": dict(leg),
        }
        for leg, coords in zip(plan_["legs"], plan_["geometry"], strict=True)
    ]
    for leg, coords in zip(plan_["legs"], plan_["geometry"], strict=True):
        if coords:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": coords[-1]},
                    "properties": {"port": leg["to"], "arrives": leg["arrives"]},
                }
            )
    return {"type": "FeatureCollection", "features": features}


__all__ = ["NoPlan", "geojson", "plan", "sea_route"]
