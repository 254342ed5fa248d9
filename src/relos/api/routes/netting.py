"""Exchange rates and netting statements over HTTP: the same services and rules as the command.

Reads are party-scoped (a statement is seen only by users of its parties; rates are reference
data anyone signed in may read); writes need an Idempotency-Key and a finance officer.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints

from relos.api.deps import Uow
from relos.api.idempotency import IdempotencyKey, outcome, respond
from relos.api.schemas import READ, WRITE, Code, DecimalText, Input
from relos.api.security import Caller, Writer
from relos.services import netting
from relos.services.idempotency import Outcome
from relos.services.netting_pdf import statement_pdf

router = APIRouter()

Pair = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}/?[A-Za-z]{3}$", max_length=7)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$", max_length=3)]
RateText = Annotated[
    str, StringConstraints(pattern=r"^[0-9]{1,12}(\.[0-9]{1,12})?$", max_length=25)
]
Source = Annotated[
    str, StringConstraints(pattern=r"^[^\x00-\x20\x7f][^\x00-\x1f\x7f]{0,39}$", max_length=40)
]
StatementNumber = Annotated[
    str,
    Path(pattern=r"^NET-[A-Z0-9_-]{1,30}-[0-9]{4}-[0-9]{4,6}$", max_length=48),
]


class RatePublic(BaseModel):
    date: date
    pair: str
    rate: str
    source: str
    imported_at: str | None


class RateIn(Input):
    date: date
    pair: Pair
    rate: RateText
    source: Source


class RatesImport(Input):
    rows: list[RateIn] = Field(min_length=1, max_length=5000)


class RatesImported(BaseModel):
    added: int
    unchanged: int


class NettingCreate(Input):
    agreement: Code
    as_of: date
    currency: Currency | None = None


class NettingLinePublic(BaseModel):
    order: str
    debtor: str
    creditor: str
    currency: str
    outstanding: str
    covered: str
    remaining: str
    converted: str
    converted_covered: str
    rate: str
    rate_date: date | None
    source: str


class NettingPaymentPublic(BaseModel):
    payer: str
    payee: str
    amount: str
    currency: str
    on_orders: str
    new_obligation: str


class ApprovalPublic(BaseModel):
    party: str
    user: str
    role: str
    at: str
    digest: str


PartyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$", max_length=3)]
PaymentReference = Annotated[
    str, StringConstraints(pattern=r"^[^\x00-\x20\x7f][^\x00-\x1f\x7f]{0,79}$", max_length=80)
]


class NettingObligationPublic(BaseModel):
    statement: str
    agreement: str
    debtor: str
    creditor: str
    currency: str
    amount: str
    paid: str
    outstanding: str
    posted_on: date
    due_on: date


class DebtPaymentPublic(BaseModel):
    seq: int
    payer: str
    payee: str
    amount: str
    currency: str
    on: date
    reference: str
    user: str
    party: str
    at: str
    digest: str


class NettingPay(Input):
    debtor: PartyCode
    creditor: PartyCode
    amount: DecimalText
    currency: Currency | None = None
    on: date | None = None
    reference: PaymentReference = Field(
        description="the payment's own reference (transfer or voucher number); the same "
        "reference with the same content records nothing new"
    )


class NettingPublic(BaseModel):
    number: str
    agreement: str
    as_of: date
    currency: str
    parties: list[str]
    state: str
    fingerprint: str
    digest: str
    proposed_by: str
    proposed_at: str
    posted_at: str | None
    positions: dict[str, str]
    lines: list[NettingLinePublic]
    payments: list[NettingPaymentPublic]
    approvals: list[ApprovalPublic]
    due_on: date | None
    obligations: list[NettingObligationPublic]
    debt_payments: list[DebtPaymentPublic]


def _public(snap: dict[str, Any]) -> NettingPublic:
    return NettingPublic.model_validate(snap)


@router.get("/rates", response_model=list[RatePublic], responses=READ, tags=["netting"])
def list_rates(
    caller: Caller, uow: Uow, pair: Annotated[Pair | None, Query()] = None
) -> list[RatePublic]:
    """Stored exchange rates, oldest first (one pair with `pair=RUB/INR`)."""
    return [RatePublic.model_validate(netting.rate_row(r)) for r in netting.rates(uow, pair)]


@router.post(
    "/rates", status_code=201, response_model=RatesImported, responses=WRITE, tags=["netting"]
)
def import_rates(
    body: RatesImport, request: Request, caller: Writer, uow: Uow, idempotency_key: IdempotencyKey
) -> JSONResponse:
    """Import rates (finance officer), all or nothing; identical stored rows are skipped, a
    different rate for the same date, pair and source is refused."""

    def write() -> Outcome:
        rows = [(r.date.isoformat(), r.pair, r.rate, r.source) for r in body.rows]
        done = netting.import_rate_rows(uow, caller.user.name, rows)
        return outcome(201, RatesImported(added=len(done.added), unchanged=done.unchanged))

    return respond(request, caller, uow, idempotency_key, body, write)


@router.get("/netting", response_model=list[NettingPublic], responses=READ, tags=["netting"])
def list_statements(
    caller: Caller, uow: Uow, agreement: Annotated[Code | None, Query()] = None
) -> list[NettingPublic]:
    """Netting statements of agreements your party is a party to."""
    return [
        _public(netting.snapshot(s)) for s in netting.statements(uow, caller.user.name, agreement)
    ]


@router.get(
    "/netting/{number}.csv",
    response_class=Response,
    responses={
        **READ,
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"},
    },
    tags=["netting"],
)
def statement_csv(number: StatementNumber, caller: Caller, uow: Uow) -> Response:
    """The statement as CSV: its lines, then the payments left."""
    st = netting.statement(uow, caller.user.name, number)
    return Response(netting.statement_csv(st), media_type="text/csv; charset=utf-8")


@router.get(
    "/netting/{number}.pdf",
    response_class=Response,
    responses={
        **READ,
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "PDF",
        },
    },
    tags=["netting"],
)
def statement_pdf_(number: StatementNumber, caller: Caller, uow: Uow) -> Response:
    """The statement as PDF (the parties' names in their own scripts)."""
    st = netting.statement(uow, caller.user.name, number)
    return Response(statement_pdf(st, netting.party_names(uow, st)), media_type="application/pdf")


@router.get("/netting/{number}", response_model=NettingPublic, responses=READ, tags=["netting"])
def show_statement(number: StatementNumber, caller: Caller, uow: Uow) -> NettingPublic:
    """One statement with its lines, payments and approvals (404 unless your party is in it)."""
    return _public(netting.snapshot(netting.statement(uow, caller.user.name, number)))


@router.post(
    "/netting", status_code=201, response_model=NettingPublic, responses=WRITE, tags=["netting"]
)
def propose(
    body: NettingCreate,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Propose the offset of the agreement's mutual cash obligations (finance officer of a
    party to it); stored, to be approved by a finance officer of each party."""

    def write() -> Outcome:
        st = netting.propose(uow, caller.user.name, body.agreement, body.as_of, body.currency)
        return outcome(201, _public(netting.snapshot(st)))

    return respond(request, caller, uow, idempotency_key, body, write)


@router.post(
    "/netting/{number}/approve",
    response_model=NettingPublic,
    responses=WRITE,
    tags=["netting"],
)
def approve(
    number: StatementNumber,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Approve as a finance officer of one party; the last party's approval posts the netting
    (refused when the obligations changed since the proposal)."""

    def write() -> Outcome:
        st = netting.approve(uow, caller.user.name, number)
        return outcome(200, _public(netting.snapshot(st)))

    return respond(request, caller, uow, idempotency_key, None, write)


@router.get(
    "/netting-obligations",
    response_model=list[NettingObligationPublic],
    responses=READ,
    tags=["netting"],
)
def list_obligations(
    caller: Caller,
    uow: Uow,
    agreement: Annotated[Code | None, Query()] = None,
    paid: Annotated[bool, Query(description="also those paid in full")] = False,
) -> list[NettingObligationPublic]:
    """Obligations netting statements of your party's agreements created, with what is paid
    and the due date (the agreement's cash window after the posting)."""
    return [
        NettingObligationPublic.model_validate(netting.debt_row(d))
        for d in netting.debts(uow, caller.user.name, agreement, not paid)
    ]


@router.post(
    "/netting/{number}/pay",
    response_model=NettingPublic,
    responses=WRITE,
    tags=["netting"],
)
def pay(
    number: StatementNumber,
    body: NettingPay,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Record a cash payment of a netting obligation the statement created (finance officer of
    the debtor or the creditor; full or partial, never more than outstanding); both books are
    posted on the netting method."""

    def write() -> Outcome:
        done = netting.pay(
            uow,
            caller.user.name,
            number,
            debtor=body.debtor,
            creditor=body.creditor,
            amount=body.amount,
            currency=body.currency,
            on=body.on,
            reference=body.reference,
        )
        return outcome(200, _public(netting.snapshot(done.statement)))

    return respond(request, caller, uow, idempotency_key, body, write)
