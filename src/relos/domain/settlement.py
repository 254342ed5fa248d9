"""The settlement engine's rules: deadlines, conversion of overdue in-kind debts, alerts, and the
annual report (10 U.S.C. 2342(h) shape). Pure: orders, agreements and prices in, values out.

- **Due date**: the last invoice's due date (cash: N days after the invoice; RIK/EVE: the
  agreement's window after the last delivery). An in-kind delivery not yet invoiced is due the
  same window after its last delivery: an uninvoiced debt still runs out.
- **Conversion**: an in-kind (RIK/EVE) obligation still outstanding after its due date becomes a
  cash debt, valued at the agreement's ``conversion_price``: ``original`` (the prices fixed at
  acceptance) or ``current`` (the supplier's price list on the conversion date). Posting
  (DESIGN.md "RIK/EVE overdue, converted"): the in-kind receipt posting is reversed for what is
  outstanding, then the receipt of the cash value is posted with method cash, in both books. The
  order gets a cash invoice due N cash days after the conversion. Once converted, nothing in kind
  is outstanding, so a second run finds nothing to do (idempotent by construction).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import groupby

from relos.domain.agreements import Agreement, Method
from relos.domain.errors import PermissionDenied, RelosError, RuleViolation
from relos.domain.facilities import PriceItem, price_on
from relos.domain.ledger import Entry, Posting
from relos.domain.money import Amount, is_currency
from relos.domain.netting import NettingDebt
from relos.domain.orders import Conversion, Invoice, Order, OrderDebt, OrderState
from relos.domain.rates import Rate, choose
from relos.domain.rates import convert as convert_currency
from relos.domain.reconciliation import MatchStatus, ReconLine, ReconRun, one_year_after
from relos.domain.users import Role, User

S = OrderState
#: states in which a delivered, unsettled obligation can run out
OWING_STATES = frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED, S.INVOICED})
CONVERTIBLE = (Method.RIK, Method.EVE)


# -- deadlines -------------------------------------------------------------------------------------


def last_delivery(order: Order) -> date | None:
    return max((r.received_on for r in order.receipts), default=None)


def due_on(order: Order, agreement: Agreement) -> date | None:
    """When the order's obligation is due: the last invoice's due date; for an uninvoiced
    in-kind delivery, the agreement's window after the last delivery; otherwise None."""
    if order.invoices:
        return order.invoices[-1].due_on
    delivered = last_delivery(order)
    if delivered is None or order.method not in CONVERTIBLE:
        return None
    return delivered + timedelta(days=agreement.terms(order.method).due_days)


def in_kind_outstanding(order: Order) -> dict[str, Decimal]:
    """What the order still owes in kind (`owed_in_kind`)."""
    return owed_in_kind(order.method, bool(order.conversions), order.obligations())


def owed_in_kind(method: Method, converted: bool, owed: dict[str, Decimal]) -> dict[str, Decimal]:
    """Of what an order of `method` owes (`owed`, per commodity), what is owed in kind: RIK
    commodities (item units), or the EVE value before any conversion. Cash debts (and a
    converted order's cash) are not in kind."""
    if method is Method.RIK:
        return {c: n for c, n in owed.items() if n > 0 and not is_currency(c)}
    if method is Method.EVE and not converted:
        return {c: n for c, n in owed.items() if n > 0}
    return {}


def conversion_due(order: Order, agreement: Agreement, as_of: date) -> bool:
    """An in-kind obligation outstanding after its due date (``as_of`` later than it)."""
    if order.state not in OWING_STATES or not in_kind_outstanding(order):
        return False
    due = due_on(order, agreement)
    return due is not None and as_of > due


# -- conversion ----------------------------------------------------------------------------------


def may_run_conversion(user: User, supplying: str) -> bool:
    """The creditor converts: an active finance officer of the supplying party."""
    return user.active and user.role is Role.FINANCE_OFFICER and user.party == supplying


def require_may_convert(user: User, supplying: str) -> None:
    if not may_run_conversion(user, supplying):
        raise PermissionDenied(
            user.name,
            "settle run",
            f"only a finance officer of the creditor {supplying} converts its in-kind debts",
        )


def _unit_price(
    order: Order, line_no: int, basis: str, prices: list[PriceItem], on: date
) -> Amount:
    ln = order.line(line_no)
    if basis == "current":
        return price_on(prices, order.supplying, ln.item_code, on).unit_price
    if ln.unit_price is None:
        raise RuleViolation("price_not_fixed", "unit_price", line_no, "order not accepted")
    return ln.unit_price


