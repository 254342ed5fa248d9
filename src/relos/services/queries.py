"""What a user may see, decided once, at the query (NetBox's ``restrict(user, action)``).

Every read the HTTP API (and ``relos order list --as``) serves goes through these functions, so
that the API, the CLI and any export can never disagree about who sees what:

- **agreements**: those the user's party is a party to;
- **parties**: the user's own, and its counterparts in those agreements;
- **facilities** and **price items**: the own party's, and counterparts' under a shared agreement
  (facilities open under it; price lists of a counterpart party);
- **units**: the own party's, and a counterpart's only when it appears on an order the user sees;
- **orders**: where the user's party requests or supplies, except the requesting party's drafts,
  which are internal to it (the supplier first sees an order when it is submitted);
- **users**, **ledger** books and **reports**: the own party's only.

A single object the user may not see is *not found* (404), never *forbidden*: a third party learns
nothing, not even that the object exists.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

from relos.domain.agreements import Agreement, Method, Party
from relos.domain.errors import NotFound, ValidationError
from relos.domain.facilities import Facility, PriceItem, Unit
from relos.domain.ledger import Entry
from relos.domain.order_search import Direction as Direction
from relos.domain.order_search import OrderHead, OrderSearch, check_page, visible_to
from relos.domain.order_search import SortField as SortField
from relos.domain.orders import OPEN_STATES, Order, OrderState
from relos.domain.users import User
from relos.services import reports
from relos.services.actors import acting_user
from relos.services.unit_of_work import UnitOfWork

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class OrderFilter:
    """The one definition of an order search: the API list, ``relos order list`` and the CSV
    export all read orders through it. Empty fields do not filter."""

    agreement: str | None = None
    party: str | None = None  # requesting or supplying
    state: OrderState | None = None
    facility: str | None = None
    unit: str | None = None
    method: Method | None = None
    created_from: date | None = None
    created_to: date | None = None
    sort: SortField = SortField.NUMBER
    direction: Direction = Direction.ASC
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValidationError("limit", self.limit, f"from 1 to {MAX_LIMIT}")
        if self.offset < 0:
            raise ValidationError("offset", self.offset, "must not be negative")
        if self.created_from and self.created_to and self.created_to < self.created_from:
            raise ValidationError("created_to", self.created_to, "before created_from")

    @classmethod
    def parse(
        cls,
        *,
        state: str | None = None,
        method: str | None = None,
        sort: str | None = None,
        direction: str | None = None,
        **fields: object,
    ) -> OrderFilter:
        """A filter from text (the CLI's options): every bad value is named with its field."""
        return cls(
            state=_enum(OrderState, state, "state"),
            method=_enum(Method, method, "method"),
            sort=_enum(SortField, sort, "sort") or SortField.NUMBER,
            direction=_enum(Direction, direction, "direction") or Direction.ASC,
            **fields,  # type: ignore[arg-type]
        )

    def search(self, viewer: str | None) -> OrderSearch:
        """The search this filter asks for, as seen by `viewer` (None: every order)."""
        return OrderSearch(
            viewer=viewer,
            agreement=self.agreement,
            party=self.party,
            states=None if self.state is None else frozenset({self.state}),
            facility=self.facility,
            unit=self.unit,
            method=self.method,
            created_from=self.created_from,
            created_to=self.created_to,
            sort=self.sort,
            direction=self.direction,
        )


def _enum(kind: type[E], value: str | None, field: str) -> E | None:
    if value is None or value == "":
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise ValidationError(field, value, f"one of {allowed}") from None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# -- the rules -----------------------------------------------------------------------------------


def may_see_order(user: User, o: Order) -> bool:
    """The user's party requests or supplies the order; a requester's draft is its own."""
    return visible_to(user.party, o)


def _agreements(uow: UnitOfWork, user: User) -> list[Agreement]:
    return [a for a in uow.reference.agreements() if user.party in a.parties]


def _counterparts(uow: UnitOfWork, user: User) -> set[str]:
    return {p for a in _agreements(uow, user) for p in a.parties} - {user.party}


# -- reference data ------------------------------------------------------------------------------


def agreements(uow: UnitOfWork, user: User) -> list[Agreement]:
    with uow.reading():
        return _agreements(uow, user)


def agreement(uow: UnitOfWork, user: User, code: str) -> Agreement:
    with uow.reading():
        return _agreement(uow, user, code)


def _agreement(uow: UnitOfWork, user: User, code: str) -> Agreement:
    found = uow.reference.find_agreement(code)
    if found is None or user.party not in found.parties:
        raise NotFound("agreement", code, field="code")
    return found


def parties(uow: UnitOfWork, user: User) -> list[Party]:
    with uow.reading():
        seen = _counterparts(uow, user) | {user.party}
        return [p for p in uow.reference.parties() if p.code in seen]


def party(uow: UnitOfWork, user: User, code: str) -> Party:
    with uow.reading():
        found = uow.reference.find_party(code)
        if found is None or code not in _counterparts(uow, user) | {user.party}:
            raise NotFound("party", code, field="code")
        return found


def _may_see_facility(user: User, f: Facility, shared: set[str]) -> bool:
    return f.party == user.party or bool(set(f.open_under) & shared)


def facilities(uow: UnitOfWork, user: User, party: str | None = None) -> list[Facility]:
    with uow.reading():
        shared = {a.code for a in _agreements(uow, user)}
        return [f for f in uow.reference.facilities(party) if _may_see_facility(user, f, shared)]


def facility(uow: UnitOfWork, user: User, code: str) -> Facility:
    with uow.reading():
        found = uow.reference.find_facility(code)
        shared = {a.code for a in _agreements(uow, user)}
        if found is None or not _may_see_facility(user, found, shared):
            raise NotFound("facility", code, field="code")
        return found


def _units_on_orders(uow: UnitOfWork, user: User) -> set[str]:
    return uow.orders.foreign_units(user.party)


def units(uow: UnitOfWork, user: User, party: str | None = None) -> list[Unit]:
    with uow.reading():
        theirs = _units_on_orders(uow, user)
        return [u for u in uow.reference.units(party) if u.party == user.party or u.code in theirs]


def unit(uow: UnitOfWork, user: User, code: str) -> Unit:
    with uow.reading():
        found = uow.reference.find_unit(code)
        if found is None or (
            found.party != user.party and found.code not in _units_on_orders(uow, user)
        ):
            raise NotFound("unit", code, field="code")
        return found


def price_items(uow: UnitOfWork, user: User, supplier: str | None = None) -> list[PriceItem]:
    with uow.reading():
        seen = _counterparts(uow, user) | {user.party}
        return [p for p in uow.reference.price_items(supplier) if p.supplier in seen]


def users(uow: UnitOfWork, user: User) -> list[User]:
    with uow.reading():
        return uow.reference.users(user.party)


def user(uow: UnitOfWork, viewer: User, name: str) -> User:
    with uow.reading():
        return _user(uow, viewer, name)


def _user(uow: UnitOfWork, viewer: User, name: str) -> User:
    found = uow.reference.find_user(name)
    if found is None or found.party != viewer.party:
        raise NotFound("user", name, field="name")
    return found


def viewer(uow: UnitOfWork, name: str | None) -> User:
    """The (active) user whose view a read takes: ``relos order list --as NAME``."""
    with uow.reading():
        return acting_user(uow, name, "read")


# -- orders --------------------------------------------------------------------------------------


def order(uow: UnitOfWork, user: User, number: str) -> Order:
    """The order, if the user may see it; else *not found*, whether it exists or not."""
    with uow.reading():
        return visible_order(uow, user, number)


def order_visit(uow: UnitOfWork, number: str) -> str | None:
    """The number of the visit an order supports (None: outside any visit). The caller has
    already checked that the order may be seen."""
    with uow.reading():
        return uow.visits.order_visit(number)


def visible_order(uow: UnitOfWork, user: User, number: str) -> Order:
    """`order` inside a unit of work the caller holds open (before acting on the order)."""
    found = uow.orders.find(number)
    if found is None or not may_see_order(user, found):
        raise NotFound("order", number, field="number")
    return found


def orders(uow: UnitOfWork, user: User, f: OrderFilter) -> Page[Order]:
    """One page of the orders the user may see, matching `f`, sorted, with the total. The
    database filters, sorts, pages and counts; only the page's orders are loaded whole."""
    search = f.search(user.party)
    with uow.reading():
        total = uow.orders.count(search)
        heads = uow.orders.search(search, f.limit, f.offset)
        items = uow.orders.load([h.number for h in heads])
    return Page(items, total, f.limit, f.offset)


#: orders read whole at a time by `each_order`
LIST_PAGE = 1_000


def order_heads(
    uow: UnitOfWork, user: User | None, f: OrderFilter, limit: int | None = None, offset: int = 0
) -> list[OrderHead]:
    """The headers of the matching orders `user` may see (None: every order), sorted, from
    `offset`, at most `limit` (all without): what a list shows, found in the database without
    reading any order whole."""
    check_page(limit, offset)
    with uow.reading():
        return uow.orders.search(
            f.search(None if user is None else user.party), limit=limit, offset=offset
        )


def each_order(
    uow: UnitOfWork,
    user: User | None,
    f: OrderFilter,
    limit: int | None = None,
    offset: int = 0,
    signatures: bool = True,
) -> Iterator[Order]:
    """The orders of `order_heads`, read whole `LIST_PAGE` at a time in one reading
    transaction (held until the last is read): a listing written as it is read (JSON, CSV)
    never holds every order. `signatures=False` leaves out their signature trails."""
    check_page(limit, offset)
    with uow.reading():
        heads = uow.orders.search(
            f.search(None if user is None else user.party), limit=limit, offset=offset
        )
        numbers = [h.number for h in heads]
        del heads
        for k in range(0, len(numbers), LIST_PAGE):
            yield from uow.orders.load(numbers[k : k + LIST_PAGE], signatures=signatures)


CSV_COLUMNS = (
    "number",
    "agreement",
    "requesting",
    "supplying",
    "facility",
    "unit",
    "method",
    "use",
    "state",
    "revision",
    "created_on",
    "required_by",
    "value",
    "currency",
    "due_on",
)


def _cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with a '."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            Decimal(text)
        except ArithmeticError:
            return "'" + text
    return text


def orders_csv(found: Iterable[Order]) -> str:
    """Orders as CSV (one row per order, the columns of CSV_COLUMNS), for officers'
    spreadsheets."""
    return "".join(orders_csv_parts(found))


def orders_csv_parts(found: Iterable[Order]) -> Iterator[str]:
    """The text of `orders_csv` in parts of about 64 KiB, written as the orders come."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for o in found:
        value = o.value()
        row: Sequence[object] = (
            o.number,
            o.agreement,
            o.requesting,
            o.supplying,
            o.facility,
            o.unit,
            o.method.value,
            o.use,
            o.state.value,
            o.revision,
            o.created_on,
            o.required_by,
            None if value is None else value.number,
            None if value is None else value.commodity,
            o.due_on(),
        )
        w.writerow([_cell(v) for v in row])
        if out.tell() >= 65_536:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


# -- the ledger and reports: the user's own party's book -----------------------------------------


def balances(uow: UnitOfWork, user: User, as_of: date | None = None) -> list[reports.BalanceRow]:
    return reports.balances(uow, user.party, as_of)


def entries(uow: UnitOfWork, user: User, order: str | None = None) -> list[Entry]:
    return reports.entries(uow, user.party, order)


def open_orders(uow: UnitOfWork, user: User) -> list[reports.OrderRow]:
    with uow.reading():
        heads = uow.orders.search(OrderSearch(viewer=user.party, states=OPEN_STATES))
    return [reports.OrderRow.of(h) for h in heads]


def orders_by_state(uow: UnitOfWork, user: User) -> dict[str, int]:
    with uow.reading():
        counts = uow.orders.state_counts(OrderSearch(viewer=user.party))
    return {s.value: counts.get(s.value, 0) for s in OrderState}


def obligations(
    uow: UnitOfWork,
    user: User,
    as_of: date,
    overdue_only: bool = False,
    limit: int | None = None,
    after: str | None = None,
) -> list[reports.ObligationRow]:
    """Invoiced obligations where the user's party is creditor or debtor (never a draft): a
    page of `limit` after the cursor `after` (a row's `cursor`)."""
    key = None if after is None else reports.parse_cursor(after)
    return reports.obligations(uow, as_of, user.party, overdue_only, limit, key)


def aging(uow: UnitOfWork, user: User, as_of: date) -> list[reports.AgingRow]:
    """The aging of the obligations where the user's party is creditor or debtor."""
    return reports.aging(uow, as_of, user.party)
