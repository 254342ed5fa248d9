"""Who sees what, decided once at the query: the rules of `relos.services.queries` on a fake node
with India and Russia under RELOS and a third party (the United States) outside it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from relos.domain.errors import NotFound, ValidationError
from relos.domain.orders import OrderState
from relos.domain.users import User
from relos.services import catalogue, ordering, people, queries
from relos.services.queries import Direction, OrderFilter, SortField
from tests.fakes import FakeUnitOfWork
from tests.unit.conftest import AT, draft, to_accepted


@pytest.fixture
def us(uow: FakeUnitOfWork) -> User:
    catalogue.add_party(uow, {"code": "USA", "name": "United States", "currency": "USD"})
    return people.add_user(uow, None, "usa-oo", "USA", "ordering_officer")


def user(uow: FakeUnitOfWork, name: str) -> User:
    return queries.viewer(uow, name)


def test_a_requesters_draft_is_hidden_from_the_supplier_until_submitted(
    uow: FakeUnitOfWork,
) -> None:
    o = draft(uow)
    ind, rus = user(uow, "ind-oo"), user(uow, "rus-ao")
    assert queries.order(uow, ind, o.number).number == o.number
    with pytest.raises(NotFound):
        queries.order(uow, rus, o.number)
    assert queries.orders(uow, rus, OrderFilter()).total == 0
    ordering.submit(uow, "ind-oo", o.number, at=AT)
    assert queries.order(uow, rus, o.number).state is OrderState.SUBMITTED
    assert queries.orders(uow, rus, OrderFilter()).total == 1


def test_a_third_party_sees_no_order_agreement_counterpart_or_book(
    uow: FakeUnitOfWork, us: User
) -> None:
    o = to_accepted(uow)
    with pytest.raises(NotFound):
        queries.order(uow, us, o.number)
    with pytest.raises(NotFound):
        queries.agreement(uow, us, "RELOS")
    with pytest.raises(NotFound):
        queries.party(uow, us, "IND")
    assert queries.orders(uow, us, OrderFilter()).items == []
    assert queries.agreements(uow, us) == []
    assert [p.code for p in queries.parties(uow, us)] == ["USA"]
    assert queries.facilities(uow, us) == []
    assert queries.price_items(uow, us) == []
    assert queries.units(uow, us) == []
    assert queries.open_orders(uow, us) == []
    assert sum(queries.orders_by_state(uow, us).values()) == 0


def test_counterpart_facilities_are_seen_only_when_open_under_a_shared_agreement(
    uow: FakeUnitOfWork,
) -> None:
    ind = user(uow, "ind-oo")
    codes = {f.code for f in queries.facilities(uow, ind)}
    assert codes == {"IN-VTZ", "RU-SEV"}  # Kronstadt is open under no agreement
    with pytest.raises(NotFound):
        queries.facility(uow, ind, "RU-KRN")
    assert {p.supplier for p in queries.price_items(uow, ind)} == {"IND", "RUS"}


def test_a_counterparts_unit_is_seen_only_on_an_order_the_user_sees(uow: FakeUnitOfWork) -> None:
    rus = user(uow, "rus-ao")
    with pytest.raises(NotFound):
        queries.unit(uow, rus, "INS-TABAR")
    o = draft(uow)
    with pytest.raises(NotFound):  # a draft is India's own business
        queries.unit(uow, rus, "INS-TABAR")
    ordering.submit(uow, "ind-oo", o.number, at=AT)
    assert queries.unit(uow, rus, "INS-TABAR").party == "IND"
    assert {u.code for u in queries.units(uow, rus)} == {"RFS-GORSHKOV", "INS-TABAR"}
    assert "INS-VIKRAMADITYA" not in {u.code for u in queries.units(uow, rus)}


def test_users_and_books_are_the_own_partys_only(uow: FakeUnitOfWork) -> None:
    ind = user(uow, "ind-fo")
    assert {u.party for u in queries.users(uow, ind)} == {"IND"}
    with pytest.raises(NotFound):
        queries.user(uow, ind, "rus-fo")
    o = to_accepted(uow)
    ordering.receive_all(uow, "ind-ro", o.number, at=AT)
    assert {e.book for e in queries.entries(uow, ind)} == {"IND"}
    assert {b.book for b in queries.balances(uow, ind)} == {"IND"}


def test_the_filter_sorts_pages_and_counts_the_total(uow: FakeUnitOfWork) -> None:
    ind = user(uow, "ind-oo")
    numbers = [draft(uow, required_by=date(2026, 3, 20 - i)).number for i in range(4)]
    eve = draft(uow, method="eve").number
    page = queries.orders(uow, ind, OrderFilter(method=None, limit=2, offset=1))
    assert (page.total, [o.number for o in page.items]) == (5, numbers[1:3])
    by_date = queries.orders(uow, ind, OrderFilter(sort=SortField.REQUIRED_BY))
    assert by_date.items[0].number == eve  # required by 10 March
    desc = queries.orders(uow, ind, OrderFilter(direction=Direction.DESC))
    assert [o.number for o in desc.items] == [eve, *numbers[::-1]]
    cash = OrderFilter.parse(method="cash", facility="RU-SEV")
    assert queries.orders(uow, ind, cash).total == 4
    assert queries.orders(uow, ind, OrderFilter(unit="INS-VIKRAMADITYA")).total == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"limit": 501}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"created_from": date(2026, 3, 2), "created_to": date(2026, 3, 1)}, "created_to"),
    ],
)
def test_a_filter_out_of_bounds_is_refused_naming_its_field(
    fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as e:
        OrderFilter.parse(**fields)
    assert e.value.field == field


@pytest.mark.parametrize(("name", "value"), [("state", "lost"), ("sort", "value")])
def test_a_filter_names_an_unknown_choice(name: str, value: str) -> None:
    with pytest.raises(ValidationError) as e:
        OrderFilter.parse(**{name: value})
    assert e.value.field == name


def test_csv_cells_that_would_run_as_formulas_are_quoted(uow: FakeUnitOfWork) -> None:
    o = draft(uow)
    text = queries.orders_csv([o])
    assert text.splitlines()[0].startswith("number,agreement,requesting")
    assert o.number in text.splitlines()[1]
    assert queries._cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert queries._cell("-12.5") == "-12.5"
