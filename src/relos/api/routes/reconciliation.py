"""Reconciliation between the parties over HTTP, scoped to the caller's party: party signing
keys, the caller's party's signed statement (streamed), matching a counterparty's statement
(read streamed), the runs, and disputing and resolving their lines."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import IO, Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from relos.api import errors
from relos.api.deps import KeyPassphrase, Uow, WritingUow, settings
from relos.api.idempotency import IdempotencyKey, outcome, respond
from relos.api.schemas import READ, WRITE, Code, Input, PartyCode, problems
from relos.api.security import Caller, Writer
from relos.domain.reconciliation import ReconLine, ReconRun
from relos.services import reconciliation
from relos.services.idempotency import Outcome
from relos.services.reconciliation import PublicKey, RunReport, RunSummary

router = APIRouter()
TAGS: list[str | Any] = ["reconciliation"]
KEY_TAGS: list[str | Any] = ["keys"]
#: a statement up to this size is held in memory on its way through; beyond it, a temporary file
SPOOL_IN_MEMORY = 8 << 20
CHUNK = 64 << 10
SIGN = problems(401, 403, 404, 409, 413, 422, 428, 503)
EXPORT = problems(401, 403, 404, 422, 503)

PartyPath = Annotated[str, Path(pattern=r"^[A-Z]{3}$", max_length=3, description="party code")]

RunId = Annotated[int, Path(ge=1, le=2**31 - 1, description="reconciliation run number")]
LineNo = Annotated[int, Path(ge=1, le=2**31 - 1, description="line of the run")]


class KeyPublic(BaseModel):
    party: str
    key_id: str
    public_pem: str
    created_at: datetime
    signing: bool

    @classmethod
    def of(cls, k: PublicKey) -> KeyPublic:
        return cls(
            party=k.party,
            key_id=k.key_id,
            public_pem=k.public_pem,
            created_at=k.created_at,
            signing=k.signing,
        )


class KeyImport(Input):
    """A counterpart's public key, PEM (as `GET /parties/{party}/keys` on its node gives it)."""

    public_pem: str = Field(min_length=1, max_length=2000)


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


#: lines a page of a run may hold (`GET /reconciliation/runs/{id}?limit=`)
LINES_MAX = 1000


class RunDetail(RunPublic):
    """A run, its lines counted per status, and a page of its lines; `next_after`: the line
    number to ask the next page after (null on the last page)."""

    counts: dict[str, int]
    lines: list[LinePublic]
    next_after: int | None

    @classmethod
    def of_report(cls, report: RunReport) -> RunDetail:
        return cls(
            **RunPublic.of(report.run).model_dump(),
            counts=report.counts(),
            lines=[LinePublic.of(ln, report.as_of) for ln in report.lines],
            next_after=report.next_after,
        )


class RunCreated(RunPublic):
    """A stored run and its counts per status; its lines are at `GET /reconciliation/runs/{id}`."""

    counts: dict[str, int]

    @classmethod
    def of_summary(cls, done: RunSummary) -> RunCreated:
        return cls(**RunPublic.of(done.run).model_dump(), counts=done.counts)


# -- keys -----------------------------------------------------------------------------------------


def _key(uow: Uow, actor: str, party: str, kid: str) -> KeyPublic:
    found = reconciliation.public_keys(uow, actor, party)
    return KeyPublic.of(next(k for k in found if k.key_id == kid))


@router.get("/parties/{party}/keys", response_model=list[KeyPublic], responses=READ, tags=KEY_TAGS)
def list_keys(party: PartyPath, caller: Caller, uow: Uow) -> list[KeyPublic]:
    """A party's public keys held by this node, oldest first (`signing`: the newest key of the
    node's own party). Anyone of the party or of a counterpart party may read them."""
    return [KeyPublic.of(k) for k in reconciliation.public_keys(uow, caller.user.name, party)]


@router.post(
    "/parties/{party}/keys",
    status_code=201,
    response_model=KeyPublic,
    responses=SIGN,
    tags=KEY_TAGS,
)
def create_key(
    party: PartyPath,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
    passphrase: KeyPassphrase,
) -> JSONResponse:
    """Create (or rotate) your party's signing key (a party admin of the party). The private key
    is stored encrypted under RELOS_KEY_PASSPHRASE (503 when the node has none) and never
    leaves the node; the new key signs from now on, older public keys stay."""

    def write() -> Outcome:
        kid = reconciliation.create_key(uow, caller.user.name, party, passphrase=passphrase)
        return outcome(
            201, _key(uow, caller.user.name, party, kid), Location=f"/parties/{party}/keys"
        )

    return respond(request, caller, uow, idempotency_key, None, write)


