"""Fixtures of the unit suite: the RELOS world as domain objects and as a seeded fake node."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from relos.domain.agreements import Method
from relos.domain.orders import Order, OrderLine, new_order
from relos.domain.users import User
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
