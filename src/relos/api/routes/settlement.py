"""The settlement engine over HTTP: the conversion run, alerts, the annual report (JSON)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from relos.api.deps import Uow
from relos.api.idempotency import IdempotencyKey, outcome, respond
from relos.api.schemas import READ, WRITE, Code, Input
from relos.api.security import Caller, Writer
from relos.domain.settlement import Alert
from relos.services import annual_files, settlement
from relos.services.audit import plain
from relos.services.idempotency import Outcome

router = APIRouter()


class SettlementRunCreate(Input):
    as_of: date | None = None  # default: today


class ConversionPublic(BaseModel):
    order: str
    seq: int
    on: date
    basis: str
    cleared: list[str]
    amount: str
    currency: str
    invoice: str
    due_on: date


class SkippedPublic(BaseModel):
    order: str
    reason: str


class SettlementRunPublic(BaseModel):
    as_of: date
    converted: list[ConversionPublic]
    skipped: list[SkippedPublic]


class AlertPublic(BaseModel):
    kind: str
    order: str
    agreement: str
    counterparty: str
    since: date | None
    detail: str

    @classmethod
    def of(cls, a: Alert) -> AlertPublic:
        return cls(
            kind=a.kind.value,
            order=a.order,
            agreement=a.agreement,
            counterparty=a.counterparty,
            since=a.since,
            detail=a.detail,
        )


@router.post(
    "/settlement/run",
    response_model=SettlementRunPublic,
    responses=WRITE,
    tags=["settlement"],
)
def run(
    body: SettlementRunCreate,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Convert every in-kind debt owed to your party and overdue on `as_of` to cash (finance
    officer of the creditor). A second run changes nothing."""

    def write() -> Outcome:
        result = settlement.run(uow, caller.user.name, body.as_of or date.today())
        return outcome(
            200,
            SettlementRunPublic(
                as_of=result.as_of,
                converted=[
                    ConversionPublic(
                        order=c.order,
                        seq=c.conversion.seq,
                        on=c.conversion.on,
                        basis=c.conversion.basis,
                        cleared=[str(x) for x in c.conversion.cleared],
                        amount=str(c.conversion.amount.number),
                        currency=c.conversion.amount.commodity,
                        invoice=c.invoice,
                        due_on=c.due_on,
                    )
                    for c in result.converted
                ],
                skipped=[SkippedPublic(order=n, reason=w) for n, w in result.skipped],
            ),
        )

    return respond(request, caller, uow, idempotency_key, body, write)


@router.get("/alerts", response_model=list[AlertPublic], responses=READ, tags=["settlement"])
def alerts(
    caller: Caller,
    uow: Uow,
    as_of: Annotated[date | None, Query(description="the day to look from")] = None,
    uninvoiced_days: Annotated[int, Query(ge=0, le=3650)] = 30,
    soon_days: Annotated[int, Query(ge=0, le=3650)] = 14,
) -> list[AlertPublic]:
    """What needs your action now, for your role and party (same as `relos alerts`)."""
    found = settlement.alerts(
        uow, caller.user.name, as_of or date.today(), uninvoiced_days, soon_days
    )
    return [AlertPublic.of(a) for a in found]


@router.get("/reports/annual", response_model=dict[str, Any], responses=READ, tags=["reports"])
def annual(
    caller: Caller,
    uow: Uow,
    agreement: Annotated[Code, Query(description="agreement code")],
    year: Annotated[int, Query(ge=1900, le=2999)],
) -> dict[str, Any]:
    """The annual report of an agreement your party is a party to (10 U.S.C. 2342(h) shape)."""
    report, names = settlement.annual_report(uow, caller.user.name, agreement, year)
    out: dict[str, Any] = plain(annual_files.as_json(report, names))
    return out
