"""Visits: a visiting party's units present at a host's facility for a use and a period.

A **visit** carries the particulars a port-call notice needs (RELOS draft Art. 7: number, class
and names of ships; displacement, length, beam, draught; purpose; start and end dates;
commander's name and rank; radio frequencies; optionally pilot and tug requests). It is refused
when the notice is late (fewer than the agreement's ``notice_days`` between the day it is given
and the arrival), the use is not permitted, the facility is not open under the agreement, or a
presence cap (warships, military aircraft, personnel at once) would be exceeded on any day of
overlap with the other visits of the same visiting party to the same host under the agreement.

Counting: a warship is a unit of kind ship; an aircraft a unit of kind aircraft; personnel the
sum of the crews of all units (a contingent's ``crew`` is its strength). Both the arrival and
the departure day count as days present.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from relos.domain.agreements import Agreement, Caps
from relos.domain.errors import RuleViolation, ValidationError
from relos.domain.facilities import Facility, Unit, UnitKind


@dataclass(frozen=True)
class VisitUnit:
    """One unit on a visit, with what it counts toward the caps."""

    code: str
    kind: UnitKind
    personnel: int


@dataclass(frozen=True)
class Visit:
    number: str
    agreement: str
    visiting: str
    host: str
    facility: str
    use: str
    arrival: date
    departure: date
    units: tuple[VisitUnit, ...]
    commander_name: str
    commander_rank: str
    frequencies: tuple[str, ...]
    notified_on: date
    pilot: bool = False
    tugs: int = 0
    requests: str = ""
    created_by: str = ""
    revision: int = 1  # 1 as first notified; each amendment adds one
    amended_on: date | None = None
    cancelled_on: date | None = None
    cancelled_by: str = ""
    cancel_reason: str = ""

    @property
    def cancelled(self) -> bool:
        return self.cancelled_on is not None

    @property
    def status(self) -> str:
        return "cancelled" if self.cancelled else "notified"

    @property
    def warships(self) -> int:
        return sum(1 for u in self.units if u.kind is UnitKind.SHIP)

    @property
    def aircraft(self) -> int:
        return sum(1 for u in self.units if u.kind is UnitKind.AIRCRAFT)

    @property
    def personnel(self) -> int:
        return sum(u.personnel for u in self.units)

    def present_on(self, day: date) -> bool:
        return self.arrival <= day <= self.departure

    def overlaps(self, start: date, end: date) -> bool:
        return self.arrival <= end and start <= self.departure


@dataclass(frozen=True)
class Presence:
    """Presence of one visiting party at one host over a span of days (inclusive)."""

    agreement: str
    visiting: str
    host: str
    start: date
    end: date
    warships: int
    aircraft: int
    personnel: int
    visits: tuple[str, ...]

    def over(self, caps: Caps) -> list[tuple[str, int, int]]:
        """The caps exceeded: (cap, present, limit)."""
        out = []
        for name in ("warships", "aircraft", "personnel"):
            limit = getattr(caps, name)
            if limit is not None and getattr(self, name) > limit:
                out.append((name, getattr(self, name), limit))
        return out


def notice_deadline(agreement: Agreement, arrival: date) -> date:
    """The last day the notice may be given for an arrival on `arrival`."""
    return arrival - timedelta(days=agreement.notice_days)


def new_visit(
    number: str,
    agreement: Agreement,
    facility: Facility,
    units: list[Unit],
    *,
    use: str,
    arrival: date,
    departure: date,
    commander_name: str,
    commander_rank: str,
    frequencies: list[str],
    notified_on: date,
    others: list[Visit],
    pilot: bool = False,
    tugs: int = 0,
    requests: str = "",
    created_by: str = "",
) -> Visit:
    """A visit checked against every rule; `others` are the stored visits under the agreement."""
    if not units:
        raise ValidationError("units", "", "a visit has at least one unit")
    if departure < arrival:
        raise ValidationError("departure", departure.isoformat(), "before the arrival")
    if not commander_name.strip():
        raise ValidationError("commander_name", commander_name, "name the commander")
    if not commander_rank.strip():
        raise ValidationError("commander_rank", commander_rank, "give the commander's rank")
    freqs = tuple(f.strip() for f in frequencies if f.strip())
    if not freqs:
        raise ValidationError("frequencies", "", "give at least one radio frequency")
    if tugs < 0:
        raise ValidationError("tugs", tugs, "must not be negative")
    codes = [u.code for u in units]
    if len(set(codes)) != len(codes):
        raise ValidationError("units", ",".join(codes), "a unit is listed twice")
    visiting = units[0].party
    for u in units:
        if u.party != visiting:
            raise RuleViolation(
                "units_of_several_parties", "units", u.code, f"{u.code} belongs to {u.party}"
            )
    host = facility.party
    agreement.require_party(visiting, "units")
    agreement.require_party(host, "facility")
    if host == visiting:
        raise RuleViolation(
            "visit_to_own_facility", "facility", facility.code, "a visit is to another party"
        )
    agreement.require_in_force(arrival, "arrival")
    use_value = agreement.require_use(use)
    facility.require_open_under(agreement.code)
    deadline = notice_deadline(agreement, arrival)
    if notified_on > deadline:
        raise RuleViolation(
            "notice_late",
            "arrival",
            arrival.isoformat(),
            f"{agreement.code} needs {agreement.notice_days} days' notice: given on "
            f"{notified_on.isoformat()}, the arrival may be no earlier than "
            f"{(notified_on + timedelta(days=agreement.notice_days)).isoformat()}",
        )
    for u in units:
        for o in others:
            if o.cancelled or o.number == number:
                continue
            if o.overlaps(arrival, departure) and u.code in {x.code for x in o.units}:
                raise RuleViolation(
                    "unit_already_on_visit",
                    "units",
                    u.code,
                    f"{u.code} is on visit {o.number} from {o.arrival} to {o.departure}",
                )
    visit = Visit(
        number=number,
        agreement=agreement.code,
        visiting=visiting,
        host=host,
        facility=facility.code,
        use=use_value.value,
        arrival=arrival,
        departure=departure,
        units=tuple(VisitUnit(u.code, u.kind, u.crew or 0) for u in units),
        commander_name=commander_name.strip(),
        commander_rank=commander_rank.strip(),
        frequencies=freqs,
        notified_on=notified_on,
        pilot=pilot,
        tugs=tugs,
        requests=requests,
        created_by=created_by,
    )
    check_caps(agreement, visit, others)
    return visit


def check_caps(agreement: Agreement, visit: Visit, others: list[Visit]) -> None:
    """Refuse `visit` if, on any day of it, presence with the overlapping visits exceeds a cap."""
    same = [
        o
        for o in others
        if o.agreement == visit.agreement
        and o.visiting == visit.visiting
        and o.host == visit.host
        and o.overlaps(visit.arrival, visit.departure)
        and o.number != visit.number
        and not o.cancelled
    ]
    for span in timeline([*same, visit], visit.arrival, visit.departure):
        exceeded = span.over(agreement.caps)
        if exceeded:
            cap, present, limit = exceeded[0]
            raise RuleViolation(
                f"cap_exceeded_{cap}",
                cap,
                present,
                f"{agreement.code} allows at most {limit} {cap} of {visit.visiting} at once in "
                f"{visit.host}'s territory; {present} would be present from "
                f"{span.start.isoformat()} to {span.end.isoformat()} (visits "
                f"{', '.join(span.visits)})",
            )


def amend_visit(
    visit: Visit,
    agreement: Agreement,
    facility: Facility,
    units: list[Unit],
    *,
    on: date,
    others: list[Visit],
    use: str | None = None,
    arrival: date | None = None,
    departure: date | None = None,
    commander_name: str | None = None,
    commander_rank: str | None = None,
    frequencies: list[str] | None = None,
    pilot: bool | None = None,
    tugs: int | None = None,
    requests: str | None = None,
) -> Visit:
    """The visit amended on `on` (a new revision), checked like a new one against the other
    visits (never against itself).

    A change of arrival, facility or units is a fresh notice: the agreement's notice period runs
    from the amendment day to the (new) arrival. Other changes (departure, commander, frequencies,
    requests, use) correct the notice already given and keep its date; caps and units' other
    visits are checked again for every amendment. A cancelled visit, or one that has ended, is
    not amended.
    """
    if visit.cancelled:
        raise RuleViolation(
            "visit_cancelled",
            "number",
            visit.number,
            f"visit {visit.number} was cancelled on {visit.cancelled_on}",
        )
    if visit.departure < on:
        raise RuleViolation(
            "visit_ended",
            "departure",
            visit.departure.isoformat(),
            f"visit {visit.number} ended on {visit.departure.isoformat()}",
        )
    unit_codes = [u.code for u in units]
    new_arrival = visit.arrival if arrival is None else arrival
    fresh_notice = (
        new_arrival != visit.arrival
        or facility.code != visit.facility
        or unit_codes != [u.code for u in visit.units]
    )
    amended = new_visit(
        visit.number,
        agreement,
        facility,
        units,
        use=visit.use if use is None else use,
        arrival=new_arrival,
        departure=visit.departure if departure is None else departure,
        commander_name=visit.commander_name if commander_name is None else commander_name,
        commander_rank=visit.commander_rank if commander_rank is None else commander_rank,
        frequencies=list(visit.frequencies if frequencies is None else frequencies),
        notified_on=on if fresh_notice else visit.notified_on,
        others=[o for o in others if o.number != visit.number],
        pilot=visit.pilot if pilot is None else pilot,
        tugs=visit.tugs if tugs is None else tugs,
        requests=visit.requests if requests is None else requests,
        created_by=visit.created_by,
    )
    amended = replace(
        amended, notified_on=visit.notified_on, revision=visit.revision, amended_on=visit.amended_on
    )
    if amended == visit:
        raise ValidationError("amendment", visit.number, "changes nothing")
    return replace(amended, revision=visit.revision + 1, amended_on=on)


def cancel_visit(visit: Visit, *, on: date, by: str, reason: str) -> Visit:
    """The visit cancelled on `on` with its reason: only before its arrival day (a visit under
    way ends by amending its departure)."""
    if not reason.strip():
        raise ValidationError("reason", reason, "give the reason for the cancellation")
    if visit.cancelled:
        raise RuleViolation(
            "visit_cancelled",
            "number",
            visit.number,
            f"visit {visit.number} was already cancelled on {visit.cancelled_on}",
        )
    if on >= visit.arrival:
        raise RuleViolation(
            "visit_started",
            "arrival",
            visit.arrival.isoformat(),
            f"visit {visit.number} began on {visit.arrival.isoformat()}: amend its departure "
            "instead",
        )
    return replace(visit, cancelled_on=on, cancelled_by=by, cancel_reason=reason.strip())


def timeline(
    visits: list[Visit], start: date | None = None, end: date | None = None
) -> list[Presence]:
    """Presence per (agreement, visiting, host) as spans of days with constant counts.

    Only days with somebody present are listed, clipped to [start, end] when given.
    """
    groups: dict[tuple[str, str, str], list[Visit]] = {}
    for v in visits:
        groups.setdefault((v.agreement, v.visiting, v.host), []).append(v)
    out: list[Presence] = []
    for (agr, visiting, host), vs in sorted(groups.items()):
        cuts = sorted({v.arrival for v in vs} | {v.departure + timedelta(days=1) for v in vs})
        for a, b in itertools.pairwise(cuts):
            last = b - timedelta(days=1)
            if start is not None and last < start:
                continue
            if end is not None and a > end:
                continue
            lo = a if start is None else max(a, start)
            hi = last if end is None else min(last, end)
            here = [v for v in vs if v.present_on(a)]
            if not here:
                continue
            out.append(
                Presence(
                    agr,
                    visiting,
                    host,
                    lo,
                    hi,
                    sum(v.warships for v in here),
                    sum(v.aircraft for v in here),
                    sum(v.personnel for v in here),
                    tuple(v.number for v in here),
                )
            )
    return out


def notice_document(
    visit: Visit, agreement: Agreement, facility: Facility, units: list[Unit]
) -> dict[str, Any]:
    """The notice of a visit, with every particular RELOS requires (draft Art. 7)."""

    def s(v: object) -> str | None:
        return None if v is None else str(v)

    ships = [u for u in units if u.kind is UnitKind.SHIP]
    return {
        "notice": visit.number,
        "agreement": agreement.code,
        "agreement_title": agreement.title,
        "from_party": visit.visiting,
        "to_party": visit.host,
        "given_on": visit.notified_on.isoformat(),
        "notice_days_required": agreement.notice_days,
        "facility": {"code": facility.code, "name": facility.name, "locode": facility.locode},
        "purpose": visit.use,
        "arrival": visit.arrival.isoformat(),
        "departure": visit.departure.isoformat(),
        "number_of_ships": len(ships),
        "units": [
            {
                "code": u.code,
                "name": u.name,
                "kind": u.kind.value,
                "class": u.unit_class,
                "pennant": u.pennant,
                "displacement_t": u.displacement_t,
                "length_m": s(u.length_m),
                "beam_m": s(u.beam_m),
                "draught_m": s(u.draught_m),
                "crew": u.crew,
            }
            for u in units
        ],
        "personnel": visit.personnel,
        "commander": {"name": visit.commander_name, "rank": visit.commander_rank},
        "radio_frequencies": list(visit.frequencies),
        "requests": {"pilot": visit.pilot, "tugs": visit.tugs, "other": visit.requests},
        "revision": visit.revision,
        "amended_on": None if visit.amended_on is None else visit.amended_on.isoformat(),
        "status": visit.status,
        "cancelled_on": None if visit.cancelled_on is None else visit.cancelled_on.isoformat(),
        "cancel_reason": visit.cancel_reason or None,
    }


NOTICE_FIELDS = (
    "number_of_ships",
    "units[].class",
    "units[].name",
    "units[].displacement_t",
    "units[].length_m",
    "units[].beam_m",
    "units[].draught_m",
    "purpose",
    "arrival",
    "departure",
    "commander.name",
    "commander.rank",
    "radio_frequencies",
)


def missing_particulars(document: dict[str, Any]) -> list[str]:
    """The RELOS particulars a notice document lacks (a ship without length, …)."""
    missing = []
    for name in NOTICE_FIELDS:
        if name.startswith("units[]."):
            key = name.split(".", 1)[1].replace("class", "class")
            for u in document["units"]:
                if u["kind"] == "ship" and u.get(key) in (None, ""):
                    missing.append(f"{u['code']}.{key}")
        elif "." in name:
            a, b = name.split(".")
            if not document[a].get(b):
                missing.append(name)
        elif document.get(name) in (None, "", []):
            missing.append(name)
    return missing


def require_order_fits(visit: Visit, *, agreement: str, unit: str, facility: str, on: date) -> None:
    """An order linked to `visit` is for one of its units, at its facility, within its dates,
    and the visit is not cancelled."""
    if visit.cancelled:
        raise RuleViolation(
            "order_outside_visit",
            "visit",
            visit.number,
            f"visit {visit.number} was cancelled on {visit.cancelled_on}",
        )
    if agreement != visit.agreement:
        raise RuleViolation(
            "order_outside_visit",
            "agreement",
            agreement,
            f"visit {visit.number} is under {visit.agreement}",
        )
    if unit not in {u.code for u in visit.units}:
        raise RuleViolation(
            "order_outside_visit", "unit", unit, f"{unit} is not on visit {visit.number}"
        )
    if facility != visit.facility:
        raise RuleViolation(
            "order_outside_visit",
            "facility",
            facility,
            f"visit {visit.number} is at {visit.facility}",
        )
    if not visit.present_on(on):
        raise RuleViolation(
            "order_outside_visit",
            "required_by",
            on.isoformat(),
            f"visit {visit.number} is from {visit.arrival.isoformat()} to "
            f"{visit.departure.isoformat()}",
        )
