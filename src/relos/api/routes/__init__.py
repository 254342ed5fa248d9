"""The API's routers, one module per resource family."""

from __future__ import annotations

from fastapi import APIRouter

from relos.api.routes import (
    ledger,
    netting,
    orders,
    people,
    reconciliation,
    reference,
    settlement,
    visits,
)

ROUTERS: list[APIRouter] = [
    reference.router,
    people.router,
    orders.router,
    ledger.router,
    netting.router,
    settlement.router,
    visits.router,
    reconciliation.router,
]
