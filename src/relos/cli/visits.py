"""Visits and voyage planning: `relos visit create|amend|cancel|show|notice|list|caps`, `relos plan
voyage`."""

from __future__ import annotations

import json as json_module
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

if TYPE_CHECKING:
    from relos.domain.visits import Visit


from relos.cli import render
from relos.cli.options import As, Json, actor, parse_date, uow
from relos.domain.errors import ValidationError

visit_app = typer.Typer(help="Visits: notices, presence caps.", no_args_is_help=True)
plan_app = typer.Typer(
    help="Plan voyages: legs, fuel stops, notices, orders.", no_args_is_help=True
)


def _show(v: Visit) -> None:
    render.fields(
        f"Visit {v.number}",
        [
            ("agreement", v.agreement),
            ("visiting → host", f"{v.visiting} → {v.host}"),
            ("facility", v.facility),
            ("use", v.use),
            ("dates", f"{v.arrival.isoformat()} to {v.departure.isoformat()}"),
            ("units", [u.code for u in v.units]),
            ("warships / aircraft / personnel", f"{v.warships} / {v.aircraft} / {v.personnel}"),
            ("commander", f"{v.commander_rank} {v.commander_name}"),
            ("frequencies", list(v.frequencies)),
            ("pilot / tugs", f"{'yes' if v.pilot else 'no'} / {v.tugs}"),
            ("notice given", v.notified_on),
            ("revision", f"{v.revision}" + (f" (amended {v.amended_on})" if v.amended_on else "")),
            (
                "status",
                v.status + (f" on {v.cancelled_on}: {v.cancel_reason}" if v.cancelled_on else ""),
            ),
        ],
    )


@visit_app.command("create")
def create(
    agreement: Annotated[str, typer.Option()],
    facility: Annotated[str, typer.Option(help="Host facility code.")],
    unit: Annotated[list[str], typer.Option("--unit", help="Unit code (repeat).")],
    use: Annotated[str, typer.Option(help="port_call, exercise, training, hadr, ...")],
    arrival: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    departure: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    commander: Annotated[str, typer.Option(help="Commander's name.")],
    rank: Annotated[str, typer.Option(help="Commander's rank.")],
    frequency: Annotated[list[str], typer.Option("--frequency", help="Radio frequency (repeat).")],
    pilot: Annotated[bool, typer.Option("--pilot", help="Request a pilot.")] = False,
    tugs: Annotated[int, typer.Option(help="Tugs requested.")] = 0,
    requests: Annotated[str, typer.Option(help="Other requests.")] = "",
    as_: As = None,
    json: Json = False,
) -> None:
    """Give notice of a visit (planner of the visiting party); refused when late, not permitted
    or over a cap on any day."""
    from relos.services import visits

    start, end = parse_date(arrival, "arrival"), parse_date(departure, "departure")
    assert start is not None
    assert end is not None
    v = visits.create(
        uow(),
        actor(as_),
        agreement=agreement,
        facility=facility,
        units=unit,
        use=use,
        arrival=start,
        departure=end,
        commander_name=commander,
        commander_rank=rank,
        frequencies=frequency,
        pilot=pilot,
        tugs=tugs,
        requests=requests,
    )
    if json:
        render.emit_json(visits.visit_snapshot(v))
    else:
        render.ok(f"visit {v.number} notified: {v.facility} {v.arrival} to {v.departure}")


@visit_app.command("amend")
def amend(
    number: str,
    arrival: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    departure: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    unit: Annotated[
        list[str] | None, typer.Option("--unit", help="Unit code (repeat): the new list.")
    ] = None,
    facility: Annotated[str | None, typer.Option(help="Host facility code.")] = None,
    use: Annotated[str | None, typer.Option()] = None,
    commander: Annotated[str | None, typer.Option(help="Commander's name.")] = None,
    rank: Annotated[str | None, typer.Option(help="Commander's rank.")] = None,
    frequency: Annotated[
        list[str] | None,
        typer.Option("--frequency", help="Radio frequency (repeat): the new list."),
    ] = None,
    pilot: Annotated[bool | None, typer.Option("--pilot/--no-pilot")] = None,
    tugs: Annotated[int | None, typer.Option()] = None,
    requests: Annotated[str | None, typer.Option()] = None,
    as_: As = None,
    json: Json = False,
) -> None:
    """Amend a visit's notice (planner of the visiting party): a new revision, checked again
    (a new arrival, facility or unit needs the full notice period from today)."""
    from relos.services import visits

    v = visits.amend(
        uow(),
        actor(as_),
        number,
        arrival=parse_date(arrival, "arrival"),
        departure=parse_date(departure, "departure"),
        units=unit or None,
        facility=facility,
        use=use,
        commander_name=commander,
        commander_rank=rank,
        frequencies=frequency or None,
        pilot=pilot,
        tugs=tugs,
        requests=requests,
    )
    if json:
        render.emit_json(visits.visit_snapshot(v))
    else:
        render.ok(f"visit {v.number} amended: revision {v.revision}")


