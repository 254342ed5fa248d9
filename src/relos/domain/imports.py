"""Orders imported from a file (`relos import orders`): rows, the order built from them, the job.

An **import file** holds one row per order line; the rows of one order are consecutive and share
its **order reference** (``order_ref``, the officer's own reference), and repeat the order's own
fields (agreement, parties, facility, unit, method, dates). Each row may say that its line was
received (``received_on``, ``received_quantity``) and the order invoiced (``invoiced_on``).

An imported order goes through the same steps as one entered by hand — draft, submit, accept
(pricing from the price list valid on the order date), one receipt per delivery date, invoice —
through the same domain methods, signed by the **importer** (a party admin, `users.Importer`),
so its state, signatures and ledger postings are those the officers would have produced.

An **import job** remembers a file by its SHA-256 and the last file line committed, so an
interrupted import resumes where it stopped and a file is never imported twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cached_property
from operator import itemgetter
from typing import Any

from relos.domain.agreements import Agreement, Method
from relos.domain.errors import Invalid, NotFound, RelosError, RuleViolation, ValidationError
from relos.domain.facilities import Facility, PriceItem, Unit
from relos.domain.ledger import Entry, post_receipt
from relos.domain.money import parse_decimal
from relos.domain.orders import Order, OrderLine, new_order
from relos.domain.users import User

#: the columns every import file has, in this order
COLUMNS = (
    "order_ref",
    "agreement",
    "requester",
    "supplier",
    "facility",
    "unit",
    "method",
    "ordered_on",
    "required_by",
    "item",
    "quantity",
    "received_on",
    "received_quantity",
    "invoiced_on",
)
#: optional columns: the order's use and the data elements an agreement may require
OPTIONAL_COLUMNS = ("use", "point_of_contact", "delivery_location", "purpose")
#: columns that belong to the order: every row of an order repeats the same value
ORDER_COLUMNS = (
    "agreement",
    "requester",
    "supplier",
    "facility",
    "unit",
    "method",
    "ordered_on",
    "required_by",
    "invoiced_on",
    *OPTIONAL_COLUMNS,
)
DATA_COLUMNS = ("point_of_contact", "delivery_location", "purpose")
REF = re.compile(r"^[\w][\w./:#-]{0,59}$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: its line (1 is the header), the column, the value, why."""

    line: int
    field: str
    value: str
    rule: str
    message: str

    def error(self) -> RelosError:
        where = f"line {self.line}: {self.field}"
        if self.rule == ValidationError.rule:
            return ValidationError(where, self.value, self.message)
        return RuleViolation(self.rule, where, self.value, self.message)


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One order line of an import file, parsed."""

    line: int
    order_ref: str
    agreement: str
    requester: str
    supplier: str
    facility: str
    unit: str
    method: Method
    ordered_on: date
    required_by: date
    item: str
    quantity: Decimal
    received_on: date | None
    received_quantity: Decimal | None
    invoiced_on: date | None
    use: str
    data: tuple[tuple[str, str], ...]
    raw: tuple[tuple[str, str], ...]  # the order's own columns as written, to compare rows

    def order_fields(self) -> dict[str, str]:
        return dict(self.raw)


def check_header(header: Sequence[str] | None) -> list[Problem]:
    """The file's first line names every column of `COLUMNS` (extra known columns allowed)."""
    if not header:
        return [Problem(1, "header", "", "invalid_input", "the file is empty")]
    names = [h.strip() for h in header]
    problems = [
        Problem(1, "header", c, "invalid_input", f"column {c} is missing")
        for c in COLUMNS
        if c not in names
    ]
    known = set(COLUMNS) | set(OPTIONAL_COLUMNS)
    problems += [
        Problem(1, "header", c, "invalid_input", f"unknown column {c}")
        for c in names
        if c not in known
    ]
    dups = sorted({c for c in names if names.count(c) > 1})
    problems += [Problem(1, "header", c, "invalid_input", "column named twice") for c in dups]
    return problems


