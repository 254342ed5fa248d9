"""Request and response bodies of the HTTP API (``XCreate`` in, ``XPublic`` out).

Money and quantities travel as decimal *strings* (``"65000.00"``), never as JSON numbers: a float
is not exact, and a JSON number is refused. Dates are ISO dates. Codes have patterns, every string
a maximum length, and inputs forbid unknown fields, so a typo is a 422, not a silent default.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from relos.domain.agreements import Agreement, Category, Method, Party, Use
from relos.domain.credentials import ApiToken, Scope
from relos.domain.facilities import Facility, FacilityKind, PriceItem, Unit, UnitKind
from relos.domain.ledger import Entry
from relos.domain.orders import Order, OrderState
from relos.domain.records import agreement_to, facility_to, price_item_to, unit_to
from relos.domain.users import Role, User
from relos.services import reports

T = TypeVar("T")

# -- constrained types ---------------------------------------------------------------------------

PartyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$", max_length=3)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$", max_length=3)]
Commodity = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_]{0,59}$", max_length=60)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,19}$", max_length=20)]
UnitCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,29}$", max_length=30)]
ItemCode = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$", max_length=40)
]
OrderNumber = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{0,39}$", max_length=40)]
#: a non-negative decimal as text: up to 15 digits, up to 6 decimals
DecimalText = Annotated[
    str, StringConstraints(pattern=r"^[0-9]{1,15}(\.[0-9]{1,6})?$", max_length=22)
]
SignedDecimalText = Annotated[
    str, StringConstraints(pattern=r"^-?[0-9]{1,15}(\.[0-9]{1,6})?$", max_length=23)
]
Coordinate = Annotated[
    str, StringConstraints(pattern=r"^-?[0-9]{1,3}(\.[0-9]{1,7})?$", max_length=12)
]
Locode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[A-Z2-9]{3}$", max_length=5)]
UserName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=2000)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500)]
DataKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$", max_length=40)]
DataValue = Annotated[str, StringConstraints(max_length=500)]
Grade = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,19}$")]
TokenId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$", max_length=16)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


# -- errors --------------------------------------------------------------------------------------


class ProblemItem(BaseModel):
    field: str | None = None
    message: str = ""
    rule: str = ""
    error: str | None = None
    value: str | None = None


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, with the rule refused and the field and value concerned."""

    type: str
    title: str
    status: int
    detail: str
    rule: str | None = None
    field: str | None = None
    value: str | None = None
    errors: list[ProblemItem] | None = None
    retry_after: int | None = None


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` of a route: each status as problem+json."""
    described = {
        400: "Bad request",
        401: "Not authenticated (log in or send an API token)",
        403: "Forbidden: the role, party, token scope or CSRF token does not allow this",
        404: "Not found, or not visible to the caller's party",
        409: "Conflict: a business rule, an invalid transition, or an Idempotency-Key reused",
        412: "Precondition failed: If-Match does not match the order's current ETag",
        413: "Body too large",
        422: "Invalid input: the problem names the field and the rule",
        428: "Precondition required: send Idempotency-Key (writes) and If-Match (order actions)",
        503: "Not configured: the node lacks a setting this needs (e.g. RELOS_KEY_PASSPHRASE)",
    }
    return {
        c: {
            "model": ProblemDetails,
            "description": described.get(c, "Problem"),
            "content": {"application/problem+json": {}},
        }
        for c in codes
    }


READ = problems(401, 403, 404, 422)
WRITE = problems(401, 403, 404, 409, 413, 422, 428)
ACTION = problems(401, 403, 404, 409, 412, 413, 422, 428)

# -- pages ---------------------------------------------------------------------------------------


class PagePublic(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# -- parties and agreements ----------------------------------------------------------------------


class PartyPublic(BaseModel):
    code: str
    name: str
    native_name: str
    currency: str
    components: list[str]

    @classmethod
    def of(cls, p: Party) -> PartyPublic:
        return cls(
            code=p.code,
            name=p.name,
            native_name=p.native_name,
            currency=p.currency,
            components=list(p.components),
        )


class StepPublic(BaseModel):
    party: str
    step: str
    date: date | None
    required: bool
    note: str


class MethodTermsIO(Input):
    method: Method
    due_days: int = Field(ge=0, le=3650)


class CapsIO(Input):
    warships: int | None = Field(default=None, ge=0, le=1000)
    aircraft: int | None = Field(default=None, ge=0, le=1000)
    personnel: int | None = Field(default=None, ge=0, le=1_000_000)


class HistoryEvent(BaseModel):
    on: date
    event: str


class AgreementPublic(BaseModel):
    code: str
    title: str
    title_native: str
    parties: list[str]
    signed_on: date | None
    signatories: list[str]
    steps: list[StepPublic]
    in_force_days_after_last_step: int
    term_years: int | None
    auto_renew: bool
    terminated_on: date | None
    uses: list[str]
    categories: list[str]
    excluded_categories: list[str]
    methods: list[MethodTermsIO]
    caps: CapsIO
    notice_days: int
    pricing_rule: str
    rate_source: str
    data_elements: list[str]
    notes: str
    status: str = Field(description="derived from the dates, on the day asked (default today)")
    status_on: date
    entry_into_force: date | None
    expires_on: date | None
    history: list[HistoryEvent]

    @classmethod
    def of(cls, a: Agreement, on: date) -> AgreementPublic:
        d = agreement_to(a)
        d.pop("ceilings", None)
        return cls(
            **d,
            status=a.status(on).value,
            status_on=on,
            entry_into_force=a.entry_into_force(),
            expires_on=a.expires_on(),
            history=[HistoryEvent(on=day, event=text) for day, text in a.history()],
        )


class StepCreate(Input):
    party: PartyCode
    step: Name
    on: date | None = None
    required: bool = True
    note: ShortText = ""


class AgreementCreate(Input):
    code: Code
    title: Name
    title_native: ShortText = ""
    parties: list[PartyCode] = Field(min_length=2, max_length=10)
    signed_on: date | None = None
    signatories: list[Name] = Field(default_factory=list, max_length=20)
    steps: list[StepCreate] = Field(default_factory=list, max_length=50)
    in_force_days_after_last_step: int = Field(default=0, ge=0, le=3650)
    term_years: int | None = Field(default=None, ge=1, le=100)
    auto_renew: bool = False
    uses: list[Use] | None = Field(default=None, max_length=len(Use))
    categories: list[Category] | None = Field(default=None, max_length=len(Category))
    excluded_categories: list[Category] = Field(default_factory=list, max_length=len(Category))
    methods: list[MethodTermsIO] | None = Field(default=None, max_length=3)
    caps: CapsIO | None = None
    notice_days: int = Field(default=0, ge=0, le=365)
    data_elements: list[DataKey] | None = Field(default=None, max_length=40)
    rate_source: ShortText = ""
    notes: Text = ""

    def record(self) -> dict[str, Any]:
        d = self.model_dump(mode="json", exclude_none=True)
        d["steps"] = [
            {k: v for k, v in s.items() if k != "on"} | {"date": s.get("on")}
            for s in d.get("steps", [])
        ]
        return d


# -- facilities, units, price items --------------------------------------------------------------


class FacilityCreate(Input):
    code: Code
    name: Name
    native_name: ShortText = ""
    party: PartyCode
    kind: FacilityKind = FacilityKind.PORT
    latitude: Coordinate | None = None
    longitude: Coordinate | None = None
    locode: Locode | None = None
    categories: list[Category] = Field(default_factory=list, max_length=len(Category))
    fuel_grades: list[Grade] = Field(default_factory=list, max_length=20)
    open_under: list[Code] = Field(default_factory=list, max_length=20)
    ice_support: bool = False
    notes: Text = ""


class FacilityPublic(BaseModel):
    code: str
    name: str
    native_name: str
    party: str
    kind: str
    latitude: str | None
    longitude: str | None
    locode: str | None
    categories: list[str]
    fuel_grades: list[str]
    open_under: list[str]
    ice_support: bool
    notes: str

    @classmethod
    def of(cls, f: Facility) -> FacilityPublic:
        return cls(**facility_to(f))


class UnitCreate(Input):
    code: UnitCode
    name: Name
    native_name: ShortText = ""
    party: PartyCode
    kind: UnitKind = UnitKind.SHIP
    unit_class: ShortText = ""
    pennant: Annotated[str, StringConstraints(max_length=20)] = ""
    fuel_grade: Annotated[str, StringConstraints(max_length=20)] = ""
    consumption_t_per_day: DecimalText | None = None
    range_nm: int | None = Field(default=None, ge=0, le=100_000)
    draught_m: DecimalText | None = None
    crew: int | None = Field(default=None, ge=0, le=100_000)
    displacement_t: int | None = Field(default=None, ge=0, le=1_000_000)


class UnitPublic(BaseModel):
    code: str
    name: str
    native_name: str
    party: str
    kind: str
    unit_class: str
    pennant: str
    fuel_grade: str
    consumption_t_per_day: str | None
    range_nm: int | None
    draught_m: str | None
    crew: int | None
    displacement_t: int | None

    @classmethod
    def of(cls, u: Unit) -> UnitPublic:
        return cls(**unit_to(u))


class PriceItemCreate(Input):
    supplier: PartyCode
    code: ItemCode
    description: ShortText = ""
    category: Category
    unit_of_measure: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    unit_price: DecimalText
    currency: Currency
    valid_from: date
    valid_to: date | None = None
    commodity: Commodity | None = None
    illustrative: bool = False


class PriceItemPublic(BaseModel):
    supplier: str
    code: str
    description: str
    category: str
    unit_of_measure: str
    unit_price: str
    currency: str
    valid_from: date
    valid_to: date | None
    commodity: str
    illustrative: bool

    @classmethod
    def of(cls, p: PriceItem) -> PriceItemPublic:
        return cls(**price_item_to(p))


# -- users and tokens ----------------------------------------------------------------------------


class UserCreate(Input):
    name: UserName
    role: Role


class UserPublic(BaseModel):
    name: str
    party: str
    role: str
    active: bool

    @classmethod
    def of(cls, u: User) -> UserPublic:
        return cls(name=u.name, party=u.party, role=u.role.value, active=u.active)


class TokenCreate(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    scopes: list[Scope] = Field(min_length=1, max_length=2)
    user: UserName | None = Field(default=None, description="default: yourself (admins: others)")


class TokenPublic(BaseModel):
    id: str
    user: str
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, t: ApiToken) -> TokenPublic:
        return cls(
            id=t.id,
            user=t.user,
            name=t.name,
            scopes=[s.value for s in t.scopes],
            created_at=t.created_at,
            revoked_at=t.revoked_at,
        )


class TokenCreated(TokenPublic):
    token: str | None = Field(
        description="the token text, shown in the first response only: a replay under the same "
        "Idempotency-Key shows null (the text is never stored)"
    )


# -- orders --------------------------------------------------------------------------------------

Data = Annotated[dict[DataKey, DataValue], Field(max_length=30)]


class LineIn(Input):
    item: ItemCode
    quantity: DecimalText


class OrderCreate(Input):
    agreement: Code
    supplying: PartyCode
    facility: Code
    unit: UnitCode
    method: Method
    use: Use
    required_by: date
    lines: list[LineIn] = Field(min_length=1, max_length=100)
    data: Data = Field(default_factory=dict)
    visit: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9-]{1,40}$", max_length=40)] | None = (
        None  # the visit the order supports: its unit, facility and dates
    )


class ReasonIn(Input):
    reason: Reason


class AmendIn(Input):
    lines: list[LineIn] = Field(min_length=1, max_length=100)
    required_by: date | None = None
    data: Data | None = None


class ReceiptLineIn(Input):
    line: int = Field(ge=1, le=100)
    quantity: DecimalText


class ReceiveIn(Input):
    lines: list[ReceiptLineIn] = Field(
        default_factory=list, max_length=100, description="empty: receive all that is outstanding"
    )
    on: date | None = None


class InvoiceIn(Input):
    issued_on: date | None = None


class SettleIn(Input):
    amount: DecimalText
    commodity: Commodity | None = Field(default=None, description="currency or RIK commodity")
    on: date | None = None
    note: ShortText = ""


class ReverseIn(Input):
    settlement: int = Field(ge=1, le=10_000)
    reason: Reason


class LinePublic(BaseModel):
    line: int
    item: str
    quantity: str
    received: str
    description: str
    category: str | None
    unit_of_measure: str
    unit_price: str | None
    currency: str | None
    commodity: str


class ReceiptPublic(BaseModel):
    seq: int
    received_on: date
    quantities: dict[str, str]
    digest: str


class AmountPublic(BaseModel):
    number: str
    commodity: str


class InvoicePublic(BaseModel):
    number: str
    issued_on: date
    due_on: date
    amounts: list[AmountPublic]
    value: AmountPublic


class SettlementPublic(BaseModel):
    seq: int
    kind: str
    on: date
    amount: AmountPublic
    note: str
    reverses: int | None


class SignaturePublic(BaseModel):
    action: str
    user: str
    role: str
    party: str
    at: datetime
    revision: int
    digest: str
    note: str


class OrderSummary(BaseModel):
    number: str
    agreement: str
    requesting: str
    supplying: str
    facility: str
    unit: str
    method: str
    use: str
    state: OrderState
    revision: int
    version: int = Field(description="changes with every signed action; the ETag carries it")
    created_on: date | None
    required_by: date

    @classmethod
    def of(cls, o: Order) -> OrderSummary:
        return cls(**_summary(o))


def _summary(o: Order) -> dict[str, Any]:
    return {
        "number": o.number,
        "agreement": o.agreement,
        "requesting": o.requesting,
        "supplying": o.supplying,
        "facility": o.facility,
        "unit": o.unit,
        "method": o.method.value,
        "use": o.use,
        "state": o.state,
        "revision": o.revision,
        "version": len(o.signatures),
        "created_on": o.created_on,
        "required_by": o.required_by,
    }


def _amount(number: Any, commodity: str) -> AmountPublic:
    return AmountPublic(number=str(number), commodity=commodity)


class OrderPublic(OrderSummary):
    visit: str | None = None  # the visit the order supports, if any
    data: dict[str, str]
    lines: list[LinePublic]
    value: AmountPublic | None
    outstanding: dict[str, str]
    due_on: date | None
    receipts: list[ReceiptPublic]
    invoices: list[InvoicePublic]
    settlements: list[SettlementPublic]
    signatures: list[SignaturePublic]

    @classmethod
    def of(cls, o: Order, visit: str | None = None) -> OrderPublic:
        value = o.value()
        return cls(
            **_summary(o),
            visit=visit,
            data=dict(o.data),
            lines=[
                LinePublic(
                    line=ln.line_no,
                    item=ln.item_code,
                    quantity=str(ln.quantity),
                    received=str(o.received_quantity(ln.line_no)),
                    description=ln.description,
                    category=ln.category.value if ln.category else None,
                    unit_of_measure=ln.unit_of_measure,
                    unit_price=None if ln.unit_price is None else str(ln.unit_price.number),
                    currency=None if ln.unit_price is None else ln.unit_price.commodity,
                    commodity=ln.commodity,
                )
                for ln in o.lines
            ],
            value=None if value is None else _amount(value.number, value.commodity),
            outstanding={c: str(n) for c, n in o.obligations().items()} if o.receipts else {},
            due_on=o.due_on(),
            receipts=[
                ReceiptPublic(
                    seq=r.seq,
                    received_on=r.received_on,
                    quantities={str(n): str(q) for n, q in r.quantities},
                    digest=r.digest,
                )
                for r in o.receipts
            ],
            invoices=[
                InvoicePublic(
                    number=i.number,
                    issued_on=i.issued_on,
                    due_on=i.due_on,
                    amounts=[_amount(a.number, a.commodity) for a in i.amounts],
                    value=_amount(i.value.number, i.value.commodity),
                )
                for i in o.invoices
            ],
            settlements=[
                SettlementPublic(
                    seq=s.seq,
                    kind=s.kind.value,
                    on=s.on,
                    amount=_amount(s.amount.number, s.amount.commodity),
                    note=s.note,
                    reverses=s.reverses,
                )
                for s in o.settlements
            ],
            signatures=[
                SignaturePublic(
                    action=g.action,
                    user=g.user,
                    role=g.role,
                    party=g.party,
                    at=g.at,
                    revision=g.revision,
                    digest=g.digest,
                    note=g.note,
                )
                for g in o.signatures
            ],
        )


# -- ledger and reports --------------------------------------------------------------------------


class BalancePublic(BaseModel):
    book: str
    account: str
    counterparty: str
    method: str
    commodity: str
    amount: str

    @classmethod
    def of(cls, r: reports.BalanceRow) -> BalancePublic:
        return cls(
            book=r.book,
            account=r.account,
            counterparty=r.counterparty,
            method=r.method,
            commodity=r.commodity,
            amount=str(r.amount),
        )


class PostingPublic(BaseModel):
    account: str
    counterparty: str
    method: str
    amount: str
    commodity: str


class EntryPublic(BaseModel):
    book: str
    txn: str
    on: date
    event: str
    order: str
    description: str
    reverses: str | None
    postings: list[PostingPublic]

    @classmethod
    def of(cls, e: Entry) -> EntryPublic:
        return cls(
            book=e.book,
            txn=e.txn,
            on=e.on,
            event=e.event,
            order=e.order,
            description=e.description,
            reverses=e.reverses,
            postings=[
                PostingPublic(
                    account=p.account,
                    counterparty=p.counterparty,
                    method=p.method,
                    amount=str(p.amount.number),
                    commodity=p.amount.commodity,
                )
                for p in e.postings
            ],
        )


class OpenOrderPublic(BaseModel):
    number: str
    agreement: str
    requesting: str
    supplying: str
    facility: str
    unit: str
    method: str
    state: str
    required_by: date
    revision: int

    @classmethod
    def of(cls, r: reports.OrderRow) -> OpenOrderPublic:
        return cls(
            number=r.number,
            agreement=r.agreement,
            requesting=r.requesting,
            supplying=r.supplying,
            facility=r.facility,
            unit=r.unit,
            method=r.method,
            state=r.state,
            required_by=r.required_by,
            revision=r.revision,
        )


class ObligationPublic(BaseModel):
    order: str
    agreement: str
    creditor: str
    debtor: str
    method: str
    commodity: str
    outstanding: str
    invoice: str
    due_on: date
    days_overdue: int
    cursor: str = Field(description="pass as `after` for the page that follows this row")

    @classmethod
    def of(cls, r: reports.ObligationRow) -> ObligationPublic:
        return cls(
            order=r.order,
            agreement=r.agreement,
            creditor=r.creditor,
            debtor=r.debtor,
            method=r.method,
            commodity=r.commodity,
            outstanding=str(r.outstanding),
            invoice=r.invoice,
            due_on=r.due_on,
            days_overdue=r.days_overdue,
            cursor=r.cursor,
        )


class AgingPublic(BaseModel):
    """What `debtor` owes `creditor` in one commodity, per band of days overdue."""

    debtor: str
    creditor: str
    commodity: str
    not_due: str
    days_1_30: str
    days_31_60: str
    days_61_90: str
    over_90: str
    total: str

    @classmethod
    def of(cls, r: reports.AgingRow) -> AgingPublic:
        return cls(
            debtor=r.debtor,
            creditor=r.creditor,
            commodity=r.commodity,
            not_due=str(r.not_due),
            days_1_30=str(r.days_1_30),
            days_31_60=str(r.days_31_60),
            days_61_90=str(r.days_61_90),
            over_90=str(r.over_90),
            total=str(r.total),
        )
