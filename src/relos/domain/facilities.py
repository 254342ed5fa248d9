"""Facilities, units and price lists: what a host offers, who visits, and at what price.

A **facility** is a host party's port, base, airfield or depot, open under some agreements, with
capabilities (support categories and fuel grades). A **unit** is a ship, aircraft or contingent. A
**price item** is one line of a supplier's catalogue, valid between two dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from relos.domain.agreements import Category, check_party_code
from relos.domain.errors import RuleViolation, ValidationError
from relos.domain.money import Amount, check_currency

LOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")
SEASON_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
ITEM_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")


class FacilityKind(StrEnum):
    PORT = "port"
    NAVAL_BASE = "naval_base"
    AIRFIELD = "airfield"
    DEPOT = "depot"


class UnitKind(StrEnum):
    SHIP = "ship"
    AIRCRAFT = "aircraft"
    CONTINGENT = "contingent"


@dataclass(frozen=True)
class Facility:
    code: str
    name: str
    native_name: str
    party: str
    kind: FacilityKind
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    locode: str | None = None
    categories: tuple[Category, ...] = ()
    fuel_grades: tuple[str, ...] = ()
    open_under: tuple[str, ...] = ()
    ice_support: bool = False
    notes: str = ""
    #: open-water season ("MM-DD" to "MM-DD", may wrap the new year) for units that are not
    #: ice-class; None = open all year
    season_start: str | None = None
    season_end: str | None = None

    def __post_init__(self) -> None:
        if not re.match(r"^[A-Z0-9][A-Z0-9_-]{1,19}$", self.code or ""):
            raise ValidationError("code", self.code, "a facility code is A-Z, 0-9, - and _")
        for name in ("season_start", "season_end"):
            value = getattr(self, name)
            if value is not None and not SEASON_DAY.match(value):
                raise ValidationError(name, value, "a season day is MM-DD")
        if (self.season_start is None) != (self.season_end is None):
            raise ValidationError("season_end", self.season_end, "give both season days or none")

    def in_season(self, on: date) -> bool:
        """Whether a unit that is not ice-class may come on `on` (no season: all year)."""
        if self.season_start is None or self.season_end is None:
            return True
        day = on.strftime("%m-%d")
        if self.season_start <= self.season_end:
            return self.season_start <= day <= self.season_end
        return day >= self.season_start or day <= self.season_end
        check_party_code(self.party)
        if self.locode is not None and not LOCODE.match(self.locode):
            raise ValidationError("locode", self.locode, "a UN/LOCODE is 2 letters + 3 characters")

    def require_open_under(self, agreement: str) -> None:
        if agreement not in self.open_under:
            raise RuleViolation(
                "facility_not_open",
                "facility",
                self.code,
                f"{self.name} is not open under {agreement}",
            )

    def require_capability(self, category: Category, field: str = "facility") -> None:
        if category not in self.categories:
            raise RuleViolation(
                "facility_lacks_capability",
                field,
                self.code,
                f"{self.name} does not provide {category.value}",
            )


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    native_name: str
    party: str
    kind: UnitKind
    unit_class: str = ""
    pennant: str = ""
    fuel_grade: str = ""
    consumption_t_per_day: Decimal | None = None
    range_nm: int | None = None
    draught_m: Decimal | None = None
    crew: int | None = None
    displacement_t: int | None = None
    length_m: Decimal | None = None
    beam_m: Decimal | None = None
    ice_class: bool = False

    def __post_init__(self) -> None:
        if not re.match(r"^[A-Z0-9][A-Z0-9_-]{1,29}$", self.code or ""):
            raise ValidationError("code", self.code, "a unit code is A-Z, 0-9, - and _")
        check_party_code(self.party)


@dataclass(frozen=True)
class PriceItem:
    """One catalogue line of a supplier: code (NSN or national part number), price, validity."""

    supplier: str
    code: str
    description: str
    category: Category
    unit_of_measure: str
    unit_price: Amount
    valid_from: date
    valid_to: date | None = None
    commodity: str = ""
    illustrative: bool = False

    def __post_init__(self) -> None:
        check_party_code(self.supplier, "supplier")
        if not ITEM_CODE.match(self.code or ""):
            raise ValidationError("code", self.code, "an item code is an NSN or a part number")
        check_currency(self.unit_price.commodity, "unit_price.currency")
        if self.unit_price.number < 0:
            raise ValidationError("unit_price", str(self.unit_price.number), "must not be negative")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValidationError("valid_to", self.valid_to, "before valid_from")

    def valid_on(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    @property
    def rik_commodity(self) -> str:
        """The commodity a replacement-in-kind debt for this item is counted in."""
        if self.commodity:
            return self.commodity
        base = re.sub(r"[^A-Z0-9]+", "_", self.code.upper()).strip("_")
        unit = re.sub(r"[^A-Z0-9]+", "_", self.unit_of_measure.upper()).strip("_")
        return f"{base}_{unit}"


def price_on(items: list[PriceItem], supplier: str, code: str, on: date) -> PriceItem:
    """The supplier's price item `code` valid on `on`, or a rule violation naming item and date."""
    for item in items:
        if item.supplier == supplier and item.code == code and item.valid_on(on):
            return item
    raise RuleViolation(
        "item_not_on_price_list",
        "item",
        code,
        f"{code} is not on {supplier}'s price list on {on.isoformat()}",
    )