@visit_app.command("cancel")
def cancel(
    number: str,
    reason: Annotated[str, typer.Option(help="Why the visit is cancelled.")],
    as_: As = None,
    json: Json = False,
) -> None:
    """Cancel a visit before its arrival (planner of the visiting party); refused while an order
    tied to it is open."""
    from relos.services import visits

    v = visits.cancel(uow(), actor(as_), number, reason=reason)
    if json:
        render.emit_json(visits.visit_snapshot(v))
    else:
        render.ok(f"visit {v.number} cancelled: {v.cancel_reason}")


@visit_app.command("show")
def show(number: str, as_: As = None, json: Json = False) -> None:
    """One visit (users of the visiting or host party)."""
    from relos.services import visits

    v = visits.show(uow(), actor(as_), number)
    if json:
        render.emit_json(visits.visit_snapshot(v))
    else:
        _show(v)


@visit_app.command("list")
def list_(
    agreement: Annotated[str | None, typer.Option()] = None,
    from_: Annotated[str | None, typer.Option("--from")] = None,
    to: Annotated[str | None, typer.Option("--to")] = None,
    as_: As = None,
    json: Json = False,
) -> None:
    """Visits of or to the user's party."""
    from relos.services import visits

    vs = visits.visits(
        uow(),
        actor(as_),
        agreement=agreement,
        start=parse_date(from_, "from"),
        end=parse_date(to, "to"),
    )
    if json:
        render.emit_json([visits.visit_snapshot(v) for v in vs])
        return
    render.table(
        "Visits",
        [
            "number",
            "visiting",
            "host",
            "facility",
            "arrival",
            "departure",
            "ships",
            "personnel",
            "status",
        ],
        [
            [
                v.number,
                v.visiting,
                v.host,
                v.facility,
                v.arrival,
                v.departure,
                v.warships,
                v.personnel,
                v.status if v.revision == 1 else f"{v.status} (rev. {v.revision})",
            ]
            for v in vs
        ],
        numeric=["ships", "personnel"],
    )


@visit_app.command("notice")
def notice(
    number: str,
    pdf: Annotated[Path | None, typer.Option(help="Write the notice as PDF to this file.")] = None,
    as_: As = None,
) -> None:
    """The notice document with every particular the agreement requires (JSON, or --pdf FILE)."""
    from relos.services import visits
    from relos.services.notice_pdf import notice_pdf

    doc = visits.notice(uow(), actor(as_), number)
    if pdf is not None:
        pdf.write_bytes(notice_pdf(doc))
        render.ok(f"notice {number} written to {pdf}")
    else:
        render.emit_json(doc)


@visit_app.command("caps")
def caps(
    agreement: Annotated[str, typer.Option()],
    from_: Annotated[str | None, typer.Option("--from")] = None,
    to: Annotated[str | None, typer.Option("--to")] = None,
    as_: As = None,
    json: Json = False,
) -> None:
    """Presence per day span against the agreement's caps (warships, aircraft, personnel)."""
    from relos.services import visits

    out = visits.caps(uow(), actor(as_), agreement, parse_date(from_, "from"), parse_date(to, "to"))
    if json:
        render.emit_json(out)
        return
    c = out["caps"]
    render.table(
        f"{out['agreement']} presence (caps: {c['warships']} warships, {c['aircraft']} aircraft, "
        f"{c['personnel']} personnel)",
        ["visiting", "host", "from", "to", "warships", "aircraft", "personnel", "visits"],
        [
            [
                s["visiting"],
                s["host"],
                s["from"],
                s["to"],
                s["warships"],
                s["aircraft"],
                s["personnel"],
                s["visits"],
            ]
            for s in out["spans"]
        ],
        numeric=["warships", "aircraft", "personnel"],
    )