def conversion_value(
    order: Order, basis: str, prices: list[PriceItem], on: date
) -> tuple[tuple[tuple[int, Decimal, Amount], ...], Amount]:
    """The cash value of what is outstanding in kind: per line (line, quantity, unit price) and
    the total, in the supplier's currency.

    RIK: the outstanding quantity of each commodity is taken from its lines, last line first,
    and valued at the basis price. EVE: the outstanding value is money already; at "original"
    it is owed as is, at "current" the outstanding share of each delivered line is repriced.
    """
    outstanding = in_kind_outstanding(order)
    if not outstanding:
        raise RuleViolation("nothing_in_kind", "order", order.number, "nothing owed in kind")
    delivered = [
        (ln, order.received_quantity(ln.line_no))
        for ln in order.lines
        if order.received_quantity(ln.line_no) > 0
    ]
    parts: list[tuple[int, Decimal, Amount]] = []
    if order.method is Method.RIK:
        for commodity, qty in sorted(outstanding.items()):
            rest = qty
            for ln, got in sorted(delivered, key=lambda x: -x[0].line_no):
                if ln.commodity != commodity or rest <= 0:
                    continue
                take = min(rest, got)
                parts.append((ln.line_no, take, _unit_price(order, ln.line_no, basis, prices, on)))
                rest -= take
    else:
        total = order.value()
        assert total is not None
        (currency, owed), *_ = sorted(outstanding.items())
        if basis == "original":
            return (), Amount(owed, currency)
        share = owed / total.number if total.number else Decimal(0)
        for ln, got in sorted(delivered, key=lambda x: x[0].line_no):
            parts.append(
                (ln.line_no, got * share, _unit_price(order, ln.line_no, basis, prices, on))
            )
    parts.sort(key=lambda p: p[0])
    amount: Amount | None = None
    for _, q, price in parts:
        v = Amount(q * price.number, price.commodity)
        amount = v if amount is None else amount + v
    assert amount is not None
    return tuple(parts), amount.times(Decimal(1))


def post_conversion(order: Order, c: Conversion) -> list[Entry]:
    """Reverse the in-kind receipt posting for what was outstanding, then post the receipt of
    the cash value with method cash; one entry per book, balanced per commodity."""
    sup, req, k = order.supplying, order.requesting, order.method.value
    cp: list[Posting] = []
    dp: list[Posting] = []
    for a in c.cleared:
        cp += [Posting("support_provided", a, req), Posting("receivable", -a, req, k)]
        dp += [Posting("payable", a, sup, k), Posting("support_received", -a, sup)]
    v = c.amount
    cp += [Posting("receivable", v, req, "cash"), Posting("support_provided", -v, req)]
    dp += [Posting("support_received", v, sup), Posting("payable", -v, sup, "cash")]
    txn = f"{order.number}/C{c.seq}"
    text = f"conversion {c.seq} of {order.number} to cash at the {c.basis} price: {v}"
    return [
        Entry(sup, txn, c.on, "conversion", order.number, tuple(cp), text).check(),
        Entry(req, txn, c.on, "conversion", order.number, tuple(dp), text).check(),
    ]


def convert(
    order: Order,
    user: User,
    at: datetime,
    on: date,
    agreement: Agreement,
    prices: list[PriceItem],
) -> tuple[Conversion, list[Entry]]:
    """Convert the order's overdue in-kind obligation to cash on `on`; sign, invoice and post."""
    require_may_convert(user, order.supplying)
    if not conversion_due(order, agreement, on):
        raise RuleViolation(
            "conversion_not_due", "order", order.number, "no in-kind obligation is overdue"
        )
    basis = agreement.conversion_price
    cleared = tuple(Amount(n, c) for c, n in sorted(in_kind_outstanding(order).items()))
    parts, amount = conversion_value(order, basis, prices, on)
    cash_days = agreement.terms(Method.CASH).due_days
    conv = Conversion(len(order.conversions) + 1, on, basis, cleared, parts, amount)
    order.conversions.append(conv)
    order.invoices.append(
        Invoice(
            f"INV-{order.number}-{len(order.invoices) + 1}",
            on,
            on + timedelta(days=cash_days),
            (amount,),
            amount,
        )
    )
    order.state = S.INVOICED  # partially_received / received / invoiced -> invoiced
    order._sign(
        user,
        "convert",
        at,
        {
            "conversion": conv.seq,
            "on": on.isoformat(),
            "basis": basis,
            "cleared": [str(a) for a in cleared],
            "amount": str(amount),
        },
        f"overdue in-kind debt converted to {amount}",
    )
    return conv, post_conversion(order, conv)


