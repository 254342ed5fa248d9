"""Voyage planner benchmark: prints figures and their ratio to the 1 s budget (not a test).

1. The demo's port network through the service, on a fresh SQLite database: the first plan
   (which computes the sea distances between every pair of ports with searoute) and the next
   ones (distances cached in the process).
2. The search alone (relos.domain.planning) over synthetic networks of 50 to 800 ports with
   precomputed distances: the size a whole national-plus-partner port network could reach.

Run: `make bench` (or `.venv/bin/python bench/planner.py`).
"""

from __future__ import annotations

import contextlib
import math
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import world  # bench/ is on sys.path when run as a script

from relos.config import Settings
from relos.domain.planning import Hop, NoPlan, Port, SeaNetwork, Vessel, plan_voyage
from relos.domain.users import Role
from relos.services import database, planning
from relos.services.demo import USERS

BUDGET_S = 1.0


def timed(fn: Callable[[], object], repeat: int = 5) -> tuple[float, float]:
    """(first, median of the next `repeat`) in seconds."""
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    rest = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        rest.append(time.perf_counter() - t)
    return first, statistics.median(rest)


def demo_network() -> None:
    with tempfile.TemporaryDirectory() as d:
        url = f"sqlite:///{Path(d) / 'bench.db'}"
        world.prepare(url)  # reference data and every demo user, planners included
        uow = database.unit_of_work(Settings(database_url=url))
        with uow:
            ports = len([f for f in uow.reference.facilities() if f.latitude is not None])
        print(
            f"demo network: {ports} facilities with coordinates; the first plan in this process "
            "loads searoute's network and computes the sea routes (no file cache here)"
        )
        cases = [
            ("INS-TABAR", "INBOM", "RUSMR", "20%", False),  # the seed's case: via Suez
            ("INS-TABAR", "INBOM", "RUSMR", "20%", True),
            ("INS-VIKRAMADITYA", "INBOM", "RUVVO", "20%", False),
            ("INS-TABAR", "INBOM", "RUVVO", "15%", False),
            ("INS-TABAR", "INBOM", "RUMMK", "60%", False),  # no plan, and why
        ]
        for unit, a, b, reserve, cheapest in cases:

            def run(
                unit: str = unit,
                a: str = a,
                b: str = b,
                reserve: str = reserve,
                cheap: bool = cheapest,
            ) -> None:
                with contextlib.suppress(NoPlan):  # "no plan, because ..." is timed as well
                    planning.plan(
                        uow,
                        USERS["IND"][Role.PLANNER],
                        unit=unit,
                        origin=a,
                        destination=b,
                        speed_kn="14",
                        reserve=reserve,
                        depart=date(2026, 8, 1),
                        cheapest=cheap,
                        rates={"USD": Decimal("88.5"), "RUB": Decimal("1.05")},
                    )

            first, warm = timed(run)
            print(
                f"  {unit:17} {a}->{b} reserve {reserve:>3}{' cheapest' if cheapest else ''}: "
                f"first {first:6.3f} s, then {warm * 1000:7.1f} ms  "
                f"= {warm / BUDGET_S:.3f} of the 1 s budget"
            )
        cold_process(url)


COLD = """
import sys, time
t0 = time.perf_counter()
from pathlib import Path
from datetime import date
from relos.config import Settings
from relos.services import database, planning
from relos.services.demo import USERS
from relos.domain.users import Role
if sys.argv[2] == "pairwise":  # the way before: one searoute.searoute call per pair of ports
    def pairwise(a, targets):
        return {b: planning.sea_route(a, b) for b in targets if b != a}
    planning.sea_routes_from = pairwise
uow = database.unit_of_work(Settings(database_url=sys.argv[1]))
t1 = time.perf_counter()
planning.plan(uow, USERS["IND"][Role.PLANNER], unit="INS-TABAR", origin="INBOM",
              destination="RUSMR", speed_kn="14", depart=date(2026, 8, 1))
t2 = time.perf_counter()
print(f"{t2 - t0:.2f} {t2 - t1:.2f} {len(planning._ROUTES) // 2}")
"""


def cold_process(url: str) -> None:
    """A fresh process, no route file: start-up and the first plan (searoute loads its network
    and computes every route the plan may use), with one search per port (now) and with one
    searoute call per pair of ports (before)."""
    print("cold process, INS-TABAR INBOM->RUSMR, no route cache file:")
    for mode in ("per-port", "pairwise"):
        out = subprocess.run(
            [sys.executable, "-c", COLD, url, mode], capture_output=True, text=True, check=True
        ).stdout.split()
        print(
            f"  {mode:8}: process {out[0]} s, of which the first plan {out[1]} s ({out[2]} routes)"
        )


def synthetic(n: int, seed: int = 7) -> tuple[dict[str, Port], SeaNetwork]:
    """`n` ports scattered over 12,000 x 6,000 nm, 80 % of them fuel stops with a price; the
    distance between two is 1.2 times the straight line (the network as the service builds it:
    rows of distances, no Arctic routes)."""
    rng = random.Random(seed)
    ports = {}
    xy = []
    for i in range(n):
        code = f"P{i:04d}"
        xy.append((rng.uniform(0, 12000), rng.uniform(0, 6000)))
        ports[code] = Port(
            code,
            "IND" if i % 3 else "RUS",
            10.0,
            70.0,
            stop=rng.random() < 0.8,
            price_per_t=Decimal(rng.randint(500, 1500)),
        )
    inf = float("inf")
    distance = [
        [inf if a == b else math.dist(pa, pb) * 1.2 for b, pb in enumerate(xy)]
        for a, pa in enumerate(xy)
    ]
    latitude = [[20.0] * n for _ in range(n)]
    return ports, SeaNetwork(ports, distance, latitude)


def search_only() -> None:
    ship = Vessel("S", "F-76", Decimal(25), 2500)
    depart = datetime(2026, 8, 1, 8, tzinfo=UTC)
    print("search only (distances computed once), from one port to the port farthest from it:")
    for n in (50, 100, 200, 400, 800):
        ports, net = synthetic(n)
        row = net.distance[0]
        far = net.codes[max(range(1, n), key=lambda j: row[j])]
        for cheapest in (False, True):

            def run(
                ports: dict[str, Port] = ports,
                net: SeaNetwork = net,
                far: str = far,
                cheapest: bool = cheapest,
            ) -> str:
                try:
                    p = plan_voyage(
                        ship,
                        "P0000",
                        far,
                        ports,
                        net,
                        speed_kn=Decimal(14),
                        reserve=Decimal("0.2"),
                        depart=depart,
                        cheapest=cheapest,
                    )
                except NoPlan:
                    return "no plan"
                return f"{len(p.stops)} stops"

            _, warm = timed(run, repeat=3)
            print(
                f"  {n:4} ports {'cheapest' if cheapest else 'fewest  '} ({run():>8}): "
                f"{warm * 1000:8.1f} ms"
                f"  = {warm / BUDGET_S:.3f} of the 1 s budget"
            )
    ports, net = synthetic(800)
    hops = {
        (a, b): Hop(net.distance[i][j], 20.0)
        for i, a in enumerate(net.codes)
        for j, b in enumerate(net.codes)
        if i != j
    }
    t = time.perf_counter()
    SeaNetwork.of(ports, hops)
    print(
        f"  (indexing 800 ports' routes given as a dict of {len(hops):,} pairs, done once per "
        f"network and not per plan: {time.perf_counter() - t:.2f} s)"
    )


if __name__ == "__main__":
    demo_network()
    search_only()