def _date(text: str, col: str, line: int, out: list[Problem]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        out.append(Problem(line, col, text, "invalid_input", "not a date (YYYY-MM-DD)"))
        return None


_MILLI = Decimal("0.001")


def _quantity(text: str, col: str, line: int, out: list[Problem]) -> Decimal | None:
    if not text:
        return None
    try:
        q = parse_decimal(text, col)
    except RelosError as e:
        out.append(Problem(line, col, text, "invalid_input", e.message))
        return None
    if q <= 0:
        out.append(Problem(line, col, text, "invalid_input", "must be > 0"))
        return None
    if q != q.quantize(_MILLI):
        out.append(Problem(line, col, text, "invalid_input", "at most 3 decimals"))
        return None
    return q


_REQUIRED = ("order_ref", "agreement", "requester", "supplier", "facility", "unit", "item")
#: every column an import file may have: those it must have, then the optional ones
ALL_COLUMNS = (*COLUMNS, *OPTIONAL_COLUMNS)
_ORDER_VALUES = itemgetter(*ORDER_COLUMNS)


def row_reader(header: Sequence[str]) -> Callable[[Sequence[str]], tuple[str, ...]]:
    """For a file whose header (checked by `check_header`) is `header`: a function from one
    row's values, in the file's order, to the text of every column of `ALL_COLUMNS` in that
    order, stripped, "" for an optional column the file lacks (`row_text` names them for
    `parse_row`)."""
    names = [h.strip() for h in header]
    absent = len(names)
    pick = itemgetter(*(names.index(c) if c in names else absent for c in ALL_COLUMNS))

    def read(values: Sequence[str]) -> tuple[str, ...]:
        return tuple([v.strip() for v in pick([*values, ""])])

    return read


@dataclass(frozen=True)
class RowKey:
    """What numbering and grouping a row needs, read without parsing the rest (`row_key`)."""

    line: int
    order_ref: str
    agreement: str
    requester: str
    ordered_on: date


_KEY_AT = tuple(ALL_COLUMNS.index(c) for c in ("order_ref", "agreement", "requester", "ordered_on"))


def row_key(line: int, columns: Sequence[str]) -> RowKey | None:
    """The key of a row as `row_reader` gave it, or None when a key column is empty or bad:
    then `parse_row` refuses the row too, naming every problem. A row with a key may still
    be refused by `parse_row` for its other columns."""
    ref, agreement, requester, ordered_on = (columns[k] for k in _KEY_AT)
    if not (ref and agreement and requester and ordered_on) or not REF.match(ref):
        return None
    try:
        return RowKey(line, ref, agreement, requester, date.fromisoformat(ordered_on))
    except ValueError:
        return None


def row_text(columns: Sequence[str]) -> dict[str, str]:
    """A row as `row_reader` gave it, by column name: what `parse_row` reads."""
    return dict(zip(ALL_COLUMNS, columns, strict=True))


def parse_row(
    line: int, v: Mapping[str, str], default_use: str
) -> tuple[ImportRow | None, list[Problem]]:
    """One row read as text (every column of `ALL_COLUMNS`, stripped: `row_reader`): the row,
    or every problem with it."""
    out: list[Problem] = []
    for col in _REQUIRED:
        if not v[col]:
            out.append(Problem(line, col, "", "invalid_input", "required"))
    ref = v["order_ref"]
    if ref and not REF.match(ref):
        out.append(
            Problem(line, "order_ref", ref, "invalid_input", "letters, digits, . / : # - (60)")
        )
    method: Method | None = None
    if v["method"]:
        try:
            method = Method(v["method"])
        except ValueError:
            out.append(Problem(line, "method", v["method"], "invalid_input", "cash, rik or eve"))
    else:
        out.append(Problem(line, "method", "", "invalid_input", "required"))
    ordered_on = _date(v["ordered_on"], "ordered_on", line, out)
    required_by = _date(v["required_by"], "required_by", line, out)
    for col in ("ordered_on", "required_by", "quantity"):
        if not v[col]:
            out.append(Problem(line, col, "", "invalid_input", "required"))
    quantity = _quantity(v["quantity"], "quantity", line, out)
    received_on = _date(v["received_on"], "received_on", line, out)
    received = _quantity(v["received_quantity"], "received_quantity", line, out)
    if bool(v["received_on"]) != bool(v["received_quantity"]):
        col = "received_quantity" if v["received_on"] else "received_on"
        out.append(
            Problem(line, col, "", "invalid_input", "received_on and received_quantity go together")
        )
    invoiced_on = _date(v["invoiced_on"], "invoiced_on", line, out)
    if out:
        return None, out
    assert method is not None
    assert ordered_on is not None
    assert required_by is not None
    assert quantity is not None
    use = v["use"] or default_use
    data = tuple((c, v[c]) for c in DATA_COLUMNS if v[c])
    own = tuple(zip(ORDER_COLUMNS, _ORDER_VALUES(v), strict=True))
    return (
        ImportRow(
            line,
            ref,
            v["agreement"],
            v["requester"],
            v["supplier"],
            v["facility"],
            v["unit"],
            method,
            ordered_on,
            required_by,
            v["item"],
            quantity,
            received_on,
            received,
            invoiced_on,
            use,
            data,
            own,
        ),
        [],
    )


def check_same_order(rows: Sequence[ImportRow]) -> list[Problem]:
    """Every row of an order repeats the order's own fields as its first row gives them."""
    first = rows[0].order_fields()
    out = []
    for r in rows[1:]:
        for col, value in r.raw:
            if value != first[col]:
                out.append(
                    Problem(
                        r.line,
                        col,
                        value,
                        "order_fields_differ",
                        f"order {r.order_ref} has {col} {first[col] or '(empty)'}"
                        f" on line {rows[0].line}",
                    )
                )
    return out


@dataclass(frozen=True)
class Reference:
    """What an import checks orders against, loaded once: agreements, facilities, units and
    the price lists (per supplier)."""

    agreements: Mapping[str, Agreement]
    facilities: Mapping[str, Facility]
    units: Mapping[str, Unit]
    prices: Mapping[str, list[PriceItem]]

    @cached_property
    def _by_item(self) -> dict[tuple[str, str], list[PriceItem]]:
        out: dict[tuple[str, str], list[PriceItem]] = {}
        for supplier, items in self.prices.items():
            for p in items:
                if p.supplier == supplier:
                    out.setdefault((supplier, p.code), []).append(p)
        return out

    def price_items(self, supplier: str, codes: Sequence[str]) -> list[PriceItem]:
        """The supplier's price items of these codes (every validity period), in price-list
        order: what `facilities.price_on` finds in the whole list, found in a few items."""
        found: list[PriceItem] = []
        for code in dict.fromkeys(codes):
            found += self._by_item.get((supplier, code), ())
        return found


class Rehearsal(Order):
    """An order taken through its steps to check them, never stored: every rule runs, but its
    signatures and receipts carry no digest (a digest cannot break a rule, and the order's real
    number, which the signed documents include, is only known when it is written)."""

    def _signed_digest(self, action: str, extra: dict[str, Any]) -> str:
        return ""

    def _receipt_digest(self, payload: dict[str, Any]) -> str:
        return ""


def midnight(day: date) -> datetime:
    """When an imported step is signed: the start of the day it happened (UTC)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def default_data(rows: Sequence[ImportRow], importer: User) -> dict[str, str]:
    """The data elements of an imported order: the file's, else what the file implies (the
    importer answers for the record, delivery at the facility, the use as purpose)."""
    first = rows[0]
    given = dict(first.data)
    return {
        "point_of_contact": given.get("point_of_contact", importer.name),
        "delivery_location": given.get("delivery_location", first.facility),
        "purpose": given.get("purpose", first.use),
    }


def receipts_of(rows: Sequence[ImportRow]) -> list[tuple[date, list[tuple[int, Decimal]]]]:
    """One receipt per delivery date, in date order: (date, [(line_no, quantity)])."""
    by_day: dict[date, list[tuple[int, Decimal]]] = {}
    for no, r in enumerate(rows, start=1):
        if r.received_on is not None and r.received_quantity is not None:
            by_day.setdefault(r.received_on, []).append((no, r.received_quantity))
    return sorted(by_day.items())


def build_order(
    rows: Sequence[ImportRow],
    number: str,
    importer: User,
    ref: Reference,
    today: date,
    *,
    rehearse: bool = False,
) -> tuple[Order, list[Entry]]:
    """The order the rows describe, taken through every step the rows record, and its postings.

    Raises the domain's own errors (each step checks its rules as when an officer acts);
    `locate` turns them into problems at the rows and columns they concern. With `rehearse`
    the order is a `Rehearsal` (the same steps and rules, no digests), to check rows only.
    """
    first = rows[0]
    agreement = ref.agreements.get(first.agreement)
    if agreement is None:
        raise NotFound("agreement", first.agreement, field="agreement")
    facility = ref.facilities.get(first.facility)
    if facility is None:
        raise NotFound("facility", first.facility, field="facility")
    unit = ref.units.get(first.unit)
    if unit is None:
        raise NotFound("unit", first.unit, field="unit")
    if first.requester != unit.party:
        raise RuleViolation(
            "unit_not_requesters",
            "unit",
            unit.code,
            f"{unit.name} belongs to {unit.party}, not {first.requester}",
        )
    prices = ref.price_items(first.supplier, [r.item for r in rows])
    lines = [OrderLine(no, r.item, r.quantity) for no, r in enumerate(rows, start=1)]
    order = new_order(
        number,
        agreement,
        first.requester,
        first.supplier,
        facility,
        unit,
        first.method,
        first.use,
        first.required_by,
        lines,
        default_data(rows, importer),
        first.ordered_on,
    )
    if rehearse:
        order = Rehearsal(**vars(order))
    ordered = midnight(first.ordered_on)
    order.submit_and_accept(importer, ordered, agreement, facility, prices)
    entries: list[Entry] = []
    for day, quantities in receipts_of(rows):
        if day > today:
            raise RuleViolation("receipt_in_future", "on", day.isoformat(), "not yet happened")
        if day < first.ordered_on:
            raise RuleViolation(
                "receipt_before_order",
                "on",
                day.isoformat(),
                f"the order is of {first.ordered_on.isoformat()}",
            )
        receipt = order.receive(importer, midnight(day), day, quantities)
        entries += post_receipt(order, receipt)
    if first.invoiced_on is not None:
        order.invoice(
            importer,
            midnight(first.invoiced_on),
            f"INV-{number}-1",
            first.invoiced_on,
            agreement,
        )
    return order, entries


#: where a domain error's field points in the file
_COLUMN_OF = {
    "agreement": "agreement",
    "date": "ordered_on",
    "requesting": "requester",
    "supplying": "supplier",
    "facility": "facility",
    "unit": "unit",
    "method": "method",
    "use": "use",
    "user": "requester",
    "issued_on": "invoiced_on",
    "state": "invoiced_on",
    "on": "received_on",
    "item": "item",
    "lines": "item",
}
_LINE = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?$")


def locate(error: RelosError, rows: Sequence[ImportRow]) -> list[Problem]:
    """The problems an error of `build_order` means, each at the row and column it concerns."""
    if isinstance(error, Invalid):
        return [p for e in error.problems for p in locate(e, rows)]
    value = "" if error.value is None else str(error.value)
    target, column = rows[0], _COLUMN_OF.get(error.field or "", error.field or "order")
    m = _LINE.match(error.field or "")
    if m:
        no = int(m.group(1))
        target = rows[no - 1] if 0 < no <= len(rows) else rows[0]
        part = m.group(2) or "item"
        column = {"category": "item", "item": "item"}.get(part, part)
        if error.rule == "receipt_exceeds_order":
            column = "received_quantity"
    elif error.field == "item":
        target = next((r for r in rows if r.item == value), rows[0])
    elif error.field == "on":
        target = next((r for r in rows if r.received_on and str(r.received_on) == value), rows[0])
    elif error.field and error.field.startswith("data."):
        column = error.field.removeprefix("data.")
    return [Problem(target.line, column, value, error.rule, error.message)]


@dataclass
class ImportJob:
    """One file being imported: known by its SHA-256, resumed from `last_line`."""

    kind: str
    sha256: str
    file_name: str
    user: str
    party: str
    started_at: datetime
    rows_total: int
    orders_total: int
    id: int | None = None
    last_line: int = 0  # the last file line whose order is committed (0: none yet)
    rows_done: int = 0
    orders_done: int = 0
    entries_done: int = 0
    batches_done: int = 0
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None