# -- alerts ----------------------------------------------------------------------------------------


class AlertKind(StrEnum):
    AWAITING_ACCEPTANCE = "awaiting_acceptance"
    NOT_INVOICED = "not_invoiced"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    CONVERSION_DUE = "conversion_due"
    UNRECONCILED = "unreconciled"


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    order: str
    agreement: str
    counterparty: str
    since: date | None  # submitted / delivered / due on
    detail: str


def alert_states(user: User) -> frozenset[S]:
    """The states of the orders that can give `user` an alert (`alerts`): an accepting
    officer's are submitted orders; a finance officer's are received, partly received (not
    invoiced; in-kind debts due for conversion) and invoiced ones (due soon, overdue,
    conversion); nobody else's (nor a disabled user's)."""
    if not user.active:
        return frozenset()
    if user.role is Role.ACCEPTING_OFFICER:
        return frozenset({S.SUBMITTED})
    if user.role is Role.FINANCE_OFFICER:
        return OWING_STATES
    return frozenset()


def alerts(
    user: User,
    orders: Iterable[Order],
    agreements: dict[str, Agreement],
    as_of: date,
    uninvoiced_days: int = 30,
    soon_days: int = 14,
) -> list[Alert]:
    """What needs `user`'s action on `as_of`, for its role and party. Categories computed here:
    orders awaiting acceptance (accepting officer of the supplier); receipts not invoiced after
    `uninvoiced_days` (finance officer of the supplier); invoices due within `soon_days` or
    overdue, and in-kind debts due for conversion (finance officers of both sides)."""
    out: list[Alert] = []
    if not user.active:
        return out
    for o in orders:
        mine_supplying = user.party == o.supplying
        side = user.party in (o.supplying, o.requesting)
        other = o.requesting if mine_supplying else o.supplying
        if user.role is Role.ACCEPTING_OFFICER and mine_supplying and o.state is S.SUBMITTED:
            submitted = next(
                (s.at.date() for s in reversed(o.signatures) if s.action in ("submit", "amend")),
                None,
            )
            out.append(
                Alert(
                    AlertKind.AWAITING_ACCEPTANCE,
                    o.number,
                    o.agreement,
                    other,
                    submitted,
                    f"{o.number} from {o.requesting} awaits acceptance",
                )
            )
        if user.role is not Role.FINANCE_OFFICER or not side:
            continue
        a = agreements.get(o.agreement)
        first = min((r.received_on for r in o.receipts), default=None)
        if (
            mine_supplying
            and o.state in (S.PARTIALLY_RECEIVED, S.RECEIVED)
            and first is not None
            and (as_of - first).days >= uninvoiced_days
        ):
            out.append(
                Alert(
                    AlertKind.NOT_INVOICED,
                    o.number,
                    o.agreement,
                    other,
                    first,
                    f"delivered {(as_of - first).days} days ago, not invoiced",
                )
            )
        if a is not None and conversion_due(o, a, as_of):
            out.append(_conversion_alert(o.number, a, other, due_on(o, a)))
        owed = {c: n for c, n in o.obligations().items() if n > 0}
        if o.state is S.INVOICED and owed and o.invoices:
            found = _due_alert(
                o.number, o.agreement, other, o.invoices[-1].due_on, owed, as_of, soon_days
            )
            if found is not None:
                out.append(found)
    return sort_alerts(out)


def _conversion_alert(number: str, agreement: Agreement, other: str, due: date | None) -> Alert:
    return Alert(
        AlertKind.CONVERSION_DUE,
        number,
        agreement.code,
        other,
        due,
        "in-kind debt overdue: converts to cash at the "
        f"{agreement.conversion_price} price (`relos settle run`)",
    )


def _due_alert(
    number: str,
    agreement: str,
    other: str,
    due: date,
    owed: dict[str, Decimal],
    as_of: date,
    soon_days: int,
) -> Alert | None:
    """An invoiced order's debts (`owed`, more than nothing) due within `soon_days` of `as_of`
    or overdue on it, as one alert; None when due later."""
    what = ", ".join(str(Amount(n, c)) for c, n in sorted(owed.items()))
    if as_of > due:
        detail = f"{what} overdue by {(as_of - due).days} days"
        return Alert(AlertKind.OVERDUE, number, agreement, other, due, detail)
    if (due - as_of).days <= soon_days:
        detail = f"{what} due in {(due - as_of).days} days"
        return Alert(AlertKind.DUE_SOON, number, agreement, other, due, detail)
    return None


