"""Users: added, listed and disabled by their own party's admin.

A party with no admin yet may get its first user without an acting user (bootstrap of a new node);
from then on only that party's admin adds or disables its users.
"""

from __future__ import annotations

from relos.domain.errors import NotFound, ValidationError
from relos.domain.users import Role, User, require_admin_of
from relos.services import audit
from relos.services.actors import acting_user
from relos.services.unit_of_work import UnitOfWork


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationError("role", value, f"one of {', '.join(r.value for r in Role)}") from None


def add_user(uow: UnitOfWork, actor: str | None, name: str, party: str, role: str) -> User:
    user = User(name, party, _role(role))
    with uow:
        if uow.reference.find_party(party) is None:
            raise NotFound("party", party, field="party")
        # a party that ever had an admin is past bootstrap, even if its admins are disabled now
        has_admin = any(u.role is Role.PARTY_ADMIN for u in uow.reference.users(party))
        admin = None
        if has_admin or actor:
            admin = acting_user(uow, actor, "add a user")
            require_admin_of(admin, party, "add a user")
        uow.reference.add_user(user)
        audit.record(uow, admin, "user.add", "user", user.name, None, audit.user_snapshot(user))
        uow.commit()
    return user


def disable_user(uow: UnitOfWork, actor: str | None, name: str) -> User:
    with uow:
        target = uow.reference.find_user(name)
        if target is None:
            raise NotFound("user", name, field="name")
        admin = acting_user(uow, actor, "disable a user")
        require_admin_of(admin, target.party, "disable a user")
        disabled = User(target.name, target.party, target.role, active=False)
        uow.reference.save_user(disabled)
        audit.record(
            uow,
            admin,
            "user.disable",
            "user",
            name,
            audit.user_snapshot(target),
            audit.user_snapshot(disabled),
        )
        uow.commit()
    return disabled


def users(uow: UnitOfWork, party: str | None = None) -> list[User]:
    with uow:
        return uow.reference.users(party)
