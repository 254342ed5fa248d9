"""Users are added and disabled by their own party's admin; a new party bootstraps its first."""

from __future__ import annotations

import pytest

from relos.domain.errors import AlreadyExists, NotFound, PermissionDenied, ValidationError
from relos.domain.users import Role, User
from relos.services import catalogue, people
from tests.fakes import FakeUnitOfWork, relos_document


@pytest.fixture
def bare() -> FakeUnitOfWork:
    """A node with parties and agreement but no user yet."""
    uow = FakeUnitOfWork()
    doc = relos_document()
    catalogue.load(uow, {"parties": doc["parties"], "agreements": doc["agreements"]})
    return uow


def names(uow: FakeUnitOfWork, party: str | None = None) -> list[str]:
    return [u.name for u in people.users(uow, party)]


def test_a_party_without_an_admin_gets_its_first_user_without_an_acting_user(
    bare: FakeUnitOfWork,
) -> None:
    u = people.add_user(bare, None, "ind-admin", "IND", "party_admin")
    assert u == User("ind-admin", "IND", Role.PARTY_ADMIN)
    assert names(bare) == ["ind-admin"]


def test_once_a_party_has_an_admin_only_that_admin_adds_its_users(bare: FakeUnitOfWork) -> None:
    people.add_user(bare, None, "ind-admin", "IND", "party_admin")
    with pytest.raises(PermissionDenied):
        people.add_user(bare, None, "intruder", "IND", "party_admin")
    people.add_user(bare, "ind-admin", "ind-fo", "IND", "finance_officer")
    assert names(bare, "IND") == ["ind-admin", "ind-fo"]


def test_one_partys_admin_cannot_add_users_to_another_party(bare: FakeUnitOfWork) -> None:
    people.add_user(bare, None, "ind-admin", "IND", "party_admin")
    people.add_user(bare, None, "rus-admin", "RUS", "party_admin")
    with pytest.raises(PermissionDenied) as e:
        people.add_user(bare, "ind-admin", "mole", "RUS", "accepting_officer")
    assert "RUS" in e.value.message
    assert names(bare, "RUS") == ["rus-admin"]


def test_an_acting_user_given_during_bootstrap_must_be_that_partys_admin(
    bare: FakeUnitOfWork,
) -> None:
    people.add_user(bare, None, "ind-admin", "IND", "party_admin")
    with pytest.raises(PermissionDenied):
        people.add_user(bare, "ind-admin", "rus-admin", "RUS", "party_admin")
    assert names(bare, "RUS") == []


def test_a_non_admin_cannot_add_users(bare: FakeUnitOfWork) -> None:
    people.add_user(bare, None, "ind-admin", "IND", "party_admin")
    people.add_user(bare, "ind-admin", "ind-fo", "IND", "finance_officer")
    with pytest.raises(PermissionDenied):
        people.add_user(bare, "ind-fo", "ind-fo2", "IND", "finance_officer")


def test_disabling_the_last_admin_does_not_reopen_bootstrap(bare: FakeUnitOfWork) -> None:
    people.add_user(bare, None, "ind-admin", "IND", "party_admin")
    people.disable_user(bare, "ind-admin", "ind-admin")
    with pytest.raises(PermissionDenied):
        people.add_user(bare, None, "usurper", "IND", "party_admin")
    assert names(bare, "IND") == ["ind-admin"]


def test_a_user_of_an_unknown_party_or_role_is_refused(bare: FakeUnitOfWork) -> None:
    with pytest.raises(NotFound) as e:
        people.add_user(bare, None, "x", "USA", "party_admin")
    assert (e.value.field, e.value.value) == ("party", "USA")
    with pytest.raises(ValidationError) as e2:
        people.add_user(bare, None, "x", "IND", "admiral")
    assert (e2.value.field, e2.value.value) == ("role", "admiral")
    assert names(bare) == []


def test_a_user_name_is_unique(bare: FakeUnitOfWork) -> None:
    people.add_user(bare, None, "ind-admin", "IND", "party_admin")
    people.add_user(bare, None, "rus-admin", "RUS", "party_admin")
    with pytest.raises(AlreadyExists) as e:
        people.add_user(bare, "rus-admin", "ind-admin", "RUS", "auditor")
    assert (e.value.field, e.value.value) == ("name", "ind-admin")


def test_a_disabled_user_can_no_longer_act(uow: FakeUnitOfWork) -> None:
    from relos.services import ordering

    u = people.disable_user(uow, "ind-admin", "ind-oo")
    assert u.active is False
    with uow:
        stored = uow.reference.find_user("ind-oo")
    assert stored is not None
    assert stored.active is False
    with pytest.raises(PermissionDenied) as e:
        ordering.cancel(uow, "ind-oo", "RELOS-IN-2026-000001", "x")
    assert "disabled" in e.value.message


def test_only_the_own_partys_admin_disables_a_user(uow: FakeUnitOfWork) -> None:
    with pytest.raises(PermissionDenied):
        people.disable_user(uow, "rus-admin", "ind-oo")
    with pytest.raises(PermissionDenied):
        people.disable_user(uow, "ind-fo", "ind-oo")
    with pytest.raises(NotFound) as e:
        people.disable_user(uow, "ind-admin", "ghost")
    assert (e.value.field, e.value.value) == ("name", "ghost")
    with uow:
        stored = uow.reference.find_user("ind-oo")
    assert stored is not None
    assert stored.active
