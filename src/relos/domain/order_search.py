"""An order search: who is looking, what matches, in what order.

The order repository answers it in SQL (filter, visibility, sort, page and count in the database);
the fake repository of the tests answers it with `matches` and `sort_key` below. Both follow the
same rules, written here once in words and in Python:

- **visible to** a party: the party requests the order, or supplies it and it is not a draft
  (a requester's draft is internal to it). A search without a viewer is the node's own
  administration and sees every order.
- **matches**: every given criterion holds (`party` is requesting or supplying; dates inclusive).
- **sorted** by number, creation date, required-by date or state (in the order of an order's
  life), the number breaking ties; descending reverses the whole key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from relos.domain.agreements import Method
from relos.domain.errors import ValidationError
from relos.domain.orders import Order, OrderState


class SortField(StrEnum):
    NUMBER = "number"
    CREATED_ON = "created_on"
    REQUIRED_BY = "required_by"
    STATE = "state"


class Direction(StrEnum):
    ASC = "asc"
    DESC = "desc"


LIFE = list(OrderState)  # states in the order of an order's life


def check_page(limit: int | None, offset: int) -> None:
    """A page of a listing: at most `limit` rows (None: every one) after skipping `offset`."""
    if limit is not None and limit < 1:
        raise ValidationError("limit", limit, "at least 1 (leave it out for every order)")
    if offset < 0:
        raise ValidationError("offset", offset, "must not be negative")


def visible_to(party: str, o: Order) -> bool:
    """The party requests or supplies the order; a requester's draft is its own."""
    if party == o.requesting:
        return True
    return party == o.supplying and o.state is not OrderState.DRAFT


@dataclass(frozen=True)
class OrderHead:
    """An order's header: what a list shows, without its lines, receipts or signatures."""

    number: str
    agreement: str
    requesting: str
    supplying: str
    facility: str
    unit: str
    method: Method
    use: str
    state: OrderState
    revision: int
    created_on: date | None
    required_by: date

    @classmethod
    def of(cls, o: Order) -> OrderHead:
        return cls(
            o.number,
            o.agreement,
            o.requesting,
            o.supplying,
            o.facility,
            o.unit,
            o.method,
            o.use,
            o.state,
            o.revision,
            o.created_on,
            o.required_by,
        )


@dataclass(frozen=True)
class OrderSearch:
    """Criteria of an order search; empty fields do not filter."""

    viewer: str | None = None  # the viewing party; None sees every order
    agreement: str | None = None
    party: str | None = None  # requesting or supplying
    states: frozenset[OrderState] | None = None
    facility: str | None = None
    unit: str | None = None
    method: Method | None = None
    created_from: date | None = None
    created_to: date | None = None
    sort: SortField = SortField.NUMBER
    direction: Direction = Direction.ASC

    def matches(self, o: Order) -> bool:
        return (
            (self.viewer is None or visible_to(self.viewer, o))
            and (not self.agreement or o.agreement == self.agreement)
            and (not self.party or self.party in (o.requesting, o.supplying))
            and (self.states is None or o.state in self.states)
            and (not self.facility or o.facility == self.facility)
            and (not self.unit or o.unit == self.unit)
            and (self.method is None or o.method is self.method)
            and (
                self.created_from is None
                or (o.created_on is not None and o.created_on >= self.created_from)
            )
            and (
                self.created_to is None
                or (o.created_on is not None and o.created_on <= self.created_to)
            )
        )

    def sort_key(self, o: Order) -> tuple[str, str]:
        """The sort key as text (ISO dates sort as dates), the number breaking ties."""
        if self.sort is SortField.NUMBER:
            return (o.number, "")
        if self.sort is SortField.CREATED_ON:
            return ((o.created_on or date.min).isoformat(), o.number)
        if self.sort is SortField.REQUIRED_BY:
            return (o.required_by.isoformat(), o.number)
        return (f"{LIFE.index(o.state):02d}", o.number)

    def ordered(self, found: list[Order]) -> list[Order]:
        return sorted(found, key=self.sort_key, reverse=self.direction is Direction.DESC)
