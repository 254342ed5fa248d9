"""Visits (notices, cap timeline) and the voyage planner.

``POST /visits`` gives notice of a visit, ``POST /visits/{number}/amend`` and ``/cancel`` change
it (planner of the visiting party; Idempotency-Key);
``GET /visits``, ``/visits/{number}``, ``/visits/{number}/notice`` (JSON) and
``/visits/{number}/notice.pdf`` read them (visiting or host party); ``GET
/agreements/{code}/caps`` is the presence timeline against the caps (parties to the agreement);
``GET /plans/voyage`` plans a voyage for a unit of the caller's party (nothing is written).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints

from relos.api.deps import Uow
from relos.api.idempotency import IdempotencyKey, outcome, respond
from relos.api.schemas import READ, WRITE, Code, UnitCode
from relos.api.security import Caller, Writer
from relos.domain.visits import Visit
from relos.services import planning, visits
from relos.services.idempotency import Outcome
from relos.services.notice_pdf import notice_pdf

router = APIRouter(tags=["visits"])

VisitNumber = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9-]{1,40}$", max_length=40)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class VisitCreate(BaseModel):
    agreement: Code
    facility: Code
    units: list[UnitCode] = Field(min_length=1, max_length=50)
    use: Annotated[str, StringConstraints(max_length=30)]
    arrival: date
    departure: date
    commander_name: Text
    commander_rank: Text
    frequencies: list[Annotated[str, StringConstraints(max_length=50)]] = Field(
        min_length=1, max_length=20
    )
    pilot: bool = False
    tugs: int = Field(default=0, ge=0, le=50)
    requests: Annotated[str, StringConstraints(max_length=2000)] = ""


class VisitAmend(BaseModel):
    """What changes (what is left out stays); `units` and `frequencies` are the new lists."""

    facility: Code | None = None
    units: list[UnitCode] | None = Field(default=None, min_length=1, max_length=50)
    use: Annotated[str, StringConstraints(max_length=30)] | None = None
    arrival: date | None = None
    departure: date | None = None
    commander_name: Text | None = None
    commander_rank: Text | None = None
    frequencies: list[Annotated[str, StringConstraints(max_length=50)]] | None = Field(
        default=None, min_length=1, max_length=20
    )
    pilot: bool | None = None
    tugs: int | None = Field(default=None, ge=0, le=50)
    requests: Annotated[str, StringConstraints(max_length=2000)] | None = None


class VisitCancel(BaseModel):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class VisitUnitPublic(BaseModel):
    code: str
    kind: str
    personnel: int


class VisitPublic(BaseModel):
    number: str
    agreement: str
    visiting: str
    host: str
    facility: str
    use: str
    arrival: date
    departure: date
    units: list[VisitUnitPublic]
    warships: int
    aircraft: int
    personnel: int
    commander_name: str
    commander_rank: str
    frequencies: list[str]
    notified_on: date
    pilot: bool
    tugs: int
    requests: str
    created_by: str
    status: str  # notified or cancelled
    revision: int
    amended_on: date | None
    cancelled_on: date | None
    cancelled_by: str | None
    cancel_reason: str | None

    @classmethod
    def of(cls, v: Visit) -> VisitPublic:
        return cls.model_validate(visits.visit_snapshot(v))


@router.post("/visits", status_code=201, response_model=VisitPublic, responses=WRITE)
def create_visit(
    body: VisitCreate, request: Request, caller: Writer, uow: Uow, idempotency_key: IdempotencyKey
) -> JSONResponse:
    """Give notice of a visit; refused (422 problem naming rule, field, value) when the notice
    is late, the use not permitted, the facility not open, or a cap exceeded on any day."""

    def write() -> Outcome:
        v = visits.create(
            uow,
            caller.user.name,
            agreement=body.agreement,
            facility=body.facility,
            units=body.units,
            use=body.use,
            arrival=body.arrival,
            departure=body.departure,
            commander_name=body.commander_name,
            commander_rank=body.commander_rank,
            frequencies=body.frequencies,
            pilot=body.pilot,
            tugs=body.tugs,
            requests=body.requests,
        )
        return outcome(201, VisitPublic.of(v), Location=f"/visits/{v.number}")

    return respond(request, caller, uow, idempotency_key, body, write)


@router.post("/visits/{number}/amend", response_model=VisitPublic, responses=WRITE)
def amend_visit(
    number: VisitNumber,
    body: VisitAmend,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Amend a visit's notice (planner of the visiting party): a new revision, checked again
    like a new notice without counting itself; refused (422) when an open order tied to it would
    fall outside it."""

    def write() -> Outcome:
        v = visits.amend(
            uow,
            caller.user.name,
            number,
            facility=body.facility,
            units=body.units,
            use=body.use,
            arrival=body.arrival,
            departure=body.departure,
            commander_name=body.commander_name,
            commander_rank=body.commander_rank,
            frequencies=body.frequencies,
            pilot=body.pilot,
            tugs=body.tugs,
            requests=body.requests,
        )
        return outcome(200, VisitPublic.of(v))

    return respond(request, caller, uow, idempotency_key, body, write)


