"""Users, their roles, and which side of an order each role may act for.

A **user** belongs to exactly one party and holds one role. Each order action is reserved to one
role on one side: the requesting party (which receives support) or the supplying party.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from relos.domain.agreements import check_party_code
from relos.domain.errors import PermissionDenied, ValidationError


class Role(StrEnum):
    ORDERING_OFFICER = "ordering_officer"
    ACCEPTING_OFFICER = "accepting_officer"
    RECEIVING_OFFICER = "receiving_officer"
    FINANCE_OFFICER = "finance_officer"
    PLANNER = "planner"
    AUDITOR = "auditor"
    PARTY_ADMIN = "party_admin"


class Side(StrEnum):
    REQUESTING = "requesting"
    SUPPLYING = "supplying"
    EITHER = "either"


#: action -> (roles allowed, side of the order the user's party must be on)
ORDER_ACTIONS: dict[str, tuple[frozenset[Role], Side]] = {
    "draft": (frozenset({Role.ORDERING_OFFICER, Role.PLANNER}), Side.REQUESTING),
    "submit": (frozenset({Role.ORDERING_OFFICER}), Side.REQUESTING),
    "amend": (frozenset({Role.ORDERING_OFFICER}), Side.REQUESTING),
    "cancel": (frozenset({Role.ORDERING_OFFICER}), Side.REQUESTING),
    "accept": (frozenset({Role.ACCEPTING_OFFICER}), Side.SUPPLYING),
    "reject": (frozenset({Role.ACCEPTING_OFFICER}), Side.SUPPLYING),
    "receive": (frozenset({Role.RECEIVING_OFFICER}), Side.REQUESTING),
    "invoice": (frozenset({Role.FINANCE_OFFICER}), Side.SUPPLYING),
    "settle": (frozenset({Role.FINANCE_OFFICER}), Side.EITHER),
    "reverse": (frozenset({Role.FINANCE_OFFICER}), Side.EITHER),
    "close": (frozenset({Role.FINANCE_OFFICER}), Side.SUPPLYING),
    # recording a party's past orders from a file (`relos import orders`): every step, either side
    "import": (frozenset({Role.PARTY_ADMIN}), Side.EITHER),
}

NAME = re.compile(r"^[\w][\w .'-]{0,63}$", re.UNICODE)


def valid_name(name: str) -> bool:
    """A user name per NAME, where combining marks (Devanagari vowel signs, virama) count as
    part of the letter they follow: ``\\w`` alone refuses "अर्जुन"."""
    if not name or len(name) > 64 or unicodedata.category(name[0]).startswith("M"):
        return False
    base = "".join(c for c in name if not unicodedata.category(c).startswith("M"))
    return bool(NAME.match(base))


@dataclass(frozen=True)
class User:
    name: str
    party: str
    role: Role
    active: bool = True

    def __post_init__(self) -> None:
        if not valid_name(self.name or ""):
            raise ValidationError("name", self.name, "letters, digits, space, . ' - (64 at most)")
        check_party_code(self.party)


@dataclass(frozen=True)
class Importer(User):
    """A party admin recording its party's orders from a file (`relos import orders`).

    It signs each step of an imported order (submit, accept, receive, invoice) in place of the
    officers who acted outside relos, and only on orders its own party requested or supplied:
    every order action it takes is checked as the action ``import``.
    """


def require_order_action(user: User, action: str, requesting: str, supplying: str) -> None:
    """Refuse `action` unless `user` holds its role on the right side of the order."""
    if isinstance(user, Importer):
        action = "import"
    roles, side = ORDER_ACTIONS[action]
    if not user.active:
        raise PermissionDenied(user.name, action, "the user is disabled")
    if user.role not in roles:
        allowed = " or ".join(sorted(r.value for r in roles))
        raise PermissionDenied(user.name, action, f"role {user.role.value}; needs {allowed}")
    sides = {
        Side.REQUESTING: {requesting},
        Side.SUPPLYING: {supplying},
        Side.EITHER: {requesting, supplying},
    }[side]
    if user.party not in sides:
        wanted = {
            Side.REQUESTING: f"the requesting party {requesting}",
            Side.SUPPLYING: f"the supplying party {supplying}",
            Side.EITHER: f"{requesting} or {supplying}",
        }[side]
        raise PermissionDenied(
            user.name, action, f"party {user.party} acts here; only {wanted} may"
        )


def require_admin_of(user: User, party: str, action: str) -> None:
    if not user.active:
        raise PermissionDenied(user.name, action, "the user is disabled")
    if user.role is not Role.PARTY_ADMIN or user.party != party:
        raise PermissionDenied(user.name, action, f"only a party_admin of {party} may")