def debt_alerts(
    user: User,
    debts: Iterable[tuple[OrderDebt, bool]],
    agreements: dict[str, Agreement],
    as_of: date,
    soon_days: int = 14,
) -> list[Alert]:
    """What `alerts` gives a finance officer for the invoiced orders, from their debts
    (`Order.debts`, an order's commodities one after the other, each with whether the order
    was converted) instead of the whole orders: an invoiced order can alert only that its
    in-kind debt is due for conversion (`conversion_due`: what is owed in kind, past the last
    invoice's due date) and that its debts are due soon or overdue; of the orders the user's
    party is a side of."""
    out: list[Alert] = []
    if not user.active or user.role is not Role.FINANCE_OFFICER:
        return out
    for number, group in groupby(debts, key=lambda d: d[0].order):
        rows = list(group)
        owed = [d for d, _ in rows]
        first, converted = rows[0]
        if user.party not in (first.creditor, first.debtor):
            continue
        other = first.debtor if user.party == first.creditor else first.creditor
        a = agreements.get(first.agreement)
        left = {d.commodity: d.outstanding for d in owed}
        in_kind = owed_in_kind(first.method, converted, left)
        if a is not None and in_kind and as_of > first.due_on:  # as `conversion_due`
            out.append(_conversion_alert(number, a, other, first.due_on))
        found = _due_alert(number, first.agreement, other, first.due_on, left, as_of, soon_days)
        if found is not None:
            out.append(found)
    return out


def sort_alerts(found: Iterable[Alert]) -> list[Alert]:
    """By kind (the order of `AlertKind`), then date, then order or statement."""
    order_of = {k: i for i, k in enumerate(AlertKind)}
    return sorted(found, key=lambda x: (order_of[x.kind], x.since or date.min, x.order))


def netting_alerts(
    user: User, debts: Iterable[NettingDebt], as_of: date, soon_days: int = 14
) -> list[Alert]:
    """Netting obligations (a multilateral netting's new debts) due within `soon_days` or
    overdue, for the finance officers of the debtor and of the creditor; `order` names the
    statement."""
    if not user.active or user.role is not Role.FINANCE_OFFICER:
        return []
    out = []
    for d in debts:
        if user.party not in (d.debtor, d.creditor) or d.outstanding.is_zero():
            continue
        other = d.creditor if user.party == d.debtor else d.debtor
        what = f"netting obligation {d.debtor} to {d.creditor}: {d.outstanding}"
        if as_of > d.due_on:
            kind, detail = AlertKind.OVERDUE, f"{what} overdue by {(as_of - d.due_on).days} days"
        elif (d.due_on - as_of).days <= soon_days:
            kind, detail = AlertKind.DUE_SOON, f"{what} due in {(d.due_on - as_of).days} days"
        else:
            continue
        out.append(Alert(kind, d.statement, d.agreement, other, d.due_on, detail))
    return out


def latest_runs(runs: list[ReconRun]) -> list[ReconRun]:
    """The latest reconciliation run per agreement and counterparty: what stands today."""
    latest: dict[tuple[str, str], ReconRun] = {}
    for r in sorted(runs, key=lambda r: (r.run_at, r.id)):
        latest[r.agreement, r.counterparty] = r
    return list(latest.values())


def unreconciled_alerts(
    user: User, runs: list[tuple[ReconRun, list[ReconLine]]], as_of: date
) -> list[Alert]:
    """Lines of the latest reconciliation runs of the user's party still open more than a year
    after their transaction (finance officers, who reconcile)."""
    if not user.active or user.role is not Role.FINANCE_OFFICER:
        return []
    return [
        Alert(
            AlertKind.UNRECONCILED,
            ln.order,
            run.agreement,
            run.counterparty,
            ln.transaction_date,
            f"{ln.status.value} unreconciled since {ln.transaction_date.isoformat()}"
            f" (run {run.id})",
        )
        for run, lines in runs
        if run.party == user.party
        for ln in lines
        if ln.overdue(as_of)
    ]


# -- annual report (10 U.S.C. 2342(h)) -------------------------------------------------------------


