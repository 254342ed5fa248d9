"""The demo's reference data (parties, agreements, facilities with coordinates, units, price
lists) and its users, without the demo's year of orders: the world of visit and voyage tests."""

from __future__ import annotations

from relos.domain.users import Role
from relos.services import catalogue, people
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
