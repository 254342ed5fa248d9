"""The demo's reference data (parties, agreements, facilities with coordinates, units, price
lists) and its users, without the demo's year of orders: the world of visit and voyage tests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from relos.domain.users import Role
from relos.domain.visits import Visit
from relos.services import catalogue, people, visits
from relos.services.demo import USERS, reference_document
from relos.services.unit_of_work import UnitOfWork


def load_reference(uow: UnitOfWork) -> None:
    with uow:
        catalogue.load(uow, reference_document())
        for roles in USERS.values():
            admin = roles[Role.PARTY_ADMIN]
            party = next(p for p, rs in USERS.items() if rs is roles)
            people.add_user(uow, None, admin, party, Role.PARTY_ADMIN.value)
            for role, name in roles.items():
                if role is not Role.PARTY_ADMIN:
                    people.add_user(uow, admin, name, party, role.value)
        uow.commit()


def planner(party: str) -> str:
    return USERS[party][Role.PLANNER]


def officer(party: str, role: Role) -> str:
    return USERS[party][role]


def notify(uow: UnitOfWork, at: datetime, **kw: Any) -> Visit:
    """An Indian planner's notice of INS Tabar's port call at Vladivostok, 10-14 December 2026,
    given at `at`; keyword arguments replace any field (``actor`` the notifying user)."""
    args: dict[str, Any] = {
        "agreement": "RELOS",
        "facility": "RUVVO",
        "units": ["INS-TABAR"],
        "use": "port_call",
        "arrival": date(2026, 12, 10),
        "departure": date(2026, 12, 14),
        "commander_name": "Arjun Mehta",
        "commander_rank": "Captain",
        "frequencies": ["4.125 MHz"],
        "at": at,
    }
    args.update(kw)
    actor = args.pop("actor", planner("IND"))
    return visits.create(uow, actor, **args)
