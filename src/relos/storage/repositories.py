"""Repositories: map domain objects to rows and back, on one connection (the unit of work's)."""

from __future__ import annotations

import functools
import json
from collections.abc import Generator, Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Connection,
    Dialect,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from relos.domain.agreements import Agreement, Category, Method, Party
from relos.domain.errors import AlreadyExists, NotFound
from relos.domain.facilities import Facility, PriceItem, Unit
from relos.domain.ledger import BalanceKey, Entry, Posting
from relos.domain.money import Amount, from_minor
from relos.domain.order_search import LIFE, Direction, OrderHead, OrderSearch, SortField
from relos.domain.orders import (
    Conversion,
    Invoice,
    Order,
    OrderDebt,
    OrderLine,
    OrderState,
    Receipt,
    Settlement,
    SettlementKind,
    Signature,
)
from relos.domain.records import (
    agreement_from,
    agreement_to,
    facility_from,
    facility_to,
    party_from,
    party_to,
    unit_from,
    unit_to,
)
from relos.domain.users import Role, User
from relos.storage import conversion_repository, debt_repository
from relos.storage import tables as t
from relos.storage.bulk_insert import Rows, converter, insert_rows, insert_values
from relos.storage.conversion_tables import order_conversions
from relos.storage.driver_statement import DriverStatement

MILLI = 3
POSTING_COLUMNS = (
    "entry_id",
    "book",
    "on",
    "account",
    "counterparty",
    "method",
    "commodity",
    "amount_minor",
)
CHUNK = 500  # numbers per IN (...) list: well under every engine's parameter limit
METHODS = {m.value: m for m in Method}  # a dict lookup is cheaper than Method(value) per row


# Statements run on every order write, built once: building a statement and its cache key cost
# more CPU than running it on SQLite (decision 55). Parameters are bound by name.
_PARTY = select(t.parties).where(t.parties.c.code == bindparam("code"))
_AGREEMENT = select(t.agreements.c.document).where(t.agreements.c.code == bindparam("code"))
_FACILITY = select(t.facilities.c.document).where(t.facilities.c.code == bindparam("code"))
_UNIT = select(t.units.c.document).where(t.units.c.code == bindparam("code"))
_USER = DriverStatement(select(t.users).where(t.users.c.name == bindparam("name")))
#: what a draft refers to, in one round trip: (kind, document as its stored text) of each
#: that exists
_ORDER_REFERENCES: CompoundSelect[Any] = union_all(
    select(literal_column("'agreement'"), cast(t.agreements.c.document, Text)).where(
        t.agreements.c.code == bindparam("agreement")
    ),
    select(literal_column("'unit'"), cast(t.units.c.document, Text)).where(
        t.units.c.code == bindparam("unit")
    ),
    select(literal_column("'facility'"), cast(t.facilities.c.document, Text)).where(
        t.facilities.c.code == bindparam("facility")
    ),
)
_REFERENCES = DriverStatement(_ORDER_REFERENCES)
_ORDER_EXISTS = select(t.orders.c.number).where(t.orders.c.number == bindparam("number"))
_INSERT_ORDER = insert(t.orders)


def _milli(q: Decimal) -> int:
    return int(q.scaleb(MILLI).to_integral_value())


