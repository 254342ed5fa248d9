"""Who acts: every action is taken by a named user of one party in one role."""

from __future__ import annotations

from relos.domain.errors import NotFound, PermissionDenied
from relos.domain.users import User
from relos.services.unit_of_work import UnitOfWork


def acting_user(uow: UnitOfWork, name: str | None, action: str) -> User:
    if not name:
        raise PermissionDenied("", action, "no user given: pass --as NAME or set RELOS_USER")
    user = uow.reference.find_user(name)
    if user is None:
        raise NotFound("user", name, field="as")
    if not user.active:
        raise PermissionDenied(name, action, "the user is disabled")
    return user
