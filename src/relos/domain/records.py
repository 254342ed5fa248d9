"""Plain-dict form of reference records (parties, agreements, facilities, units, price items).

The same functions read a user's YAML or JSON file and the documents kept in storage, so that a
record has one shape everywhere. Reading reports the field and value of the first bad field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from relos.domain.agreements import (
    Agreement,
    Caps,
    Category,
    Ceiling,
    Method,
    MethodTerms,
    Party,
    RatificationStep,
    Use,
)
from relos.domain.errors import ValidationError
from relos.domain.facilities import Facility, FacilityKind, PriceItem, Unit, UnitKind
from relos.domain.money import Amount, parse_decimal

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")
Record = Mapping[str, Any]


def _req(d: Record, key: str, where: str) -> Any:
    if key not in d or d[key] is None or d[key] == "":
        raise ValidationError(f"{where}{key}", None, "required")
    return d[key]


def _str(d: Record, key: str, where: str, default: str | None = None) -> str:
    value = d.get(key, default) if default is not None else _req(d, key, where)
    if not isinstance(value, str):
        raise ValidationError(f"{where}{key}", value, "must be text")
    return value


def _date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(field, value, "not a date (YYYY-MM-DD)") from None


def _opt_date(d: Record, key: str, where: str) -> date | None:
    value = d.get(key)
    return None if value in (None, "") else _date(value, f"{where}{key}")


def _enum(kind: type[E], value: Any, field: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise ValidationError(field, value, f"one of {allowed}") from None


def _enums(kind: type[E], values: Any, field: str) -> tuple[E, ...]:
    if values is None:
        return ()
    if not isinstance(values, list | tuple):
        raise ValidationError(field, values, "must be a list")
    return tuple(_enum(kind, v, f"{field}[{i}]") for i, v in enumerate(values))


def _int(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError(field, value, "must be a whole number")
    try:
        number = int(value)
    except ValueError:
        raise ValidationError(field, value, "must be a whole number") from None
    if number < 0:
        raise ValidationError(field, value, "must not be negative")
    return number


def _dec(value: Any, field: str) -> Decimal | None:
    return None if value is None else parse_decimal(value, field)


def _strs(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValidationError(field, value, "must be a list of text")
    return tuple(value)


def _checked(build: Callable[[], T], where: str) -> T:
    try:
        return build()
    except ValidationError as e:
        if where and e.field and not e.field.startswith(where):
            raise ValidationError(
                f"{where}{e.field}", e.value, e.message.split(": ", 1)[-1]
            ) from None
        raise
    except TypeError as e:
        raise ValidationError(where.rstrip(".") or "record", None, str(e)) from None


# -- parties -----------------------------------------------------------------------------------


def party_from(d: Record, where: str = "") -> Party:
    return _checked(
        lambda: Party(
            code=_str(d, "code", where),
            name=_str(d, "name", where),
            native_name=_str(d, "native_name", where, ""),
            currency=_str(d, "currency", where),
            components=_strs(d.get("components"), f"{where}components"),
        ),
        where,
    )


def party_to(p: Party) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name,
        "native_name": p.native_name,
        "currency": p.currency,
        "components": list(p.components),
    }


# -- agreements --------------------------------------------------------------------------------


def agreement_from(d: Record, where: str = "") -> Agreement:
    def build() -> Agreement:
        steps = []
        for i, s in enumerate(d.get("steps") or []):
            w = f"{where}steps[{i}]."
            steps.append(
                RatificationStep(
                    party=_str(s, "party", w),
                    step=_str(s, "step", w),
                    on=_opt_date(s, "date", w) or _opt_date(s, "on", w),
                    required=bool(s.get("required", True)),
                    note=str(s.get("note", "")),
                )
            )
        methods = []
        for i, m in enumerate(d.get("methods") or []):
            w = f"{where}methods[{i}]."
            methods.append(
                MethodTerms(
                    _enum(Method, _req(m, "method", w), f"{w}method"),
                    _int(_req(m, "due_days", w), f"{w}due_days") or 0,
                )
            )
        caps = d.get("caps") or {}
        ceilings = []
        for i, c in enumerate(d.get("ceilings") or []):
            w = f"{where}ceilings[{i}]."
            ceilings.append(
                Ceiling(
                    _str(c, "name", w),
                    str(_req(c, "amount", w)),
                    _str(c, "currency", w),
                    _enums(Category, c.get("exempt_categories"), f"{w}exempt_categories"),
                )
            )
        optional: dict[str, Any] = {}
        if d.get("uses") is not None:
            optional["uses"] = _enums(Use, d.get("uses"), f"{where}uses")
        if d.get("categories") is not None:
            optional["categories"] = _enums(Category, d.get("categories"), f"{where}categories")
        if d.get("data_elements") is not None:
            optional["data_elements"] = _strs(d.get("data_elements"), f"{where}data_elements")
        if methods:
            optional["methods"] = tuple(methods)
        return Agreement(
            code=_str(d, "code", where),
            title=_str(d, "title", where),
            title_native=str(d.get("title_native", "")),
            parties=_strs(_req(d, "parties", where), f"{where}parties"),
            signed_on=_opt_date(d, "signed_on", where),
            signatories=_strs(d.get("signatories"), f"{where}signatories"),
            steps=tuple(steps),
            in_force_days_after_last_step=_int(
                d.get("in_force_days_after_last_step", 0), f"{where}in_force_days_after_last_step"
            )
            or 0,
            term_years=_int(d.get("term_years"), f"{where}term_years"),
            auto_renew=bool(d.get("auto_renew", False)),
            terminated_on=_opt_date(d, "terminated_on", where),
            excluded_categories=_enums(
                Category, d.get("excluded_categories"), f"{where}excluded_categories"
            ),
            caps=Caps(
                _int(caps.get("warships"), f"{where}caps.warships"),
                _int(caps.get("aircraft"), f"{where}caps.aircraft"),
                _int(caps.get("personnel"), f"{where}caps.personnel"),
            ),
            notice_days=_int(d.get("notice_days", 0), f"{where}notice_days") or 0,
            pricing_rule=str(d.get("pricing_rule", "supplier's own-forces price")),
            ceilings=tuple(ceilings),
            rate_source=str(d.get("rate_source", "")),
            rate_rule=str(d.get("rate_rule", "netting_date")),
            conversion_price=str(d.get("conversion_price", "original")),
            notes=str(d.get("notes", "")),
            **optional,
        )

    return _checked(build, where)


def agreement_to(a: Agreement) -> dict[str, Any]:
    return {
        "code": a.code,
        "title": a.title,
        "title_native": a.title_native,
        "parties": list(a.parties),
        "signed_on": a.signed_on.isoformat() if a.signed_on else None,
        "signatories": list(a.signatories),
        "steps": [
            {
                "party": s.party,
                "step": s.step,
                "date": s.on.isoformat() if s.on else None,
                "required": s.required,
                "note": s.note,
            }
            for s in a.steps
        ],
        "in_force_days_after_last_step": a.in_force_days_after_last_step,
        "term_years": a.term_years,
        "auto_renew": a.auto_renew,
        "terminated_on": a.terminated_on.isoformat() if a.terminated_on else None,
        "uses": [u.value for u in a.uses],
        "categories": [c.value for c in a.categories],
        "excluded_categories": [c.value for c in a.excluded_categories],
        "methods": [{"method": m.method.value, "due_days": m.due_days} for m in a.methods],
        "caps": {
            "warships": a.caps.warships,
            "aircraft": a.caps.aircraft,
            "personnel": a.caps.personnel,
        },
        "notice_days": a.notice_days,
        "pricing_rule": a.pricing_rule,
        "ceilings": [
            {
                "name": c.name,
                "amount": c.amount,
                "currency": c.currency,
                "exempt_categories": [x.value for x in c.exempt_categories],
            }
            for c in a.ceilings
        ],
        "rate_source": a.rate_source,
        "rate_rule": a.rate_rule,
        "conversion_price": a.conversion_price,
        "data_elements": list(a.data_elements),
        "notes": a.notes,
    }


# -- facilities and units ----------------------------------------------------------------------


def facility_from(d: Record, where: str = "") -> Facility:
    return _checked(
        lambda: Facility(
            code=_str(d, "code", where),
            name=_str(d, "name", where),
            native_name=str(d.get("native_name", "")),
            party=_str(d, "party", where),
            kind=_enum(FacilityKind, d.get("kind", "port"), f"{where}kind"),
            latitude=_dec(d.get("latitude"), f"{where}latitude"),
            longitude=_dec(d.get("longitude"), f"{where}longitude"),
            locode=d.get("locode") or None,
            categories=_enums(Category, d.get("categories"), f"{where}categories"),
            fuel_grades=_strs(d.get("fuel_grades"), f"{where}fuel_grades"),
            open_under=_strs(d.get("open_under"), f"{where}open_under"),
            ice_support=bool(d.get("ice_support", False)),
            notes=str(d.get("notes", "")),
            season_start=_opt_str(d.get("season_start")),
            season_end=_opt_str(d.get("season_end")),
        ),
        where,
    )


def facility_to(f: Facility) -> dict[str, Any]:
    return {
        "code": f.code,
        "name": f.name,
        "native_name": f.native_name,
        "party": f.party,
        "kind": f.kind.value,
        "latitude": None if f.latitude is None else str(f.latitude),
        "longitude": None if f.longitude is None else str(f.longitude),
        "locode": f.locode,
        "categories": [c.value for c in f.categories],
        "fuel_grades": list(f.fuel_grades),
        "open_under": list(f.open_under),
        "ice_support": f.ice_support,
        "notes": f.notes,
        "season_start": f.season_start,
        "season_end": f.season_end,
    }


def _opt_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def unit_from(d: Record, where: str = "") -> Unit:
    return _checked(
        lambda: Unit(
            code=_str(d, "code", where),
            name=_str(d, "name", where),
            native_name=str(d.get("native_name", "")),
            party=_str(d, "party", where),
            kind=_enum(UnitKind, d.get("kind", "ship"), f"{where}kind"),
            unit_class=str(d.get("unit_class", "")),
            pennant=str(d.get("pennant", "")),
            fuel_grade=str(d.get("fuel_grade", "")),
            consumption_t_per_day=_dec(
                d.get("consumption_t_per_day"), f"{where}consumption_t_per_day"
            ),
            range_nm=_int(d.get("range_nm"), f"{where}range_nm"),
            draught_m=_dec(d.get("draught_m"), f"{where}draught_m"),
            crew=_int(d.get("crew"), f"{where}crew"),
            displacement_t=_int(d.get("displacement_t"), f"{where}displacement_t"),
            length_m=_dec(d.get("length_m"), f"{where}length_m"),
            beam_m=_dec(d.get("beam_m"), f"{where}beam_m"),
            ice_class=bool(d.get("ice_class", False)),
        ),
        where,
    )


def unit_to(u: Unit) -> dict[str, Any]:
    def s(v: Decimal | None) -> str | None:
        return None if v is None else str(v)

    return {
        "code": u.code,
        "name": u.name,
        "native_name": u.native_name,
        "party": u.party,
        "kind": u.kind.value,
        "unit_class": u.unit_class,
        "pennant": u.pennant,
        "fuel_grade": u.fuel_grade,
        "consumption_t_per_day": s(u.consumption_t_per_day),
        "range_nm": u.range_nm,
        "draught_m": s(u.draught_m),
        "crew": u.crew,
        "displacement_t": u.displacement_t,
        "length_m": s(u.length_m),
        "beam_m": s(u.beam_m),
        "ice_class": u.ice_class,
    }


def price_item_from(d: Record, supplier: str | None = None, where: str = "") -> PriceItem:
    return _checked(
        lambda: PriceItem(
            supplier=supplier or _str(d, "supplier", where),
            code=str(_req(d, "code", where)),
            description=_str(d, "description", where, ""),
            category=_enum(Category, _req(d, "category", where), f"{where}category"),
            unit_of_measure=_str(d, "unit_of_measure", where),
            unit_price=Amount.of(
                _req(d, "unit_price", where), _str(d, "currency", where), f"{where}unit_price"
            ),
            valid_from=_date(_req(d, "valid_from", where), f"{where}valid_from"),
            valid_to=_opt_date(d, "valid_to", where),
            commodity=str(d.get("commodity", "")),
            illustrative=bool(d.get("illustrative", False)),
        ),
        where,
    )


def price_item_to(p: PriceItem) -> dict[str, Any]:
    return {
        "supplier": p.supplier,
        "code": p.code,
        "description": p.description,
        "category": p.category.value,
        "unit_of_measure": p.unit_of_measure,
        "unit_price": str(p.unit_price.number),
        "currency": p.unit_price.commodity,
        "valid_from": p.valid_from.isoformat(),
        "valid_to": p.valid_to.isoformat() if p.valid_to else None,
        "commodity": p.rik_commodity,
        "illustrative": p.illustrative,
    }