@router.post("/visits/{number}/cancel", response_model=VisitPublic, responses=WRITE)
def cancel_visit(
    number: VisitNumber,
    body: VisitCancel,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Cancel a visit before its arrival, with the reason (planner of the visiting party);
    refused (422 `visit_has_open_orders`) while an order tied to it is open."""

    def write() -> Outcome:
        v = visits.cancel(uow, caller.user.name, number, reason=body.reason)
        return outcome(200, VisitPublic.of(v))

    return respond(request, caller, uow, idempotency_key, body, write)


@router.get("/visits", response_model=list[VisitPublic], responses=READ)
def list_visits(
    caller: Caller,
    uow: Uow,
    agreement: Annotated[Code | None, Query()] = None,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> list[VisitPublic]:
    """Visits of or to the caller's party."""
    found = visits.visits(uow, caller.user.name, agreement=agreement, start=start, end=end)
    return [VisitPublic.of(v) for v in found]


@router.get("/visits/{number}", response_model=VisitPublic, responses=READ)
def show_visit(number: VisitNumber, caller: Caller, uow: Uow) -> VisitPublic:
    return VisitPublic.of(visits.show(uow, caller.user.name, number))


@router.get("/visits/{number}/notice", responses=READ)
def visit_notice(number: VisitNumber, caller: Caller, uow: Uow) -> dict[str, Any]:
    """The notice with every particular the agreement requires (and any that are missing)."""
    return visits.notice(uow, caller.user.name, number)


@router.get(
    "/visits/{number}/notice.pdf",
    responses={**READ, 200: {"content": {"application/pdf": {}}}},
    response_class=Response,
)
def visit_notice_pdf(number: VisitNumber, caller: Caller, uow: Uow) -> Response:
    doc = visits.notice(uow, caller.user.name, number)
    return Response(notice_pdf(doc), media_type="application/pdf")


@router.get("/agreements/{code}/caps", responses=READ)
def cap_timeline(
    code: Code,
    caller: Caller,
    uow: Uow,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Presence per span of days against the agreement's caps, per direction."""
    return visits.caps(uow, caller.user.name, code, start, end)


@router.get("/plans/voyage", responses=READ)
def plan_voyage(
    caller: Caller,
    uow: Uow,
    unit: Annotated[UnitCode, Query()],
    origin: Annotated[Code, Query(alias="from")],
    destination: Annotated[Code, Query(alias="to")],
    speed: Annotated[Decimal, Query(gt=0, le=60)] = Decimal(14),
    reserve: Annotated[str, Query(max_length=10)] = "20%",
    depart: Annotated[date | None, Query()] = None,
    cheapest: Annotated[bool, Query()] = False,
    rate: Annotated[list[str] | None, Query(max_length=10)] = None,
    geojson: Annotated[bool, Query()] = False,
) -> dict[str, Any]:
    """A voyage plan (legs, fuel stops, visits to notify, proposed fuel orders; nothing is
    written), or a 422 problem saying why none exists; `geojson=true` for a FeatureCollection."""
    rates: dict[str, Decimal] = {}
    for r in rate or []:
        cur, _, val = r.partition("=")
        try:
            rates[cur.strip().upper()] = Decimal(val)
        except ArithmeticError:
            from relos.domain.errors import ValidationError

            raise ValidationError("rate", r, "CURRENCY=VALUE") from None
    p = planning.plan(
        uow,
        caller.user.name,
        unit=unit,
        origin=origin,
        destination=destination,
        speed_kn=speed,
        reserve=reserve,
        depart=depart,
        cheapest=cheapest,
        rates=rates,
    )
    if geojson:
        return planning.geojson(p)
    return {k: v for k, v in p.items() if k != "geometry"}