def _qty(m: int) -> Decimal:
    return Decimal(m).scaleb(-MILLI).normalize() if m % 1000 else Decimal(m // 1000)


class ReferenceRepository:
    """Parties, agreements, facilities, units, price items and users."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # parties
    def add_party(self, party: Party) -> None:
        if self.find_party(party.code) is not None:
            raise AlreadyExists("party", party.code, field="code")
        d = party_to(party)
        self.conn.execute(insert(t.parties).values(**d))

    def find_party(self, code: str) -> Party | None:
        row = self.conn.execute(_PARTY, {"code": code}).mappings().first()
        return None if row is None else party_from(dict(row))

    def parties(self) -> list[Party]:
        rows = self.conn.execute(select(t.parties).order_by(t.parties.c.code)).mappings()
        return [party_from(dict(r)) for r in rows]

    # agreements
    def add_agreement(self, a: Agreement) -> None:
        if self.find_agreement(a.code) is not None:
            raise AlreadyExists("agreement", a.code, field="code")
        self.conn.execute(
            insert(t.agreements).values(code=a.code, title=a.title, document=agreement_to(a))
        )

    def save_agreement(self, a: Agreement) -> None:
        self.conn.execute(
            update(t.agreements)
            .where(t.agreements.c.code == a.code)
            .values(title=a.title, document=agreement_to(a))
        )

    def find_agreement(self, code: str) -> Agreement | None:
        row = self.conn.execute(_AGREEMENT, {"code": code}).first()
        return None if row is None else agreement_from(row[0])

    def agreements(self) -> list[Agreement]:
        rows = self.conn.execute(select(t.agreements.c.document).order_by(t.agreements.c.code))
        return [agreement_from(r[0]) for r in rows]

    # facilities
    def add_facility(self, f: Facility) -> None:
        if self.find_facility(f.code) is not None:
            raise AlreadyExists("facility", f.code, field="code")
        self.conn.execute(
            insert(t.facilities).values(
                code=f.code, party=f.party, name=f.name, document=facility_to(f)
            )
        )

    def find_facility(self, code: str) -> Facility | None:
        row = self.conn.execute(_FACILITY, {"code": code}).first()
        return None if row is None else facility_from(row[0])

    def facilities(self, party: str | None = None) -> list[Facility]:
        q = select(t.facilities.c.document).order_by(t.facilities.c.party, t.facilities.c.code)
        if party:
            q = q.where(t.facilities.c.party == party)
        return [facility_from(r[0]) for r in self.conn.execute(q)]

    # units
    def add_unit(self, u: Unit) -> None:
        if self.find_unit(u.code) is not None:
            raise AlreadyExists("unit", u.code, field="code")
        self.conn.execute(
            insert(t.units).values(code=u.code, party=u.party, name=u.name, document=unit_to(u))
        )

    def find_unit(self, code: str) -> Unit | None:
        row = self.conn.execute(_UNIT, {"code": code}).first()
        return None if row is None else unit_from(row[0])

    def units(self, party: str | None = None) -> list[Unit]:
        q = select(t.units.c.document).order_by(t.units.c.party, t.units.c.code)
        if party:
            q = q.where(t.units.c.party == party)
        return [unit_from(r[0]) for r in self.conn.execute(q)]

    # price items
    def add_price_item(self, p: PriceItem) -> None:
        exists = self.conn.execute(
            select(t.price_items.c.id).where(
                and_(
                    t.price_items.c.supplier == p.supplier,
                    t.price_items.c.code == p.code,
                    t.price_items.c.valid_from == p.valid_from,
                )
            )
        ).first()
        if exists is not None:
            raise AlreadyExists(
                "price item", f"{p.supplier} {p.code} from {p.valid_from}", field="code"
            )
        self.conn.execute(
            insert(t.price_items).values(
                supplier=p.supplier,
                code=p.code,
                description=p.description,
                category=p.category.value,
                unit_of_measure=p.unit_of_measure,
                price_minor=p.unit_price.minor,
                currency=p.unit_price.commodity,
                valid_from=p.valid_from,
                valid_to=p.valid_to,
                commodity=p.rik_commodity,
                illustrative=p.illustrative,
            )
        )

    def price_items(self, supplier: str | None = None) -> list[PriceItem]:
        q = select(t.price_items).order_by(
            t.price_items.c.supplier, t.price_items.c.code, t.price_items.c.valid_from
        )
        if supplier:
            q = q.where(t.price_items.c.supplier == supplier)
        return [
            PriceItem(
                r["supplier"],
                r["code"],
                r["description"],
                Category(r["category"]),
                r["unit_of_measure"],
                Amount(from_minor(r["price_minor"], r["currency"]), r["currency"]),
                r["valid_from"],
                r["valid_to"],
                r["commodity"],
                r["illustrative"],
            )
            for r in self.conn.execute(q).mappings()
        ]

    # users
    def add_user(self, u: User) -> None:
        if self.find_user(u.name) is not None:
            raise AlreadyExists("user", u.name, field="name")
        self.conn.execute(
            insert(t.users).values(name=u.name, party=u.party, role=u.role.value, active=u.active)
        )

    def save_user(self, u: User) -> None:
        self.conn.execute(
            update(t.users)
            .where(t.users.c.name == u.name)
            .values(party=u.party, role=u.role.value, active=u.active)
        )

    def find_user(self, name: str) -> User | None:
        r = _USER.mapping(self.conn, {"name": name})
        return None if r is None else User(r["name"], r["party"], Role(r["role"]), r["active"])

    def order_references(
        self, agreement: str, unit: str, facility: str
    ) -> tuple[Agreement | None, Unit | None, Facility | None]:
        """The agreement, unit and facility an order names (None for each that is unknown),
        read in one statement."""
        rows = _REFERENCES.rows(
            self.conn, {"agreement": agreement, "unit": unit, "facility": facility}
        )
        found = {str(row[0]): str(row[1]) for row in rows}
        return (
            None if "agreement" not in found else _agreement_of(found["agreement"]),
            None if "unit" not in found else _unit_of(found["unit"]),
            None if "facility" not in found else _facility_of(found["facility"]),
        )

    def users(self, party: str | None = None) -> list[User]:
        q = select(t.users).order_by(t.users.c.party, t.users.c.name)
        if party:
            q = q.where(t.users.c.party == party)
        return [
            User(r["name"], r["party"], Role(r["role"]), r["active"])
            for r in self.conn.execute(q).mappings()
        ]


# What an order names, read from its document once per distinct text: every draft names one of
# a few agreements, units and facilities, and parsing their documents was a tenth of a draft's
# CPU (decision 59). The objects are frozen; a changed document is another text, parsed anew.
@functools.lru_cache(maxsize=256)
def _agreement_of(document: str) -> Agreement:
    return agreement_from(json.loads(document))


@functools.lru_cache(maxsize=256)
def _unit_of(document: str) -> Unit:
    return unit_from(json.loads(document))


@functools.lru_cache(maxsize=256)
def _facility_of(document: str) -> Facility:
    return facility_from(json.loads(document))


@functools.cache
def _new_order_statement(dialect: str) -> DriverStatement:
    """INSERT .. ON CONFLICT (number) DO NOTHING .. RETURNING: the order's header, or nothing
    back when its number is taken, in one statement (any other broken rule still raises)."""
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(t.orders).values(
        {name: bindparam(name) for name in _HEAD_COLUMNS}
    )
    return DriverStatement(
        ins.on_conflict_do_nothing(index_elements=[t.orders.c.number]).returning(t.orders.c.number)
    )


@functools.cache
def _bump_statement(dialect: str) -> DriverStatement:
    """INSERT .. ON CONFLICT DO UPDATE .. RETURNING: a new prefix starts after `start`, an
    existing one goes up by one, and the number comes back, in one statement."""
    seq = t.order_sequences
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(seq).values(
        prefix=bindparam("prefix"), last=bindparam("first")
    )
    return DriverStatement(
        ins.on_conflict_do_update(
            index_elements=[seq.c.prefix], set_={"last": seq.c.last + 1}
        ).returning(seq.c.last)
    )


def next_in_sequence(conn: Connection, prefix: str, start: int = 0) -> int:
    """Next number under `prefix` in `order_sequences`, safe under concurrent writers.

    On SQLite and PostgreSQL it is one INSERT .. ON CONFLICT DO UPDATE .. RETURNING: a new
    prefix is created with `start + 1` (the numbers already used before the sequence existed),
    an existing one is incremented under its row lock (or SQLite's write lock), so two writers
    never get one number. Other engines: an UPDATE, or an INSERT for a new prefix.
    """
    seq = t.order_sequences
    dialect = conn.dialect.name
    if dialect in ("postgresql", "sqlite"):
        stmt = _bump_statement(dialect)
        (last,) = stmt.rows(conn, {"prefix": prefix, "first": start + 1})
        return int(last[0])
    bumped = conn.execute(update(seq).where(seq.c.prefix == prefix).values(last=seq.c.last + 1))
    if bumped.rowcount == 0:
        conn.execute(insert(seq).values(prefix=prefix, last=start + 1))
        return start + 1
    last = conn.execute(select(seq.c.last).where(seq.c.prefix == prefix)).scalar_one()
    return int(last)


@functools.cache
def debts_statements(collate_c: bool, one_party: bool, as_of: bool = False) -> tuple[Any, Any]:
    """What invoiced orders owe per commodity (with the order's header and last invoice), and
    the conversions' cleared amounts: built once per shape (see `OrderRepository.debts`).
    With `as_of`, what the orders `debt_repository.converted_orders` names owed at the end of
    `:as_of`: their settlements and conversions dated by then, their last invoice issued by
    then (`Order.debts_on`)."""
    o, ol, rl = t.orders.c, t.order_lines.c, t.receipt_lines.c
    st, cv = t.settlements.c, order_conversions.c
    day: Any = bindparam("as_of")
    invoiced: list[ColumnElement[bool]]
    if as_of:
        invoiced = [o.number.in_(debt_repository.converted_orders(one_party))]
    else:
        invoiced = [o.state == OrderState.INVOICED.value]
        if one_party:
            party: Any = bindparam("party")
            invoiced.append(or_(o.requesting == party, o.supplying == party))
    by_then: list[ColumnElement[bool]] = [cv.on <= day] if as_of else []
    rik = o.method == Method.RIK.value
    none = cast(null(), BigInteger)
    # value in minor units = round_half_even(price_minor * quantity_milli / 1000), in
    # integers without overflow: whole units and thousandths of the quantity apart
    whole = ol.unit_price_minor * (rl.quantity_milli // 1000)
    part = ol.unit_price_minor * (rl.quantity_milli % 1000)
    floor = whole + part // 1000
    rest = part % 1000
    value = floor + case(
        (or_(rest > 500, and_(rest == 500, floor % 2 == 1)), 1),
        else_=0,
    )
    received = (
        select(
            rl.order_number.label("number"),
            case((rik, ol.commodity), else_=ol.currency).label("commodity"),
            case((rik, rl.quantity_milli), else_=None).label("milli"),
            case((rik, None), else_=value).label("minor"),
        )
        .select_from(
            t.receipt_lines.join(
                t.order_lines,
                and_(ol.order_number == rl.order_number, ol.line_no == rl.line_no),
            ).join(t.orders, o.number == rl.order_number)
        )
        .where(*invoiced)
    )
    converted = (
        select(cv.order_number, cv.currency, none, cv.amount_minor)
        .select_from(order_conversions.join(t.orders, o.number == cv.order_number))
        .where(*invoiced, *by_then)
    )
    settled = (
        select(
            st.order_number,
            st.commodity,
            none,
            case((st.reverses.is_(None), -st.amount_minor), else_=st.amount_minor),
        )
        .select_from(t.settlements.join(t.orders, o.number == st.order_number))
        .where(*invoiced, *([st.on <= day] if as_of else []))
    )
    parts = union_all(received, converted, settled).subquery()
    owed = (
        select(
            parts.c.number,
            parts.c.commodity,
            func.sum(parts.c.milli).label("milli"),
            func.sum(parts.c.minor).label("minor"),
        )
        .group_by(parts.c.number, parts.c.commodity)
        .subquery()
    )
    # the order's last invoice (issued by `:as_of` with `as_of`)
    inv, last = debt_repository.last_invoice(collate_c, by_as_of=as_of)
    q = (
        select(
            owed.c.number,
            o.agreement,
            o.supplying,
            o.requesting,
            o.method,
            owed.c.commodity,
            owed.c.milli,
            owed.c.minor,
            inv.number,
            inv.due_on,
        )
        .select_from(
            owed.join(t.orders, o.number == owed.c.number).join(
                t.invoices, inv.order_number == owed.c.number
            )
        )
        .where(last)
    )
    cq = (
        select(cv.order_number, cv.cleared)
        .select_from(order_conversions.join(t.orders, o.number == cv.order_number))
        .where(*invoiced, *by_then)
    )
    return q, cq


CATEGORIES = {c.value: c for c in Category}
STATES = {s.value: s for s in OrderState}
SETTLEMENT_KINDS = {k.value: k for k in SettlementKind}


def _load_statement(table: Table, columns: Sequence[str], *order: str) -> Any:
    """The rows of `table` of the orders `:numbers` (an expanding list), the order number
    first and then `columns`, in `order`: built once, so that a page of numbers costs one
    statement's execution, not the building of one with a literal per number."""
    numbers: Any = bindparam("numbers", expanding=True)
    return (
        select(table.c.order_number, *(table.c[name] for name in columns))
        .where(table.c.order_number.in_(numbers))
        .order_by(*(table.c[name] for name in order))
    )


#: an order line's columns, the order number first: what is read (`_LOAD_CHILDREN`) and what
#: the import writes (`import_repository`), in this order
LINE_COLUMNS = (
    "order_number",
    "line_no",
    "item_code",
    "quantity_milli",
    "description",
    "category",
    "unit_of_measure",
    "unit_price_minor",
    "currency",
    "commodity",
)
_HEAD_COLUMNS = (
    "number",
    "agreement",
    "requesting",
    "supplying",
    "facility",
    "unit",
    "method",
    "use",
    "required_by",
    "data",
    "created_on",
    "state",
    "revision",
)
#: an action's write: the header rewritten, by number (run on the driver: decision 73)
_UPDATE_HEAD = DriverStatement(
    update(t.orders)
    .where(t.orders.c.number == bindparam("number"))
    .values({name: bindparam(name) for name in _HEAD_COLUMNS if name != "number"})
)
#: an order's row locked for an action (PostgreSQL; SQLite's writers take turns anyway)
_LOCK_ORDER = DriverStatement(
    select(t.orders.c.number).where(t.orders.c.number == bindparam("number")).with_for_update()
)
_LOAD_HEADS = select(*(t.orders.c[name] for name in _HEAD_COLUMNS)).where(
    t.orders.c.number.in_(bindparam("numbers", expanding=True))
)
#: the child rows `OrderRepository._order` reads, by position (the order number first)
_LOAD_CHILDREN = {
    "lines": _load_statement(t.order_lines, LINE_COLUMNS[1:], "line_no"),
    "receipt_lines": _load_statement(
        t.receipt_lines, ("seq", "line_no", "quantity_milli"), "seq", "line_no"
    ),
    "receipts": _load_statement(t.receipts, ("seq", "received_on", "digest"), "seq"),
    "invoices": _load_statement(
        t.invoices,
        ("number", "issued_on", "due_on", "amounts", "value_minor", "currency"),
        "issued_on",
        "number",
    ),
    "settlements": _load_statement(
        t.settlements,
        ("seq", "kind", "on", "amount_minor", "commodity", "note", "reverses"),
        "seq",
    ),
    "signatures": _load_statement(
        t.signatures,
        ("action", "user_name", "role", "party", "at", "revision", "digest", "note"),
        "seq",
    ),
}


class OrderRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def next_number(self, prefix: str) -> int:
        """Next sequence number under `prefix`, safe under concurrent writers."""
        return next_in_sequence(self.conn, prefix)

    def get(self, number: str) -> Order:
        order = self.find(number)
        if order is None:
            raise NotFound("order", number, field="number")
        return order

    def get_for_update(self, number: str) -> Order:
        """The order, its row locked until the transaction ends (PostgreSQL: SELECT ... FOR
        UPDATE; SQLite serialises writers with BEGIN IMMEDIATE), so that two writers acting on one
        order take turns and the second reads what the first wrote."""
        _LOCK_ORDER.rows(self.conn, {"number": number})
        return self.get(number)

    def find(self, number: str) -> Order | None:
        found = self.load([number])
        return found[0] if found else None

    def load(self, numbers: Sequence[str], *, signatures: bool = True) -> list[Order]:
        """The full aggregates of these orders, in the order given (unknown numbers are left
        out): one query per table for each chunk of numbers, never one per order.

        `signatures=False` leaves out the signature trail (a third of an order's rows): for
        views that never look at it, such as a reconciliation statement; such an order is read,
        never saved."""
        out: list[Order] = []
        for k in range(0, len(numbers), CHUNK):
            out.extend(self._load_chunk(list(numbers[k : k + CHUNK]), signatures))
        return out

    def _load_chunk(self, numbers: list[str], signatures: bool = True) -> list[Order]:
        c = self.conn
        heads = {h[0]: h for h in c.execute(_LOAD_HEADS, {"numbers": numbers})}
        if not heads:
            return []
        wanted = [n for n in numbers if n in heads]

        def rows(statement: Any) -> dict[str, list[Any]]:
            by: dict[str, list[Any]] = {}
            for r in c.execute(statement, {"numbers": wanted}).all():
                got = by.get(r[0])
                if got is None:
                    by[r[0]] = [r]
                else:
                    got.append(r)
            return by

        lines = rows(_LOAD_CHILDREN["lines"])
        rlines = rows(_LOAD_CHILDREN["receipt_lines"])
        receipts = rows(_LOAD_CHILDREN["receipts"])
        invoices = rows(_LOAD_CHILDREN["invoices"])
        settlements = rows(_LOAD_CHILDREN["settlements"])
        sigs = rows(_LOAD_CHILDREN["signatures"]) if signatures else {}
        conversions = conversion_repository.load_many(c, wanted)
        none: list[Any] = []
        return [
            self._order(
                heads[n],
                lines.get(n, none),
                rlines.get(n, none),
                receipts.get(n, none),
                invoices.get(n, none),
                settlements.get(n, none),
                sigs.get(n, none),
                conversions.get(n, []),
            )
            for n in wanted
        ]

    @staticmethod
    def _order(
        h: Any,
        line_rows: list[Any],
        rline_rows: list[Any],
        receipt_rows: list[Any],
        invoice_rows: list[Any],
        settlement_rows: list[Any],
        sig_rows: list[Any],
        conversions: list[Conversion],
    ) -> Order:
        """An order from its rows, each a tuple of the columns `_LOAD_HEADS` and
        `_LOAD_CHILDREN` select, in their order (by position: by name costs more)."""
        lines = [
            OrderLine(
                line_no,
                item,
                _qty(milli),
                description,
                CATEGORIES[category] if category else None,
                unit_of_measure,
                None if price is None else Amount(from_minor(price, currency), currency),
                commodity,
            )
            for _, line_no, item, milli, description, category, unit_of_measure, price, currency, commodity in line_rows  # noqa: E501
        ]
        rlines: dict[int, list[tuple[int, Decimal]]] = {}
        for _, seq, line_no, milli in rline_rows:
            rlines.setdefault(seq, []).append((line_no, _qty(milli)))
        receipts = [
            Receipt(seq, on, tuple(rlines.get(seq, ())), digest)
            for _, seq, on, digest in receipt_rows
        ]
        invoices = [
            Invoice(
                number,
                issued_on,
                due_on,
                tuple(Amount(Decimal(a["number"]), a["commodity"]) for a in amounts),
                Amount(from_minor(value, currency), currency),
            )
            for _, number, issued_on, due_on, amounts, value, currency in invoice_rows
        ]
        settlements = [
            Settlement(
                seq,
                SETTLEMENT_KINDS[kind],
                on,
                Amount(from_minor(minor, commodity), commodity),
                note,
                reverses,
            )
            for _, seq, kind, on, minor, commodity, note, reverses in settlement_rows
        ]
        sigs = [Signature(*r[1:]) for r in sig_rows]
        (
            number,
            agreement,
            requesting,
            supplying,
            facility,
            unit,
            method,
            use,
            required_by,
            data,
            created_on,
            state,
            revision,
        ) = h
        return Order(
            number,
            agreement,
            requesting,
            supplying,
            facility,
            unit,
            METHODS[method],
            use,
            required_by,
            lines,
            dict(data),
            created_on,
            STATES[state],
            revision,
            receipts,
            invoices,
            settlements,
            sigs,
            conversions,
        )

    def add(self, order: Order) -> None:
        dialect = self.conn.dialect.name
        if dialect in ("postgresql", "sqlite"):  # one statement: insert unless the number is taken
            added = _new_order_statement(dialect).first(self.conn, self._header(order))
            if added is None:
                raise AlreadyExists("order", order.number, field="number")
        else:
            if self.conn.execute(_ORDER_EXISTS, {"number": order.number}).first() is not None:
                raise AlreadyExists("order", order.number, field="number")
            self.conn.execute(_INSERT_ORDER, self._header(order))
        self._write_children(order, stored=None)

    def save(self, order: Order, stored: Order | None = None) -> None:
        """Update the header and lines; append receipts, invoices, settlements, signatures.
        `stored`: the order as this transaction read it, before the change (a copy: it is read
        again when not given)."""
        stored = stored if stored is not None else self.get(order.number)
        _UPDATE_HEAD.rows(self.conn, self._header(order))
        self._write_children(order, stored)

    @staticmethod
    def _header(o: Order) -> dict[str, Any]:
        return {
            "number": o.number,
            "agreement": o.agreement,
            "requesting": o.requesting,
            "supplying": o.supplying,
            "facility": o.facility,
            "unit": o.unit,
            "method": o.method.value,
            "use": o.use,
            "required_by": o.required_by,
            "created_on": o.created_on,
            "state": o.state.value,
            "revision": o.revision,
            "data": o.data,
        }

    def _write_children(self, o: Order, stored: Order | None) -> None:
        c, n = self.conn, o.number
        if stored is None or stored.lines != o.lines:
            if stored is not None:  # a new order has no lines yet
                c.execute(delete(t.order_lines).where(t.order_lines.c.order_number == n))
            insert_values(
                c,
                t.order_lines,
                [
                    {
                        "order_number": n,
                        "line_no": ln.line_no,
                        "item_code": ln.item_code,
                        "quantity_milli": _milli(ln.quantity),
                        "description": ln.description,
                        "category": ln.category.value if ln.category else None,
                        "unit_of_measure": ln.unit_of_measure,
                        "unit_price_minor": ln.unit_price.minor if ln.unit_price else None,
                        "currency": ln.unit_price.commodity if ln.unit_price else None,
                        "commodity": ln.commodity,
                    }
                    for ln in o.lines
                ],
            )
        old_r = len(stored.receipts) if stored else 0
        for r in o.receipts[old_r:]:
            insert_values(
                c,
                t.receipts,
                [
                    {
                        "order_number": n,
                        "seq": r.seq,
                        "received_on": r.received_on,
                        "digest": r.digest,
                    }
                ],
            )
            insert_values(
                c,
                t.receipt_lines,
                [
                    {"order_number": n, "seq": r.seq, "line_no": ln, "quantity_milli": _milli(q)}
                    for ln, q in r.quantities
                ],
            )
        old_i = len(stored.invoices) if stored else 0
        insert_values(
            c,
            t.invoices,
            [
                {
                    "number": i.number,
                    "order_number": n,
                    "issued_on": i.issued_on,
                    "due_on": i.due_on,
                    "value_minor": i.value.minor,
                    "currency": i.value.commodity,
                    "amounts": [
                        {"number": str(a.number), "commodity": a.commodity} for a in i.amounts
                    ],
                }
                for i in o.invoices[old_i:]
            ],
        )
        old_s = len(stored.settlements) if stored else 0
        insert_values(
            c,
            t.settlements,
            [
                {
                    "order_number": n,
                    "seq": s.seq,
                    "kind": s.kind.value,
                    "on": s.on,
                    "amount_minor": s.amount.minor,
                    "commodity": s.amount.commodity,
                    "note": s.note,
                    "reverses": s.reverses,
                }
                for s in o.settlements[old_s:]
            ],
        )
        conversion_repository.append_new(c, o, len(stored.conversions) if stored else 0)
        debt_repository.keep(c, o, stored)
        old_g = len(stored.signatures) if stored else 0
        insert_values(
            c,
            t.signatures,
            [
                {
                    "order_number": n,
                    "seq": k,
                    "action": g.action,
                    "user_name": g.user,
                    "role": g.role,
                    "party": g.party,
                    "at": g.at,
                    "revision": g.revision,
                    "digest": g.digest,
                    "note": g.note,
                }
                for k, g in enumerate(o.signatures[old_g:], start=old_g + 1)
            ],
        )

    def numbers(
        self,
        *,
        agreement: str | None = None,
        party: str | None = None,
        states: Iterable[OrderState] | None = None,
        received_in: int | None = None,
    ) -> list[str]:
        q = self._numbers_query(
            agreement=agreement,
            party=party,
            states=states,
            received_in=received_in,
        )
        return [r[0] for r in self.conn.execute(q)]

    def number_pages(
        self,
        size: int,
        *,
        agreement: str | None = None,
        party: str | None = None,
        states: Iterable[OrderState] | None = None,
        received_in: int | None = None,
    ) -> Generator[list[str], None, None]:
        """What `numbers` gives, streamed `size` at a time from one query (a server-side cursor
        on PostgreSQL): never the whole listing held. Other statements may run on the
        connection between pages."""
        q = self._numbers_query(
            agreement=agreement,
            party=party,
            states=states,
            received_in=received_in,
        )
        # the option on this statement only: on the connection it would stay for every later one
        result = self.conn.execute(q, execution_options={"yield_per": size})
        with result:
            for page in result.partitions():
                yield [r[0] for r in page]

    def _numbers_query(
        self,
        *,
        agreement: str | None,
        party: str | None,
        states: Iterable[OrderState] | None,
        received_in: int | None = None,
    ) -> Select[str]:
        """Order numbers of an agreement, a party (either side), states and a year some receipt
        of the order is dated in, in Python's order of text (by code point: "C" on PostgreSQL;
        SQLite compares text bytewise already)."""
        o = t.orders.c
        number = o.number.collate("C") if self.conn.dialect.name == "postgresql" else o.number
        q = select(o.number).order_by(number)
        if agreement:
            q = q.where(o.agreement == agreement)
        if party:
            q = q.where((o.requesting == party) | (o.supplying == party))
        if states is not None:
            q = q.where(o.state.in_([s.value for s in states]))
        if received_in is not None:
            r = t.receipts.c
            q = q.where(
                exists().where(
                    r.order_number == o.number,
                    r.received_on >= date(received_in, 1, 1),
                    r.received_on <= date(received_in, 12, 31),
                )
            )
        return q

    def count_by_state(self, party: str | None = None) -> dict[str, int]:
        return self.state_counts(OrderSearch(party=party))

    # -- searches: filter, visibility, sort, page and count in SQL (rules: domain/order_search)

    def _where(self, s: OrderSearch) -> list[ColumnElement[bool]]:
        o = t.orders.c
        conds: list[ColumnElement[bool]] = []
        if s.viewer is not None:
            conds.append(
                or_(
                    o.requesting == s.viewer,
                    and_(o.supplying == s.viewer, o.state != OrderState.DRAFT.value),
                )
            )
        if s.agreement:
            conds.append(o.agreement == s.agreement)
        if s.party:
            conds.append(or_(o.requesting == s.party, o.supplying == s.party))
        if s.states is not None:
            conds.append(o.state.in_(sorted(v.value for v in s.states)))
        if s.facility:
            conds.append(o.facility == s.facility)
        if s.unit:
            conds.append(o.unit == s.unit)
        if s.method is not None:
            conds.append(o.method == s.method.value)
        if s.created_from is not None:
            conds.append(o.created_on >= s.created_from)
        if s.created_to is not None:
            conds.append(o.created_on <= s.created_to)
        return conds

    def _order_by(self, s: OrderSearch) -> list[ColumnElement[Any]]:
        o = t.orders.c
        # Order numbers sort as Python sorts text (by code point): PostgreSQL's "C" collation;
        # SQLite compares text bytewise already.
        number: ColumnElement[Any] = (
            o.number.collate("C") if self.conn.dialect.name == "postgresql" else o.number
        )
        keys: list[ColumnElement[Any]]
        if s.sort is SortField.NUMBER:
            keys = [number]
        elif s.sort is SortField.CREATED_ON:
            keys = [o.created_on, number]
        elif s.sort is SortField.REQUIRED_BY:
            keys = [o.required_by, number]
        else:
            life = case({v.value: k for k, v in enumerate(LIFE)}, value=o.state, else_=len(LIFE))
            keys = [life, number]
        if s.direction is Direction.DESC:
            keys = [k.desc() for k in keys]
        return keys

    def search(self, s: OrderSearch, limit: int | None = None, offset: int = 0) -> list[OrderHead]:
        """The headers of the orders matching `s`, sorted, from `offset`, at most `limit`."""
        q = select(t.orders).where(*self._where(s)).order_by(*self._order_by(s))
        if limit is not None:
            q = q.limit(limit)
        if offset:
            q = q.offset(offset)
        return [
            OrderHead(
                h["number"],
                h["agreement"],
                h["requesting"],
                h["supplying"],
                h["facility"],
                h["unit"],
                Method(h["method"]),
                h["use"],
                OrderState(h["state"]),
                h["revision"],
                h["created_on"],
                h["required_by"],
            )
            for h in self.conn.execute(q).mappings()
        ]

    def count(self, s: OrderSearch) -> int:
        q = select(func.count()).select_from(t.orders).where(*self._where(s))
        return int(self.conn.execute(q).scalar_one())

    def state_counts(self, s: OrderSearch) -> dict[str, int]:
        """How many orders matching `s` are in each state (states with none left out)."""
        q = select(t.orders.c.state, func.count()).where(*self._where(s)).group_by(t.orders.c.state)
        return {r[0]: int(r[1]) for r in self.conn.execute(q)}

    def foreign_units(self, viewer: str) -> set[str]:
        """Units of other parties on orders the viewer sees (those it supplies, not drafts)."""
        o = t.orders.c
        q = (
            select(o.unit)
            .distinct()
            .where(
                o.supplying == viewer,
                o.requesting != viewer,
                o.state != OrderState.DRAFT.value,
            )
        )
        return {r[0] for r in self.conn.execute(q)}

    def invoice_exists(self, number: str) -> bool:
        q = select(t.invoices.c.number).where(t.invoices.c.number == number)
        return self.conn.execute(q).first() is not None

    # -- what invoiced orders still owe, in sets (the rule: Order.debts) ------------------------

    def debts(self, party: str | None = None) -> list[OrderDebt]:
        """`Order.debts` of every invoiced order (where `party` requests or supplies), by order
        and commodity, summed in the database: each receipt line's obligation (its quantity in
        thousandths for replacement in kind; else its value, the unit price times the quantity
        rounded half-even to the currency's minor unit, as `Amount.times` does), plus the cash
        of conversions, less settlements (a reversal adds back). Only what conversions cleared,
        kept as JSON, is taken off here, from the conversion rows alone. No order is loaded."""
        q, cq = debts_statements(self.conn.dialect.name == "postgresql", party is not None)
        return self._debts(q, cq, {"party": party})

    def changed_debts(self, as_of: date, party: str | None = None) -> list[OrderDebt]:
        """`Order.debts_on(as_of)` of the orders invoiced by `as_of` and settled, converted or
        invoiced again after it, by order and commodity, summed in the database (no order
        loaded): those converted since as `debts` sums (`converted_debts`), those only settled
        since from what is kept for them and the settlements after the day (decision 65)."""
        found = self.converted_debts(as_of, party)
        found += debt_repository.settled_debts(self.conn, as_of, party)
        found.sort(key=lambda d: (d.order, d.commodity))
        return found

    def converted_debts(self, as_of: date, party: str | None = None) -> list[OrderDebt]:
        """`Order.debts_on(as_of)` of the orders invoiced by `as_of` and converted (so invoiced
        again) after it (`debt_repository.converted_orders`), summed as `debts` sums."""
        pg = self.conn.dialect.name == "postgresql"
        q, cq = debts_statements(pg, party is not None, as_of=True)
        return self._debts(q, cq, {"party": party, "as_of": as_of})

    def _debts(self, q: Any, cq: Any, params: dict[str, Any]) -> list[OrderDebt]:
        cleared: dict[tuple[str, str], Decimal] = {}
        for n, amounts in self.conn.execute(cq, params):
            for a in amounts:
                key = (n, a["commodity"])
                cleared[key] = cleared.get(key, Decimal(0)) + from_minor(a["minor"], a["commodity"])
        out = []
        for r in self.conn.execute(q, params):
            commodity, milli, minor = r[5], r[6], r[7]
            amount = None if minor is None else from_minor(int(minor), commodity)
            if milli is not None:  # received in kind: thousandths of the item's unit
                in_kind = Decimal(int(milli)).scaleb(-MILLI)
                amount = in_kind if amount is None else amount + in_kind
            assert amount is not None
            amount = amount - cleared.get((r[0], commodity), Decimal(0))
            if amount > 0:
                out.append(
                    OrderDebt(r[0], r[1], r[2], r[3], METHODS[r[4]], commodity, amount, r[8], r[9])
                )
        out.sort(key=lambda d: (d.order, d.commodity))
        return out

    def open_debts(
        self,
        as_of: date,
        party: str | None = None,
        overdue_only: bool = False,
        after: tuple[date, str, str] | None = None,
        limit: int | None = None,
    ) -> list[OrderDebt]:
        """The kept debts (the same as `debts`) of the orders invoiced on or before `as_of` and
        neither settled nor converted after it, in the listing's order: due date, order,
        commodity (the most overdue first); only those due before `as_of` with `overdue_only`;
        those after the key `after`; at most `limit` (all without), paged in SQL."""
        return debt_repository.page(self.conn, party, as_of, overdue_only, after, limit)

    def aging(
        self, as_of: date, party: str | None = None
    ) -> dict[tuple[str, str, str, int], Decimal]:
        """What orders invoiced on or before `as_of` owed on it summed per (creditor, debtor,
        commodity, band of `domain.aging`), in SQL; but for the orders converted after it,
        whose kept debts are summed (`converted_kept`; the service puts `converted_debts` in
        their place)."""
        return debt_repository.aging(self.conn, as_of, party)

    def cash_debts(self, agreement: str, as_of: date) -> list[tuple[OrderDebt, date]]:
        """The kept debts (`debts`) of `agreement`'s orders invoiced on or before `as_of` (by
        their last invoice) and owed in cash: those of cash orders and of orders converted to
        cash; each with its invoice's day, by order and commodity (what netting offsets)."""
        return debt_repository.cash_debts(self.conn, agreement, as_of)

    def debt_pages(
        self, size: int, *, party: str
    ) -> Generator[list[tuple[OrderDebt, bool]], None, None]:
        """The kept debts (`debts`) of the orders that `party` requests or supplies, each with
        whether its order was converted, by order (code point) and commodity, streamed `size`
        at a time from one query (as `number_pages`; an order's debts may span two pages)."""
        q = debt_repository.party_statement(self.conn.dialect.name == "postgresql")
        result = self.conn.execute(q, {"party": party}, execution_options={"yield_per": size})
        with result:
            for page in result.partitions():
                yield [(debt_repository.debt_of(r), bool(r[-1])) for r in page]

    def converted_kept(self, as_of: date, party: str | None = None) -> list[OrderDebt]:
        """The kept debts that `aging` sums on `as_of` of the orders invoiced by then and
        converted after it: what `converted_debts` stands for."""
        return debt_repository.converted_kept(self.conn, as_of, party)


# Entries by book and txn, the lists bound at execution (one compiled statement, cached).
#: the largest entry id (None: no entry yet), and the entries above an id
LAST_ENTRY_ID = select(func.max(t.ledger_entries.c.id))
ENTRIES_AFTER = select(
    t.ledger_entries.c.book, t.ledger_entries.c.txn, t.ledger_entries.c.id
).where(t.ledger_entries.c.id > bindparam("after"))
BY_BOOK_TXN = select(t.ledger_entries.c.book, t.ledger_entries.c.txn, t.ledger_entries.c.id).where(
    t.ledger_entries.c.book.in_(bindparam("books", expanding=True)),
    t.ledger_entries.c.txn.in_(bindparam("txns", expanding=True)),
)


_DAY = t.daily_balances.c.day
#: the first and last day with kept changes
SPAN = select(select(func.min(_DAY)).scalar_subquery(), select(func.max(_DAY)).scalar_subquery())


@functools.cache
def as_of_statement(per_key: bool, forward: bool, one_book: bool) -> Any:
    """Balances as of `:as_of` (`:first` its month's first day, `:after` the next month's),
    of every book or of `:book`: built once per shape (see `LedgerRepository.balances`)."""
    b, m, d = t.balances.c, t.monthly_balances.c, t.daily_balances.c
    first: Any = bindparam("first")
    as_of: Any = bindparam("as_of")
    after: Any = bindparam("after")
    # (kept table, sign, which of its rows); the balance now is the backward start
    parts: list[tuple[Any, int, list[ColumnElement[bool]]]]
    if forward:
        parts = [(m, 1, [m.month < first]), (d, 1, [d.day >= first, d.day <= as_of])]
    else:
        parts = [(b, 1, []), (m, -1, [m.month >= after]), (d, -1, [d.day > as_of, d.day < after])]
    book = [b.book == bindparam("book")] if one_book else []
    if per_key:  # a subquery per key of `balances`, each one range of the kept table's key
        amount: ColumnElement[Any] | None = None
        for c, sign, when in parts:
            if c is b:
                term: ColumnElement[Any] = b.amount_minor
            else:
                same_key = and_(
                    c.book == b.book,
                    c.account == b.account,
                    c.counterparty == b.counterparty,
                    c.method == b.method,
                    c.commodity == b.commodity,
                )
                total = select(func.sum(c.amount_minor)).where(same_key, *when).scalar_subquery()
                term = func.coalesce(total, 0)
            if sign < 0:
                term = -term
            amount = term if amount is None else amount + term
        assert amount is not None
        return select(b.book, b.account, b.counterparty, b.method, b.commodity, amount).where(*book)
    selects = [
        select(
            c.book,
            c.account,
            c.counterparty,
            c.method,
            c.commodity,
            c.amount_minor if sign > 0 else -c.amount_minor,
        ).where(*when, *([c.book == bindparam("book")] if one_book else []))
        for c, sign, when in parts
    ]
    rows = union_all(*selects).subquery()
    key = [rows.c.book, rows.c.account, rows.c.counterparty, rows.c.method, rows.c.commodity]
    return select(*key, func.sum(rows.c[5])).group_by(*key)


class LedgerRepository:
    """Append-only entries and postings, with balances kept in step in the same transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, entries: list[Entry]) -> None:
        """Append entries, their postings and the kept balances, in sets: one query per chunk
        finds duplicates, one executemany inserts the entries (their ids are read back by
        (book, txn)), one the postings, and one upsert per kept table adds each key's change.

        Refused as a whole (`AlreadyExists` naming the first duplicate in the list's order, or
        the amount with too many decimals) before anything is written."""
        self.append_rows(self.entry_rows(entries))

    def entry_rows(self, entries: list[Entry]) -> Rows:
        """`entry_rows` on this connection's dialect."""
        return entry_rows(self.conn.dialect, entries)

    def append_rows(
        self, rows: Rows, sums: list[Rows] | None = None, *, balances: bool = True
    ) -> None:
        """`append` of the rows `entry_rows` gave; `sums` what `balance_sums` gives for them,
        when it was computed beforehand (the import's workers do). With `balances` False the
        sums are not added here: the caller adds them, with other appends' (`add_balance_sums`),
        before the transaction commits."""
        if not rows:
            return
        existing = self._existing({(r[0], r[1]) for r in rows})
        seen: set[tuple[str, str]] = set()
        for r in rows:
            if (r[0], r[1]) in existing or (r[0], r[1]) in seen:
                raise AlreadyExists("ledger entry", f"{r[0]} {r[1]}", field="txn")
            seen.add((r[0], r[1]))
        last = self.conn.execute(LAST_ENTRY_ID).scalar()
        insert_rows(
            self.conn,
            t.ledger_entries,
            ("book", "txn", "on", "event", "order_number", "description", "reverses"),
            [r[:7] for r in rows],
        )
        ids = self._ids(seen, 0 if last is None else int(last))
        postings = [
            (ids[book, txn], book, on, *leg)
            for book, txn, on, _, _, _, _, _, legs in rows
            for leg in legs
        ]
        if postings:
            insert_rows(self.conn, t.postings, POSTING_COLUMNS, postings)
        if balances:
            self._add_sums(balance_sums(self.conn.dialect, rows) if sums is None else sums)

    def add_balance_sums(self, sums: Sequence[list[Rows]]) -> None:
        """Add what several appends' rows add to the kept balances (their `balance_sums`, each
        appended with `balances` False), summed per key first: one upsert per key, however many
        of the appends changed it."""
        if sums:
            self._add_sums(sums[0] if len(sums) == 1 else merged_balance_sums(sums))

    def _add_sums(self, sums: list[Rows]) -> None:
        kept, daily, monthly = sums
        # Keys in sorted order: concurrent writers take the rows' locks in the same order.
        self._bump(t.balances, kept)
        self._bump(t.daily_balances, daily)
        self._bump(t.monthly_balances, monthly)

    def _existing(self, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
        books, txns = sorted({b for b, _ in keys}), sorted({txn for _, txn in keys})
        found: set[tuple[str, str]] = set()
        for k in range(0, len(txns), CHUNK):
            rows = self.conn.execute(BY_BOOK_TXN, {"books": books, "txns": txns[k : k + CHUNK]})
            found.update((r[0], r[1]) for r in rows if (r[0], r[1]) in keys)
        return found

    def _ids(self, keys: set[tuple[str, str]], after: int) -> dict[tuple[str, str], int]:
        """The ids just given to the entries of these (book, txn) keys, read back: portable
        (no RETURNING from an executemany, no id guessed), and (book, txn) is unique. First the
        entries above `after`, the largest id before the insert: one range of the primary key,
        where new ids go (SQLite's next rowid, a sequence's next value); any key not found
        there (a sequence behind ids given by hand) is looked up by (book, txn)."""
        ids: dict[tuple[str, str], int] = {}
        for r in self.conn.execute(ENTRIES_AFTER, {"after": after}):
            if (r[0], r[1]) in keys:
                ids[r[0], r[1]] = int(r[2])
        if len(ids) < len(keys):
            missing = keys - ids.keys()
            books, txns = sorted({b for b, _ in missing}), sorted({txn for _, txn in missing})
            for k in range(0, len(txns), CHUNK):
                found = self.conn.execute(
                    BY_BOOK_TXN, {"books": books, "txns": txns[k : k + CHUNK]}
                )
                for r in found:
                    if (r[0], r[1]) in missing:
                        ids[r[0], r[1]] = int(r[2])
        return ids

    def _bump(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        """Add each row's amount to the kept row of its key (the table's primary key), or insert
        it: one upsert executemany."""
        if rows:
            key = [col.name for col in table.primary_key.columns]
            insert_rows(self.conn, table, [*key, "amount_minor"], rows, add_on_conflict=key)

    def balances(
        self, book: str | None = None, as_of: date | None = None
    ) -> dict[BalanceKey, Decimal]:
        """Balances from the kept table; as of the end of a day, from the kept monthly and
        daily changes, counted from whichever end of the history has fewer rows to read:

        - forward: the months before that day's month, plus that month's days up to the day;
        - backward: the balance now, less the months after that day's month and the days of
          its month after the day.

        At most keys x (months on the nearer side + 31) rows, never a posting (decision 48).
        On SQLite each key's changes are one range of the table's primary key (key, then month
        or day), summed by a subquery per key of `balances`: no sort. PostgreSQL (whose rows of
        one key lie scattered over the heap) reads the same rows in one `UNION ALL` and sums
        them in a hash aggregate."""
        b = t.balances.c
        if as_of is None:
            q = select(b.book, b.account, b.counterparty, b.method, b.commodity, b.amount_minor)
            if book:
                q = q.where(b.book == book)
            return self._nonzero(self.conn.execute(q))
        first = as_of.replace(day=1)
        after = (first + timedelta(days=31)).replace(day=1)  # the next month's first day
        # rows read per key: forward, the months before and the days up to as_of; backward,
        # the balance now, the months after and the month's days after as_of
        span = self._span()
        if span is None:
            return {}
        start, end = span
        months_before = max(0, (first.year - start.year) * 12 + first.month - start.month)
        months_after = max(0, (end.year - after.year) * 12 + end.month - after.month + 1)
        forward = months_before + as_of.day <= months_after + (after - as_of).days
        q = as_of_statement(self.conn.dialect.name == "sqlite", forward, book is not None)
        params = {"first": first, "as_of": as_of, "after": after, "book": book}
        return self._nonzero(self.conn.execute(q, params))

    def _span(self) -> tuple[date, date] | None:
        """The first and last day with kept changes (each one step down the index on `day`)."""
        first, last = self.conn.execute(SPAN).one()
        return None if first is None else (first, last)

    @staticmethod
    def _nonzero(rows: Iterable[Any]) -> dict[BalanceKey, Decimal]:
        out: dict[BalanceKey, Decimal] = {}
        for r in rows:
            if int(r[5]) != 0:
                out[(r[0], r[1], r[2], r[3], r[4])] = from_minor(int(r[5]), r[4])
        return out

    def summed_balances(
        self, book: str | None = None, as_of: date | None = None
    ) -> dict[BalanceKey, Decimal]:
        """Balances recomputed from every posting (up to `as_of`), to check the kept tables
        against."""
        p = t.postings.c
        q = select(
            p.book, p.account, p.counterparty, p.method, p.commodity, func.sum(p.amount_minor)
        ).group_by(p.book, p.account, p.counterparty, p.method, p.commodity)
        if book:
            q = q.where(p.book == book)
        if as_of is not None:
            q = q.where(p.on <= as_of)
        return {
            (r[0], r[1], r[2], r[3], r[4]): from_minor(int(r[5]), r[4])
            for r in self.conn.execute(q)
            if int(r[5]) != 0
        }

    def entries(self, book: str | None = None, order: str | None = None) -> list[Entry]:
        e, p = t.ledger_entries.c, t.postings.c
        q = select(t.ledger_entries).order_by(e.on, e.id)
        if book:
            q = q.where(e.book == book)
        if order:
            q = q.where(e.order_number == order)
        heads = list(self.conn.execute(q).mappings())
        if not heads:
            return []
        by_entry: dict[int, list[Posting]] = {}
        pq = select(t.postings).order_by(p.id)
        if book:
            pq = pq.where(p.book == book)
        if order:
            pq = pq.where(p.entry_id.in_([h["id"] for h in heads]))
        for r in self.conn.execute(pq).mappings():
            by_entry.setdefault(r["entry_id"], []).append(
                Posting(
                    r["account"],
                    Amount(from_minor(r["amount_minor"], r["commodity"]), r["commodity"]),
                    r["counterparty"],
                    r["method"],
                )
            )
        return [
            Entry(
                h["book"],
                h["txn"],
                h["on"],
                h["event"],
                h["order_number"],
                tuple(by_entry.get(h["id"], [])),
                h["description"],
                h["reverses"],
            )
            for h in heads
        ]


def entry_rows(dialect: Dialect, entries: list[Entry]) -> Rows:
    """The rows `append_rows` writes for these entries, as the driver takes them (plain
    values, cheap to keep on disk until they are written: the bulk import's spill); each
    entry's amounts in minor units (refuses excess precision)."""
    day = converter(dialect, t.postings, "on")
    return [
        (
            e.book,
            e.txn,
            day(e.on),
            e.event,
            e.order,
            e.description,
            e.reverses,
            e.on,
            [
                (p.account, p.counterparty, p.method, p.amount.commodity, p.amount.minor)
                for p in e.postings
            ],
        )
        for e in entries
    ]


def merged_balance_sums(sums: Sequence[list[Rows]]) -> list[Rows]:
    """Several `balance_sums` as one: in each table, the changes of one key (and day or month)
    added up, one row per key, in key order."""
    out: list[Rows] = []
    for tables in zip(*sums, strict=True):
        added: dict[tuple[Any, ...], int] = {}
        for rows in tables:
            for r in rows:
                key = r[:-1]
                added[key] = added.get(key, 0) + r[-1]
        out.append([(*k, v) for k, v in sorted(added.items())])
    return out


def balance_sums(dialect: Dialect, rows: Rows) -> list[Rows]:
    """What the rows of new entries (`entry_rows`) add to the kept balances, daily and monthly
    balances: one row per key (and day or month) with the change summed, in key order, as the
    driver takes them. Each posting's change is summed once per key and day; months and
    totals from those."""
    day = converter(dialect, t.postings, "on")
    daily: dict[tuple[str, str, str, str, str, date], int] = {}
    for book, _, _, _, _, _, _, d, legs in rows:
        for account, counterparty, method, c, minor in legs:
            dkey = (book, account, counterparty, method, c, d)
            daily[dkey] = daily.get(dkey, 0) + minor
    kept: dict[BalanceKey, int] = {}
    monthly: dict[tuple[str, str, str, str, str, date], int] = {}
    for dkey, minor in daily.items():
        key = dkey[:5]
        kept[key] = kept.get(key, 0) + minor
        mkey = (*key, dkey[5].replace(day=1))
        monthly[mkey] = monthly.get(mkey, 0) + minor
    return [
        [(*k, v) for k, v in sorted(kept.items())],
        [(*k[:5], day(k[5]), v) for k, v in sorted(daily.items())],
        [(*k[:5], day(k[5]), v) for k, v in sorted(monthly.items())],
    ]
