"""Support orders through their whole life.

An **order** asks a supplying party for support at one of its facilities, for a unit of the
requesting party, under one agreement and one reimbursement method. Every step is **signed**: who,
in which role, for which party, when, and the SHA-256 of exactly what was signed.

States (a transition not in ``TRANSITIONS`` is refused, naming both states)::

    draft -> submitted -> accepted -> partially_received -> received -> invoiced
               |             |                               -> settled -> closed
               v             v
            rejected      cancelled (only before any receipt)
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Callable
from copy import copy as shallow_copy
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from relos.domain.agreements import Agreement, Category, Method
from relos.domain.errors import (
    Invalid,
    InvalidTransition,
    RelosError,
    RuleViolation,
    ValidationError,
)
from relos.domain.facilities import Facility, PriceItem, Unit, price_on
from relos.domain.money import Amount, quantize
from relos.domain.users import User, require_order_action


class OrderState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    INVOICED = "invoiced"
    SETTLED = "settled"
    CLOSED = "closed"
    CANCELLED = "cancelled"


S = OrderState
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REJECTED, S.CANCELLED, S.SUBMITTED}),
    S.ACCEPTED: frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED, S.CANCELLED, S.SUBMITTED}),
    S.PARTIALLY_RECEIVED: frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED, S.INVOICED, S.SUBMITTED}),
    S.RECEIVED: frozenset({S.INVOICED}),
    S.INVOICED: frozenset({S.INVOICED, S.SETTLED}),
    S.SETTLED: frozenset({S.INVOICED, S.CLOSED}),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.CLOSED: frozenset(),
}
OPEN_STATES = frozenset(S) - {S.REJECTED, S.CANCELLED, S.CLOSED}


class SettlementKind(StrEnum):
    CASH = "cash"  # cash payment
    RIK_RETURN = "rik_return"  # the same item returned, counted in its own unit
    EVE_PROVISION = "eve_provision"  # other support of equal value provided back
    NETTING = "netting"  # offset against the creditor's own debts by a netting statement


KIND_FOR_METHOD = {
    Method.CASH: SettlementKind.CASH,
    Method.RIK: SettlementKind.RIK_RETURN,
    Method.EVE: SettlementKind.EVE_PROVISION,
}


#: canonical JSON: keys sorted, no spaces, text as is (one encoder, not one per document)
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def digest(document: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a document: what a signature signs."""
    return hashlib.sha256(_CANONICAL.encode(document).encode("utf-8")).hexdigest()


#: a text's JSON string as the canonical encoder writes it (``ensure_ascii=False``: only quotes,
#: backslashes and control characters escaped); the same C function the encoder calls
_json_string: Callable[[str], str] = json.encoder.encode_basestring


