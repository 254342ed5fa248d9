"""Reconciliation between the parties: each party's view of the orders they share, compared.

A **statement** is one party's signed view of every order of an agreement where it and a
counterparty are the two sides: per order its number, revision, state, lines (ordered and received
quantities, unit prices), receipts, invoices, settlements, the money value of the support received
and what is still owed; plus that party's balances with the counterparty.

A **reconciliation run** matches the counterparty's statement against our own view, one **line**
per order (the statement's line), with one status:

- ``matched``: both views agree;
- ``missing_on_their_side``: we hold the order, their statement does not;
- ``missing_on_our_side``: their statement holds an order we do not;
- ``state_mismatch``: the state (or revision) differs;
- ``quantity_mismatch``: an ordered or received quantity differs (or the lines differ);
- ``amount_mismatch``: a price, value, invoice, settlement or outstanding amount differs.

When several aspects differ, the status is the first of state, quantity, amount (a quantity
difference usually drags the value along); every difference is listed in the line's details.

A line that is not matched can be **disputed** and **resolved**, each with a note. A line still
unresolved more than a year after its transaction date (the first receipt, else the order's
creation) is **flagged** (DoD IG: transactions left unreconciled).

Pure: signatures over statements are made and checked by the services.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from relos.domain.errors import RuleViolation, ValidationError
from relos.domain.orders import Order

#: version 2: header first (with the signer's key id), orders sorted by number, then the digest and
#: the signature, so a reader verifies and matches while streaming (docs/settlement.md)
STATEMENT_FORMAT = "relos-statement/2"


class MatchStatus(StrEnum):
    MATCHED = "matched"
    AMOUNT_MISMATCH = "amount_mismatch"
    QUANTITY_MISMATCH = "quantity_mismatch"
    MISSING_THEIRS = "missing_on_their_side"
    MISSING_OURS = "missing_on_our_side"
    STATE_MISMATCH = "state_mismatch"


# -- one party's view of one order ---------------------------------------------------------------


@dataclass(frozen=True)
class LineView:
    line_no: int
    item: str
    quantity: Decimal
    received: Decimal
    unit_price: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class OrderView:
    """What a statement says of one order (as of the statement's date)."""

    number: str
    revision: int
    state: str
    requesting: str
    supplying: str
    method: str
    transaction_date: date
    lines: tuple[LineView, ...]
    receipts: tuple[tuple[int, date, tuple[tuple[int, Decimal], ...]], ...]
    invoices: tuple[tuple[str, date, date, Decimal, str], ...]  # number, issued, due, value, cur
    settlements: tuple[tuple[int, str, date, Decimal, str, int | None], ...]
    value: Decimal  # money value of the support received, in `currency`
    currency: str
    outstanding: tuple[tuple[str, Decimal], ...]  # (commodity, still owed), sorted

    def document(self) -> dict[str, Any]:
        """Plain JSON (numbers as exact text), the shape a statement carries."""
        return {
            "number": self.number,
            "revision": self.revision,
            "state": self.state,
            "requesting": self.requesting,
            "supplying": self.supplying,
            "method": self.method,
            "transaction_date": self.transaction_date.isoformat(),
            "lines": [
                {
                    "line": ln.line_no,
                    "item": ln.item,
                    "quantity": str(ln.quantity),
                    "received": str(ln.received),
                    "unit_price": None if ln.unit_price is None else str(ln.unit_price),
                    "currency": ln.currency,
                }
                for ln in self.lines
            ],
            "receipts": [
                {
                    "seq": seq,
                    "received_on": on.isoformat(),
                    "quantities": [{"line": n, "quantity": str(q)} for n, q in qs],
                }
                for seq, on, qs in self.receipts
            ],
            "invoices": [
                {
                    "number": n,
                    "issued_on": i.isoformat(),
                    "due_on": d.isoformat(),
                    "value": str(v),
                    "currency": c,
                }
                for n, i, d, v, c in self.invoices
            ],
            "settlements": [
                {
                    "seq": seq,
                    "kind": kind,
                    "on": on.isoformat(),
                    "amount": str(a),
                    "commodity": c,
                    "reverses": rev,
                }
                for seq, kind, on, a, c, rev in self.settlements
            ],
            "value": str(self.value),
            "currency": self.currency,
            "outstanding": [{"commodity": c, "amount": str(a)} for c, a in self.outstanding],
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> OrderView:
        """Read one order of a statement; a malformed one is a ValidationError naming it."""
        where = f"orders[{doc.get('number', '?')}]" if isinstance(doc, Mapping) else "orders[?]"
        try:
            return cls(
                number=str(doc["number"]),
                revision=int(doc["revision"]),
                state=str(doc["state"]),
                requesting=str(doc["requesting"]),
                supplying=str(doc["supplying"]),
                method=str(doc["method"]),
                transaction_date=date.fromisoformat(doc["transaction_date"]),
                lines=tuple(
                    LineView(
                        int(ln["line"]),
                        str(ln["item"]),
                        _dec(ln["quantity"]),
                        _dec(ln["received"]),
                        None if ln["unit_price"] is None else _dec(ln["unit_price"]),
                        ln["currency"],
                    )
                    for ln in doc["lines"]
                ),
                receipts=tuple(
                    (
                        int(r["seq"]),
                        date.fromisoformat(r["received_on"]),
                        tuple((int(q["line"]), _dec(q["quantity"])) for q in r["quantities"]),
                    )
                    for r in doc["receipts"]
                ),
                invoices=tuple(
                    (
                        str(i["number"]),
                        date.fromisoformat(i["issued_on"]),
                        date.fromisoformat(i["due_on"]),
                        _dec(i["value"]),
                        str(i["currency"]),
                    )
                    for i in doc["invoices"]
                ),
                settlements=tuple(
                    (
                        int(s["seq"]),
                        str(s["kind"]),
                        date.fromisoformat(s["on"]),
                        _dec(s["amount"]),
                        str(s["commodity"]),
                        None if s["reverses"] is None else int(s["reverses"]),
                    )
                    for s in doc["settlements"]
                ),
                value=_dec(doc["value"]),
                currency=str(doc["currency"]),
                outstanding=tuple(
                    (str(o["commodity"]), _dec(o["amount"])) for o in doc["outstanding"]
                ),
            )
        except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as e:
            raise ValidationError(where, "", f"malformed statement order: {e!r}") from None


def _dec(value: Any) -> Decimal:
    if isinstance(value, float) or not isinstance(value, str | int):
        raise ValueError(f"{value!r} is not an exact decimal text")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{value!r} is not finite")
    return number


def order_view(order: Order, as_of: date) -> OrderView:
    """Our view of `order` as of `as_of`: receipts, invoices and settlements dated after it are
    left out (the state is the order's state as recorded)."""
    receipts = [r for r in order.receipts if r.received_on <= as_of]
    invoices = [i for i in order.invoices if i.issued_on <= as_of]
    settlements = [s for s in order.settlements if s.on <= as_of]
    value = Decimal(0)
    currency = next(
        (ln.unit_price.commodity for ln in order.lines if ln.unit_price is not None), ""
    )
    owed: dict[str, Decimal] = {}
    received: dict[int, Decimal] = {}
    for r in receipts:
        for ln, qty, v, ob in order.receipt_amounts(r):
            value += v.number
            currency = v.commodity
            owed[ob.commodity] = owed.get(ob.commodity, Decimal(0)) + ob.number
            received[ln.line_no] = received.get(ln.line_no, Decimal(0)) + qty
    for s in settlements:
        a = s.signed_amount
        owed[a.commodity] = owed.get(a.commodity, Decimal(0)) - a.number
    first = min((r.received_on for r in receipts), default=None)
    return OrderView(
        number=order.number,
        revision=order.revision,
        state=order.state.value,
        requesting=order.requesting,
        supplying=order.supplying,
        method=order.method.value,
        transaction_date=first or order.created_on or as_of,
        lines=tuple(
            LineView(
                ln.line_no,
                ln.item_code,
                ln.quantity,
                received.get(ln.line_no, Decimal(0)),
                None if ln.unit_price is None else ln.unit_price.number,
                None if ln.unit_price is None else ln.unit_price.commodity,
            )
            for ln in order.lines
        ),
        receipts=tuple((r.seq, r.received_on, r.quantities) for r in receipts),
        invoices=tuple(
            (i.number, i.issued_on, i.due_on, i.value.number, i.value.commodity) for i in invoices
        ),
        settlements=tuple(
            (s.seq, s.kind.value, s.on, s.amount.number, s.amount.commodity, s.reverses)
            for s in settlements
        ),
        value=value,
        currency=currency,
        outstanding=tuple(sorted(owed.items())),
    )


# -- matching ------------------------------------------------------------------------------------


def differences(ours: OrderView, theirs: OrderView) -> dict[MatchStatus, list[str]]:
    """Every difference between two views of one order, by the status it points to."""
    found: dict[MatchStatus, list[str]] = {
        MatchStatus.STATE_MISMATCH: [],
        MatchStatus.QUANTITY_MISMATCH: [],
        MatchStatus.AMOUNT_MISMATCH: [],
    }
    st, qty, amt = found.values()
    if ours.state != theirs.state:
        st.append(f"state: ours {ours.state}, theirs {theirs.state}")
    if ours.revision != theirs.revision:
        st.append(f"revision: ours {ours.revision}, theirs {theirs.revision}")
    for field in ("requesting", "supplying", "method"):
        a, b = getattr(ours, field), getattr(theirs, field)
        if a != b:
            st.append(f"{field}: ours {a}, theirs {b}")
    our_lines = {ln.line_no: ln for ln in ours.lines}
    their_lines = {ln.line_no: ln for ln in theirs.lines}
    for n in sorted(our_lines.keys() | their_lines.keys()):
        a_ln, b_ln = our_lines.get(n), their_lines.get(n)
        if a_ln is None or b_ln is None:
            qty.append(f"line {n}: {'only theirs' if a_ln is None else 'only ours'}")
            continue
        if a_ln.item != b_ln.item:
            qty.append(f"line {n} item: ours {a_ln.item}, theirs {b_ln.item}")
        if a_ln.quantity != b_ln.quantity:
            qty.append(f"line {n} quantity: ours {a_ln.quantity}, theirs {b_ln.quantity}")
        if a_ln.received != b_ln.received:
            qty.append(f"line {n} received: ours {a_ln.received}, theirs {b_ln.received}")
        if (a_ln.unit_price, a_ln.currency) != (b_ln.unit_price, b_ln.currency):
            amt.append(
                f"line {n} unit price: ours {a_ln.unit_price} {a_ln.currency}, "
                f"theirs {b_ln.unit_price} {b_ln.currency}"
            )
    if _receipts(ours) != _receipts(theirs):
        qty.append("receipts differ")
    if (ours.value, ours.currency) != (theirs.value, theirs.currency):
        amt.append(
            f"value: ours {ours.value} {ours.currency}, theirs {theirs.value} {theirs.currency}"
        )
    if _invoices(ours) != _invoices(theirs):
        amt.append("invoices differ")
    if _settlements(ours) != _settlements(theirs):
        amt.append("settlements differ")
    if _outstanding(ours) != _outstanding(theirs):
        amt.append(
            f"outstanding: ours {_show(ours.outstanding)}, theirs {_show(theirs.outstanding)}"
        )
    return {k: v for k, v in found.items() if v}


def _receipts(v: OrderView) -> list[tuple[date, list[tuple[int, Decimal]]]]:
    return sorted((on, sorted((n, q) for n, q in qs if q)) for _, on, qs in v.receipts)


def _invoices(v: OrderView) -> list[tuple[str, date, date, Decimal, str]]:
    return sorted(v.invoices)


def _settlements(v: OrderView) -> list[tuple[int, str, date, Decimal, str, int | None]]:
    return sorted(v.settlements, key=lambda s: s[0])


def _outstanding(v: OrderView) -> dict[str, Decimal]:
    return {c: a for c, a in v.outstanding if a != 0}


def _show(pairs: tuple[tuple[str, Decimal], ...]) -> str:
    return ", ".join(f"{a} {c}" for c, a in pairs if a != 0) or "nothing"


#: which status names an order's line when several aspects differ
PRIORITY = (MatchStatus.STATE_MISMATCH, MatchStatus.QUANTITY_MISMATCH, MatchStatus.AMOUNT_MISMATCH)


@dataclass(frozen=True)
class ReconLine:
    """One line of a reconciliation run: one order, its status, and what became of it."""

    line_no: int
    order: str
    status: MatchStatus
    transaction_date: date
    our_state: str | None
    their_state: str | None
    our_value: Decimal | None
    their_value: Decimal | None
    currency: str
    details: tuple[str, ...] = ()
    disputed_note: str | None = None
    disputed_by: str | None = None
    disputed_at: datetime | None = None
    resolved_note: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None

    @property
    def open(self) -> bool:
        """Unreconciled: not matched, and not resolved."""
        return self.status is not MatchStatus.MATCHED and self.resolved_note is None

    def overdue(self, as_of: date) -> bool:
        """Unreconciled for over a year from its transaction date."""
        return self.open and as_of > one_year_after(self.transaction_date)

    def dispute(self, user: str, note: str, at: datetime) -> ReconLine:
        note = _note(note)
        if self.status is MatchStatus.MATCHED:
            raise RuleViolation(
                "dispute_matched_line",
                "line",
                self.line_no,
                "a matched line has nothing to dispute",
            )
        if self.resolved_note is not None:
            raise RuleViolation("line_resolved", "line", self.line_no, "the line is resolved")
        return replace(self, disputed_note=note, disputed_by=user, disputed_at=at)

    def resolve(self, user: str, note: str, at: datetime) -> ReconLine:
        note = _note(note)
        if self.status is MatchStatus.MATCHED:
            raise RuleViolation(
                "resolve_matched_line", "line", self.line_no, "a matched line needs no resolution"
            )
        if self.resolved_note is not None:
            raise RuleViolation("line_resolved", "line", self.line_no, "already resolved")
        return replace(self, resolved_note=note, resolved_by=user, resolved_at=at)


def _note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise ValidationError("note", note, "say why (a note is required)")
    if len(note) > 2000:
        raise ValidationError("note", note[:40], "2000 characters at most")
    return note


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _line(n: int, ours: OrderView | None, theirs: OrderView | None) -> ReconLine:
    base = ours or theirs
    assert base is not None
    details: tuple[str, ...]
    if ours is None:
        status, details = MatchStatus.MISSING_OURS, ("their statement holds an order we do not",)
    elif theirs is None:
        status, details = MatchStatus.MISSING_THEIRS, ("their statement does not hold it",)
    else:
        found = differences(ours, theirs)
        status = next((s for s in PRIORITY if s in found), MatchStatus.MATCHED)
        details = tuple(d for s in PRIORITY for d in found.get(s, []))
    return ReconLine(
        line_no=n,
        order=base.number,
        status=status,
        transaction_date=min(v.transaction_date for v in (ours, theirs) if v is not None),
        our_state=None if ours is None else ours.state,
        their_state=None if theirs is None else theirs.state,
        our_value=None if ours is None else ours.value,
        their_value=None if theirs is None else theirs.value,
        currency=base.currency,
        details=details,
    )


def match(ours: Iterable[OrderView], theirs: Iterable[OrderView]) -> list[ReconLine]:
    """Match their views against ours, one line per order number (sorted by number)."""
    mine = {v.number: v for v in ours}
    other: dict[str, OrderView] = {}
    for v in theirs:
        if v.number in other:
            raise ValidationError("orders", v.number, "the statement holds this order twice")
        other[v.number] = v
    return [
        _line(i, mine.get(number), other.get(number))
        for i, number in enumerate(sorted(mine.keys() | other.keys()), start=1)
    ]


def merge(ours: Iterable[OrderView], theirs: Iterable[OrderView]) -> Iterator[ReconLine]:
    """Match two views both sorted by order number, one line at a time (memory stays flat).

    Ours come sorted from our own records; theirs must be strictly increasing, as a statement
    lists them: an order out of order or twice is a ValidationError naming it."""
    mine, other = iter(ours), iter(theirs)
    a, b = next(mine, None), next(other, None)
    last: str | None = None
    n = 0
    while a is not None or b is not None:
        if b is not None and last is not None and b.number <= last:
            why = (
                "the statement holds this order twice"
                if b.number == last
                else (f"orders must be sorted by number; it follows {last}")
            )
            raise ValidationError("orders", b.number, why)
        n += 1
        if b is None or (a is not None and a.number < b.number):
            assert a is not None
            yield _line(n, a, None)
            a = next(mine, None)
        elif a is None or b.number < a.number:
            yield _line(n, None, b)
            last, b = b.number, next(other, None)
        else:
            yield _line(n, a, b)
            last = b.number
            a, b = next(mine, None), next(other, None)


def mirror_balance_differences(
    ours: Mapping[tuple[str, str, str], Decimal], theirs: Mapping[tuple[str, str, str], Decimal]
) -> list[str]:
    """Compare balances with the counterparty: our receivable must equal their payable and our
    payable their receivable, per method and commodity. Keys are (account, method, commodity)."""
    flip = {"receivable": "payable", "payable": "receivable"}
    mirrored = {(flip[a], m, c): v for (a, m, c), v in theirs.items() if a in flip}
    out = []
    for key in sorted(set(ours) | set(mirrored)):
        a, b = ours.get(key, Decimal(0)), -mirrored.get(key, Decimal(0))
        if a != b:
            out.append(f"{key[0]}:{key[1]} {key[2]}: ours {a}, theirs (mirrored) {b}")
    return out


# -- keys and runs (stored records) --------------------------------------------------------------


@dataclass(frozen=True)
class PartyKey:
    """A party's Ed25519 public key (and, for the node's own party, its private key)."""

    party: str
    key_id: str
    public_pem: str
    created_at: datetime
    private_pem: str | None = None  # never shown, exported or audited


@dataclass(frozen=True)
class ReconRun:
    id: int
    agreement: str
    party: str  # ours
    counterparty: str  # whose statement was matched
    their_as_of: date
    their_key_id: str
    statement_digest: str
    run_by: str
    run_at: datetime
    balance_differences: tuple[str, ...] = ()