@router.post(
    "/parties/{party}/keys/import",
    status_code=201,
    response_model=KeyPublic,
    responses=WRITE,
    tags=KEY_TAGS,
)
def import_key(
    party: PartyPath,
    body: KeyImport,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Import a counterpart party's public key (a party admin of your own party)."""

    def write() -> Outcome:
        kid = reconciliation.import_key(uow, caller.user.name, party, body.public_pem)
        return outcome(
            201, _key(uow, caller.user.name, party, kid), Location=f"/parties/{party}/keys"
        )

    return respond(request, caller, uow, idempotency_key, body, write)


# -- statements -----------------------------------------------------------------------------------


def _file_chunks(f: IO[str]) -> Iterator[str]:
    try:
        while block := f.read(CHUNK):
            yield block
    finally:
        f.close()


@router.get(
    "/reconciliation/statement",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The signed statement (relos-statement/2), streamed",
            "content": {"application/json": {}},
        },
        **EXPORT,
    },
    tags=TAGS,
)
def export_statement(
    caller: Caller,
    uow: WritingUow,  # the export is recorded in the audit trail
    passphrase: KeyPassphrase,
    agreement: Annotated[Code, Query(description="agreement code, e.g. RELOS")],
    as_of: Annotated[date | None, Query(description="the statement's date (default today)")] = None,
    counterparty: Annotated[
        PartyCode | None, Query(description="the other side, when the agreement has several")
    ] = None,
) -> StreamingResponse:
    """Your party's signed statement of an agreement with a counterparty (finance officers and
    auditors), signed with your party's newest key: written order by order to a temporary file
    and streamed from it, so neither side holds it whole. The statement's SHA-256 is in the
    `X-Statement-Digest` header."""
    day = as_of or date.today()
    # closed by _file_chunks once the response is sent, or here on an error
    spool = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
    try:
        done = reconciliation.export_statement(
            uow,
            caller.user.name,
            spool,
            agreement=agreement,
            party=caller.user.party,
            as_of=day,
            passphrase=passphrase,
            counterparty=counterparty,
        )
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    name = f"statement-{done.party}-{done.counterparty}-{agreement}-{day.isoformat()}.json"
    return StreamingResponse(
        _file_chunks(spool),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Statement-Digest": done.digest,
        },
    )


# -- runs -----------------------------------------------------------------------------------------


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
    limit: Annotated[int, Query(ge=1, le=LINES_MAX, description="lines per page")] = 100,
    after: Annotated[
        int | None, Query(ge=0, description="the previous page's `next_after` (a line number)")
    ] = None,
) -> RunDetail:
    """A run of your party with its lines counted per status and a page of `limit` lines
    after line `after`; `overdue` marks lines unreconciled over a year."""
    report = reconciliation.show(uow, caller.user.name, run_id, as_of, limit, after)
    return RunDetail.of_report(report)


@router.post(
    "/reconciliation/runs",
    status_code=201,
    response_model=RunCreated,
    responses=WRITE,
    tags=TAGS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A counterparty's signed statement (relos-statement/2), exactly as "
            "its node exported it; read streamed, up to RELOS_STATEMENT_MAX_BYTES.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def match_statement(
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Verify a counterparty's signed statement and match it against your party's records
    (a finance officer of the party the statement is addressed to). The body is spooled to a
    temporary file and parsed, hashed and matched one order at a time; the response holds the
    run and its counts, the lines are at `GET /reconciliation/runs/{id}`."""
    limit: int = settings(request).statement_max_bytes
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as body:
        digest, size = hashlib.sha256(), 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return errors.problem(
                    413,
                    "PayloadTooLarge",
                    f"statements are limited to {limit} bytes (RELOS_STATEMENT_MAX_BYTES)",
                    rule="payload_too_large",
                    field="body",
                )
            digest.update(chunk)
            body.write(chunk)
        body.seek(0)

        def write() -> Outcome:
            done = reconciliation.reconcile(uow, caller.user.name, body)
            return outcome(
                201, RunCreated.of_summary(done), Location=f"/reconciliation/runs/{done.run.id}"
            )

        content = {"sha256": digest.hexdigest(), "bytes": size}
        return await run_in_threadpool(
            respond, request, caller, uow, idempotency_key, content, write
        )


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