def _member_value(value: Any) -> str:
    """`_CANONICAL.encode(value)`, with text, integers, None and lists of them written without
    making an encoder (as a receipt's quantities are)."""
    kind = type(value)
    if kind is str:
        return _json_string(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is list:
        return f"[{','.join(_member_value(v) for v in value)}]"
    return _CANONICAL.encode(value)


def signed_text_digest(order_text: str, action: str, extra: dict[str, Any]) -> str:
    """`digest({"order": document, "action": action, **extra})` given the document's canonical
    text (`Order.document_text`), spliced in as its member's value: canonical JSON of an object
    is its members sorted by key, each `"key":value`, joined by commas."""
    if "order" in extra or not all(type(k) is str for k in extra):
        return digest({"order": json.loads(order_text), "action": action, **extra})
    members = [(k, _member_value(v)) for k, v in {"action": action, **extra}.items()]
    members.append(("order", order_text))
    members.sort()
    whole = ",".join(f"{_json_string(k)}:{v}" for k, v in members)
    return hashlib.sha256(f"{{{whole}}}".encode()).hexdigest()


@dataclass(frozen=True)
class Signature:
    action: str
    user: str
    role: str
    party: str
    at: datetime
    revision: int
    digest: str
    note: str = ""


@dataclass(frozen=True)
class OrderLine:
    line_no: int
    item_code: str
    quantity: Decimal
    description: str = ""
    category: Category | None = None
    unit_of_measure: str = ""
    unit_price: Amount | None = None  # fixed from the price list at acceptance
    commodity: str = ""  # what a replacement-in-kind debt for this line is counted in

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValidationError(
                f"lines[{self.line_no}].quantity", str(self.quantity), "must be > 0"
            )

    def priced(self, item: PriceItem) -> OrderLine:
        """The line as acceptance fixes it from its price item: the item's price, category,
        unit of measure and in-kind commodity, its description where the line has none. Made
        directly rather than by `dataclasses.replace` (half the time; acceptance prices every
        line of every imported order); a test holds it to carrying every other field."""
        return OrderLine(
            line_no=self.line_no,
            item_code=self.item_code,
            quantity=self.quantity,
            description=self.description or item.description,
            category=item.category,
            unit_of_measure=item.unit_of_measure,
            unit_price=item.unit_price,
            commodity=item.rik_commodity,
        )


@dataclass(frozen=True)
class Receipt:
    seq: int
    received_on: date
    quantities: tuple[tuple[int, Decimal], ...]  # (line_no, quantity)
    digest: str


@dataclass(frozen=True)
class Invoice:
    number: str
    issued_on: date
    due_on: date
    amounts: tuple[Amount, ...]  # per commodity (one currency, or each RIK commodity)
    value: Amount  # money value in the supplier's currency


@dataclass(frozen=True)
class Settlement:
    seq: int
    kind: SettlementKind
    on: date
    amount: Amount
    note: str = ""
    reverses: int | None = None  # seq of the settlement this one reverses

    @property
    def signed_amount(self) -> Amount:
        return -self.amount if self.reverses is not None else self.amount


@dataclass(frozen=True)
class Conversion:
    """An overdue in-kind (RIK/EVE) obligation turned into a cash debt (domain/settlement.py).

    `cleared` is the in-kind outstanding it cancels (per commodity); `amount` the cash now owed,
    valued at `basis` ("original": prices fixed at acceptance; "current": the supplier's price
    list on `on`); `unit_prices` the price used per line: (line_no, quantity, unit price).
    """

    seq: int
    on: date
    basis: str
    cleared: tuple[Amount, ...]
    unit_prices: tuple[tuple[int, Decimal, Amount], ...]
    amount: Amount


@dataclass(frozen=True)
class OrderDebt:
    """What the requesting party (`debtor`) still owes the supplier (`creditor`) on an invoiced
    order, in one commodity: more than zero, due on the date of the order's last invoice.

    The rule is `Order.debts`; the order repository answers the same for every invoiced order
    at once, in SQL, and a test on both engines checks that the two agree."""

    order: str
    agreement: str
    creditor: str
    debtor: str
    method: Method
    commodity: str
    outstanding: Decimal
    invoice: str
    due_on: date


@dataclass
class Order:
    number: str
    agreement: str
    requesting: str
    supplying: str
    facility: str
    unit: str
    method: Method
    use: str
    required_by: date
    lines: list[OrderLine]
    data: dict[str, str] = field(default_factory=dict)
    created_on: date | None = None
    state: OrderState = OrderState.DRAFT
    revision: int = 1
    receipts: list[Receipt] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    settlements: list[Settlement] = field(default_factory=list)
    signatures: list[Signature] = field(default_factory=list)
    conversions: list[Conversion] = field(default_factory=list)

    # -- reading ------------------------------------------------------------------------------

    def copy(self) -> Order:
        """The order as it stands now, apart from it: a step on either leaves the other as it
        was. As good as a deep copy and much cheaper: an order's parts (lines, receipts,
        invoices, settlements, signatures, conversions) are frozen; only its lists and its data
        are mutable, and those are copied."""
        out = shallow_copy(self)
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list | dict):
                setattr(out, f.name, shallow_copy(value))
        return out

    def document(self) -> dict[str, Any]:
        """What the parties sign: the order as it stands at this revision."""
        return {
            "number": self.number,
            "revision": self.revision,
            "agreement": self.agreement,
            "requesting": self.requesting,
            "supplying": self.supplying,
            "facility": self.facility,
            "unit": self.unit,
            "method": self.method.value,
            "use": self.use,
            "required_by": self.required_by.isoformat(),
            "data": dict(sorted(self.data.items())),
            "lines": [
                {
                    "line": ln.line_no,
                    "item": ln.item_code,
                    "quantity": str(ln.quantity),
                    "unit_of_measure": ln.unit_of_measure,
                    "unit_price": None if ln.unit_price is None else str(ln.unit_price.number),
                    "currency": None if ln.unit_price is None else ln.unit_price.commodity,
                }
                for ln in self.lines
            ],
        }

    def document_text(self) -> str:
        """The canonical JSON of `document()` (what `digest` hashes), written straight from the
        order: its keys in sorted order, text through the encoder's own string function. A
        signature hashes it at every step; building the document and encoding it cost three
        times as much (decision 74). A property test keeps the two equal for any order: a
        member added to `document()` fails it until it is written here too.

        The last text written is kept with the very objects it was written from
        (`_text_inputs`): an order whose every input is one of those objects, each immutable,
        has that text, so the receipts and the invoice that follow an acceptance sign it
        without writing it again (decision 81)."""
        global _last_text
        inputs = _text_inputs(self)
        kept = _last_text
        if inputs is not None and _same_objects(inputs, kept[0]):
            return kept[1]
        text = self._written_text()
        if inputs is not None:
            _last_text = (inputs, text)
        return text

    def _written_text(self) -> str:
        s = _json_string
        lines = ",".join(
            f'{{"currency":{"null" if ln.unit_price is None else s(ln.unit_price.commodity)},'
            f'"item":{s(ln.item_code)},"line":{_member_value(ln.line_no)},'
            f'"quantity":{s(str(ln.quantity))},"unit_of_measure":{s(ln.unit_of_measure)},'
            f'"unit_price":{"null" if ln.unit_price is None else s(str(ln.unit_price.number))}}}'
            for ln in self.lines
        )
        data = ",".join(f"{s(k)}:{_member_value(v)}" for k, v in sorted(self.data.items()))
        return (
            f'{{"agreement":{s(self.agreement)},"data":{{{data}}},"facility":{s(self.facility)},'
            f'"lines":[{lines}],"method":{s(self.method.value)},"number":{s(self.number)},'
            f'"requesting":{s(self.requesting)},"required_by":{s(self.required_by.isoformat())},'
            f'"revision":{_member_value(self.revision)},"supplying":{s(self.supplying)},'
            f'"unit":{s(self.unit)},"use":{s(self.use)}}}'
        )

    def data_elements(self) -> dict[str, str]:
        """Every data element: the order's own fields and the free data it carries."""
        own = {
            "requesting_unit": self.unit,
            "facility": self.facility,
            "required_by": self.required_by.isoformat(),
            "use": self.use,
        }
        return {**own, **{k: v for k, v in self.data.items() if v is not None}}

    def line(self, line_no: int) -> OrderLine:
        for ln in self.lines:
            if ln.line_no == line_no:
                return ln
        raise ValidationError("line", line_no, f"order {self.number} has no such line")

    def received_quantity(self, line_no: int) -> Decimal:
        return sum((q for r in self.receipts for n, q in r.quantities if n == line_no), Decimal(0))

    def fully_received(self) -> bool:
        return all(self.received_quantity(ln.line_no) >= ln.quantity for ln in self.lines)

    def receipt_amounts(self, receipt: Receipt) -> list[tuple[OrderLine, Decimal, Amount, Amount]]:
        """Per line of a receipt: (line, quantity, money value, obligation amount).

        The obligation is counted in money for cash and equal-value exchange, and in the item's own
        unit (a commodity) for replacement in kind.
        """
        out = []
        for line_no, qty in receipt.quantities:
            ln = self.line(line_no)
            if ln.unit_price is None:
                raise RuleViolation("price_not_fixed", "unit_price", line_no, "order not accepted")
            value = ln.unit_price.times(qty)
            obligation = Amount(qty, ln.commodity) if self.method is Method.RIK else value
            out.append((ln, qty, value, obligation))
        return out

    def obligations(self, on: date | None = None) -> dict[str, Decimal]:
        """What the requesting party owes on this order, per commodity, after settlements;
        with `on`, after the conversions and settlements dated on or before it only."""
        owed: dict[str, Decimal] = {}
        for r in self.receipts:
            for _, _, _, ob in self.receipt_amounts(r):
                owed[ob.commodity] = owed.get(ob.commodity, Decimal(0)) + ob.number
        conversions = [c for c in self.conversions if on is None or c.on <= on]
        for c in conversions:  # in-kind debt cancelled, cash debt owed instead
            for a in c.cleared:
                owed[a.commodity] = owed.get(a.commodity, Decimal(0)) - a.number
            owed[c.amount.commodity] = owed.get(c.amount.commodity, Decimal(0)) + c.amount.number
        for s in self.settlements:
            if on is not None and s.on > on:
                continue
            a = s.signed_amount
            owed[a.commodity] = owed.get(a.commodity, Decimal(0)) - a.number
        return {k: v for k, v in owed.items() if v or not conversions}

    def outstanding(self, commodity: str) -> Decimal:
        return self.obligations().get(commodity, Decimal(0))

    def value(self) -> Amount | None:
        """Money value of the received support (supplier's currency)."""
        total: Amount | None = None
        for r in self.receipts:
            for _, _, v, _ in self.receipt_amounts(r):
                total = v if total is None else total + v
        return total

    def due_on(self) -> date | None:
        return self.invoices[-1].due_on if self.invoices else None

    def debts(self) -> list[OrderDebt]:
        """Of an invoiced order, what is still owed, per commodity (in commodity order), written
        with the commodity's own decimals (``200.000`` t, ``6054500.00`` INR)."""
        if self.state is not OrderState.INVOICED or not self.invoices:
            return []
        return self._debts(self.invoices[-1], self.obligations())

    def debts_on(self, day: date) -> list[OrderDebt]:
        """What the order owed at the end of `day`, as `debts` (the aging and the obligations
        listing as of a day): nothing before its first invoice was issued; then what its
        receipts oblige (all were received by then), less what was converted and settled on
        or before `day` (a reversal on its own date), due as the last invoice issued by then
        says (a conversion invoices its cash anew). Past every invoice, conversion and
        settlement it is `debts`: a settled order owes nothing, an invoiced one what is left."""
        issued = [i for i in self.invoices if i.issued_on <= day]
        if not issued:
            return []
        return self._debts(issued[-1], self.obligations(day))

    def _debts(self, inv: Invoice, owed: dict[str, Decimal]) -> list[OrderDebt]:
        return [
            OrderDebt(
                self.number,
                self.agreement,
                self.supplying,
                self.requesting,
                self.method,
                commodity,
                quantize(left, commodity),
                inv.number,
                inv.due_on,
            )
            for commodity, left in sorted(owed.items())
            if left > 0
        ]

    # -- transitions ----------------------------------------------------------------------------

    def _move(self, target: OrderState) -> None:
        if target not in TRANSITIONS[self.state]:
            raise InvalidTransition(self.number, self.state.value, target.value)
        self.state = target

    def _sign(
        self,
        user: User,
        action: str,
        at: datetime,
        extra: dict[str, Any] | None = None,
        note: str = "",
    ) -> Signature:
        sig = Signature(
            action,
            user.name,
            user.role.value,
            user.party,
            at,
            self.revision,
            self._signed_digest(action, extra or {}),
            note,
        )
        self.signatures.append(sig)
        return sig

    def _signed_digest(self, action: str, extra: dict[str, Any]) -> str:
        """The digest a signature of `action` carries: of the order as it stands and the step."""
        return signed_text_digest(self.document_text(), action, extra)

    def _receipt_digest(self, payload: dict[str, Any]) -> str:
        return digest({"order": self.number, **payload})

    def _authorise(self, user: User, action: str) -> None:
        require_order_action(user, action, self.requesting, self.supplying)

    def submit(
        self,
        user: User,
        at: datetime,
        agreement: Agreement,
        facility: Facility,
        prices: list[PriceItem],
    ) -> Signature:
        self._authorise(user, "submit")
        if self.state is not S.DRAFT:
            raise InvalidTransition(self.number, self.state.value, S.SUBMITTED.value)
        check_order(self, agreement, facility, prices, at.date())
        self._move(S.SUBMITTED)
        return self._sign(user, "submit", at)

    def accept(
        self,
        user: User,
        at: datetime,
        agreement: Agreement,
        facility: Facility,
        prices: list[PriceItem],
    ) -> Signature:
        self._authorise(user, "accept")
        if self.state is not S.SUBMITTED:
            raise InvalidTransition(self.number, self.state.value, S.ACCEPTED.value)
        check_order(self, agreement, facility, prices, at.date())
        return self._accepted(user, at, prices)

    def submit_and_accept(
        self,
        user: User,
        at: datetime,
        agreement: Agreement,
        facility: Facility,
        prices: list[PriceItem],
    ) -> tuple[Signature, Signature]:
        """Submitted and accepted by `user` at one instant, as an import records an order whose
        two steps happened: each step authorised and signed as alone, the order's rules checked
        once, since the acceptance would check the same order against the same agreement,
        facility and prices on the same day (decision 81)."""
        self._authorise(user, "accept")  # before the submission: a refusal leaves a draft
        submitted = self.submit(user, at, agreement, facility, prices)
        return submitted, self._accepted(user, at, prices)

    def _accepted(self, user: User, at: datetime, prices: list[PriceItem]) -> Signature:
        """A submitted order, its rules met, accepted: each line priced from `prices`."""
        fixed = []
        for ln in self.lines:
            if ln.unit_price is not None and self.received_quantity(ln.line_no):
                fixed.append(ln)  # delivered support keeps the price it was posted at
                continue
            fixed.append(ln.priced(price_on(prices, self.supplying, ln.item_code, at.date())))
        self.lines = fixed
        if not self.receipts:
            self.state = S.ACCEPTED
        elif self.fully_received():
            self.state = S.RECEIVED
        else:
            self.state = S.PARTIALLY_RECEIVED
        return self._sign(user, "accept", at)

    def reject(self, user: User, at: datetime, reason: str) -> Signature:
        self._authorise(user, "reject")
        if not reason.strip():
            raise ValidationError("reason", reason, "a rejection gives its reason")
        if self.state is not S.SUBMITTED or self.receipts:
            raise InvalidTransition(self.number, self.state.value, S.REJECTED.value)
        self._move(S.REJECTED)
        return self._sign(user, "reject", at, {"reason": reason}, note=reason)

    def cancel(self, user: User, at: datetime, reason: str) -> Signature:
        self._authorise(user, "cancel")
        if self.receipts:
            raise RuleViolation(
                "cancel_after_receipt",
                "state",
                self.state.value,
                f"order {self.number} has receipts and cannot be cancelled",
            )
        self._move(S.CANCELLED)
        return self._sign(user, "cancel", at, {"reason": reason}, note=reason)

    def amend(
        self,
        user: User,
        at: datetime,
        lines: list[OrderLine],
        required_by: date | None,
        data: dict[str, str] | None,
        agreement: Agreement,
        facility: Facility,
        prices: list[PriceItem],
    ) -> Signature:
        """A new revision the supplying party must accept again; receipts stay."""
        self._authorise(user, "amend")
        if self.state not in (S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_RECEIVED):
            raise InvalidTransition(self.number, self.state.value, S.SUBMITTED.value)
        new_nos = {ln.line_no for ln in lines}
        for ln_old in self.lines:
            got = self.received_quantity(ln_old.line_no)
            if got and ln_old.line_no not in new_nos:
                raise RuleViolation(
                    "amend_below_received",
                    f"lines[{ln_old.line_no}]",
                    ln_old.item_code,
                    "a received line cannot be removed",
                )
        old = {ln.line_no: ln for ln in self.lines}
        for ln in lines:
            got = self.received_quantity(ln.line_no)
            if got and ln.item_code != old[ln.line_no].item_code:
                raise RuleViolation(
                    "amend_received_item",
                    f"lines[{ln.line_no}].item",
                    ln.item_code,
                    f"{old[ln.line_no].item_code} was received on this line",
                )
            if ln.quantity < got:
                raise RuleViolation(
                    "amend_below_received",
                    f"lines[{ln.line_no}].quantity",
                    str(ln.quantity),
                    f"{got} already received",
                )
        # a received line keeps the price, unit and commodity its receipts were posted at
        self.lines = [
            replace(
                old[ln.line_no],
                quantity=ln.quantity,
                description=ln.description or old[ln.line_no].description,
            )
            if self.received_quantity(ln.line_no)
            else replace(ln, unit_price=None)
            for ln in lines
        ]
        if required_by is not None:
            self.required_by = required_by
        if data is not None:
            self.data = {**self.data, **data}
        self.revision += 1
        check_order(self, agreement, facility, prices, at.date())
        self._move(S.SUBMITTED)
        return self._sign(user, "amend", at)

    def receive(
        self, user: User, at: datetime, on: date, quantities: list[tuple[int, Decimal]]
    ) -> Receipt:
        self._authorise(user, "receive")
        if self.state not in (S.ACCEPTED, S.PARTIALLY_RECEIVED):
            raise InvalidTransition(self.number, self.state.value, S.RECEIVED.value)
        if not quantities:
            raise ValidationError("quantities", "", "a receipt names at least one line")
        problems: list[RelosError] = []
        seen: set[int] = set()
        for line_no, qty in quantities:
            try:
                ln = self.line(line_no)
            except RelosError as e:
                problems.append(e)
                continue
            if line_no in seen:
                problems.append(ValidationError("line", line_no, "named twice in one receipt"))
            seen.add(line_no)
            if qty <= 0:
                problems.append(
                    ValidationError(f"lines[{line_no}].quantity", str(qty), "must be > 0")
                )
            elif self.received_quantity(line_no) + qty > ln.quantity:
                problems.append(
                    RuleViolation(
                        "receipt_exceeds_order",
                        f"lines[{line_no}].quantity",
                        str(qty),
                        f"ordered {ln.quantity}, received {self.received_quantity(line_no)} so far",
                    )
                )
        if problems:
            raise problems[0] if len(problems) == 1 else Invalid(problems)
        seq = len(self.receipts) + 1
        payload = {
            "receipt": seq,
            "received_on": on.isoformat(),
            "quantities": [[n, str(q)] for n, q in quantities],
        }
        receipt = Receipt(seq, on, tuple(quantities), self._receipt_digest(payload))
        self.receipts.append(receipt)
        self._move(S.RECEIVED if self.fully_received() else S.PARTIALLY_RECEIVED)
        self._sign(user, "receive", at, payload)
        return receipt

    def invoice(
        self, user: User, at: datetime, number: str, issued_on: date, agreement: Agreement
    ) -> Invoice:
        """Invoice what was received; an undelivered remainder is not invoiced (short-closed)."""
        self._authorise(user, "invoice")
        if not self.receipts:
            raise RuleViolation(
                "invoice_before_receipt",
                "state",
                self.state.value,
                f"order {self.number} has no receipt to invoice",
            )
        if self.state not in (S.PARTIALLY_RECEIVED, S.RECEIVED):
            raise InvalidTransition(self.number, self.state.value, S.INVOICED.value)
        last_delivery = max(r.received_on for r in self.receipts)
        if issued_on < last_delivery:
            raise RuleViolation(
                "invoice_before_receipt",
                "issued_on",
                issued_on.isoformat(),
                f"last receipt was on {last_delivery.isoformat()}",
            )
        terms = agreement.terms(self.method)
        start = issued_on if self.method is Method.CASH else last_delivery
        value = self.value()
        assert value is not None
        amounts = tuple(Amount(n, c) for c, n in sorted(self.obligations().items()))
        inv = Invoice(number, issued_on, start + timedelta(days=terms.due_days), amounts, value)
        self.invoices.append(inv)
        self._move(S.INVOICED)
        self._sign(user, "invoice", at, {"invoice": number, "value": str(value)})
        return inv

    def settle(
        self, user: User, at: datetime, on: date, amount: Amount, note: str = ""
    ) -> Settlement:
        self._authorise(user, "settle")
        if self.state is not S.INVOICED:
            if self.state in (S.ACCEPTED, S.PARTIALLY_RECEIVED, S.RECEIVED):
                raise RuleViolation(
                    "settle_before_invoice",
                    "state",
                    self.state.value,
                    f"order {self.number} is not invoiced yet",
                )
            raise InvalidTransition(self.number, self.state.value, S.SETTLED.value)
        if amount.number <= 0:
            raise ValidationError("amount", str(amount.number), "must be > 0")
        owed = self.obligations()
        if amount.commodity not in owed:
            raise RuleViolation(
                "settlement_commodity",
                "commodity",
                amount.commodity,
                f"order {self.number} is owed in {', '.join(sorted(owed))}",
            )
        if amount.number > owed[amount.commodity]:
            raise RuleViolation(
                "settlement_exceeds_outstanding",
                "amount",
                str(amount),
                f"outstanding is {Amount(owed[amount.commodity], amount.commodity)}",
            )
        # once converted (settlement.py), what is left is a cash debt
        kind = SettlementKind.CASH if self.conversions else KIND_FOR_METHOD[self.method]
        s = Settlement(len(self.settlements) + 1, kind, on, amount, note)
        self.settlements.append(s)
        if all(v == 0 for v in self.obligations().values()):
            self._move(S.SETTLED)
        self._sign(
            user,
            "settle",
            at,
            {"settlement": s.seq, "amount": str(amount), "on": on.isoformat()},
            note,
        )
        return s

    def settle_by_netting(
        self, user: User, at: datetime, on: date, amount: Amount, statement: str
    ) -> Settlement:
        """Part or all of the cash obligation discharged by an approved netting statement
        (the statement's approvals authorise it; `user` is its last approver)."""
        if self.state is not S.INVOICED:
            raise InvalidTransition(self.number, self.state.value, S.SETTLED.value)
        owed = self.obligations().get(amount.commodity, Decimal(0))
        if amount.number <= 0 or amount.number > owed:
            raise RuleViolation(
                "settlement_exceeds_outstanding",
                "amount",
                str(amount),
                f"outstanding is {Amount(owed, amount.commodity)}",
            )
        s = Settlement(len(self.settlements) + 1, SettlementKind.NETTING, on, amount, statement)
        self.settlements.append(s)
        if all(v == 0 for v in self.obligations().values()):
            self._move(S.SETTLED)
        self._sign(
            user,
            "net",
            at,
            {"settlement": s.seq, "amount": str(amount), "statement": statement},
            statement,
        )
        return s

    def reverse_settlement(self, user: User, at: datetime, seq: int, reason: str) -> Settlement:
        """Correct a settlement by a reversing one; nothing is edited or deleted."""
        self._authorise(user, "reverse")
        if self.state not in (S.INVOICED, S.SETTLED):
            raise InvalidTransition(self.number, self.state.value, S.INVOICED.value)
        if not reason.strip():
            raise ValidationError("reason", reason, "a reversal gives its reason")
        target = next((s for s in self.settlements if s.seq == seq and s.reverses is None), None)
        if target is None:
            raise ValidationError("settlement", seq, f"order {self.number} has no such settlement")
        if any(s.reverses == seq for s in self.settlements):
            raise RuleViolation("already_reversed", "settlement", seq, "reversed already")
        if target.kind is SettlementKind.NETTING:
            raise RuleViolation(
                "netting_not_reversible", "settlement", seq, "a netting is not reversed per order"
            )
        s = Settlement(
            len(self.settlements) + 1, target.kind, at.date(), target.amount, reason, seq
        )
        self.settlements.append(s)
        self.state = S.INVOICED
        self._sign(user, "reverse", at, {"reverses": seq}, reason)
        return s

    def close(self, user: User, at: datetime) -> Signature:
        self._authorise(user, "close")
        self._move(S.CLOSED)
        return self._sign(user, "close", at)


