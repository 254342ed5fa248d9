"""Your party's book (balances, entries) and reports scoped to your party."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from relos.api.deps import Uow
from relos.api.schemas import (
    READ,
    AgingPublic,
    BalancePublic,
    EntryPublic,
    ObligationPublic,
    OpenOrderPublic,
    OrderNumber,
)
from relos.api.security import Caller
from relos.services import queries

router = APIRouter()

OBLIGATIONS_MAX = 1000

AsOf = Annotated[date | None, Query(description="balances at the end of this day")]


@router.get("/ledger/balances", response_model=list[BalancePublic], responses=READ, tags=["ledger"])
def balances(caller: Caller, uow: Uow, as_of: AsOf = None) -> list[BalancePublic]:
    """Balances of your party's book (non-zero only)."""
    return [BalancePublic.of(r) for r in queries.balances(uow, caller.user, as_of)]


@router.get("/ledger/entries", response_model=list[EntryPublic], responses=READ, tags=["ledger"])
def entries(
    caller: Caller,
    uow: Uow,
    order: Annotated[OrderNumber | None, Query(description="only this order's")] = None,
) -> list[EntryPublic]:
    """Entries of your party's book."""
    return [EntryPublic.of(e) for e in queries.entries(uow, caller.user, order)]


@router.get(
    "/reports/open-orders",
    response_model=list[OpenOrderPublic],
    responses=READ,
    tags=["reports"],
)
def open_orders(caller: Caller, uow: Uow) -> list[OpenOrderPublic]:
    """Orders not yet closed, rejected or cancelled, that your party sees."""
    return [OpenOrderPublic.of(r) for r in queries.open_orders(uow, caller.user)]


@router.get("/reports/states", response_model=dict[str, int], responses=READ, tags=["reports"])
def states(caller: Caller, uow: Uow) -> dict[str, int]:
    """How many of the orders your party sees are in each state."""
    return queries.orders_by_state(uow, caller.user)


@router.get(
    "/reports/obligations",
    response_model=list[ObligationPublic],
    responses=READ,
    tags=["reports"],
)
def obligations(
    caller: Caller,
    uow: Uow,
    as_of: Annotated[date | None, Query(description="the day overdue is counted on")] = None,
    overdue: Annotated[bool, Query(description="only overdue obligations")] = False,
    limit: Annotated[int, Query(ge=1, le=OBLIGATIONS_MAX, description="rows per page")] = 100,
    after: Annotated[
        str | None,
        Query(max_length=120, description="the `cursor` of the previous page's last row"),
    ] = None,
) -> list[ObligationPublic]:
    """Invoiced, unsettled obligations owed to or by your party, with days overdue: the most
    overdue first (by due date, order, commodity), a page of `limit` rows after `after`."""
    rows = queries.obligations(uow, caller.user, as_of or date.today(), overdue, limit, after)
    return [ObligationPublic.of(r) for r in rows]


@router.get("/reports/aging", response_model=list[AgingPublic], responses=READ, tags=["reports"])
def aging(
    caller: Caller,
    uow: Uow,
    as_of: Annotated[date | None, Query(description="the day overdue is counted on")] = None,
) -> list[AgingPublic]:
    """What is owed to or by your party per debtor, creditor and commodity, by days overdue:
    not yet due, 1-30, 31-60, 61-90, over 90."""
    return [AgingPublic.of(r) for r in queries.aging(uow, caller.user, as_of or date.today())]
