"""Reference data: parties, agreements and their ratification, facilities, units, price lists.

Parties and agreements are treaty-level records: no single party's admin may define another
sovereign party or a bilateral agreement, so they are kept by the node's database administration
(like ``relos init``). Facilities, units and price items belong to one party and are kept by that
party's admin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from relos.domain.agreements import Agreement, Party, RatificationStep
from relos.domain.errors import NotFound, RelosError, ValidationError
from relos.domain.facilities import Facility, PriceItem, Unit
from relos.domain.records import (
    agreement_from,
    agreement_to,
    facility_from,
    facility_to,
    party_from,
    party_to,
    price_item_from,
    price_item_to,
    unit_from,
    unit_to,
)
from relos.domain.users import User, require_admin_of
from relos.services import audit
from relos.services.actors import acting_user
from relos.services.unit_of_work import UnitOfWork


def _party(uow: UnitOfWork, code: str, field: str = "party") -> Party:
    party = uow.reference.find_party(code)
    if party is None:
        raise NotFound("party", code, field=field)
    return party


_T = TypeVar("_T")


def agreement(uow: UnitOfWork, code: str, field: str = "agreement") -> Agreement:
    found = uow.reference.find_agreement(code)
    if found is None:
        raise NotFound("agreement", code, field=field)
    return found


def found(kind: str, code: str, value: _T | None, field: str | None = None) -> _T:
    """`value`, or NotFound naming the `kind` and `code` looked up (and the field it came in)."""
    if value is None:
        raise NotFound(kind, code, field=field or kind)
    return value


def facility(uow: UnitOfWork, code: str, field: str = "facility") -> Facility:
    found = uow.reference.find_facility(code)
    if found is None:
        raise NotFound("facility", code, field=field)
    return found


def unit(uow: UnitOfWork, code: str, field: str = "unit") -> Unit:
    found = uow.reference.find_unit(code)
    if found is None:
        raise NotFound("unit", code, field=field)
    return found


# -- writes --------------------------------------------------------------------------------------


def _add_party(uow: UnitOfWork, p: Party) -> None:
    uow.reference.add_party(p)
    audit.record(uow, None, "party.add", "party", p.code, None, party_to(p))


def _add_agreement(uow: UnitOfWork, a: Agreement) -> None:
    for i, code in enumerate(a.parties):
        _party(uow, code, f"parties[{i}]")
    uow.reference.add_agreement(a)
    audit.record(uow, None, "agreement.add", "agreement", a.code, None, agreement_to(a))


def _add_facility(uow: UnitOfWork, f: Facility, admin: User | None) -> None:
    if admin is not None:
        require_admin_of(admin, f.party, "add a facility")
    _party(uow, f.party)
    for i, code in enumerate(f.open_under):
        a = agreement(uow, code, f"open_under[{i}]")
        a.require_party(f.party, "party")
    uow.reference.add_facility(f)
    audit.record(uow, admin, "facility.add", "facility", f.code, None, facility_to(f))


def _add_unit(uow: UnitOfWork, u: Unit, admin: User | None) -> None:
    if admin is not None:
        require_admin_of(admin, u.party, "add a unit")
    _party(uow, u.party)
    uow.reference.add_unit(u)
    audit.record(uow, admin, "unit.add", "unit", u.code, None, unit_to(u))


def _add_price_item(uow: UnitOfWork, p: PriceItem, admin: User | None) -> None:
    if admin is not None:
        require_admin_of(admin, p.supplier, "change a price list")
    _party(uow, p.supplier, "supplier")
    uow.reference.add_price_item(p)
    key = f"{p.supplier} {p.code} {p.valid_from.isoformat()}"
    audit.record(uow, admin, "price_item.add", "price_item", key, None, price_item_to(p))


def add_party(uow: UnitOfWork, record: Mapping[str, Any]) -> Party:
    p = party_from(record)
    with uow:
        _add_party(uow, p)
        uow.commit()
    return p


def add_agreement(uow: UnitOfWork, record: Mapping[str, Any]) -> Agreement:
    a = agreement_from(record)
    with uow:
        _add_agreement(uow, a)
        uow.commit()
    return a


def record_step(
    uow: UnitOfWork,
    code: str,
    party: str,
    step: str,
    on: date | None,
    note: str = "",
    required: bool = True,
) -> Agreement:
    """Record (or date) one ratification step of one party; the status follows from it."""
    with uow:
        a = agreement(uow, code)
        a.require_party(party)
        if not step.strip():
            raise ValidationError("step", step, "name the step")
        updated = a.with_step(RatificationStep(party, step, on, required, note))
        uow.reference.save_agreement(updated)
        audit.record(
            uow,
            None,
            "agreement.ratification_step",
            "agreement",
            a.code,
            agreement_to(a),
            agreement_to(updated),
        )
        uow.commit()
    return updated


def add_facility(uow: UnitOfWork, actor: str | None, record: Mapping[str, Any]) -> Facility:
    f = facility_from(record)
    with uow:
        _add_facility(uow, f, acting_user(uow, actor, "add a facility"))
        uow.commit()
    return f


def add_unit(uow: UnitOfWork, actor: str | None, record: Mapping[str, Any]) -> Unit:
    u = unit_from(record)
    with uow:
        _add_unit(uow, u, acting_user(uow, actor, "add a unit"))
        uow.commit()
    return u


def add_price_item(uow: UnitOfWork, actor: str | None, record: Mapping[str, Any]) -> PriceItem:
    p = price_item_from(record)
    with uow:
        _add_price_item(uow, p, acting_user(uow, actor, "change a price list"))
        uow.commit()
    return p


@dataclass
class LoadReport:
    parties: list[str] = field(default_factory=list)
    agreements: list[str] = field(default_factory=list)
    facilities: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    price_items: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "parties": self.parties,
            "agreements": self.agreements,
            "facilities": self.facilities,
            "units": self.units,
            "price_items": self.price_items,
        }


def load(uow: UnitOfWork, document: Mapping[str, Any]) -> LoadReport:
    """Load a reference-data document (from YAML or JSON) in one transaction: all or nothing.

    Sections: parties, agreements, facilities, units, price_lists (``{supplier, items: [...]}``).
    Every bad record is reported with its place (``facilities[3].kind``).
    """
    if not isinstance(document, Mapping):
        raise ValidationError("document", type(document).__name__, "a mapping of sections")
    known = {"parties", "agreements", "facilities", "units", "price_lists"}
    for key in document:
        if key not in known:
            raise ValidationError(
                str(key), "", f"unknown section; sections: {', '.join(sorted(known))}"
            )
    report = LoadReport()
    with uow:
        for i, d in enumerate(_list(document, "parties")):
            p = party_from(d, f"parties[{i}].")
            _wrap(lambda p=p: _add_party(uow, p), f"parties[{i}].")
            report.parties.append(p.code)
        for i, d in enumerate(_list(document, "agreements")):
            a = agreement_from(d, f"agreements[{i}].")
            _wrap(lambda a=a: _add_agreement(uow, a), f"agreements[{i}].")
            report.agreements.append(a.code)
        for i, d in enumerate(_list(document, "facilities")):
            f = facility_from(d, f"facilities[{i}].")
            _wrap(lambda f=f: _add_facility(uow, f, None), f"facilities[{i}].")
            report.facilities.append(f.code)
        for i, d in enumerate(_list(document, "units")):
            u = unit_from(d, f"units[{i}].")
            _wrap(lambda u=u: _add_unit(uow, u, None), f"units[{i}].")
            report.units.append(u.code)
        for i, pl in enumerate(_list(document, "price_lists")):
            where = f"price_lists[{i}]."
            supplier = pl.get("supplier") if isinstance(pl, Mapping) else None
            if not isinstance(supplier, str):
                raise ValidationError(f"{where}supplier", supplier, "required")
            for j, item in enumerate(pl.get("items") or []):
                w = f"{where}items[{j}]."
                pi = price_item_from(item, supplier, w)
                _wrap(lambda pi=pi: _add_price_item(uow, pi, None), w)
                report.price_items += 1
        uow.commit()
    return report


def _list(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document.get(key) or []
    if not isinstance(value, list):
        raise ValidationError(key, type(value).__name__, "must be a list")
    for i, v in enumerate(value):
        if not isinstance(v, Mapping):
            raise ValidationError(f"{key}[{i}]", v, "must be a mapping")
    return value


def _wrap(action: Any, where: str) -> None:
    try:
        action()
    except RelosError as e:
        if e.field and not e.field.startswith(where):
            e.field = f"{where}{e.field}"
        raise


# -- reads ---------------------------------------------------------------------------------------


def parties(uow: UnitOfWork) -> list[Party]:
    with uow:
        return uow.reference.parties()


def agreements(uow: UnitOfWork) -> list[Agreement]:
    with uow:
        return uow.reference.agreements()


def show_agreement(uow: UnitOfWork, code: str) -> Agreement:
    with uow:
        return agreement(uow, code)


def facilities(uow: UnitOfWork, party: str | None = None) -> list[Facility]:
    with uow:
        return uow.reference.facilities(party)


def show_facility(uow: UnitOfWork, code: str) -> Facility:
    with uow:
        return facility(uow, code)


def units(uow: UnitOfWork, party: str | None = None) -> list[Unit]:
    with uow:
        return uow.reference.units(party)


def show_unit(uow: UnitOfWork, code: str) -> Unit:
    with uow:
        return unit(uow, code)


def show_party(uow: UnitOfWork, code: str) -> Party:
    with uow:
        return _party(uow, code, "code")


def price_items(uow: UnitOfWork, supplier: str | None = None) -> list[PriceItem]:
    with uow:
        return uow.reference.price_items(supplier)
