"""The demo data set (``relos demo``): India–Russia RELOS and India–US LEMOA, with a year of orders.

The reference records come from ``relos/demo/relos.yaml``. Then each party gets one user per role,
and a deterministic year of support orders is driven through the ordering services, exactly as
officers would: drafted, signed, accepted or rejected, received, invoiced, paid, returned in kind,
corrected by reversal, closed. Every action carries its own past timestamp (``at=``), so the books
read as a year of work ending on ``today``.

Scenarios (prices and India's ratification dates are illustrative, see the YAML):

- an Arctic port call: INS Vikramaditya, INS Tabar and INS Trishul at Severomorsk and Murmansk;
- a joint exercise (INDRA NAVY) of INS Tushil and INS Tamal at Vladivostok;
- a disaster-relief operation: Russian ships and an Il-38N supported from Port Blair and
  Visakhapatnam after a cyclone in the Bay of Bengal;
- Russian port calls at Indian bases, and India–US port calls under LEMOA, paid in USD or INR;
- routine port calls filling the year.

RELOS orders start only once RELOS is in force (its last required ratification step); LEMOA has
been in force since its signature in 2016.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from typing import Any

import yaml

from relos.domain.agreements import Agreement, Caps, Method
from relos.domain.errors import ValidationError
from relos.domain.facilities import Facility, Unit, UnitKind
from relos.domain.money import quantize
from relos.domain.orders import Order, OrderState
from relos.domain.records import agreement_from
from relos.domain.users import Role
from relos.services import catalogue, ordering, people, reports
from relos.services.unit_of_work import UnitOfWork

SEED = 20250218  # RELOS signature day: the same demo on every load for a given `today`
MIN_RELOS_DAYS = 150  # RELOS must have been in force this long before `today`
VISIT_DAYS = 5  # a visit: the day support is first required and the four after it
PASSAGE_DAYS = 20  # one unit at two different facilities: at least this many days apart

S = OrderState

#: One user per party and role. Some names are in the party's own script on purpose: they must
#: survive storage, signatures and reports unchanged.
USERS: dict[str, dict[Role, str]] = {
    "IND": {
        Role.PARTY_ADMIN: "Capt Vikram Rao",
        Role.ORDERING_OFFICER: "Cdr Arjun Mehta",
        Role.ACCEPTING_OFFICER: "Cdr Sanjay Kulkarni",
        Role.RECEIVING_OFFICER: "लेफ्टिनेंट कमांडर प्रिया नायर",
        Role.FINANCE_OFFICER: "Lt Cdr Kavita Sharma",
        Role.PLANNER: "Cdr Rahul Menon",
        Role.AUDITOR: "Anjali Desai",
    },
    "RUS": {
        Role.PARTY_ADMIN: "Капитан 1-го ранга Сергей Волков",
        Role.ORDERING_OFFICER: "Capt 3rd Rank Dmitry Orlov",
        Role.ACCEPTING_OFFICER: "Капитан 2-го ранга Иван Петров",
        Role.RECEIVING_OFFICER: "Капитан-лейтенант Алексей Соколов",
        Role.FINANCE_OFFICER: "Майор Елена Смирнова",
        Role.PLANNER: "Capt 2nd Rank Pavel Morozov",
        Role.AUDITOR: "Olga Kuznetsova",
    },
    "USA": {
        Role.PARTY_ADMIN: "CDR Michael Reyes",
        Role.ORDERING_OFFICER: "LCDR Sarah Collins",
        Role.ACCEPTING_OFFICER: "LT James Whitaker",
        Role.RECEIVING_OFFICER: "LTJG Daniel Park",
        Role.FINANCE_OFFICER: "LCDR Maria Alvarez",
        Role.PLANNER: "CDR Kevin O'Neill",
        Role.AUDITOR: "Linda Baker",
    },
}

#: Price-list item codes per supplier, by what they are.
ITEMS: dict[str, dict[str, str]] = {
    "RUS": {
        "fuel": "RU-DT-GOST305",
        "jet": "RU-TS1-GOST10227",
        "water": "RU-WATER-M3",
        "food": "RU-RATION-CD",
        "berth": "RU-BERTH-DAY",
        "tug": "RU-TUG-HOUR",
        "pilot": "RU-PILOT-MOVE",
        "icebreaker": "RU-ICEBREAKER-HOUR",
        "repair": "RU-REPAIR-HOUR",
        "medical": "RU-MED-PD",
        "billet": "RU-BILLET-NIGHT",
        "security": "RU-SECURITY-PD",
        "airfield": "RU-AIRFIELD-LDG",
        "bus": "RU-BUS-DAY",
    },
    "IND": {
        "fuel": "9140-00-273-2377",
        "jet": "9130-00-273-2379",
        "water": "IN-WATER-M3",
        "food": "IN-RATION-CD",
        "berth": "IN-BERTH-DAY",
        "tug": "IN-TUG-HOUR",
        "pilot": "IN-PILOT-MOVE",
        "repair": "IN-REPAIR-HOUR",
        "medical": "IN-MED-PD",
        "billet": "IN-BILLET-NIGHT",
        "security": "IN-SECURITY-PD",
        "airfield": "IN-AIRFIELD-LDG",
        "bus": "IN-BUS-DAY",
    },
    "USA": {
        "fuel": "9140-00-273-2377",
        "jet": "9130-00-273-2379",
        "water": "US-WATER-M3",
        "food": "US-RATION-CD",
        "berth": "US-BERTH-DAY",
        "tug": "US-TUG-HOUR",
        "pilot": "US-PILOT-MOVE",
        "repair": "US-REPAIR-HOUR",
        "medical": "US-MED-PD",
    },
}


def reference_document() -> dict[str, Any]:
    """The demo's reference records, as read from the packaged ``relos.demo/relos.yaml``."""
    text = resources.files("relos.demo").joinpath("relos.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    if not isinstance(document, dict):
        raise ValidationError("relos.yaml", type(document).__name__, "a mapping of sections")
    return document


@dataclass
class Plan:
    """One support order to drive, and how its life goes.

    `fate` is one of: normal, reject, cancel, amend, wrong_payment, partial_payment, late_payment,
    unpaid, part_unpaid, one_return. The life also stops at `stop`, and at `today`.
    """

    agreement: str
    unit: str
    facility: str
    method: Method
    use: str
    start: date  # first delivery
    lines: list[tuple[str, Decimal]]  # (item kind from ITEMS, quantity)
    purpose: str
    fate: str = "normal"
    stop: OrderState = S.CLOSED
    drafted: date | None = None
    deliveries: int = 1
    reason: str = ""
    note: str = ""  # said on an in-kind return or equal-value provision
    order: Order | None = None


Step = tuple[datetime, Callable[[], Order]]


def relos_window_start(relos: Agreement, today: date) -> date:
    """First day of the demo's RELOS year; refuses a `today` too soon after entry into force."""
    in_force = relos.entry_into_force()
    if in_force is None:
        raise ValidationError("RELOS", "", "the demo's RELOS has no entry into force")
    start = max(today - timedelta(days=365), in_force + timedelta(days=1))
    if (today - start).days < MIN_RELOS_DAYS:
        earliest = in_force + timedelta(days=MIN_RELOS_DAYS + 1)
        raise ValidationError(
            "today",
            today.isoformat(),
            f"the demo needs RELOS in force {MIN_RELOS_DAYS} days before today "
            f"(today on or after {earliest.isoformat()})",
        )
    return start


class _Presence:
    """Who is where on which day: keeps the generated visits within RELOS's presence caps and
    keeps a ship from being at two facilities in the same week."""

    def __init__(self, units: dict[str, Unit], facilities: dict[str, Facility], caps: Caps) -> None:
        self.units, self.facilities, self.caps = units, facilities, caps
        self.visits: list[tuple[str, str, date]] = []  # unit, facility, first day
        self.on_territory: dict[tuple[str, date], set[str]] = {}  # (host, day) -> units

    @staticmethod
    def _days(start: date) -> list[date]:
        return [start + timedelta(days=d) for d in range(VISIT_DAYS)]

    def fits(self, p: Plan) -> bool:
        for unit, fac, start in self.visits:
            if unit == p.unit and fac != p.facility and abs((start - p.start).days) < PASSAGE_DAYS:
                return False
        if p.agreement != "RELOS":
            return True
        host = self.facilities[p.facility].party
        for day in self._days(p.start):
            codes = self.on_territory.get((host, day), set()) | {p.unit}
            found = [self.units[c] for c in codes]
            ships = sum(1 for u in found if u.kind is UnitKind.SHIP)
            aircraft = sum(1 for u in found if u.kind is UnitKind.AIRCRAFT)
            crews = sum(u.crew or 0 for u in found)
            for count, cap in (
                (ships, self.caps.warships),
                (aircraft, self.caps.aircraft),
                (crews, self.caps.personnel),
            ):
                if cap is not None and count > cap:
                    return False
        return True

    def add(self, p: Plan) -> None:
        if p.fate in ("reject", "cancel"):
            return  # the visit did not take place
        self.visits.append((p.unit, p.facility, p.start))
        if p.agreement == "RELOS":
            host = self.facilities[p.facility].party
            for day in self._days(p.start):
                self.on_territory.setdefault((host, day), set()).add(p.unit)


class _Demo:
    def __init__(self, uow: UnitOfWork, today: date) -> None:
        self.uow = uow
        self.today = today
        self.rng = random.Random(f"{SEED}-{today.isoformat()}")
        self.units: dict[str, Unit] = {u.code: u for u in catalogue.units(uow)}
        self.facilities: dict[str, Facility] = {f.code: f for f in catalogue.facilities(uow)}
        relos = catalogue.show_agreement(uow, "RELOS")
        self.relos_from = relos_window_start(relos, today)
        self.lemoa_from = today - timedelta(days=365)
        self.caps = relos.caps

    # -- time ------------------------------------------------------------------------------------

    def at(self, day: date, hour: int | None = None) -> datetime:
        h = self.rng.randint(8, 17) if hour is None else hour
        return datetime.combine(day, time(h, self.rng.choice((0, 10, 20, 30, 40, 50))), UTC)

    def relos(self, f: float) -> date:
        """A RELOS delivery day at fraction `f` of the window (late enough for 14 days' notice)."""
        first = self.relos_from + timedelta(days=25)
        return first + timedelta(days=round(f * (self.today - first).days))

    def lemoa(self, f: float) -> date:
        first = self.lemoa_from + timedelta(days=12)
        return first + timedelta(days=round(f * (self.today - first).days))

    def ago(self, days: int, agreement: str = "RELOS") -> date:
        """`days` before today, but never before the agreement's window opens."""
        floor = self.relos(0) if agreement == "RELOS" else self.lemoa(0)
        return max(self.today - timedelta(days=days), floor)

    # -- driving one order -------------------------------------------------------------------------

    def actor(self, party: str, role: Role) -> str:
        return USERS[party][role]

    def life(self, p: Plan) -> Iterator[Step]:
        """One order's story, step by step; each step is yielded with its time before it runs."""
        rng = self.rng
        unit, fac = self.units[p.unit], self.facilities[p.facility]
        req, sup = unit.party, fac.party
        items = ITEMS[sup]
        notice = 14 if p.agreement == "RELOS" else 7
        drafted = p.drafted or p.start - timedelta(days=notice + rng.randint(2, 9))
        drafter = self.actor(req, Role.PLANNER if rng.random() < 0.25 else Role.ORDERING_OFFICER)
        officer = self.actor(req, Role.ORDERING_OFFICER)
        accepting = self.actor(sup, Role.ACCEPTING_OFFICER)
        receiving = self.actor(req, Role.RECEIVING_OFFICER)
        payer = self.actor(req, Role.FINANCE_OFFICER)
        biller = self.actor(sup, Role.FINANCE_OFFICER)
        uow = self.uow
        pennant = f" ({unit.pennant})" if unit.pennant else ""
        where = "apron" if unit.kind is UnitKind.AIRCRAFT else "berth"
        data = {
            "point_of_contact": f"Supply officer, {unit.name}{pennant}",
            "delivery_location": f"{fac.name}, {where} {rng.randint(1, 9)}",
            "purpose": p.purpose,
            "notice_given_on": drafted.isoformat(),
        }
        lines = [(items[k], q) for k, q in p.lines]

        def number() -> str:
            assert p.order is not None
            return p.order.number

        def done() -> bool:
            assert p.order is not None
            return p.order.state is p.stop

        def rest() -> list[tuple[int, object]]:
            """What is still to be delivered, per line (the order as last returned)."""
            assert p.order is not None
            o = p.order
            left = [(ln.line_no, ln.quantity - o.received_quantity(ln.line_no)) for ln in o.lines]
            return [(n, q) for n, q in left if q > 0]

        w = self.at(drafted)
        yield (
            w,
            lambda: ordering.draft(
                uow,
                drafter,
                agreement=p.agreement,
                supplying=sup,
                facility=p.facility,
                unit=p.unit,
                method=p.method.value,
                use=p.use,
                required_by=p.start,
                lines=lines,
                data=data,
                at=w,
            ),
        )
        if done():
            return
        day = drafted + timedelta(days=1)
        w = self.at(day)
        yield w, lambda: ordering.submit(uow, officer, number(), w)
        if done():
            return
        day = max(min(day + timedelta(days=rng.randint(1, 3)), p.start - timedelta(days=1)),
                  day + timedelta(days=1))  # fmt: skip
        w = self.at(day)
        if p.fate == "reject":
            yield w, lambda: ordering.reject(uow, accepting, number(), p.reason, w)
            return
        yield w, lambda: ordering.accept(uow, accepting, number(), w)
        if done():
            return
        if p.fate == "cancel":
            day = max(day + timedelta(days=1), p.start - timedelta(days=rng.randint(1, 3)))
            w = self.at(day)
            yield w, lambda: ordering.cancel(uow, officer, number(), p.reason, w)
            return

        # deliveries: in one go, or in two (a first part, then the rest)
        day = p.start
        if p.fate == "amend" or p.deliveries > 1:
            first = [
                (i, (q / 2).to_integral_value(ROUND_HALF_EVEN) or q)
                for i, (_, q) in enumerate(lines, start=1)
            ]
            d1, w = day, self.at(day, 9)
            yield w, lambda: ordering.receive(uow, receiving, number(), first, d1, w)
            if done():
                return
        if p.fate == "amend":
            more = [(c, q * Decimal("1.5") if i == 0 else q) for i, (c, q) in enumerate(lines)]
            why = {"amendment": "water raised by half: stay extended by two days"}
            w = self.at(day, 14)
            yield w, lambda: ordering.amend(uow, officer, number(), more, data=why, at=w)
            day += timedelta(days=1)
            w = self.at(day, 10)
            yield w, lambda: ordering.accept(uow, accepting, number(), w)
            day += timedelta(days=2)
        elif p.deliveries > 1:
            day += timedelta(days=rng.randint(1, 2))
        d2, w = day, self.at(day, 16)
        yield w, lambda: ordering.receive(uow, receiving, number(), rest(), d2, w)
        if done():
            return
        last_receipt = day

        day += timedelta(days=rng.randint(3, 10))
        d3, w = day, self.at(day)
        yield w, lambda: ordering.invoice(uow, biller, number(), d3, w)
        if done() or p.fate == "unpaid":
            return
        invoiced = day

        def pay(
            share: Decimal, when: datetime, note: str = "", who: str = payer
        ) -> Callable[[], Order]:
            """Settle `share` of what is outstanding, per commodity (1 = all of it)."""

            def run() -> Order:
                assert p.order is not None
                result = p.order
                for commodity, owed in sorted(ordering.outstanding_total(result).items()):
                    amount = owed if share == 1 else quantize(owed * share, commodity)
                    if p.method is Method.RIK:
                        amount = amount.to_integral_value() or owed
                    result = ordering.settle(
                        uow, who, result.number, amount, commodity, when.date(), note, when
                    )
                return result

            return run

        if p.method is Method.CASH:
            if p.fate == "wrong_payment":
                day = invoiced + timedelta(days=rng.randint(8, 15))
                yield (w := self.at(day, 10)), pay(Decimal("0.9"), w, "payment advice", biller)
                day += timedelta(days=2)
                w = self.at(day, 11)
                yield (
                    w,
                    lambda: ordering.reverse(
                        uow,
                        biller,
                        number(),
                        p.order.settlements[-1].seq if p.order else 0,
                        "amount keyed wrongly from the payment advice; reversed, not edited",
                        w,
                    ),
                )
                day += timedelta(days=1)
                yield (w := self.at(day, 12)), pay(Decimal(1), w, "payment advice", biller)
            elif p.fate in ("partial_payment", "part_unpaid"):
                day = invoiced + timedelta(days=rng.randint(10, 20))
                share = Decimal(rng.choice(("0.4", "0.5", "0.6")))
                yield (w := self.at(day)), pay(share, w, "first instalment")
                if p.fate == "part_unpaid":
                    return
                day += timedelta(days=rng.randint(25, 45))
                yield (w := self.at(day)), pay(Decimal(1), w, "balance")
            else:
                late = p.fate == "late_payment"
                day = invoiced + timedelta(days=rng.randint(40, 70) if late else rng.randint(8, 27))
                yield (w := self.at(day)), pay(Decimal(1), w, "after reminder" if late else "")
        else:
            day = last_receipt + timedelta(days=rng.randint(40, 120))
            kind = "returned in kind" if p.method is Method.RIK else "equal-value provision"
            note = p.note or kind
            yield (w := self.at(day)), pay(Decimal("0.5"), w, note)
            if p.fate == "one_return":
                return
            day += timedelta(days=rng.randint(20, 60))
            yield (w := self.at(day)), pay(Decimal(1), w, f"{note} (balance)")
        if done():
            return
        day += timedelta(days=rng.randint(2, 8))
        w = self.at(day)
        yield w, lambda: ordering.close(uow, biller, number(), w)

    # -- the year --------------------------------------------------------------------------------

    def plans(self) -> list[Plan]:
        # fmt: off
        q = Decimal  # quantities
        cash, rik, eve = Method.CASH, Method.RIK, Method.EVE
        r, ago, t = self.relos, self.ago, self.today
        arctic = r(0.6)
        exercise = r(0.35)
        relief = ago(70)
        plans = [
            # Arctic port call: Severomorsk and Murmansk (seed: Talwar class, Vikramaditya).
            Plan("RELOS", "INS-VIKRAMADITYA", "RUSMR", cash, "port_call", arctic,
                 [("fuel", q(1200)), ("water", q(900)), ("food", q(4800)), ("berth", q(3)),
                  ("tug", q(8)), ("pilot", q(2)), ("icebreaker", q(16))],
                 "Arctic port call: replenishment at Severomorsk", "partial_payment"),
            Plan("RELOS", "INS-TABAR", "RUSMR", rik, "port_call", arctic + timedelta(days=1),
                 [("fuel", q(350))], "Arctic port call: refuelling, returned in kind",
                 note="F-76 returned to RFS Admiral Tributs at Visakhapatnam"),
            Plan("RELOS", "INS-TABAR", "RUSMR", cash, "port_call", arctic + timedelta(days=1),
                 [("water", q(250)), ("food", q(720)), ("berth", q(4)), ("tug", q(6)),
                  ("pilot", q(2)), ("icebreaker", q(12))],
                 "Arctic port call: berthing and harbour services", deliveries=2),
            Plan("RELOS", "INS-TRISHUL", "RUSMR", cash, "port_call", arctic + timedelta(days=2),
                 [("berth", q(3)), ("tug", q(4)), ("pilot", q(2))],
                 "Arctic port call: berthing", "reject",
                 reason="Severomorsk berths taken by a Northern Fleet exercise; Murmansk offered"),
            Plan("RELOS", "INS-TRISHUL", "RUMMK", rik, "port_call", arctic + timedelta(days=4),
                 [("fuel", q(300))], "Arctic port call: refuelling at Murmansk", "one_return",
                 note="F-76 returned to RFS Varyag at Visakhapatnam"),
            Plan("RELOS", "INS-TRISHUL", "RUMMK", cash, "port_call", arctic + timedelta(days=4),
                 [("water", q(200)), ("food", q(540)), ("berth", q(3)), ("tug", q(4)),
                  ("pilot", q(2))],
                 "Arctic port call: berthing and harbour services at Murmansk", "wrong_payment",
                 stop=S.SETTLED),
            # Joint exercise INDRA NAVY at Vladivostok.
            Plan("RELOS", "INS-TUSHIL", "RUVVO", cash, "exercise", exercise,
                 [("fuel", q(280)), ("water", q(300)), ("food", q(1080))],
                 "Exercise INDRA NAVY: replenishment"),
            Plan("RELOS", "INS-TAMAL", "RUVVO", cash, "exercise", exercise,
                 [("fuel", q(260)), ("water", q(300)), ("food", q(1080))],
                 "Exercise INDRA NAVY: replenishment", "late_payment"),
            Plan("RELOS", "INS-TAMAL", "RUVVO", eve, "exercise", exercise + timedelta(days=3),
                 [("repair", q(420)), ("medical", q(6))],
                 "Exercise INDRA NAVY: shaft-seal repair and medical care",
                 note="berthing, tugs and provisions for RFS Admiral Tributs at Visakhapatnam"),
            Plan("RELOS", "INS-TUSHIL", "RUVVO", cash, "exercise", exercise + timedelta(days=2),
                 [("security", q(10)), ("bus", q(12)), ("billet", q(60))],
                 "Exercise INDRA NAVY: harbour phase", "unpaid"),
            # Baltiysk: training and repairs.
            Plan("RELOS", "INS-TALWAR", "RUBLT", eve, "training", r(0.12),
                 [("repair", q(300))], "Training visit: propulsion maintenance", "one_return",
                 note="training berths and instructors for RFS Sovershenny at Kochi"),
            Plan("RELOS", "INS-TALWAR", "RUBLT", cash, "training", r(0.12),
                 [("fuel", q(200)), ("water", q(180)), ("food", q(900))],
                 "Training visit: replenishment"),
            # Disaster relief after a cyclone in the Bay of Bengal (illustrative scenario).
            Plan("RELOS", "RFS-SOVERSHENNY", "INIXZ", cash, "disaster_relief", relief,
                 [("fuel", q(120)), ("water", q(400)), ("food", q(990))],
                 "Cyclone relief, Bay of Bengal: replenishment", "part_unpaid"),
            Plan("RELOS", "RF-IL38N", "INIXZ", cash, "disaster_relief", relief + timedelta(days=4),
                 [("jet", q(40)), ("airfield", q(8)), ("billet", q(80))],
                 "Cyclone relief, Bay of Bengal: maritime search flights", "unpaid"),
            Plan("RELOS", "RFS-VARYAG", "INVTZ", rik, "disaster_relief", relief + timedelta(2),
                 [("fuel", q(450))], "Cyclone relief, Bay of Bengal: refuelling", "unpaid"),
            Plan("RELOS", "RFS-VARYAG", "INVTZ", cash, "disaster_relief", relief + timedelta(2),
                 [("medical", q(20)), ("water", q(600)), ("food", q(2400))],
                 "Cyclone relief, Bay of Bengal: medical care and supplies"),
            Plan("RELOS", "RFS-VARYAG", "INBOM", cash, "port_call", relief + timedelta(days=10),
                 [("fuel", q(300)), ("water", q(400)), ("berth", q(3))],
                 "Port call at Mumbai", "cancel",
                 reason="port call cancelled: RFS Varyag redirected to cyclone relief"),
            # Russian port calls at Indian bases.
            Plan("RELOS", "RFS-ADMIRAL-TRIBUTS", "INVTZ", cash, "port_call", r(0.45),
                 [("fuel", q(320)), ("water", q(350)), ("food", q(660)), ("berth", q(3)),
                  ("tug", q(4)), ("pilot", q(2))],
                 "Port call at Visakhapatnam"),
            Plan("RELOS", "RFS-ADMIRAL-TRIBUTS", "INCOK", cash, "port_call", r(0.7),
                 [("water", q(300)), ("food", q(660)), ("berth", q(3))],
                 "Port call at Kochi", "amend"),
            # India–US under LEMOA.
            Plan("LEMOA", "USS-SPRUANCE", "INCOK", cash, "port_call", self.lemoa(0.03),
                 [("fuel", q(300)), ("water", q(250)), ("food", q(987)), ("berth", q(3)),
                  ("tug", q(4)), ("pilot", q(2))],
                 "Port call at Kochi"),
            Plan("LEMOA", "USS-SPRUANCE", "INVTZ", rik, "exercise", self.lemoa(0.25),
                 [("fuel", q(400))], "Exercise: refuelling, returned in kind",
                 note="F-76 returned to INS Trishul at San Diego"),
            Plan("LEMOA", "INS-TRISHUL", "USSAN", cash, "exercise", self.lemoa(0.5),
                 [("fuel", q(300)), ("water", q(200)), ("food", q(720)), ("berth", q(4)),
                  ("tug", q(6)), ("pilot", q(2))],
                 "Exercise: replenishment at San Diego", "wrong_payment"),
            Plan("LEMOA", "INS-TRISHUL", "USSAN", eve, "exercise", self.lemoa(0.5),
                 [("repair", q(180)), ("medical", q(4))], "Exercise: sonar dome repair",
                 note="berthing and provisions for USS Spruance at Kochi"),
            Plan("LEMOA", "INS-TALWAR", "USSAN", cash, "training", self.lemoa(0.2),
                 [("berth", q(5)), ("water", q(150))], "Training visit", "reject",
                 reason="no berth during the fleet maintenance period; propose the next month"),
            Plan("LEMOA", "USS-SPRUANCE", "INBOM", cash, "port_call", ago(80, "LEMOA"),
                 [("fuel", q(250)), ("water", q(200)), ("food", q(987)), ("berth", q(3))],
                 "Port call at Mumbai", "unpaid"),
            Plan("LEMOA", "USS-SPRUANCE", "INIXZ", cash, "disaster_relief", self.lemoa(0.62),
                 [("water", q(500)), ("food", q(1316))], "Cyclone relief support", "cancel",
                 reason="relief tasking handed over to the Indian Navy"),
            # In progress today: every early state.
            Plan("RELOS", "RFS-ADMIRAL-TRIBUTS", "INBOM", cash, "port_call", t + timedelta(25),
                 [("fuel", q(300)), ("water", q(300)), ("food", q(660)), ("berth", q(3))],
                 "Port call at Mumbai (planned)", drafted=t - timedelta(2), stop=S.DRAFT),
            Plan("RELOS", "INS-TABAR", "RUVVO", cash, "port_call", t + timedelta(18),
                 [("fuel", q(250)), ("water", q(200)), ("food", q(540))],
                 "Port call at Vladivostok (planned)", drafted=t - timedelta(6), stop=S.SUBMITTED),
            Plan("RELOS", "RFS-SOVERSHENNY", "INVTZ", cash, "training", t + timedelta(5),
                 [("fuel", q(100)), ("water", q(200)), ("food", q(400))],
                 "Training visit to Visakhapatnam", drafted=t - timedelta(17), stop=S.ACCEPTED),
            Plan("RELOS", "INS-TALWAR", "RUPKC", cash, "port_call", t - timedelta(2),
                 [("fuel", q(250)), ("water", q(200))], "Port call at Petropavlovsk-Kamchatsky",
                 drafted=t - timedelta(20), deliveries=2, stop=S.PARTIALLY_RECEIVED),
            Plan("RELOS", "INS-TRISHUL", "RUVVO", cash, "training", t - timedelta(4),
                 [("water", q(220)), ("food", q(720)), ("berth", q(4))],
                 "Training visit to Vladivostok", drafted=t - timedelta(24), stop=S.RECEIVED),
        ]
        # fmt: on
        presence = _Presence(self.units, self.facilities, self.caps)
        for p in plans:
            presence.add(p)
        plans += self.routine(64 - len(plans), presence)
        return plans

    def routine(self, count: int, presence: _Presence) -> list[Plan]:
        """Routine port calls and training visits spread over the year, in both directions,
        within the presence caps (a draw that would break them is drawn again)."""
        out = []
        for _ in range(count):
            for _attempt in range(40):
                p = self.routine_visit()
                if presence.fits(p):
                    presence.add(p)
                    out.append(p)
                    break
        return out

    def routine_visit(self) -> Plan:
        """One routine port call or training visit, drawn at random."""
        rng = self.rng
        ind_ships = [c for c, u in self.units.items() if u.party == "IND" and u.kind == "ship"]
        rus_ships = [c for c, u in self.units.items() if u.party == "RUS" and u.kind == "ship"]
        rus_bases = [c for c, f in self.facilities.items() if f.party == "RUS"]
        ind_bases = [c for c, f in self.facilities.items() if f.party == "IND"]
        roll = rng.random()
        f = rng.uniform(0.02, 0.88)
        if roll < 0.4:
            agreement, unit, fac = "RELOS", rng.choice(ind_ships), rng.choice(rus_bases)
        elif roll < 0.75:
            agreement, unit, fac = "RELOS", rng.choice(rus_ships), rng.choice(ind_bases)
        elif roll < 0.88:
            agreement, unit, fac = "LEMOA", "USS-SPRUANCE", rng.choice(ind_bases)
        else:
            agreement, unit, fac = "LEMOA", rng.choice(ind_ships), "USSAN"
        start = self.relos(f) if agreement == "RELOS" else self.lemoa(f)
        u = self.units[unit]
        days = rng.randint(2, 5)
        crew = u.crew or 100
        burn = u.consumption_t_per_day or Decimal(20)
        fuel = (burn * rng.randint(4, 8)).to_integral_value()
        method = rng.choices((Method.CASH, Method.RIK, Method.EVE), (70, 15, 15))[0]
        if method is Method.RIK:
            lines = [("fuel", fuel)]
        elif method is Method.EVE:
            lines = [("repair", Decimal(rng.randint(4, 30) * 10)), ("berth", Decimal(days))]
        else:
            lines = [
                ("fuel", fuel),
                ("water", Decimal(rng.randint(10, 40) * 10)),
                ("food", Decimal(crew * days)),
                ("berth", Decimal(days)),
            ]
            if rng.random() < 0.5:
                lines.append(("tug", Decimal(rng.randint(2, 6))))
        fate = rng.choices(
            ("normal", "partial_payment", "late_payment", "unpaid", "cancel", "reject"),
            (70, 8, 8, 6, 4, 4),
        )[0]
        if method is not Method.CASH and fate in ("partial_payment", "late_payment"):
            fate = "normal"
        use = rng.choice(("port_call", "port_call", "training"))
        fac_name = self.facilities[fac].name
        return Plan(
            agreement,
            unit,
            fac,
            method,
            use,
            start,
            lines,
            f"{'Port call' if use == 'port_call' else 'Training visit'}: {fac_name}",
            fate,
            deliveries=2 if rng.random() < 0.2 else 1,
            reason={
                "reject": "requested dates clash with a scheduled dry-docking",
                "cancel": "visit cancelled: ship retasked",
            }.get(fate, ""),
        )

    def run(self) -> None:
        """Drive every plan, all of them interleaved in time order, up to (not including) today."""
        queue: list[tuple[datetime, int, Callable[[], Order], Plan, Iterator[Step]]] = []
        seq = 0

        def push(p: Plan, gen: Iterator[Step]) -> None:
            nonlocal seq
            step = next(gen, None)
            if step is None:
                return
            seq += 1
            heapq.heappush(queue, (step[0], seq, step[1], p, gen))

        for p in self.plans():
            push(p, self.life(p))
        while queue:
            at, _, action, p, gen = heapq.heappop(queue)
            if at.date() >= self.today:
                continue  # not yet happened: the story of this order stops here
            p.order = action()
            push(p, gen)


def plan_year(uow: UnitOfWork, today: date) -> list[Plan]:
    """The orders the demo drives for `today` (reference data loaded): the same on every call."""
    return _Demo(uow, today).plans()


def load_demo(uow: UnitOfWork, today: date) -> dict[str, object]:
    """Load the demo: reference data, users of every role, and a year of orders up to `today`.

    Does nothing when the demo (party IND) is already there. Deterministic for a given `today`.
    A `today` too early for a RELOS year is refused before anything is written. Users and
    orders go through the services one action at a time, as officers would, inside one outer
    unit of work: the whole demo is written, or nothing.
    """
    with uow:
        present = uow.reference.find_party("IND") is not None
    if present:
        return {"loaded": False, "reason": "party IND exists: the demo (or real data) is loaded"}
    document = reference_document()
    for i, record in enumerate(document.get("agreements") or []):
        if record.get("code") == "RELOS":
            relos_window_start(agreement_from(record, f"agreements[{i}]."), today)
    with uow:
        catalogue.load(uow, document)
        for party, roles in USERS.items():
            admin = roles[Role.PARTY_ADMIN]
            people.add_user(uow, None, admin, party, Role.PARTY_ADMIN.value)
            for role, name in roles.items():
                if role is not Role.PARTY_ADMIN:
                    people.add_user(uow, admin, name, party, role.value)
        _Demo(uow, today).run()
        uow.commit()
    by_state = reports.orders_by_state(uow)
    overdue = reports.obligations(uow, today, overdue_only=True)
    with uow:
        summary: dict[str, object] = {
            "loaded": True,
            "today": today.isoformat(),
            "parties": len(uow.reference.parties()),
            "agreements": len(uow.reference.agreements()),
            "facilities": len(uow.reference.facilities()),
            "units": len(uow.reference.units()),
            "price_items": len(uow.reference.price_items()),
            "users": len(uow.reference.users()),
            "orders": sum(by_state.values()),
            "orders_by_state": by_state,
            "ledger_entries": len(uow.ledger.entries()),
            "overdue_obligations": len(overdue),
        }
    return summary
