"""Parties and the agreements between them.

A **party** is a national defence establishment (ISO 3166 alpha-3 code). An **agreement**
binds two or more parties to support each other; its **status** is derived from its dates and
the per-party ratification steps, never typed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import cached_property

from relos.domain.errors import RuleViolation, ValidationError
from relos.domain.money import check_currency

PARTY_CODE = re.compile(r"^[A-Z]{3}$")


class Use(StrEnum):
    """Why forces are present: the uses an agreement permits."""

    EXERCISE = "exercise"
    TRAINING = "training"
    PORT_CALL = "port_call"
    HADR = "hadr"
    DISASTER_RELIEF = "disaster_relief"
    OTHER_AGREED = "other_agreed"


class Category(StrEnum):
    """Logistic support, supplies and services (LSSS) categories, 10 U.S.C. 2350 and kin."""

    FOOD = "food"
    WATER = "water"
    BILLETING = "billeting"
    TRANSPORTATION = "transportation"
    POL = "pol"
    CLOTHING = "clothing"
    COMMUNICATIONS = "communications"
    MEDICAL = "medical"
    AMMUNITION = "ammunition"
    BASE_OPERATIONS = "base_operations"
    STORAGE = "storage"
    USE_OF_FACILITIES = "use_of_facilities"
    TRAINING = "training"
    SPARE_PARTS = "spare_parts"
    REPAIR_MAINTENANCE = "repair_maintenance"
    CALIBRATION = "calibration"
    PORT_SERVICES = "port_services"
    AIR_TRAFFIC_SERVICES = "air_traffic_services"
    SECURITY = "security"


class Method(StrEnum):
    """Reimbursement method: cash, replacement in kind, equal-value exchange."""

    CASH = "cash"
    RIK = "rik"
    EVE = "eve"


class Status(StrEnum):
    NOT_SIGNED = "not_signed"
    SIGNED = "signed"
    RATIFYING = "ratifying"
    IN_FORCE = "in_force"
    EXPIRED = "expired"
    TERMINATED = "terminated"


def check_party_code(code: str, field: str = "party") -> str:
    if not PARTY_CODE.match(code or ""):
        raise ValidationError(field, code, "a party is an ISO 3166 alpha-3 code such as IND or RUS")
    return code


@dataclass(frozen=True)
class Party:
    code: str
    name: str
    native_name: str
    currency: str
    components: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_party_code(self.code, "code")
        check_currency(self.currency)
        if not self.name.strip():
            raise ValidationError("name", self.name, "a party needs a name")


@dataclass(frozen=True)
class RatificationStep:
    """One step of one party's internal procedure (e.g. Russia: State Duma ratifies)."""

    party: str
    step: str
    on: date | None = None
    required: bool = True
    note: str = ""

    @property
    def done(self) -> bool:
        return self.on is not None


@dataclass(frozen=True)
class Caps:
    """Presence caps at once on the other's territory (RELOS: 5 warships, 10 aircraft, 3,000)."""

    warships: int | None = None
    aircraft: int | None = None
    personnel: int | None = None


@dataclass(frozen=True)
class MethodTerms:
    """A reimbursement method the agreement allows, with its window in days."""

    method: Method
    due_days: int


@dataclass(frozen=True)
class Ceiling:
    """An annual value ceiling, with the categories that do not count toward it."""

    name: str
    amount: str
    currency: str
    exempt_categories: tuple[Category, ...] = ()


DEFAULT_DATA_ELEMENTS: tuple[str, ...] = (
    "requesting_unit",
    "facility",
    "required_by",
    "point_of_contact",
    "delivery_location",
    "purpose",
)


