"""Support orders: draft, list (filters, sort, pages, CSV), show, and every signed action.

Each action is ``POST /orders/{number}/<action>`` with ``If-Match`` (the ETag of the order as
read) and ``Idempotency-Key``. Roles and sides are the domain's: a transition is allowed only to
the role and party the design gives it. An order the caller's party may not see is 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from relos.api.deps import Uow
from relos.api.idempotency import IdempotencyKey, IfMatch, etag, expected_version, outcome, respond
from relos.api.schemas import (
    ACTION,
    READ,
    WRITE,
    AmendIn,
    Code,
    InvoiceIn,
    OrderCreate,
    OrderNumber,
    OrderPublic,
    OrderSummary,
    PagePublic,
    PartyCode,
    ReasonIn,
    ReceiveIn,
    ReverseIn,
    SettleIn,
    UnitCode,
)
from relos.api.security import Caller, Writer
from relos.domain.agreements import Method
from relos.domain.orders import Order, OrderState
from relos.services import ordering, queries
from relos.services.auth import Principal
from relos.services.idempotency import Outcome
from relos.services.queries import MAX_LIMIT, Direction, OrderFilter, SortField
from relos.services.unit_of_work import UnitOfWork

router = APIRouter(prefix="/orders", tags=["orders"])


def order_filter(
    agreement: Annotated[Code | None, Query()] = None,
    party: Annotated[PartyCode | None, Query(description="requesting or supplying")] = None,
    state: Annotated[OrderState | None, Query()] = None,
    facility: Annotated[Code | None, Query()] = None,
    unit: Annotated[UnitCode | None, Query()] = None,
    method: Annotated[Method | None, Query()] = None,
    created_from: Annotated[date | None, Query()] = None,
    created_to: Annotated[date | None, Query()] = None,
    sort: Annotated[SortField, Query()] = SortField.NUMBER,
    direction: Annotated[Direction, Query()] = Direction.ASC,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = queries.DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> OrderFilter:
    return OrderFilter(
        agreement=agreement,
        party=party,
        state=state,
        facility=facility,
        unit=unit,
        method=method,
        created_from=created_from,
        created_to=created_to,
        sort=sort,
        direction=direction,
        limit=limit,
        offset=offset,
    )


Filter = Annotated[OrderFilter, Depends(order_filter)]


@router.get("", response_model=PagePublic[OrderSummary], responses=READ)
def list_orders(caller: Caller, uow: Uow, f: Filter) -> PagePublic[OrderSummary]:
    """The orders your party requests or supplies (a requester's drafts are its own)."""
    page = queries.orders(uow, caller.user, f)
    return PagePublic[OrderSummary](
        items=[OrderSummary.of(o) for o in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get(
    ".csv",
    response_class=Response,
    responses={
        **READ,
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"},
    },
)
def export_orders(caller: Caller, uow: Uow, f: Filter) -> Response:
    """The same orders as CSV (every match, sorted; limit and offset are ignored)."""
    text = queries.orders_csv(queries.each_order(uow, caller.user, f, signatures=False))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="orders.csv"'},
    )


@router.post("", status_code=201, response_model=OrderPublic, responses=WRITE)
def draft_order(
    body: OrderCreate,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Draft an order (ordering officer or planner of the requesting party)."""

    def write() -> Outcome:
        o = ordering.draft(
            uow,
            caller.user.name,
            agreement=body.agreement,
            supplying=body.supplying,
            facility=body.facility,
            unit=body.unit,
            method=body.method.value,
            use=body.use.value,
            required_by=body.required_by,
            lines=[(ln.item, ln.quantity) for ln in body.lines],
            data=dict(body.data),
            visit=body.visit,
        )
        return outcome(
            201,
            OrderPublic.of(o, body.visit),  # the draft is linked to the visit it was given
            ETag=etag(o),
            Location=f"/orders/{o.number}",
        )

    return respond(request, caller, uow, idempotency_key, body, write)


@router.get("/{number}", response_model=OrderPublic, responses=READ)
def show_order(number: OrderNumber, caller: Caller, uow: Uow, response: Response) -> OrderPublic:
    """An order with its lines, receipts, invoices, settlements and signatures; the ETag header
    is what order actions send back as If-Match."""
    o = queries.order(uow, caller.user, number)
    response.headers["ETag"] = etag(o)
    return OrderPublic.of(o, queries.order_visit(uow, number))


Act = Callable[[str, int], Order]


def _action(
    request: Request,
    caller: Principal,
    uow: UnitOfWork,
    number: str,
    key: str,
    if_match: str,
    body: ReasonIn | AmendIn | ReceiveIn | InvoiceIn | SettleIn | ReverseIn | None,
    act: Act,
) -> JSONResponse:
    version = expected_version(if_match, number)

    def write() -> Outcome:
        queries.visible_order(uow, caller.user, number)  # unseen is not found, before any rule
        o = act(caller.user.name, version)
        return outcome(200, OrderPublic.of(o, queries.order_visit(uow, number)), ETag=etag(o))

    return respond(request, caller, uow, key, body, write)


@router.post("/{number}/submit", response_model=OrderPublic, responses=ACTION)
def submit(
    number: OrderNumber,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
    if_match: IfMatch,
) -> JSONResponse:
    """Submit a draft to the supplying party (ordering officer of the requester)."""
    return _action(
        request,
        caller,
        uow,
        number,
        idempotency_key,
        if_match,
        None,
        lambda who, v: ordering.submit(uow, who, number, expected_version=v),
    )


@router.post("/{number}/accept", response_model=OrderPublic, responses=ACTION)
def accept(
    number: OrderNumber,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
    if_match: IfMatch,
) -> JSONResponse:
    """Accept a submitted order; prices are fixed now (accepting officer of the supplier)."""
    return _action(
        request,
        caller,
        uow,
        number,
        idempotency_key,
        if_match,
        None,
        lambda who, v: ordering.accept(uow, who, number, expected_version=v),
    )


@router.post("/{number}/reject", response_model=OrderPublic, responses=ACTION)
def reject(
    number: OrderNumber,
    body: ReasonIn,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
    if_match: IfMatch,
) -> JSONResponse:
    """Reject a submitted order, giving the reason (accepting officer of the supplier)."""
    return _action(
        request,
        caller,
        uow,
        number,
        idempotency_key,
        if_match,
        body,
        lambda who, v: ordering.reject(uow, who, number, body.reason, expected_version=v),
    )


@router.post("/{number}/cancel", response_model=OrderPublic, responses=ACTION)
def cancel(
    number: OrderNumber,
    body: ReasonIn,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
    if_match: IfMatch,
) -> JSONResponse:
    """Cancel an order before any receipt (ordering officer of the requester)."""
    return _action(
        request,
        caller,
        uow,
        number,
        idempotency_key,
        if_match,
        body,
        lambda who, v: ordering.cancel(uow, who, number, body.reason, expected_version=v),
    )


@router.post("/{number}/amend", response_model=OrderPublic, responses=ACTION)
def amend(
    number: OrderNumber,
    body: AmendIn,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
    if_match: IfMatch,
) -> JSONResponse:
    """A new revision with these lines, which the supplier accepts again (ordering officer)."""
    return _action(
        request,
        caller,
        uow,
        number,
        idempotency_key,
        if_match,
        body,
        lambda who, v: ordering.amend(
            uow,
            who,
            number,
            [(ln.item, ln.quantity) for ln in body.lines],
            body.required_by,
            None if body.data is None else dict(body.data),
            expected_version=v,
        ),
    )


@router.post("/{number}/receive", response_model=OrderPublic, responses=ACTION)
def receive(
    number: OrderNumber,
    body: ReceiveIn,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
    if_match: IfMatch,
) -> JSONResponse:
    """Sign a receipt of delivered quantities; no lines: all that is outstanding (receiving
    officer of the requester)."""

    def act(who: str, v: int) -> Order:
        if not body.lines:
            return ordering.receive_all(uow, who, number, body.on, expected_version=v)
        quantities = [(ln.line, ln.quantity) for ln in body.lines]
        return ordering.receive(uow, who, number, quantities, body.on, expected_version=v)

    return _action(request, caller, uow, number, idempotency_key, if_match, body, act)


@router.post("/{number}/invoice", response_model=OrderPublic, responses=ACTION)
def invoice(
    number: OrderNumber,
    body: InvoiceIn,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
    if_match: IfMatch,
) -> JSONResponse:
    """Invoice what was received (finance officer of the supplier)."""
    return _action(
        request,
        caller,
        uow,
        number,
        idempotency_key,
        if_match,
        body,
        lambda who, v: ordering.invoice(uow, who, number, body.issued_on, expected_version=v),
    )


@router.post("/{number}/settle", response_model=OrderPublic, responses=ACTION)
def settle(
    number: OrderNumber,
    body: SettleIn,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
    if_match: IfMatch,
) -> JSONResponse:
    """Record a payment, a return in kind or an equal-value provision (finance officer)."""
    return _action(
        request,
        caller,
        uow,
        number,
        idempotency_key,
        if_match,
        body,
        lambda who, v: ordering.settle(
            uow,
            who,
            number,
            body.amount,
            body.commodity,
            body.on,
            body.note,
            expected_version=v,
        ),
    )


@router.post("/{number}/reverse", response_model=OrderPublic, responses=ACTION)
def reverse(
    number: OrderNumber,
    body: ReverseIn,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
    if_match: IfMatch,
) -> JSONResponse:
    """Reverse a wrongly recorded settlement (finance officer); nothing is edited."""
    return _action(
        request,
        caller,
        uow,
        number,
        idempotency_key,
        if_match,
        body,
        lambda who, v: ordering.reverse(
            uow, who, number, body.settlement, body.reason, expected_version=v
        ),
    )


@router.post("/{number}/close", response_model=OrderPublic, responses=ACTION)
def close(
    number: OrderNumber,
    request: Request,
    caller: Writer,
    uow: Uow,
    idempotency_key: IdempotencyKey,
    if_match: IfMatch,
) -> JSONResponse:
    """Close a settled order (finance officer of the supplier)."""
    return _action(
        request,
        caller,
        uow,
        number,
        idempotency_key,
        if_match,
        None,
        lambda who, v: ordering.close(uow, who, number, expected_version=v),
    )
