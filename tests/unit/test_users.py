"""Users: one party, one role; each order action is reserved to one role on one side."""

from __future__ import annotations

import pytest

from relos.domain.errors import PermissionDenied, ValidationError
from relos.domain.users import (
    ORDER_ACTIONS,
    Role,
    Side,
    User,
    require_admin_of,
    require_order_action,
)


def user(role: Role, party: str = "IND", active: bool = True) -> User:
    return User(f"{party.lower()}-{role.value}", party, role, active)


@pytest.mark.parametrize("name", ["", " lead", "a" * 65, "x;drop"])
def test_a_user_name_is_letters_digits_space_and_punctuation(name: str) -> None:
    with pytest.raises(ValidationError) as e:
        User(name, "IND", Role.AUDITOR)
    assert e.value.field == "name"


def test_a_user_name_may_be_written_in_the_partys_script() -> None:
    assert User("Кап. Иванов", "RUS", Role.ACCEPTING_OFFICER).party == "RUS"
    assert User("ले. प्रिया नायर", "IND", Role.RECEIVING_OFFICER).name


def test_a_user_belongs_to_a_party_given_by_its_alpha_3_code() -> None:
    with pytest.raises(ValidationError) as e:
        User("x", "India", Role.AUDITOR)
    assert (e.value.field, e.value.value) == ("party", "India")


@pytest.mark.parametrize(("action", "rule"), sorted(ORDER_ACTIONS.items()))
def test_each_action_is_allowed_to_its_roles_on_its_side_only(
    action: str, rule: tuple[frozenset[Role], Side]
) -> None:
    roles, side = rule
    sides = {
        Side.REQUESTING: {"IND"},
        Side.SUPPLYING: {"RUS"},
        Side.EITHER: {"IND", "RUS"},
    }[side]
    for party in ("IND", "RUS"):
        for role in Role:
            u = user(role, party)
            if role in roles and party in sides:
                require_order_action(u, action, "IND", "RUS")
            else:
                with pytest.raises(PermissionDenied) as e:
                    require_order_action(u, action, "IND", "RUS")
                assert (e.value.field, e.value.value) == ("user", u.name)


def test_the_requester_cannot_accept_its_own_order() -> None:
    with pytest.raises(PermissionDenied) as e:
        require_order_action(user(Role.ACCEPTING_OFFICER, "IND"), "accept", "IND", "RUS")
    assert "only the supplying party RUS may" in e.value.message


def test_an_auditor_cannot_act_on_orders() -> None:
    for action in ORDER_ACTIONS:
        with pytest.raises(PermissionDenied):
            require_order_action(user(Role.AUDITOR), action, "IND", "RUS")


def test_a_disabled_officer_cannot_act_even_in_the_right_role() -> None:
    with pytest.raises(PermissionDenied) as e:
        require_order_action(user(Role.ORDERING_OFFICER, active=False), "submit", "IND", "RUS")
    assert "disabled" in e.value.message


def test_only_a_partys_own_admin_administers_it() -> None:
    require_admin_of(user(Role.PARTY_ADMIN, "IND"), "IND", "add a user")
    with pytest.raises(PermissionDenied):
        require_admin_of(user(Role.PARTY_ADMIN, "RUS"), "IND", "add a user")
    with pytest.raises(PermissionDenied):
        require_admin_of(user(Role.FINANCE_OFFICER, "IND"), "IND", "add a user")
    with pytest.raises(PermissionDenied):
        require_admin_of(user(Role.PARTY_ADMIN, "IND", active=False), "IND", "add a user")