@dataclass(frozen=True)
class Agreement:
    code: str
    title: str
    parties: tuple[str, ...]
    signed_on: date | None
    signatories: tuple[str, ...] = ()
    steps: tuple[RatificationStep, ...] = ()
    in_force_days_after_last_step: int = 0
    term_years: int | None = None
    auto_renew: bool = False
    terminated_on: date | None = None
    uses: tuple[Use, ...] = tuple(Use)
    categories: tuple[Category, ...] = tuple(Category)
    excluded_categories: tuple[Category, ...] = ()
    methods: tuple[MethodTerms, ...] = (
        MethodTerms(Method.CASH, 30),
        MethodTerms(Method.RIK, 365),
        MethodTerms(Method.EVE, 365),
    )
    caps: Caps = field(default_factory=Caps)
    notice_days: int = 0
    pricing_rule: str = "supplier's own-forces price"
    ceilings: tuple[Ceiling, ...] = ()
    rate_source: str = ""
    #: the rate for converting between currencies: that of the invoice date or the netting date
    rate_rule: str = "netting_date"
    #: an overdue in-kind obligation converts to cash at the "original" price (of the delivery)
    #: or the "current" price (the supplier's price on the conversion date)
    conversion_price: str = "original"
    data_elements: tuple[str, ...] = DEFAULT_DATA_ELEMENTS
    title_native: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        if not re.match(r"^[A-Z0-9][A-Z0-9_-]{1,19}$", self.code or ""):
            raise ValidationError("code", self.code, "an agreement code is A-Z, 0-9, - and _")
        if len(set(self.parties)) < 2:
            raise ValidationError("parties", ",".join(self.parties), "an agreement needs 2 parties")
        for p in self.parties:
            check_party_code(p, "parties")
        for s in self.steps:
            if s.party not in self.parties:
                raise ValidationError("steps.party", s.party, f"not a party to {self.code}")
        if self.rate_rule not in ("invoice_date", "netting_date"):
            raise ValidationError("rate_rule", self.rate_rule, "invoice_date or netting_date")
        if self.conversion_price not in ("original", "current"):
            raise ValidationError("conversion_price", self.conversion_price, "original or current")
        overlap = set(self.categories) & set(self.excluded_categories)
        if overlap:
            raise ValidationError(
                "excluded_categories", ",".join(sorted(overlap)), "both permitted and excluded"
            )

    # -- status -------------------------------------------------------------------------------

    def entry_into_force(self) -> date | None:
        """Date the agreement enters into force: every party's required steps done, plus delay.

        With no ratification steps at all, it enters into force on signature.
        """
        if self.signed_on is None:
            return None
        required = [s for s in self.steps if s.required]
        if not required:
            return self.signed_on
        if any(not s.done for s in required):
            return None
        last = max(s.on for s in required if s.on is not None)
        return max(last, self.signed_on) + timedelta(days=self.in_force_days_after_last_step)

    def expires_on(self) -> date | None:
        start = self.entry_into_force()
        if start is None or self.term_years is None or self.auto_renew:
            return None
        try:
            return start.replace(year=start.year + self.term_years)
        except ValueError:  # 29 February
            return start.replace(year=start.year + self.term_years, day=28)

    @cached_property
    def _in_force_span(self) -> tuple[date | None, date | None]:
        """(entry into force, expiry), worked out once: the agreement is immutable and its
        status is asked for every order an import checks."""
        return self.entry_into_force(), self.expires_on()

    def status(self, on: date) -> Status:
        if self.terminated_on is not None and on >= self.terminated_on:
            return Status.TERMINATED
        if self.signed_on is None or on < self.signed_on:
            return Status.NOT_SIGNED
        start, end = self._in_force_span
        if start is not None and on >= start:
            if end is not None and on >= end:
                return Status.EXPIRED
            return Status.IN_FORCE
        if any(s.done and s.on is not None and s.on <= on for s in self.steps):
            return Status.RATIFYING
        return Status.SIGNED

    def history(self) -> list[tuple[date, str]]:
        """The dated events that make up the status, oldest first."""
        events: list[tuple[date, str]] = []
        if self.signed_on:
            who = f" by {', '.join(self.signatories)}" if self.signatories else ""
            events.append((self.signed_on, f"signed{who}"))
        for s in self.steps:
            if s.on is not None:
                events.append((s.on, f"{s.party}: {s.step}" + (f" ({s.note})" if s.note else "")))
        start = self.entry_into_force()
        if start is not None:
            events.append((start, "enters into force"))
        end = self.expires_on()
        if end is not None:
            events.append((end, "expires"))
        if self.terminated_on is not None:
            events.append((self.terminated_on, "terminated"))
        return sorted(events, key=lambda e: e[0])

    def with_step(self, step: RatificationStep) -> Agreement:
        """A copy with `step` recorded (replacing an undated step of the same party and name)."""
        kept = tuple(s for s in self.steps if not (s.party == step.party and s.step == step.step))
        return replace(self, steps=(*kept, step))

    # -- rules ----------------------------------------------------------------------------------

    def require_in_force(self, on: date, field: str = "date") -> None:
        status = self.status(on)
        if status is not Status.IN_FORCE:
            raise RuleViolation(
                "agreement_not_in_force",
                field,
                on.isoformat(),
                f"agreement {self.code} is {status.value} on that date",
            )

    def require_party(self, party: str, field: str = "party") -> None:
        if party not in self.parties:
            raise RuleViolation(
                "not_a_party", field, party, f"{party} is not a party to {self.code}"
            )

    def require_use(self, use: str) -> Use:
        try:
            value = Use(use)
        except ValueError:
            raise ValidationError("use", use, f"one of {', '.join(u.value for u in Use)}") from None
        if value not in self.uses:
            raise RuleViolation(
                "use_not_permitted", "use", use, f"{self.code} does not permit this use"
            )
        return value

    def require_category(self, category: Category, field: str = "category") -> None:
        if category in self.excluded_categories:
            raise RuleViolation(
                "category_excluded", field, category.value, f"{self.code} excludes this category"
            )
        if category not in self.categories:
            raise RuleViolation(
                "category_not_permitted",
                field,
                category.value,
                f"{self.code} does not cover this category",
            )

    def terms(self, method: Method) -> MethodTerms:
        for t in self.methods:
            if t.method == method:
                return t
        raise RuleViolation(
            "method_not_allowed",
            "method",
            method.value,
            f"{self.code} does not allow this reimbursement method",
        )