def as_of_day(order: Order, day: date) -> Order:
    """The order as it stood at the end of `day` (receipts, settlements, conversions up to it)."""
    return replace(
        order,
        receipts=[r for r in order.receipts if r.received_on <= day],
        settlements=[s for s in order.settlements if s.on <= day],
        conversions=[c for c in order.conversions if c.on <= day],
        invoices=[i for i in order.invoices if i.issued_on <= day],
        lines=list(order.lines),
        signatures=list(order.signatures),
    )


def money_value(order: Order, amount: Amount) -> Amount:
    """An obligation or settlement amount in money: currencies as they are, an item's commodity
    at the price fixed for the line that carries it."""
    if is_currency(amount.commodity):
        return amount
    ln = next(ln for ln in order.lines if ln.commodity == amount.commodity and ln.unit_price)
    assert ln.unit_price is not None
    return ln.unit_price.times(amount.number)


@dataclass
class CategoryRow:
    giver: str
    receiver: str
    category: str
    currency: str
    total_value: Decimal = Decimal(0)
    collected: Decimal = Decimal(0)
    outstanding: Decimal = Decimal(0)
    orders: int = 0


@dataclass(frozen=True)
class Unreconciled:
    """A transaction unreconciled for over a year (10 U.S.C. 2342(h): date, country, value): a
    line of the party's standing reconciliation run, not matched and not resolved."""

    order: str
    transaction_date: date
    country: str  # the counterparty whose records disagree
    value: Amount | None  # ours, else theirs; None when neither side has a value yet
    status: str
    run: int
    line: int
    disputed: bool
    details: tuple[str, ...]


def unreconciled_over_a_year(
    runs: Iterable[tuple[ReconRun, list[ReconLine]]], agreement: str, day: date
) -> list[Unreconciled]:
    """Lines of the latest reconciliation run per counterparty (run on or before `day`) that
    were not matched, not resolved by `day`, and whose transaction is more than a year old."""
    runs = [(r, lines) for r, lines in runs if r.agreement == agreement and r.run_at.date() <= day]
    lines_of = {r.id: lines for r, lines in runs}
    out = []
    for run in latest_runs([r for r, _ in runs]):
        for ln in lines_of[run.id]:
            resolved = ln.resolved_at is not None and ln.resolved_at.date() <= day
            if ln.status is MatchStatus.MATCHED or resolved:
                continue
            if day <= one_year_after(ln.transaction_date):
                continue
            number = ln.our_value if ln.our_value is not None else ln.their_value
            out.append(
                Unreconciled(
                    ln.order,
                    ln.transaction_date,
                    run.counterparty,
                    Amount(number, ln.currency) if number is not None and ln.currency else None,
                    ln.status.value,
                    run.id,
                    ln.line_no,
                    ln.disputed_note is not None,
                    ln.details,
                )
            )
    return sorted(out, key=lambda u: (u.transaction_date, u.country, u.order))


@dataclass
class CeilingUse:
    name: str
    party: str
    direction: str  # "received" (liabilities) or "given" (credits)
    ceiling: Amount
    exempt_categories: tuple[str, ...]
    used: Decimal = Decimal(0)
    exempt: Decimal = Decimal(0)
    #: other currencies without a rate in the rate table: reported beside, not counted
    not_counted: dict[str, Decimal] = field(default_factory=dict)
    #: other currencies converted: (currency, amount, rate, rate date, source), counted above
    converted: list[tuple[str, Decimal, Decimal, date, str]] = field(default_factory=list)
    #: (currency, exempt?) -> value in that currency, before conversion
    other: dict[tuple[str, bool], Decimal] = field(default_factory=dict)


@dataclass
class AnnualReport:
    agreement: str
    year: int
    as_of: date
    parties: tuple[str, ...]
    rows: list[CategoryRow]
    unreconciled: list[Unreconciled]
    ceilings: list[CeilingUse]
    monthly: dict[tuple[str, str, str], list[Decimal]]  # (giver, receiver, currency) -> 12
    currency_note: str


def _month_values(order: Order, year: int) -> dict[tuple[int, str, str], Decimal]:
    """(month, category, currency) -> value of the support received in `year`."""
    out: dict[tuple[int, str, str], Decimal] = {}
    for r in order.receipts:
        if r.received_on.year != year:
            continue
        for ln, _q, value, _ob in order.receipt_amounts(r):
            cat = ln.category.value if ln.category else "uncategorised"
            key = (r.received_on.month, cat, value.commodity)
            out[key] = out.get(key, Decimal(0)) + value.number
    return out


