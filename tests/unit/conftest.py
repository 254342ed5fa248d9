"""Fixtures of the unit suite: the RELOS world as domain objects and as a seeded fake node."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from relos.domain.agreements import Method
from relos.domain.ledger import Entry, balances, mirror_mismatches
from relos.domain.orders import Order, OrderLine, new_order
from relos.domain.users import User
from relos.services import ordering
from tests.fakes import ORDER_DATA, FakeUnitOfWork, World, seeded_uow, world

#: A day on which RELOS is in force and the first diesel price is valid.
DAY = date(2026, 3, 1)
AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

OrderFactory = Callable[..., Order]


@pytest.fixture
def w() -> World:
    return world()


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return seeded_uow()


@pytest.fixture
def users(w: World) -> dict[str, User]:
    return w.users


@pytest.fixture
def make_order(w: World) -> OrderFactory:
    """A draft order of India at Severomorsk (or any other facility/unit given)."""

    def make(
        *,
        lines: list[tuple[str, str]] | None = None,
        method: Method = Method.CASH,
        facility: str = "RU-SEV",
        unit: str = "INS-TABAR",
        supplying: str = "RUS",
        use: str = "port_call",
        data: dict[str, str] | None = None,
        number: str = "RELOS-IN-2026-000001",
    ) -> Order:
        u = w.units[unit]
        specs = lines if lines is not None else [("F76", "400")]
        return new_order(
            number,
            w.relos,
            u.party,
            supplying,
            w.facilities[facility],
            u,
            method,
            use,
            date(2026, 3, 10),
            [OrderLine(i, code, Decimal(q)) for i, (code, q) in enumerate(specs, start=1)],
            dict(ORDER_DATA) if data is None else data,
            DAY,
        )

    return make


# -- driving a domain order along its life (acting as the seeded users) --------------------------


def later(days: int) -> datetime:
    return AT + timedelta(days=days)


def officer(w: World, party: str, short: str) -> User:
    """The seeded officer of `party`: oo ordering, ao accepting, ro receiving, fo finance."""
    return w.users[f"{party.lower()}-{short}"]


def submitted(o: Order, w: World, at: datetime = AT) -> Order:
    o.submit(
        officer(w, o.requesting, "oo"),
        at,
        w.relos,
        w.facilities[o.facility],
        w.prices_of(o.supplying),
    )
    return o


def accepted(o: Order, w: World, at: datetime = AT) -> Order:
    submitted(o, w, at)
    o.accept(
        officer(w, o.supplying, "ao"),
        at,
        w.relos,
        w.facilities[o.facility],
        w.prices_of(o.supplying),
    )
    return o


def received(o: Order, w: World, qty: str | None = None, day: int = 1) -> Order:
    accepted(o, w)
    o.receive(
        officer(w, o.requesting, "ro"),
        later(day),
        DAY + timedelta(days=day),
        [(ln.line_no, Decimal(qty) if qty else ln.quantity) for ln in o.lines],
    )
    return o


def invoiced(o: Order, w: World, qty: str | None = None) -> Order:
    received(o, w, qty)
    o.invoice(officer(w, o.supplying, "fo"), later(3), "INV-1", DAY + timedelta(days=3), w.relos)
    return o


# -- driving orders through the services on a fake node -----------------------------------------

Snapshot = tuple[dict[str, Order], list[Entry], dict[Any, Decimal], dict[str, int]]


def snapshot(uow: FakeUnitOfWork) -> Snapshot:
    """Everything stored, read in a fresh unit of work."""
    with uow:
        orders = {n: uow.orders.get(n) for n in uow.orders.numbers()}
        return orders, uow.ledger.entries(), uow.ledger.balances(), dict(uow.committed.sequences)


def draft(uow: FakeUnitOfWork, actor: str = "ind-oo", **changes: Any) -> Order:
    args: dict[str, Any] = {
        "agreement": "RELOS",
        "supplying": "RUS",
        "facility": "RU-SEV",
        "unit": "INS-TABAR",
        "method": "cash",
        "use": "port_call",
        "required_by": date(2026, 3, 10),
        "lines": [("F76", "400")],
        "data": dict(ORDER_DATA),
        "at": AT,
    }
    args.update(changes)
    return ordering.draft(uow, actor, **args)


def to_accepted(uow: FakeUnitOfWork, **changes: Any) -> Order:
    o = draft(uow, **changes)
    req, sup = o.requesting.lower(), o.supplying.lower()
    ordering.submit(uow, f"{req}-oo", o.number, at=AT)
    return ordering.accept(uow, f"{sup}-ao", o.number, at=AT)


def to_invoiced(uow: FakeUnitOfWork, **changes: Any) -> Order:
    o = to_accepted(uow, **changes)
    req, sup = o.requesting.lower(), o.supplying.lower()
    ordering.receive_all(uow, f"{req}-ro", o.number, at=later(1))
    return ordering.invoice(uow, f"{sup}-fo", o.number, at=later(2))


def assert_books_consistent(uow: FakeUnitOfWork) -> None:
    with uow:
        entries = uow.ledger.entries()
        kept = uow.ledger.balances()
        assert kept == uow.ledger.summed_balances() == balances(entries)
    assert all(not e.unbalanced() for e in entries)
    assert mirror_mismatches(kept) == []
