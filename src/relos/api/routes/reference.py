"""Parties, agreements (with their derived status and history), facilities, units, price items.

Reads show what the caller's party may see (`relos.services.queries`); writes are by the owning
party's admin.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from relos.api.deps import Uow
from relos.api.idempotency import IdempotencyKey, outcome, respond
from relos.api.schemas import (
    READ,
    WRITE,
    AgreementCreate,
    AgreementPublic,
    Code,
    FacilityCreate,
    FacilityPublic,
    PartyCode,
    PartyPublic,
    PriceItemCreate,
    PriceItemPublic,
    StepCreate,
    UnitCode,
    UnitCreate,
    UnitPublic,
)
from relos.api.security import Caller, Writer
from relos.services import catalogue, party_admin, queries
from relos.services.idempotency import Outcome

router = APIRouter()

OnDay = Annotated[date | None, Query(description="the day the status is derived for (today)")]
PartyQ = Annotated[PartyCode | None, Query(description="only this party's")]


@router.get("/parties", response_model=list[PartyPublic], responses=READ, tags=["parties"])
def list_parties(caller: Caller, uow: Uow) -> list[PartyPublic]:
    """Your party and its counterparts in your agreements."""
    return [PartyPublic.of(p) for p in queries.parties(uow, caller.user)]


@router.get("/parties/{code}", response_model=PartyPublic, responses=READ, tags=["parties"])
def show_party(code: PartyCode, caller: Caller, uow: Uow) -> PartyPublic:
    return PartyPublic.of(queries.party(uow, caller.user, code))


@router.get(
    "/agreements", response_model=list[AgreementPublic], responses=READ, tags=["agreements"]
)
def list_agreements(caller: Caller, uow: Uow, on: OnDay = None) -> list[AgreementPublic]:
    """The agreements your party is a party to, with status derived from their dates."""
    day = on or date.today()
    return [AgreementPublic.of(a, day) for a in queries.agreements(uow, caller.user)]


@router.get(
    "/agreements/{code}", response_model=AgreementPublic, responses=READ, tags=["agreements"]
)
def show_agreement(code: Code, caller: Caller, uow: Uow, on: OnDay = None) -> AgreementPublic:
    return AgreementPublic.of(queries.agreement(uow, caller.user, code), on or date.today())


@router.post(
    "/agreements",
    status_code=201,
    response_model=AgreementPublic,
    responses=WRITE,
    tags=["agreements"],
)
def add_agreement(
    body: AgreementCreate,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Record an agreement your party is a party to (party admin), with your party's steps."""

    def write() -> Outcome:
        a = party_admin.add_agreement(uow, caller.user, body.record())
        return outcome(201, AgreementPublic.of(a, date.today()), Location=f"/agreements/{a.code}")

    return respond(request, caller, uow, idempotency_key, body, write)


@router.post(
    "/agreements/{code}/steps",
    response_model=AgreementPublic,
    responses=WRITE,
    tags=["agreements"],
)
def record_step(
    code: Code,
    body: StepCreate,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Record or date one of your own party's ratification steps (party admin)."""

    def write() -> Outcome:
        a = party_admin.record_step(
            uow, caller.user, code, body.party, body.step, body.on, body.note, body.required
        )
        return outcome(200, AgreementPublic.of(a, date.today()))

    return respond(request, caller, uow, idempotency_key, body, write)


@router.get("/facilities", response_model=list[FacilityPublic], responses=READ, tags=["facilities"])
def list_facilities(caller: Caller, uow: Uow, party: PartyQ = None) -> list[FacilityPublic]:
    """Your party's facilities and counterparts' facilities open under a shared agreement."""
    return [FacilityPublic.of(f) for f in queries.facilities(uow, caller.user, party)]


@router.get(
    "/facilities/{code}", response_model=FacilityPublic, responses=READ, tags=["facilities"]
)
def show_facility(code: Code, caller: Caller, uow: Uow) -> FacilityPublic:
    return FacilityPublic.of(queries.facility(uow, caller.user, code))


@router.post(
    "/facilities",
    status_code=201,
    response_model=FacilityPublic,
    responses=WRITE,
    tags=["facilities"],
)
def add_facility(
    body: FacilityCreate,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Add a facility of your party (party admin)."""

    def write() -> Outcome:
        record = body.model_dump(mode="json", exclude_none=True)
        f = catalogue.add_facility(uow, caller.user.name, record)
        return outcome(201, FacilityPublic.of(f), Location=f"/facilities/{f.code}")

    return respond(request, caller, uow, idempotency_key, body, write)


@router.get("/units", response_model=list[UnitPublic], responses=READ, tags=["units"])
def list_units(caller: Caller, uow: Uow, party: PartyQ = None) -> list[UnitPublic]:
    """Your party's units, and counterparts' units on orders you see."""
    return [UnitPublic.of(u) for u in queries.units(uow, caller.user, party)]


@router.get("/units/{code}", response_model=UnitPublic, responses=READ, tags=["units"])
def show_unit(code: UnitCode, caller: Caller, uow: Uow) -> UnitPublic:
    return UnitPublic.of(queries.unit(uow, caller.user, code))


@router.post("/units", status_code=201, response_model=UnitPublic, responses=WRITE, tags=["units"])
def add_unit(
    body: UnitCreate,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Add a unit (ship, aircraft, contingent) of your party (party admin)."""

    def write() -> Outcome:
        record = body.model_dump(mode="json", exclude_none=True)
        u = catalogue.add_unit(uow, caller.user.name, record)
        return outcome(201, UnitPublic.of(u), Location=f"/units/{u.code}")

    return respond(request, caller, uow, idempotency_key, body, write)


@router.get(
    "/price-items", response_model=list[PriceItemPublic], responses=READ, tags=["price items"]
)
def list_price_items(
    caller: Caller,
    uow: Uow,
    supplier: Annotated[PartyCode | None, Query(description="only this supplier's")] = None,
) -> list[PriceItemPublic]:
    """Your party's price list and your counterparts' price lists."""
    return [PriceItemPublic.of(p) for p in queries.price_items(uow, caller.user, supplier)]


@router.post(
    "/price-items",
    status_code=201,
    response_model=PriceItemPublic,
    responses=WRITE,
    tags=["price items"],
)
def add_price_item(
    body: PriceItemCreate,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Add an item to your party's price list (party admin)."""

    def write() -> Outcome:
        record = body.model_dump(mode="json", exclude_none=True)
        p = catalogue.add_price_item(uow, caller.user.name, record)
        return outcome(201, PriceItemPublic.of(p))

    return respond(request, caller, uow, idempotency_key, body, write)
