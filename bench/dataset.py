"""A generator of valid `relos import orders` CSV files, from the demo's reference data.

Every row passes every rule an order meets on import:

- the agreement (RELOS or LEMOA) is in force on every date of the order (RELOS from its entry
  into force in January 2026; LEMOA since 2016), and both parties are parties to it;
- the unit belongs to the requester, the facility to the supplier and is open under the agreement;
- each item is on the supplier's price list on the order's dates, its category permitted by the
  agreement and offered by the facility;
- a received quantity is never more than the ordered one; a receipt is on or after the order
  date; an invoice is on or after the last receipt, and only an order with receipts is invoiced;
- every date is in the past (the last one is ``LAST_DAY``).

The rows of one order are consecutive. The file is written as it is generated (one order in
memory at a time), so a million lines need no more memory than ten. The same seed and size give
the same file, byte for byte.

Run: ``python bench/dataset.py --lines 10000 --out orders.csv [--seed 7]``.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import yaml

from relos.domain.imports import COLUMNS  # the import's own header, not a copy

#: orders are placed from the first day to the last order day; everything happens by LAST_DAY
FIRST_DAY = {"RELOS": date(2026, 1, 15), "LEMOA": date(2025, 1, 15)}
LAST_ORDER_DAY = date(2026, 9, 25)
LAST_DAY = date(2026, 10, 31)

#: a plausible quantity range per unit of measure (low, high, decimals)
QUANTITY: dict[str, tuple[int, int, int]] = {
    "t": (5, 900, 3),
    "m3": (20, 1500, 1),
    "crew-day": (50, 9000, 0),
    "person-night": (10, 600, 0),
}
DEFAULT_QUANTITY = (1, 40, 0)

METHODS = (("cash", 0.6), ("rik", 0.25), ("eve", 0.15))


def reference_document() -> dict[str, Any]:
    """The demo's reference data (the file `relos demo` loads)."""
    path = Path(__file__).resolve().parents[1] / "src" / "relos" / "demo" / "relos.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _day(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@dataclass(frozen=True)
class Item:
    code: str
    category: str
    unit_of_measure: str
    valid_from: date
    valid_to: date | None

    def valid(self, first: date, last: date) -> bool:
        return self.valid_from <= first and (self.valid_to is None or last <= self.valid_to)


@dataclass(frozen=True)
class Lane:
    """Who may order what from whom, where, under one agreement."""

    agreement: str
    requester: str
    supplier: str
    facility: str
    units: tuple[str, ...]
    items: tuple[Item, ...]


def lanes(document: dict[str, Any]) -> list[Lane]:
    """Every (agreement, requester, supplier, facility) with its units and permitted items."""
    units: dict[str, list[str]] = {}
    for u in document["units"]:
        units.setdefault(u["party"], []).append(u["code"])
    items: dict[str, list[Item]] = {}
    for pl in document["price_lists"]:
        for it in pl["items"]:
            start = _day(it["valid_from"])
            assert start is not None
            items.setdefault(pl["supplier"], []).append(
                Item(
                    it["code"],
                    it["category"],
                    it["unit_of_measure"],
                    start,
                    _day(it.get("valid_to")),
                )
            )
    out: list[Lane] = []
    for a in document["agreements"]:
        if a["code"] not in FIRST_DAY:
            continue
        allowed = set(a.get("categories") or []) - set(a.get("excluded_categories") or [])
        for f in document["facilities"]:
            if a["code"] not in (f.get("open_under") or []):
                continue
            supplier = f["party"]
            offered = allowed & set(f.get("categories") or [])
            for requester in a["parties"]:
                if requester == supplier or not units.get(requester):
                    continue
                permitted = tuple(i for i in items.get(supplier, []) if i.category in offered)
                if permitted:
                    out.append(
                        Lane(
                            a["code"],
                            requester,
                            supplier,
                            f["code"],
                            tuple(units[requester]),
                            permitted,
                        )
                    )
    return out


def _quantity(rng: random.Random, unit_of_measure: str) -> Decimal:
    low, high, places = QUANTITY.get(unit_of_measure, DEFAULT_QUANTITY)
    scale = 10**places
    return Decimal(rng.randint(low * scale, high * scale)).scaleb(-places)


def _text(q: Decimal) -> str:
    return format(q.normalize(), "f") if q == q.to_integral() else format(q, "f")


