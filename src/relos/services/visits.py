"""Visits: create one (checked against notice, use, facility and caps), read it, its notice
document (JSON and PDF), and the presence timeline against an agreement's caps.

Who: a planner of the visiting party creates a visit; any user of the visiting or host party
reads it; any user of a party to the agreement reads the agreement's cap timeline (only the
presence to or from its own party).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from relos.domain.errors import NotFound, PermissionDenied, RuleViolation
from relos.domain.orders import ALPHA2, OrderState
from relos.domain.users import Role, User
from relos.domain.visits import (
    Visit,
    amend_visit,
    cancel_visit,
    missing_particulars,
    new_visit,
    notice_deadline,
    notice_document,
    require_order_fits,
    timeline,
)
from relos.services import audit, catalogue
from relos.services.actors import acting_user
from relos.services.unit_of_work import UnitOfWork


def visit_snapshot(v: Visit) -> dict[str, Any]:
    return {
        "number": v.number,
        "agreement": v.agreement,
        "visiting": v.visiting,
        "host": v.host,
        "facility": v.facility,
        "use": v.use,
        "arrival": v.arrival.isoformat(),
        "departure": v.departure.isoformat(),
        "units": [
            {"code": u.code, "kind": u.kind.value, "personnel": u.personnel} for u in v.units
        ],
        "warships": v.warships,
        "aircraft": v.aircraft,
        "personnel": v.personnel,
        "commander_name": v.commander_name,
        "commander_rank": v.commander_rank,
        "frequencies": list(v.frequencies),
        "notified_on": v.notified_on.isoformat(),
        "pilot": v.pilot,
        "tugs": v.tugs,
        "requests": v.requests,
        "created_by": v.created_by,
        "status": v.status,
        "revision": v.revision,
        "amended_on": None if v.amended_on is None else v.amended_on.isoformat(),
        "cancelled_on": None if v.cancelled_on is None else v.cancelled_on.isoformat(),
        "cancelled_by": v.cancelled_by or None,
        "cancel_reason": v.cancel_reason or None,
    }


def create(
    uow: UnitOfWork,
    actor: str | None,
    *,
    agreement: str,
    facility: str,
    units: Iterable[str],
    use: str,
    arrival: date,
    departure: date,
    commander_name: str,
    commander_rank: str,
    frequencies: Iterable[str],
    pilot: bool = False,
    tugs: int = 0,
    requests: str = "",
    at: datetime | None = None,
) -> Visit:
    at = at or datetime.now(UTC)
    with uow:
        user = acting_user(uow, actor, "create a visit")
        a = catalogue.agreement(uow, agreement)
        f = catalogue.facility(uow, facility)
        us = [catalogue.unit(uow, code, "units") for code in units]
        visiting = us[0].party if us else user.party
        if user.role is not Role.PLANNER or user.party != visiting:
            raise PermissionDenied(
                user.name, "create a visit", f"only a planner of {visiting} gives its notice"
            )
        prefix = f"{a.code}-V-{ALPHA2.get(visiting, visiting)}-{at.year}-"
        number = f"{prefix}{uow.visits.next_number(prefix):04d}"
        visit = new_visit(
            number,
            a,
            f,
            us,
            use=use,
            arrival=arrival,
            departure=departure,
            commander_name=commander_name,
            commander_rank=commander_rank,
            frequencies=list(frequencies),
            notified_on=at.date(),
            others=uow.visits.overlapping(agreement=a.code, start=arrival, end=departure),
            pilot=pilot,
            tugs=tugs,
            requests=requests,
            created_by=user.name,
        )
        uow.visits.add(visit)
        audit.record(uow, user, "visit.create", "visit", number, None, visit_snapshot(visit), at)
        uow.commit()
    return visit


#: orders that no longer bind anyone: they neither hold a visit in place nor need it to fit
ENDED_ORDERS = (OrderState.CANCELLED, OrderState.REJECTED)


def _visit_for_change(
    uow: UnitOfWork, actor: str | None, number: str, action: str
) -> tuple[User, Visit]:
    user = acting_user(uow, actor, action)
    v = uow.visits.find(number)
    if v is None or not _visible(user, v):
        raise NotFound("visit", number, field="number")
    if user.role is not Role.PLANNER or user.party != v.visiting:
        raise PermissionDenied(
            user.name, action, f"only a planner of {v.visiting} changes its notice"
        )
    return user, v


def amend(
    uow: UnitOfWork,
    actor: str | None,
    number: str,
    *,
    facility: str | None = None,
    units: Iterable[str] | None = None,
    use: str | None = None,
    arrival: date | None = None,
    departure: date | None = None,
    commander_name: str | None = None,
    commander_rank: str | None = None,
    frequencies: Iterable[str] | None = None,
    pilot: bool | None = None,
    tugs: int | None = None,
    requests: str | None = None,
    at: datetime | None = None,
) -> Visit:
    """Amend a visit's notice (planner of the visiting party): checked again like a new notice
    against the other visits, and every open order tied to it must still fit it."""
    at = at or datetime.now(UTC)
    with uow:
        user, v = _visit_for_change(uow, actor, number, "amend a visit")
        a = catalogue.agreement(uow, v.agreement)
        f = catalogue.facility(uow, facility or v.facility)
        codes = [u.code for u in v.units] if units is None else list(units)
        us = [catalogue.unit(uow, code, "units") for code in codes]
        if us and us[0].party != v.visiting:
            raise RuleViolation(
                "units_of_several_parties", "units", us[0].code, f"a visit of {v.visiting}"
            )
        new = amend_visit(
            v,
            a,
            f,
            us,
            on=at.date(),
            others=uow.visits.overlapping(
                agreement=a.code,
                start=min(v.arrival, arrival or v.arrival),
                end=max(v.departure, departure or v.departure, arrival or v.arrival),
            ),
            use=use,
            arrival=arrival,
            departure=departure,
            commander_name=commander_name,
            commander_rank=commander_rank,
            frequencies=None if frequencies is None else list(frequencies),
            pilot=pilot,
            tugs=tugs,
            requests=requests,
        )
        for order_number in uow.visits.orders_of(v.number):
            o = uow.orders.get(order_number)
            if o.state in ENDED_ORDERS:
                continue
            try:
                require_order_fits(
                    new, agreement=o.agreement, unit=o.unit, facility=o.facility, on=o.required_by
                )
            except RuleViolation as e:
                raise RuleViolation(
                    "order_outside_visit",
                    e.field or "visit",
                    e.value,
                    f"order {o.number} ({o.state.value}) would fall outside the amended visit: "
                    f"{e.message}; amend or cancel the order first",
                ) from None
        uow.visits.replace(new)
        audit.record(
            uow, user, "visit.amend", "visit", v.number, visit_snapshot(v), visit_snapshot(new), at
        )
        uow.commit()
    return new


def cancel(
    uow: UnitOfWork,
    actor: str | None,
    number: str,
    *,
    reason: str,
    at: datetime | None = None,
) -> Visit:
    """Cancel a visit before its arrival (planner of the visiting party), with the reason.

    Refused while an order tied to the visit is still open (anything but cancelled or rejected):
    the support it asks for would lose its visit, so the officer cancels those orders first and
    the refusal names them."""
    at = at or datetime.now(UTC)
    with uow:
        user, v = _visit_for_change(uow, actor, number, "cancel a visit")
        open_orders = []
        for order_number in uow.visits.orders_of(v.number):
            o = uow.orders.get(order_number)
            if o.state not in ENDED_ORDERS:
                open_orders.append(f"{o.number} ({o.state.value})")
        new = cancel_visit(v, on=at.date(), by=user.name, reason=reason)
        if open_orders:
            raise RuleViolation(
                "visit_has_open_orders",
                "number",
                v.number,
                f"orders tied to visit {v.number} are still open: {', '.join(open_orders)}; "
                "cancel or reject them first",
            )
        uow.visits.replace(new)
        audit.record(
            uow, user, "visit.cancel", "visit", v.number, visit_snapshot(v), visit_snapshot(new), at
        )
        uow.commit()
    return new


def _visible(user: User, v: Visit) -> bool:
    return user.party in (v.visiting, v.host)


def show(uow: UnitOfWork, actor: str | None, number: str) -> Visit:
    with uow:
        user = acting_user(uow, actor, "read a visit")
        v = uow.visits.find(number)
        if v is None or not _visible(user, v):
            raise NotFound("visit", number, field="number")
        return v


def visits(
    uow: UnitOfWork,
    actor: str | None,
    *,
    agreement: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[Visit]:
    with uow:
        user = acting_user(uow, actor, "list visits")
        return uow.visits.overlapping(agreement=agreement, party=user.party, start=start, end=end)


def notice(uow: UnitOfWork, actor: str | None, number: str) -> dict[str, Any]:
    """The notice document: every particular RELOS requires, and which are missing."""
    with uow:
        user = acting_user(uow, actor, "read a visit's notice")
        v = uow.visits.find(number)
        if v is None or not _visible(user, v):
            raise NotFound("visit", number, field="number")
        a = catalogue.agreement(uow, v.agreement)
        f = catalogue.facility(uow, v.facility)
        us = [catalogue.unit(uow, u.code, "units") for u in v.units]
    doc = notice_document(v, a, f, us)
    doc["notice_deadline"] = notice_deadline(a, v.arrival).isoformat()
    doc["missing_particulars"] = missing_particulars(doc)
    return doc


def caps(
    uow: UnitOfWork,
    actor: str | None,
    agreement: str,
    start: date | None = None,
    end: date | None = None,
) -> dict[str, Any]:
    """The agreement's caps and, per direction (visiting → host), the spans of days with
    constant presence, each with its counts and whether a cap is exceeded."""
    with uow:
        user = acting_user(uow, actor, "read the cap timeline")
        a = catalogue.agreement(uow, agreement)
        if user.party not in a.parties:
            raise NotFound("agreement", agreement, field="agreement")
        vs = uow.visits.overlapping(agreement=a.code, party=user.party, start=start, end=end)
    spans = timeline([v for v in vs if not v.cancelled], start, end)
    return {
        "agreement": a.code,
        "caps": {
            "warships": a.caps.warships,
            "aircraft": a.caps.aircraft,
            "personnel": a.caps.personnel,
        },
        "from": None if start is None else start.isoformat(),
        "to": None if end is None else end.isoformat(),
        "spans": [
            {
                "visiting": s.visiting,
                "host": s.host,
                "from": s.start.isoformat(),
                "to": s.end.isoformat(),
                "warships": s.warships,
                "aircraft": s.aircraft,
                "personnel": s.personnel,
                "visits": list(s.visits),
                "headroom": {
                    name: None
                    if getattr(a.caps, name) is None
                    else getattr(a.caps, name) - getattr(s, name)
                    for name in ("warships", "aircraft", "personnel")
                },
            }
            for s in spans
        ],
    }
