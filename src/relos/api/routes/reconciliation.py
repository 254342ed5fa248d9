"""Reconciliation between the parties over HTTP, scoped to the caller's party: match a
counterparty's signed statement, read the runs, dispute and resolve their lines."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from relos.api.deps import Uow
from relos.api.idempotency import IdempotencyKey, outcome, respond
from relos.api.schemas import READ, WRITE, Input
from relos.api.security import Caller, Writer
from relos.domain.reconciliation import ReconLine, ReconRun
from relos.services import reconciliation
from relos.services.idempotency import Outcome
from relos.services.reconciliation import RunReport

router = APIRouter()
TAGS: list[str | Any] = ["reconciliation"]

RunId = Annotated[int, Path(ge=1, le=2**31 - 1, description="reconciliation run number")]
LineNo = Annotated[int, Path(ge=1, le=2**31 - 1, description="line of the run")]


class StatementSubmit(Input):
    """A counterparty's signed statement, exactly as `relos reconcile export` wrote it."""

    statement: dict[str, Any]
    digest: str = Field(max_length=64)
    key_id: str = Field(max_length=32)
    signature: str = Field(max_length=200)


class LineNote(Input):
    note: str = Field(min_length=1, max_length=2000)


class RunPublic(BaseModel):
    id: int
    agreement: str
    party: str
    counterparty: str
    their_as_of: date
    their_key_id: str
    statement_digest: str
    run_by: str
    run_at: datetime
    balance_differences: list[str]

    @classmethod
    def of(cls, r: ReconRun) -> RunPublic:
        return cls(
            id=r.id,
            agreement=r.agreement,
            party=r.party,
            counterparty=r.counterparty,
            their_as_of=r.their_as_of,
            their_key_id=r.their_key_id,
            statement_digest=r.statement_digest,
            run_by=r.run_by,
            run_at=r.run_at,
            balance_differences=list(r.balance_differences),
        )


class LinePublic(BaseModel):
    line: int
    order: str
    status: str
    transaction_date: date
    our_state: str | None
    their_state: str | None
    our_value: str | None
    their_value: str | None
    currency: str
    details: list[str]
    disputed_note: str | None
    disputed_by: str | None
    resolved_note: str | None
    resolved_by: str | None
    open: bool
    overdue: bool

    @classmethod
    def of(cls, ln: ReconLine, as_of: date) -> LinePublic:
        return cls(
            line=ln.line_no,
            order=ln.order,
            status=ln.status.value,
            transaction_date=ln.transaction_date,
            our_state=ln.our_state,
            their_state=ln.their_state,
            our_value=None if ln.our_value is None else str(ln.our_value),
            their_value=None if ln.their_value is None else str(ln.their_value),
            currency=ln.currency,
            details=list(ln.details),
            disputed_note=ln.disputed_note,
            disputed_by=ln.disputed_by,
            resolved_note=ln.resolved_note,
            resolved_by=ln.resolved_by,
            open=ln.open,
            overdue=ln.overdue(as_of),
        )


class RunDetail(RunPublic):
    counts: dict[str, int]
    lines: list[LinePublic]

    @classmethod
    def of_report(cls, report: RunReport) -> RunDetail:
        return cls(
            **RunPublic.of(report.run).model_dump(),
            counts=report.counts(),
            lines=[LinePublic.of(ln, report.as_of) for ln in report.lines],
        )


@router.get("/reconciliation/runs", response_model=list[RunPublic], responses=READ, tags=TAGS)
def list_runs(caller: Caller, uow: Uow) -> list[RunPublic]:
    """Your party's reconciliation runs (finance officers, auditors, party admins)."""
    return [RunPublic.of(r) for r in reconciliation.runs(uow, caller.user.name)]


@router.get("/reconciliation/runs/{run_id}", response_model=RunDetail, responses=READ, tags=TAGS)
def show_run(
    run_id: RunId,
    caller: Caller,
    uow: Uow,
    as_of: Annotated[
        date | None, Query(description="the day lines over a year old are flagged on")
    ] = None,
) -> RunDetail:
    """A run of your party with its lines; `overdue` marks lines unreconciled over a year."""
    return RunDetail.of_report(reconciliation.show(uow, caller.user.name, run_id, as_of))


@router.post(
    "/reconciliation/runs", status_code=201, response_model=RunDetail, responses=WRITE, tags=TAGS
)
def match_statement(
    body: StatementSubmit,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Verify a counterparty's signed statement and match it against your party's records
    (a finance officer of the party the statement is addressed to)."""

    def write() -> Outcome:
        text = json.dumps(body.model_dump(mode="json"), ensure_ascii=False)
        report = reconciliation.match_statement(uow, caller.user.name, text)
        return outcome(
            201, RunDetail.of_report(report), Location=f"/reconciliation/runs/{report.run.id}"
        )

    return respond(request, caller, uow, idempotency_key, body, write)


def _line_action(
    verb: str,
    run_id: int,
    line_no: int,
    body: LineNote,
    request: Request,
    caller: Any,
    uow: Any,
    idempotency_key: str,
) -> JSONResponse:
    def write() -> Outcome:
        act = reconciliation.dispute if verb == "dispute" else reconciliation.resolve
        line = act(uow, caller.user.name, run_id, line_no, body.note)
        return outcome(200, LinePublic.of(line, date.today()))

    return respond(request, caller, uow, idempotency_key, body, write)


@router.post(
    "/reconciliation/runs/{run_id}/lines/{line_no}/dispute",
    response_model=LinePublic,
    responses=WRITE,
    tags=TAGS,
)
def dispute_line(
    run_id: RunId,
    line_no: LineNo,
    body: LineNote,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Dispute a line of your party's run, with a note (a finance officer)."""
    return _line_action("dispute", run_id, line_no, body, request, caller, uow, idempotency_key)


@router.post(
    "/reconciliation/runs/{run_id}/lines/{line_no}/resolve",
    response_model=LinePublic,
    responses=WRITE,
    tags=TAGS,
)
def resolve_line(
    run_id: RunId,
    line_no: LineNo,
    body: LineNote,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Resolve a line of your party's run, with a note (a finance officer)."""
    return _line_action("resolve", run_id, line_no, body, request, caller, uow, idempotency_key)
