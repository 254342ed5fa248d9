"""Visits on SQL: a visit and its units are written together; an order's link to its visit."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, delete, insert, select, update

from relos.domain.errors import AlreadyExists, NotFound
from relos.domain.facilities import UnitKind
from relos.domain.visits import Visit, VisitUnit
from relos.storage import tables as t
from relos.storage import visit_tables as v


class VisitRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def next_number(self, prefix: str) -> int:
        """The next sequence number of visits whose number starts with `prefix` (the caller's
        transaction serialises writers: SQLite's BEGIN IMMEDIATE, PostgreSQL's primary key)."""
        rows = self.conn.execute(
            select(v.visits.c.number).where(v.visits.c.number.like(f"{prefix}%"))
        ).scalars()
        seqs = [int(n[len(prefix) :]) for n in rows if n[len(prefix) :].isdigit()]
        return max(seqs, default=0) + 1

    def add(self, visit: Visit) -> None:
        if self.find(visit.number) is not None:
            raise AlreadyExists("visit", visit.number, field="number")
        self.conn.execute(
            insert(v.visits).values(
                number=visit.number,
                agreement=visit.agreement,
                visiting=visit.visiting,
                host=visit.host,
                facility=visit.facility,
                use=visit.use,
                arrival=visit.arrival,
                departure=visit.departure,
                commander_name=visit.commander_name,
                commander_rank=visit.commander_rank,
                frequencies=list(visit.frequencies),
                notified_on=visit.notified_on,
                pilot=visit.pilot,
                tugs=visit.tugs,
                requests=visit.requests,
                created_by=visit.created_by,
                **_revision(visit),
            )
        )
        self._add_units(visit)

    def _add_units(self, visit: Visit) -> None:
        self.conn.execute(
            insert(v.visit_units),
            [
                {
                    "seq": i,
                    "visit": visit.number,
                    "unit": u.code,
                    "kind": u.kind.value,
                    "personnel": u.personnel,
                }
                for i, u in enumerate(visit.units, start=1)
            ],
        )

    def find(self, number: str) -> Visit | None:
        found = self._load(select(v.visits).where(v.visits.c.number == number))
        return found[0] if found else None

    def get(self, number: str) -> Visit:
        visit = self.find(number)
        if visit is None:
            raise NotFound("visit", number, field="visit")
        return visit

    def overlapping(
        self,
        *,
        agreement: str | None = None,
        party: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> list[Visit]:
        """Visits under `agreement`, of or to `party`, overlapping [start, end]."""
        q = select(v.visits).order_by(v.visits.c.arrival, v.visits.c.number)
        if agreement:
            q = q.where(v.visits.c.agreement == agreement)
        if party:
            q = q.where((v.visits.c.visiting == party) | (v.visits.c.host == party))
        if start is not None:
            q = q.where(v.visits.c.departure >= start)
        if end is not None:
            q = q.where(v.visits.c.arrival <= end)
        return self._load(q)

    def _load(self, q: object) -> list[Visit]:
        rows = list(self.conn.execute(q).mappings())  # type: ignore[call-overload]
        if not rows:
            return []
        numbers = [r["number"] for r in rows]
        units: dict[str, list[VisitUnit]] = {}
        for r in self.conn.execute(
            select(v.visit_units)
            .where(v.visit_units.c.visit.in_(numbers))
            .order_by(v.visit_units.c.visit, v.visit_units.c.seq)
        ).mappings():
            units.setdefault(r["visit"], []).append(
                VisitUnit(r["unit"], UnitKind(r["kind"]), r["personnel"])
            )
        return [
            Visit(
                number=r["number"],
                agreement=r["agreement"],
                visiting=r["visiting"],
                host=r["host"],
                facility=r["facility"],
                use=r["use"],
                arrival=r["arrival"],
                departure=r["departure"],
                units=tuple(units.get(r["number"], [])),
                commander_name=r["commander_name"],
                commander_rank=r["commander_rank"],
                frequencies=tuple(r["frequencies"]),
                notified_on=r["notified_on"],
                pilot=r["pilot"],
                tugs=r["tugs"],
                requests=r["requests"],
                created_by=r["created_by"],
                revision=r["revision"],
                amended_on=r["amended_on"],
                cancelled_on=r["cancelled_on"],
                cancelled_by=r["cancelled_by"],
                cancel_reason=r["cancel_reason"],
            )
            for r in rows
        ]

    def replace(self, visit: Visit) -> None:
        """Write an amended or cancelled visit over its stored row (and its units)."""
        self.get(visit.number)
        self.conn.execute(
            update(v.visits)
            .where(v.visits.c.number == visit.number)
            .values(
                facility=visit.facility,
                host=visit.host,
                use=visit.use,
                arrival=visit.arrival,
                departure=visit.departure,
                commander_name=visit.commander_name,
                commander_rank=visit.commander_rank,
                frequencies=list(visit.frequencies),
                notified_on=visit.notified_on,
                pilot=visit.pilot,
                tugs=visit.tugs,
                requests=visit.requests,
                **_revision(visit),
            )
        )
        self.conn.execute(delete(v.visit_units).where(v.visit_units.c.visit == visit.number))
        self._add_units(visit)

    def orders_of(self, visit: str) -> list[str]:
        """The numbers of the orders linked to `visit`."""
        return list(
            self.conn.execute(
                select(t.orders.c.number)
                .where(t.orders.c.visit == visit)
                .order_by(t.orders.c.number)
            ).scalars()
        )

    def link_order(self, order: str, visit: str) -> None:
        self.conn.execute(update(t.orders).where(t.orders.c.number == order).values(visit=visit))

    def order_visit(self, order: str) -> str | None:
        row = self.conn.execute(
            select(t.orders.c.visit).where(t.orders.c.number == order)
        ).scalar_one_or_none()
        return None if row is None else str(row)


def _revision(visit: Visit) -> dict[str, object]:
    return {
        "revision": visit.revision,
        "amended_on": visit.amended_on,
        "cancelled_on": visit.cancelled_on,
        "cancelled_by": visit.cancelled_by,
        "cancel_reason": visit.cancel_reason,
    }