def orders(
    lines: int, seed: int, agreements: frozenset[str] | None = None, max_lines: int = 6
) -> Iterator[list[list[str]]]:
    """Orders (each a list of CSV rows) whose lines add up to exactly `lines`: under every
    agreement the demo has dates for, or only `agreements`; 1 to `max_lines` lines each."""
    rng = random.Random(seed)
    all_lanes = [
        lane
        for lane in lanes(reference_document())
        if agreements is None or lane.agreement in agreements
    ]
    if not all_lanes:
        raise ValueError(f"no lane under {sorted(agreements or ())}")
    done = 0
    n = 0
    while done < lines:
        n += 1
        lane = rng.choice(all_lanes)
        first = FIRST_DAY[lane.agreement]
        span = (LAST_ORDER_DAY - first).days
        ordered = first + timedelta(days=rng.randrange(span + 1))
        required = ordered + timedelta(days=rng.randint(3, 20))
        received = required + timedelta(days=rng.randint(0, 5))
        invoiced = received + timedelta(days=rng.randint(0, 10))
        assert invoiced <= LAST_DAY
        candidates = [i for i in lane.items if i.valid(ordered, invoiced)]
        count = min(rng.randint(1, max_lines), len(candidates), lines - done)
        chosen = rng.sample(candidates, count)
        r = rng.random()
        method = next(m for m, w in _cumulative(METHODS) if r < w)
        fate = rng.random()  # 15% open, 15% partly received, 70% received (most invoiced)
        state = "open" if fate < 0.15 else "partial" if fate < 0.30 else "received"
        is_invoiced = state != "open" and rng.random() < 0.75
        unit = rng.choice(lane.units)
        rows = []
        for k, item in enumerate(chosen):
            q = _quantity(rng, item.unit_of_measure)
            if state == "open" or (state == "partial" and not is_invoiced and k % 2 == 1):
                got: Decimal | None = None
            elif state == "partial":
                got = (q * Decimal(rng.randint(10, 90)) / 100).quantize(q)
                got = got if got > 0 else q
            else:
                got = q
            rows.append(
                [
                    f"BENCH-{seed}-{n:08d}",
                    lane.agreement,
                    lane.requester,
                    lane.supplier,
                    lane.facility,
                    unit,
                    method,
                    ordered.isoformat(),
                    required.isoformat(),
                    item.code,
                    _text(q),
                    "" if got is None else received.isoformat(),
                    "" if got is None else _text(got),
                    invoiced.isoformat() if is_invoiced else "",
                ]
            )
        done += len(rows)
        yield rows


def _cumulative(weights: tuple[tuple[str, float], ...]) -> Iterator[tuple[str, float]]:
    total = 0.0
    for name, w in weights:
        total += w
        yield name, total
    yield weights[-1][0], 2.0  # rounding


def write(
    out: TextIO,
    lines: int,
    seed: int = 7,
    agreements: frozenset[str] | None = None,
    max_lines: int = 6,
) -> dict[str, int]:
    """Write the CSV (header and `lines` rows); returns counts of what it wrote."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    stats = {"lines": 0, "orders": 0, "received_lines": 0, "invoiced_orders": 0}
    for rows in orders(lines, seed, agreements, max_lines):
        w.writerows(rows)
        stats["orders"] += 1
        stats["lines"] += len(rows)
        stats["received_lines"] += sum(1 for r in rows if r[12])
        stats["invoiced_orders"] += 1 if rows[0][13] else 0
    return stats


def generate(
    path: Path,
    lines: int,
    seed: int = 7,
    agreements: frozenset[str] | None = None,
    max_lines: int = 6,
) -> dict[str, int]:
    with path.open("w", encoding="utf-8", newline="") as f:
        return write(f, lines, seed, agreements, max_lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lines", type=int, required=True)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--agreement",
        action="append",
        help="only orders under this agreement (repeatable; default: every one with dates)",
    )
    p.add_argument("--max-lines", type=int, default=6, help="lines an order has at most")
    p.add_argument("--out", type=Path, help="the CSV to write (default: standard output)")
    args = p.parse_args()
    agreements = frozenset(args.agreement) if args.agreement else None
    if args.out:
        stats = generate(args.out, args.lines, args.seed, agreements, args.max_lines)
        print(stats, file=sys.stderr)
    else:
        write(sys.stdout, args.lines, args.seed, agreements, args.max_lines)


if __name__ == "__main__":
    main()