def _text_inputs(o: Order) -> tuple[object, ...] | None:
    """Every value `Order.document_text` writes, in one tuple; None when one of them may
    change in place (free data that is not text), so that no text is kept for it. The lines
    are frozen, of immutable values; the other members are text, numbers, a date, an enum."""
    data = o.data
    for k, v in data.items():
        if type(k) is not str or type(v) is not str:
            return None
    return (
        o.number,
        o.revision,
        o.agreement,
        o.requesting,
        o.supplying,
        o.facility,
        o.unit,
        o.method,
        o.use,
        o.required_by,
        len(o.lines),
        *o.lines,
        *data.keys(),
        *data.values(),
    )


def _same_objects(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    """The same objects in the same places: identity, not equality (``Decimal("1")`` equals
    ``Decimal("1.0")``, ``True`` equals ``1``; each writes otherwise)."""
    return len(a) == len(b) and all(map(operator.is_, a, b))


#: the last document text written (by any order, in any thread) and the objects it was
#: written from: one pair, replaced whole, so a thread reads either the old or the new
_last_text: tuple[tuple[object, ...], str] = ((), "")


def check_order(
    order: Order, agreement: Agreement, facility: Facility, prices: list[PriceItem], on: date
) -> None:
    """Every rule an order must meet to be submitted or accepted; reports every problem at once."""
    problems: list[RelosError] = []

    def check(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except RelosError as e:
            problems.append(e)
            return None

    check(agreement.require_in_force, on)
    check(agreement.require_party, order.requesting, "requesting")
    check(agreement.require_party, order.supplying, "supplying")
    if order.requesting == order.supplying:
        problems.append(
            RuleViolation(
                "same_party", "supplying", order.supplying, "an order's two parties differ"
            )
        )
    check(agreement.require_use, order.use)
    check(agreement.terms, order.method)
    if facility.party != order.supplying:
        problems.append(
            RuleViolation(
                "facility_not_suppliers",
                "facility",
                facility.code,
                f"{facility.name} belongs to {facility.party}",
            )
        )
    check(facility.require_open_under, agreement.code)
    if not order.lines:
        problems.append(ValidationError("lines", "", "an order has at least one line"))
    for ln in order.lines:
        item = check(price_on, prices, order.supplying, ln.item_code, on)
        if item is None:
            continue
        check(agreement.require_category, item.category, f"lines[{ln.line_no}].category")
        check(facility.require_capability, item.category, "facility")
    elements = order.data_elements()
    for name in agreement.data_elements:
        if not str(elements.get(name, "")).strip():
            problems.append(
                RuleViolation(
                    "data_element_missing",
                    f"data.{name}",
                    "",
                    f"{agreement.code} requires {name} on every order",
                )
            )
    if problems:
        raise problems[0] if len(problems) == 1 else Invalid(problems)


def new_order(
    number: str,
    agreement: Agreement,
    requesting: str,
    supplying: str,
    facility: Facility,
    unit: Unit,
    method: Method,
    use: str,
    required_by: date,
    lines: list[OrderLine],
    data: dict[str, str],
    created_on: date,
) -> Order:
    """A draft order; rules are checked on submission, shape here."""
    agreement.require_party(requesting, "requesting")
    agreement.require_party(supplying, "supplying")
    if unit.party != requesting:
        raise RuleViolation(
            "unit_not_requesters",
            "unit",
            unit.code,
            f"{unit.name} belongs to {unit.party}, not {requesting}",
        )
    nos = [ln.line_no for ln in lines]
    if len(set(nos)) != len(nos):
        raise ValidationError("lines", nos, "line numbers repeat")
    return Order(
        number,
        agreement.code,
        requesting,
        supplying,
        facility.code,
        unit.code,
        method,
        use,
        required_by,
        list(lines),
        dict(data),
        created_on,
    )


def order_number(agreement: str, requesting: str, year: int, seq: int) -> str:
    """``RELOS-IN-2026-000042``: agreement, requesting party (alpha-2), year, sequence."""
    short = ALPHA2.get(requesting, requesting)
    return f"{agreement}-{short}-{year}-{seq:06d}"


ALPHA2 = {
    "IND": "IN",
    "RUS": "RU",
    "USA": "US",
    "AUS": "AU",
    "JPN": "JP",
    "GBR": "GB",
    "FRA": "FR",
    "CAN": "CA",
    "DEU": "DE",
}
