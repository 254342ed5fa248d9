"""Agreements kept by the parties' own admins (over the API).

A party's admin may record an agreement its party is a party to, and date its own party's
ratification steps; it never records another party's step, nor an agreement between others.
(The node's database administration — ``relos load``, ``relos agreement`` — is not limited so.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from relos.domain.agreements import Agreement
from relos.domain.errors import NotFound
from relos.domain.records import agreement_from
from relos.domain.users import User, require_admin_of
from relos.services import catalogue
from relos.services.unit_of_work import UnitOfWork


def add_agreement(uow: UnitOfWork, admin: User, record: Mapping[str, Any]) -> Agreement:
    a = agreement_from(record)
    if admin.party not in a.parties:
        require_admin_of(admin, a.parties[0], "record an agreement of other parties")
    require_admin_of(admin, admin.party, "record an agreement")
    for s in a.steps:
        require_admin_of(admin, s.party, "record another party's ratification step")
    return catalogue.add_agreement(uow, record)


def record_step(
    uow: UnitOfWork,
    admin: User,
    code: str,
    party: str,
    step: str,
    on: date | None,
    note: str = "",
    required: bool = True,
) -> Agreement:
    with uow:
        found = uow.reference.find_agreement(code)
        if found is None or admin.party not in found.parties:
            raise NotFound("agreement", code, field="code")
        require_admin_of(admin, party, "record a ratification step")
        updated = catalogue.record_step(uow, code, party, step, on, note, required)
        uow.commit()
    return updated