def annual_report(
    agreement: Agreement,
    orders: Iterable[Order],
    year: int,
    as_of: date | None = None,
    rates: list[Rate] | None = None,
    runs: Iterable[tuple[ReconRun, list[ReconLine]]] = (),
) -> AnnualReport:
    """Support given and received by each party under `agreement` in `year`.

    Per giver, receiver, category (class of supply) and currency: total value of the support
    delivered in the year (prices fixed at acceptance); of those orders, the amount collected
    (settlements up to the year's end, returns in kind valued at their line's price, a conversion
    counted at its cash value) and the balance still outstanding at the year's end, each shared
    among the order's categories in proportion to the year's value. Unreconciled: the lines of
    the reporting party's reconciliation `runs` still open more than a year after their
    transaction on `as_of` (default: the year's end; `unreconciled_over_a_year`). Ceilings
    count the support received (liabilities) and given (credits) of each party, exempt
    categories apart; amounts in
    another currency than the ceiling's are converted at the year's last rate on or before the
    year's end (the agreement's rate source) from `rates`, or, without one, reported beside it.
    """
    end = date(year, 12, 31)
    day = as_of or end
    rows: dict[tuple[str, str, str, str], CategoryRow] = {}
    monthly: dict[tuple[str, str, str], list[Decimal]] = {}
    ceilings = [
        CeilingUse(
            c.name,
            p,
            d,
            Amount(Decimal(c.amount), c.currency),
            tuple(x.value for x in c.exempt_categories),
        )
        for c in agreement.ceilings
        for p in agreement.parties
        for d in ("received", "given")
    ]
    for full in orders:
        if full.agreement != agreement.code:
            continue
        o = as_of_day(full, end)
        months = _month_values(o, year)
        if months:
            year_total = sum(months.values(), Decimal(0))
            by_cat: dict[tuple[str, str], Decimal] = {}
            for (m, cat, cur), v in months.items():
                by_cat[cat, cur] = by_cat.get((cat, cur), Decimal(0)) + v
                series = monthly.setdefault((o.supplying, o.requesting, cur), [Decimal(0)] * 12)
                series[m - 1] += v
            collected = sum(
                (money_value(o, s.signed_amount).number for s in o.settlements), Decimal(0)
            )
            outstanding = sum(
                (money_value(o, Amount(n, c)).number for c, n in o.obligations().items() if n > 0),
                Decimal(0),
            )
            for (cat, cur), v in by_cat.items():
                key = (o.supplying, o.requesting, cat, cur)
                row = rows.setdefault(key, CategoryRow(*key))
                share = v / year_total if year_total else Decimal(0)
                row.total_value += v
                row.collected += collected * share
                row.outstanding += outstanding * share
                row.orders += 1
                for cu in ceilings:
                    party = o.requesting if cu.direction == "received" else o.supplying
                    if cu.party != party:
                        continue
                    if cur != cu.ceiling.commodity:
                        k = (cur, cat in cu.exempt_categories)
                        cu.other[k] = cu.other.get(k, Decimal(0)) + v
                    elif cat in cu.exempt_categories:
                        cu.exempt += v
                    else:
                        cu.used += v
    for row in rows.values():  # shares are exact to the cent only in total: round for reporting
        row.collected = Amount(row.collected, row.currency).times(Decimal(1)).number
        row.outstanding = Amount(row.outstanding, row.currency).times(Decimal(1)).number
    unconverted = False
    for cu in ceilings:
        for (cur, is_exempt), v in sorted(cu.other.items()):
            try:
                rate = choose(rates or [], cur, cu.ceiling.commodity, end, agreement.rate_source)
            except RelosError:
                cu.not_counted[cur] = cu.not_counted.get(cur, Decimal(0)) + v
                unconverted = True
                continue
            c = convert_currency(Amount(v, cur), rate)
            cu.converted.append((cur, v, rate.rate, rate.on, rate.source))
            if is_exempt:
                cu.exempt += c.converted.number
            else:
                cu.used += c.converted.number
    currencies = {r.currency for r in rows.values()}
    if unconverted or (len(currencies) > 1 and not rates):
        note = (
            "no exchange rate for some currencies: their amounts are reported in their own "
            "currency, not converted (support rows are always per currency)"
        )
    else:
        note = "support rows per currency; ceiling use converted at the rate table's rates"
    return AnnualReport(
        agreement.code,
        year,
        day,
        agreement.parties,
        sorted(rows.values(), key=lambda r: (r.giver, r.receiver, r.category, r.currency)),
        unreconciled_over_a_year(runs, agreement.code, day),
        ceilings,
        dict(sorted(monthly.items())),
        note,
    )
