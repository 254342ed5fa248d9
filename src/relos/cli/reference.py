"""Reference data: `relos party|agreement|facility|unit|price ...` and `relos load FILE`."""

from __future__ import annotations

import json as jsonlib
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from relos.domain.agreements import Agreement


from relos.cli import render
from relos.cli.options import As, AsOf, Json, actor, parse_date, uow
from relos.domain.errors import ValidationError

party_app = typer.Typer(help="Parties (national defence establishments).", no_args_is_help=True)
agreement_app = typer.Typer(help="Agreements and their ratification.", no_args_is_help=True)
facility_app = typer.Typer(help="Facilities of a host party.", no_args_is_help=True)
unit_app = typer.Typer(help="Ships, aircraft and contingents.", no_args_is_help=True)
price_app = typer.Typer(help="Suppliers' price lists.", no_args_is_help=True)

Many = Annotated[list[str] | None, typer.Option(help="Repeat for several values.")]


def read_document(path: Path) -> Any:
    """A YAML or JSON file (by its suffix; YAML otherwise), with a clear error when unreadable."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ValidationError("file", str(path), e.strerror or "cannot be read") from None
    try:
        if path.suffix.lower() == ".json":
            return jsonlib.loads(text)
        return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:
        raise ValidationError("file", str(path), f"not valid YAML or JSON: {e}") from None


def load(path: Path, json: Json = False) -> None:
    """Load parties, agreements, facilities, units and price lists from a YAML or JSON file.

    All or nothing: one bad record and nothing is written; the error names its place.
    """
    from relos.services import catalogue

    report = catalogue.load(uow(), read_document(path))
    if json:
        render.emit_json(report.as_dict())
    else:
        render.ok(
            f"loaded {len(report.parties)} parties, {len(report.agreements)} agreements, "
            f"{len(report.facilities)} facilities, {len(report.units)} units, "
            f"{report.price_items} price items"
        )


# -- parties -------------------------------------------------------------------------------------


@party_app.command("add")
def party_add(
    code: str,
    name: Annotated[str, typer.Option(help="Name in English.")],
    currency: Annotated[str, typer.Option(help="Home currency, ISO 4217.")],
    native_name: Annotated[str, typer.Option(help="Name in the party's own script.")] = "",
    component: Many = None,
) -> None:
    """Add a party (database administration)."""
    from relos.services import catalogue

    p = catalogue.add_party(
        uow(),
        {
            "code": code,
            "name": name,
            "native_name": native_name,
            "currency": currency,
            "components": component or [],
        },
    )
    render.ok(f"party {p.code} {p.name} {p.native_name} added")


@party_app.command("list")
def party_list(json: Json = False) -> None:
    """List parties."""
    from relos.domain.records import party_to
    from relos.services import catalogue

    rows = catalogue.parties(uow())
    if json:
        render.emit_json([party_to(p) for p in rows])
    else:
        render.table(
            "parties",
            ["code", "name", "native name", "currency", "components"],
            [(p.code, p.name, p.native_name, p.currency, p.components) for p in rows],
        )


@party_app.command("show")
def party_show(code: str, json: Json = False) -> None:
    """Show one party."""
    from relos.domain.records import party_to
    from relos.services import catalogue

    p = catalogue.show_party(uow(), code)
    if json:
        render.emit_json(party_to(p))
    else:
        render.fields(f"party {p.code}", party_to(p).items())


# -- agreements ----------------------------------------------------------------------------------


@agreement_app.command("add")
def agreement_add(
    file: Annotated[Path | None, typer.Option(help="One agreement as YAML or JSON.")] = None,
    code: str | None = None,
    title: str | None = None,
    party: Many = None,
    signed_on: str | None = None,
    notice_days: int = 0,
) -> None:
    """Add an agreement from a file, or from options (database administration)."""
    from relos.services import catalogue

    record: dict[str, Any]
    if file is not None:
        record = read_document(file)
    else:
        record = {
            "code": code,
            "title": title,
            "parties": party or [],
            "signed_on": signed_on,
            "notice_days": notice_days,
        }
    a = catalogue.add_agreement(uow(), record)
    render.ok(f"agreement {a.code} added; status today: {a.status(date.today()).value}")


@agreement_app.command("ratify")
def agreement_ratify(
    code: str,
    party: Annotated[str, typer.Option(help="Party whose step this is.")],
    step: Annotated[str, typer.Option(help="Name of the step, e.g. 'State Duma ratifies'.")],
    on: Annotated[str | None, typer.Option(help="Date done; omit for a pending step.")] = None,
    note: str = "",
    optional: Annotated[bool, typer.Option(help="Not needed for entry into force.")] = False,
) -> None:
    """Record a ratification step of one party (database administration)."""
    from relos.services import catalogue

    a = catalogue.record_step(uow(), code, party, step, parse_date(on, "on"), note, not optional)
    render.ok(f"{a.code}: {party} {step} recorded; status today: {a.status(date.today()).value}")


def _agreement_view(a: Agreement, on: date) -> dict[str, Any]:
    from relos.domain.records import agreement_to

    d = agreement_to(a)
    d["status"] = a.status(on).value
    d["status_on"] = on.isoformat()
    d["entry_into_force"] = a.entry_into_force()
    d["history"] = [{"on": when.isoformat(), "event": what} for when, what in a.history()]
    return d


@agreement_app.command("list")
def agreement_list(as_of: AsOf = None, json: Json = False) -> None:
    """List agreements with their status on a date."""
    from relos.services import catalogue

    on = parse_date(as_of, "as_of") or date.today()
    rows = catalogue.agreements(uow())
    if json:
        render.emit_json([_agreement_view(a, on) for a in rows])
    else:
        render.table(
            f"agreements on {on}",
            ["code", "title", "parties", "signed", "status"],
            [(a.code, a.title, a.parties, a.signed_on, a.status(on).value) for a in rows],
        )


@agreement_app.command("show")
def agreement_show(code: str, as_of: AsOf = None, json: Json = False) -> None:
    """Show an agreement, its status and the history it is derived from."""
    from relos.services import catalogue

    on = parse_date(as_of, "as_of") or date.today()
    a = catalogue.show_agreement(uow(), code)
    view = _agreement_view(a, on)
    if json:
        render.emit_json(view)
        return
    skip = {"steps", "history", "methods", "caps", "ceilings"}
    render.fields(f"agreement {a.code}", [(k, v) for k, v in view.items() if k not in skip])
    render.fields(
        "caps, methods",
        [
            (
                "caps",
                f"{a.caps.warships} warships, {a.caps.aircraft} aircraft, "
                f"{a.caps.personnel} personnel",
            ),
            *((f"method {m.method.value}", f"due {m.due_days} days") for m in a.methods),
        ],
    )
    render.table("status history", ["date", "event"], [(w, e) for w, e in a.history()])


# -- facilities, units, prices -------------------------------------------------------------------


@facility_app.command("add")
def facility_add(
    code: str,
    name: Annotated[str, typer.Option()],
    party: Annotated[str, typer.Option()],
    kind: str = "port",
    native_name: str = "",
    locode: str | None = None,
    latitude: str | None = None,
    longitude: str | None = None,
    category: Many = None,
    fuel_grade: Many = None,
    open_under: Many = None,
    as_: As = None,
) -> None:
    """Add a facility of your own party (party admin)."""
    from relos.services import catalogue

    f = catalogue.add_facility(
        uow(),
        actor(as_),
        {
            "code": code,
            "name": name,
            "party": party,
            "kind": kind,
            "native_name": native_name,
            "locode": locode,
            "latitude": latitude,
            "longitude": longitude,
            "categories": category or [],
            "fuel_grades": fuel_grade or [],
            "open_under": open_under or [],
        },
    )
    render.ok(f"facility {f.code} {f.name} added")


@facility_app.command("list")
def facility_list(party: str | None = None, json: Json = False) -> None:
    """List facilities."""
    from relos.domain.records import facility_to
    from relos.services import catalogue

    rows = catalogue.facilities(uow(), party)
    if json:
        render.emit_json([facility_to(f) for f in rows])
    else:
        render.table(
            "facilities",
            ["code", "name", "native name", "party", "kind", "open under"],
            [(f.code, f.name, f.native_name, f.party, f.kind, f.open_under) for f in rows],
        )


@facility_app.command("show")
def facility_show(code: str, json: Json = False) -> None:
    """Show one facility."""
    from relos.domain.records import facility_to
    from relos.services import catalogue

    f = catalogue.show_facility(uow(), code)
    if json:
        render.emit_json(facility_to(f))
    else:
        render.fields(f"facility {f.code}", facility_to(f).items())


@unit_app.command("add")
def unit_add(
    code: str,
    name: Annotated[str, typer.Option()],
    party: Annotated[str, typer.Option()],
    kind: str = "ship",
    native_name: str = "",
    unit_class: str = "",
    pennant: str = "",
    fuel_grade: str = "",
    as_: As = None,
) -> None:
    """Add a unit of your own party (party admin)."""
    from relos.services import catalogue

    u = catalogue.add_unit(
        uow(),
        actor(as_),
        {
            "code": code,
            "name": name,
            "party": party,
            "kind": kind,
            "native_name": native_name,
            "unit_class": unit_class,
            "pennant": pennant,
            "fuel_grade": fuel_grade,
        },
    )
    render.ok(f"unit {u.code} {u.name} added")


@unit_app.command("list")
def unit_list(party: str | None = None, json: Json = False) -> None:
    """List units."""
    from relos.domain.records import unit_to
    from relos.services import catalogue

    rows = catalogue.units(uow(), party)
    if json:
        render.emit_json([unit_to(u) for u in rows])
    else:
        render.table(
            "units",
            ["code", "name", "party", "kind", "class", "pennant"],
            [(u.code, u.name, u.party, u.kind, u.unit_class, u.pennant) for u in rows],
        )


@unit_app.command("show")
def unit_show(code: str, json: Json = False) -> None:
    """Show one unit."""
    from relos.domain.records import unit_to
    from relos.services import catalogue

    u = catalogue.show_unit(uow(), code)
    if json:
        render.emit_json(unit_to(u))
    else:
        render.fields(f"unit {u.code}", unit_to(u).items())


@price_app.command("add")
def price_add(
    supplier: str,
    code: str,
    category: Annotated[str, typer.Option()],
    unit_of_measure: Annotated[str, typer.Option()],
    unit_price: Annotated[str, typer.Option(help="Decimal, in the currency below.")],
    currency: Annotated[str, typer.Option()],
    valid_from: Annotated[str, typer.Option()],
    valid_to: str | None = None,
    description: str = "",
    as_: As = None,
) -> None:
    """Add an item to your own party's price list (party admin)."""
    from relos.services import catalogue

    p = catalogue.add_price_item(
        uow(),
        actor(as_),
        {
            "supplier": supplier,
            "code": code,
            "category": category,
            "unit_of_measure": unit_of_measure,
            "unit_price": unit_price,
            "currency": currency,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "description": description,
        },
    )
    render.ok(
        f"{p.supplier} {p.code} at {p.unit_price} per {p.unit_of_measure} from {p.valid_from}"
    )


@price_app.command("list")
def price_list(supplier: str | None = None, json: Json = False) -> None:
    """List price items."""
    from relos.domain.records import price_item_to
    from relos.services import catalogue

    rows = catalogue.price_items(uow(), supplier)
    if json:
        render.emit_json([price_item_to(p) for p in rows])
    else:
        render.table(
            "price list",
            [
                "supplier",
                "code",
                "description",
                "category",
                "unit",
                "price",
                "from",
                "to",
                "illustrative",
            ],
            [
                (
                    p.supplier,
                    p.code,
                    p.description,
                    p.category,
                    p.unit_of_measure,
                    str(p.unit_price),
                    p.valid_from,
                    p.valid_to,
                    p.illustrative,
                )
                for p in rows
            ],
            numeric=["price"],
        )