def _rates(values: list[str] | None) -> dict[str, Decimal]:
    out = {}
    for v in values or []:
        cur, sep, val = v.partition("=")
        try:
            out[cur.strip().upper()] = Decimal(val.strip())
        except InvalidOperation:
            raise ValidationError("rate", v, "write CURRENCY=VALUE, e.g. RUB=1.05") from None
        if not sep:
            raise ValidationError("rate", v, "write CURRENCY=VALUE, e.g. RUB=1.05")
    return out


@plan_app.command("voyage")
def voyage(
    unit: Annotated[str, typer.Option()],
    from_: Annotated[str, typer.Option("--from", help="Origin facility code.")],
    to: Annotated[str, typer.Option(help="Destination facility code.")],
    speed: Annotated[str, typer.Option(help="Knots.")] = "14",
    reserve: Annotated[str, typer.Option(help="Fuel kept in reserve: 20% or 0.2.")] = "20%",
    depart: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today).")] = None,
    cheapest: Annotated[bool, typer.Option("--cheapest", help="Lowest fuel cost.")] = False,
    rate: Annotated[
        list[str] | None,
        typer.Option("--rate", help="CURRENCY=VALUE in the unit's currency (repeat)."),
    ] = None,
    geojson: Annotated[bool, typer.Option("--geojson", help="Print GeoJSON.")] = False,
    as_: As = None,
    json: Json = False,
) -> None:
    """Plan a voyage: legs, fuel stops that keep the reserve, visits to notify, fuel orders."""
    from platformdirs import user_cache_path

    from relos.services import planning

    p = planning.plan(
        uow(),
        actor(as_),
        unit=unit,
        origin=from_,
        destination=to,
        speed_kn=speed,
        reserve=reserve,
        depart=parse_date(depart, "depart"),
        cheapest=cheapest,
        rates=_rates(rate),
        route_cache=user_cache_path("relos") / "sea_routes.json",
    )
    if geojson:
        print(json_module.dumps(planning.geojson(p), ensure_ascii=False))
        return
    if json:
        p = {k: v for k, v in p.items() if k != "geometry"}
        render.emit_json(p)
        return
    _table(p)


def _table(p: dict[str, Any]) -> None:
    render.table(
        f"{p['unit']} {p['origin']} → {p['destination']}: {p['distance_nm']} nm, "
        f"{p['fuel_t']} t {p['fuel_grade']}, stops {', '.join(p['stops']) or 'none'}",
        ["from", "to", "nm", "hours", "fuel t", "departs", "arrives", "arctic"],
        [
            [
                leg["from"],
                leg["to"],
                leg["distance_nm"],
                leg["hours"],
                leg["fuel_t"],
                leg["departs"],
                leg["arrives"],
                "yes" if leg["arctic"] else "",
            ]
            for leg in p["legs"]
        ],
        numeric=["nm", "hours", "fuel t"],
    )
    render.table(
        "Visits to notify",
        ["facility", "host", "agreement", "arrival", "notice by", "late"],
        [
            [
                v["facility"],
                v["host"],
                v["agreement"],
                v["arrival"],
                v["notice_deadline"],
                "LATE" if v["notice_late"] else "",
            ]
            for v in p["visits_to_notify"]
        ],
    )
    render.table(
        "Proposed fuel orders (not written)",
        ["facility", "supplier", "item", "t", "unit price", "amount", "currency", "by"],
        [
            [
                o["facility"],
                o["supplying"],
                o["lines"][0]["item"],
                o["lines"][0]["quantity"],
                o["unit_price"],
                o["amount"],
                o["currency"],
                o["required_by"],
            ]
            for o in p["draft_orders"]
        ],
    )
    unpriced = p.get("unpriced_stops") or []
    render.out.print(
        Text(
            f"fuel bought at the stops: {p['cost']} {p['cost_currency']}"
            + (
                f" (without {', '.join(unpriced)}: give --rate for their currency)"
                if unpriced
                else ""
            )
        )
    )
    for note in p["notes"]:
        render.out.print(Text(f"note: {note}"))  # as written: notes name facilities
