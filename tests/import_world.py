"""Import files for tests, and the same orders entered one by one through the order services.

The world is tests/fakes.py's (India and Russia under RELOS); the orders use the RUS price list
(F76 changes price on 2026-07-01) and the IND one, in both directions and every method.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from relos.domain.imports import COLUMNS, midnight
from relos.domain.ledger import balances
from relos.domain.orders import Order
from relos.services import ordering
from relos.services.unit_of_work import UnitOfWork

TODAY = date(2026, 11, 20)
HEADER = [*COLUMNS, "point_of_contact", "delivery_location", "purpose"]
DATA = {"point_of_contact": "Cdr A. Rao", "delivery_location": "Berth 3", "purpose": "replenish"}


@dataclass(frozen=True)
class Line:
    item: str
    quantity: str
    received_on: str = ""
    received_quantity: str = ""


@dataclass(frozen=True)
class Spec:
    """One order as the file gives it."""

    ref: str
    requester: str
    supplier: str
    facility: str
    unit: str
    method: str
    ordered_on: str
    lines: tuple[Line, ...]
    invoiced_on: str = ""
    required_by: str = ""


def ind_order(ref: str, ordered_on: str, *lines: Line, method: str = "cash", **kw: Any) -> Spec:
    """India orders from Russia at Severomorsk for INS Tabar."""
    return Spec(ref, "IND", "RUS", "RU-SEV", "INS-TABAR", method, ordered_on, lines, **kw)


def rus_order(ref: str, ordered_on: str, *lines: Line, method: str = "cash", **kw: Any) -> Spec:
    """Russia orders from India at Visakhapatnam for Admiral Gorshkov."""
    return Spec(ref, "RUS", "IND", "IN-VTZ", "RFS-GORSHKOV", method, ordered_on, lines, **kw)


#: a small file's orders: every method, partial and split receipts, both F76 prices, both ways
ORDERS = [
    ind_order(
        "IND-0001",
        "2026-02-01",
        Line("F76", "400", "2026-02-10", "400"),
        Line("WATER", "120.5", "2026-02-10", "120.5"),
        invoiced_on="2026-02-15",
    ),
    ind_order(
        "IND-0002",
        "2026-03-01",
        Line("F76", "300", "2026-03-05", "100"),
        Line("RATION", "200", "2026-03-07", "200"),
        method="rik",
    ),
    ind_order("IND-0003", "2026-07-02", Line("F76", "50", "2026-07-03", "50"), method="eve"),
    ind_order("IND-0004", "2026-08-01", Line("WATER", "10")),
    rus_order(
        "RUS-0001",
        "2026-04-01",
        Line("HSD", "12.5", "2026-04-03", "12.5"),
        Line("REPAIR-HR", "40", "2026-04-04", "30"),
        invoiced_on="2026-04-10",
    ),
    ind_order(
        "IND-0005",
        "2026-09-01",
        Line("F76", "10", "2026-09-02", "10"),
        invoiced_on="2026-09-02",
        method="rik",
    ),
]


def rows_of(specs: list[Spec]) -> list[dict[str, str]]:
    rows = []
    for s in specs:
        for ln in s.lines:
            rows.append(
                {
                    "order_ref": s.ref,
                    "agreement": "RELOS",
                    "requester": s.requester,
                    "supplier": s.supplier,
                    "facility": s.facility,
                    "unit": s.unit,
                    "method": s.method,
                    "ordered_on": s.ordered_on,
                    "required_by": s.required_by or s.ordered_on,
                    "item": ln.item,
                    "quantity": ln.quantity,
                    "received_on": ln.received_on,
                    "received_quantity": ln.received_quantity,
                    "invoiced_on": s.invoiced_on,
                    **DATA,
                }
            )
    return rows


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    header = header or HEADER
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=header, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


OFFICERS = {  # party -> (ordering, accepting, receiving, finance) officers of tests/fakes.USERS
    "IND": ("ind-oo", "ind-ao", "ind-ro", "ind-fo"),
    "RUS": ("rus-oo", "rus-ao", "rus-ro", "rus-fo"),
}


def enter_one_by_one(uow: UnitOfWork, specs: list[Spec]) -> None:
    """The same orders as the officers would enter them: draft, submit, accept, receive per
    delivery date, invoice, each on its day."""
    for s in specs:
        day = date.fromisoformat(s.ordered_on)
        oo = OFFICERS[s.requester][0]
        ao = OFFICERS[s.supplier][1]
        ro = OFFICERS[s.requester][2]
        fo = OFFICERS[s.supplier][3]
        o = ordering.draft(
            uow,
            oo,
            agreement="RELOS",
            supplying=s.supplier,
            facility=s.facility,
            unit=s.unit,
            method=s.method,
            use="port_call",
            required_by=date.fromisoformat(s.required_by or s.ordered_on),
            lines=[(ln.item, ln.quantity) for ln in s.lines],
            data=dict(DATA),
            at=midnight(day),
        )
        ordering.submit(uow, oo, o.number, at=midnight(day))
        ordering.accept(uow, ao, o.number, at=midnight(day))
        by_day: dict[str, list[tuple[int, str]]] = {}
        for no, ln in enumerate(s.lines, start=1):
            if ln.received_on:
                by_day.setdefault(ln.received_on, []).append((no, ln.received_quantity))
        for d, qs in sorted(by_day.items()):
            received = date.fromisoformat(d)
            ordering.receive(uow, ro, o.number, qs, on=received, at=midnight(received))
        if s.invoiced_on:
            inv = date.fromisoformat(s.invoiced_on)
            ordering.invoice(uow, fo, o.number, issued_on=inv, at=midnight(inv))


def utc(at: datetime) -> datetime:
    """SQLite hands back the UTC times it stores without their zone."""
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


def order_facts(o: Order) -> dict[str, Any]:
    """What must be the same whoever signed: everything but the signer's name and role."""
    return {
        "document": o.document(),
        "state": o.state,
        "created_on": o.created_on,
        "lines": o.lines,
        "receipts": o.receipts,
        "invoices": o.invoices,
        "signatures": [(g.action, utc(g.at), g.revision, g.digest, g.note) for g in o.signatures],
        "obligations": o.obligations(),
    }


def books(uow: UnitOfWork) -> dict[str, Any]:
    """Every order's facts, every entry and the balances (kept and summed), of one node."""
    with uow:
        orders = {n: order_facts(uow.orders.get(n)) for n in uow.orders.numbers()}
        entries = sorted(
            ((e.book, e.txn, e.on, e.event, e.order, e.postings, e.description))
            for e in uow.ledger.entries()
        )
        kept = uow.ledger.balances()
        summed = uow.ledger.summed_balances()
        from_entries = balances(uow.ledger.entries())
    assert kept == summed == from_entries
    return {"orders": orders, "entries": entries, "balances": kept}


def total_rows(specs: list[Spec]) -> int:
    return sum(len(s.lines) for s in specs)
