"""Netting: mutual cash obligations offset at the agreement's rate, leaving the fewest payments.

A **netting statement** takes every outstanding, invoiced cash obligation between the parties of
one agreement on a date, converts each into the statement's *netting currency* at the rate the
agreement's rule picks (`relos.domain.rates`), and computes each party's **net position** (what
it is owed less what it owes). Debtors then pay creditors, largest first, so there are at most
``parties - 1`` payments (two parties: one).

What each payment leaves owed stays outstanding on the debtor's obligations to that creditor in
the netting currency (the latest invoiced first); everything else is **covered**: discharged
through the trading account ``netting`` (DESIGN.md). A multilateral payment between two parties
with no such obligation becomes a new obligation on ``receivable:P:netting`` /
``payable:P:netting``. Each ledger entry is in one currency; in every book the netting account's
balances in the two currencies are equal at the rates recorded on the statement's lines.

Only obligations in the netting currency are ever partly covered, so nothing covered is rounded
twice. Conversions round half-even to the target currency's minor unit, line by line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from relos.domain.errors import NotFound, PermissionDenied, RuleViolation, ValidationError
from relos.domain.ledger import Entry, Posting
from relos.domain.money import Amount
from relos.domain.orders import digest
from relos.domain.rates import Conversion, Rate, choose, convert, identity, rate_date
from relos.domain.users import Role, User


@dataclass(frozen=True)
class Obligation:
    """What `debtor` still owes `creditor` in cash on one invoiced order."""

    order: str
    debtor: str
    creditor: str
    outstanding: Amount
    invoiced_on: date


@dataclass(frozen=True)
class Line:
    order: str
    debtor: str
    creditor: str
    outstanding: Amount
    converted: Amount  # outstanding in the netting currency
    rate: Decimal
    rate_on: date | None
    source: str
    covered: Amount  # discharged by this netting (in the obligation's currency)
    converted_covered: Amount  # the same in the netting currency

    @property
    def remaining(self) -> Amount:
        return self.outstanding - self.covered


@dataclass(frozen=True)
class Payment:
    payer: str
    payee: str
    amount: Amount
    on_orders: Amount  # left outstanding on the payer's orders to the payee
    new_obligation: Amount  # the rest: a new obligation created by this netting


@dataclass(frozen=True)
class Approval:
    party: str
    user: str
    role: str
    at: datetime
    digest: str


@dataclass(frozen=True)
class DebtPayment:
    """A cash payment of a netting obligation (a new debt a multilateral netting created),
    signed by the finance officer who records it: SHA-256 of exactly what was recorded."""

    seq: int
    payer: str  # the debtor
    payee: str  # the creditor
    amount: Amount
    on: date
    reference: str  # the payment's own reference (transfer or voucher number), unique per statement
    user: str
    party: str
    at: datetime
    digest: str

    def document(self, statement: str) -> dict[str, Any]:
        return {
            "statement": statement,
            "seq": self.seq,
            "payer": self.payer,
            "payee": self.payee,
            "amount": str(self.amount.number),
            "currency": self.amount.commodity,
            "on": self.on.isoformat(),
            "reference": self.reference,
        }


@dataclass(frozen=True)
class NettingDebt:
    """What `debtor` owes `creditor` in cash because a netting statement said so (a payment of
    the statement with no invoice of the creditor's to stay on), due `due_on`."""

    statement: str
    agreement: str
    debtor: str
    creditor: str
    amount: Amount
    paid: Amount
    posted_on: date
    due_on: date

    @property
    def outstanding(self) -> Amount:
        return self.amount - self.paid


class StatementState(StrEnum):
    PROPOSED = "proposed"
    POSTED = "posted"


@dataclass
class Statement:
    number: str
    agreement: str
    as_of: date
    currency: str
    parties: tuple[str, ...]
    lines: list[Line]
    payments: list[Payment]
    fingerprint: str  # digest of the obligations the proposal was computed from
    proposed_by: str
    proposed_at: datetime
    state: StatementState = StatementState.PROPOSED
    approvals: list[Approval] = field(default_factory=list)
    posted_at: datetime | None = None
    #: when the netting obligations it created are due (the agreement's cash window after posting)
    due_on: date | None = None
    #: cash payments of those obligations, oldest first
    debt_payments: list[DebtPayment] = field(default_factory=list)

    def positions(self) -> dict[str, Amount]:
        return positions(self.lines, self.parties, self.currency)

    def document(self) -> dict[str, Any]:
        """What each party's finance officer signs."""
        return {
            "number": self.number,
            "agreement": self.agreement,
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "parties": list(self.parties),
            "fingerprint": self.fingerprint,
            "lines": [
                {
                    "order": ln.order,
                    "debtor": ln.debtor,
                    "creditor": ln.creditor,
                    "outstanding": str(ln.outstanding.number),
                    "currency": ln.outstanding.commodity,
                    "converted": str(ln.converted.number),
                    "rate": str(ln.rate),
                    "rate_on": ln.rate_on.isoformat() if ln.rate_on else None,
                    "source": ln.source,
                    "covered": str(ln.covered.number),
                }
                for ln in self.lines
            ],
            "payments": [
                {"payer": p.payer, "payee": p.payee, "amount": str(p.amount.number)}
                for p in self.payments
            ],
        }

    def digest(self) -> str:
        return digest(self.document())

    def approved_by(self) -> set[str]:
        return {a.party for a in self.approvals}

    def fully_approved(self) -> bool:
        return self.approved_by() >= set(self.parties)

    def approve(self, user: User, at: datetime) -> Approval:
        """A finance officer of each party signs the statement, once per party."""
        if not user.active:
            raise PermissionDenied(user.name, "approve a netting", "the user is disabled")
        if user.role is not Role.FINANCE_OFFICER:
            raise PermissionDenied(
                user.name, "approve a netting", f"role {user.role.value}; needs finance_officer"
            )
        if user.party not in self.parties:
            raise PermissionDenied(
                user.name,
                "approve a netting",
                f"party {user.party} is not a party to {self.agreement}",
            )
        if self.state is not StatementState.PROPOSED:
            raise RuleViolation(
                "netting_not_proposed", "state", self.state.value, f"{self.number} is posted"
            )
        if user.party in self.approved_by():
            raise RuleViolation(
                "netting_already_approved",
                "party",
                user.party,
                f"{user.party} has approved {self.number} already",
            )
        a = Approval(user.party, user.name, user.role.value, at, self.digest())
        self.approvals.append(a)
        return a

    def posted_on(self) -> date | None:
        """The date the netting's entries carry: the statement's date, or the posting's if later."""
        if self.state is not StatementState.POSTED or self.posted_at is None:
            return None
        return max(self.as_of, self.posted_at.date())

    def debts(self, day: date | None = None) -> list[NettingDebt]:
        """The obligations this posted statement created, with what has been paid of each;
        with `day`, as they stood at its end: none if the statement was posted later, and
        only the payments made on or before it."""
        on = self.posted_on()
        if on is None or (day is not None and on > day):
            return []
        out = []
        for pay in self.payments:
            if pay.new_obligation.is_zero():
                continue
            paid = Amount.zero(self.currency)
            for dp in self.debt_payments:
                if day is not None and dp.on > day:
                    continue
                if (dp.payer, dp.payee) == (pay.payer, pay.payee):
                    paid = paid + dp.amount
            out.append(
                NettingDebt(
                    self.number,
                    self.agreement,
                    pay.payer,
                    pay.payee,
                    pay.new_obligation,
                    paid,
                    on,
                    self.due_on or on,
                )
            )
        return out

    def debt(self, debtor: str, creditor: str) -> NettingDebt:
        for d in self.debts():
            if (d.debtor, d.creditor) == (debtor, creditor):
                return d
        raise NotFound(
            "netting obligation", f"{self.number}: {debtor} owes {creditor}", field="creditor"
        )

    def pay_debt(
        self,
        user: User,
        debtor: str,
        creditor: str,
        amount: Amount,
        on: date,
        reference: str,
        at: datetime,
    ) -> DebtPayment:
        """Record a cash payment of the netting obligation of `debtor` to `creditor`: by a
        finance officer of either side (the payer records its payment, the payee its receipt),
        on or after the posting, in the statement's currency, never more than outstanding."""
        require_may_pay(user, debtor, creditor)
        if self.state is not StatementState.POSTED:
            raise RuleViolation(
                "netting_not_posted",
                "state",
                self.state.value,
                f"{self.number} is not posted yet: it creates no obligation before",
            )
        debt = self.debt(debtor, creditor)
        reference = (reference or "").strip()
        if not reference or len(reference) > 80 or not reference.isprintable():
            raise ValidationError(
                "reference", reference[:40], "the payment's reference: 1 to 80 printable characters"
            )
        if amount.number <= 0:
            raise ValidationError("amount", str(amount.number), "must be > 0")
        if amount.commodity != self.currency:
            raise RuleViolation(
                "settlement_commodity",
                "currency",
                amount.commodity,
                f"the netting obligation is owed in {self.currency}",
            )
        if amount.number > debt.outstanding.number:
            raise RuleViolation(
                "settlement_exceeds_outstanding",
                "amount",
                str(amount),
                f"outstanding is {debt.outstanding}",
            )
        if on < debt.posted_on:
            raise RuleViolation(
                "payment_before_netting",
                "on",
                on.isoformat(),
                f"{self.number} was posted on {debt.posted_on.isoformat()}",
            )
        seq = len(self.debt_payments) + 1
        unsigned = DebtPayment(
            seq, debtor, creditor, amount, on, reference, user.name, user.party, at, ""
        )
        signed = replace(unsigned, digest=digest(unsigned.document(self.number)))
        self.debt_payments.append(signed)
        return signed

    def trading_imbalance(self) -> dict[str, Decimal]:
        """Per book, the netting account's balance valued in the netting currency at the
        statement's rates: zero in every book."""
        out = {p: Decimal(0) for p in self.parties}
        for ln in self.lines:
            out[ln.creditor] += ln.converted_covered.number
            out[ln.debtor] -= ln.converted_covered.number
        for pay in self.payments:
            out[pay.payee] -= pay.new_obligation.number
            out[pay.payer] += pay.new_obligation.number
        return {p: v for p, v in out.items() if v != 0}


def fingerprint(obligations: Iterable[Obligation]) -> str:
    return digest(
        {
            "obligations": sorted(
                [o.order, o.debtor, o.creditor, str(o.outstanding.number), o.outstanding.commodity]
                for o in obligations
            )
        }
    )


def positions(lines: Iterable[Line], parties: Iterable[str], currency: str) -> dict[str, Amount]:
    """Each party's net position in the netting currency: owed to it less owed by it."""
    out = {p: Amount.zero(currency) for p in parties}
    for ln in lines:
        out[ln.creditor] = out[ln.creditor] + ln.converted
        out[ln.debtor] = out[ln.debtor] - ln.converted
    return out


def settle_positions(pos: dict[str, Amount], currency: str) -> list[tuple[str, str, Amount]]:
    """Debtors pay creditors, largest first (ties by party code): at most n-1 payments."""
    debtors = sorted(((-a.number, p) for p, a in pos.items() if a.number < 0), key=_big_first)
    creditors = sorted(((a.number, p) for p, a in pos.items() if a.number > 0), key=_big_first)
    out: list[tuple[str, str, Amount]] = []
    i = j = 0
    d_left = debtors[0][0] if debtors else Decimal(0)
    c_left = creditors[0][0] if creditors else Decimal(0)
    while i < len(debtors) and j < len(creditors):
        pay = min(d_left, c_left)
        out.append((debtors[i][1], creditors[j][1], Amount(pay, currency)))
        d_left -= pay
        c_left -= pay
        if d_left == 0:
            i += 1
            d_left = debtors[i][0] if i < len(debtors) else Decimal(0)
        if c_left == 0:
            j += 1
            c_left = creditors[j][0] if j < len(creditors) else Decimal(0)
    return out


def _big_first(t: tuple[Decimal, str]) -> tuple[Decimal, str]:
    return (-t[0], t[1])


def _conversion(
    ob: Obligation,
    currency: str,
    rates: Sequence[Rate],
    rule: str,
    source: str,
    as_of: date,
) -> Conversion:
    if ob.outstanding.commodity == currency:
        return identity(ob.outstanding)
    on = rate_date(rule, as_of, ob.invoiced_on)
    return convert(ob.outstanding, choose(rates, ob.outstanding.commodity, currency, on, source))


def propose(
    number: str,
    agreement: str,
    parties: Sequence[str],
    as_of: date,
    obligations: Sequence[Obligation],
    rates: Sequence[Rate],
    *,
    rule: str,
    source: str,
    currency: str,
    proposed_by: str,
    proposed_at: datetime,
) -> Statement:
    """The offset and the payments left, for these obligations, in `currency`."""
    if not obligations:
        raise RuleViolation(
            "netting_nothing_to_net",
            "agreement",
            agreement,
            f"no invoiced, outstanding cash obligation under {agreement} on {as_of}",
        )
    for ob in obligations:
        if ob.debtor not in parties or ob.creditor not in parties:
            raise ValidationError("order", ob.order, f"not between parties of {agreement}")
    convs = [_conversion(ob, currency, rates, rule, source, as_of) for ob in obligations]
    lines = [
        Line(
            ob.order,
            ob.debtor,
            ob.creditor,
            ob.outstanding,
            cv.converted,
            cv.rate,
            cv.rate_on,
            cv.source,
            ob.outstanding,
            cv.converted,
        )
        for ob, cv in zip(obligations, convs, strict=True)
    ]
    pos = positions(lines, parties, currency)
    payments: list[Payment] = []
    for payer, payee, amount in settle_positions(pos, currency):
        left = amount.number
        candidates = sorted(
            (
                i
                for i, ln in enumerate(lines)
                if (ln.debtor, ln.creditor) == (payer, payee)
                and ln.outstanding.commodity == currency
            ),
            key=lambda i: (obligations[i].invoiced_on, lines[i].order),
            reverse=True,
        )
        for i in candidates:
            if left == 0:
                break
            ln = lines[i]
            keep = min(left, ln.covered.number)
            covered = ln.covered - Amount(keep, currency)
            lines[i] = replace(ln, covered=covered, converted_covered=covered)
            left -= keep
        payments.append(
            Payment(
                payer,
                payee,
                amount,
                Amount(amount.number - left, currency),
                Amount(left, currency),
            )
        )
    return Statement(
        number,
        agreement,
        as_of,
        currency,
        tuple(parties),
        lines,
        payments,
        fingerprint(obligations),
        proposed_by,
        proposed_at,
    )


def post(statement: Statement, on: date) -> list[Entry]:
    """The ledger entries of an approved statement: one currency per entry (DESIGN.md)."""
    n = statement.number
    out: list[Entry] = []
    for ln in statement.lines:
        if ln.covered.is_zero():
            continue
        c, d, x = ln.creditor, ln.debtor, ln.covered
        txn = f"{n}/{ln.order}"
        desc = f"netting {n}: {ln.order} {x}"
        cp = (Posting("netting", x, d), Posting("receivable", -x, d, "cash"))
        dp = (Posting("payable", x, c, "cash"), Posting("netting", -x, c))
        out.append(Entry(c, txn, on, "netting", ln.order, cp, desc).check())
        out.append(Entry(d, txn, on, "netting", ln.order, dp, desc).check())
    for k, pay in enumerate(statement.payments, start=1):
        if pay.new_obligation.is_zero():
            continue
        a, payee, payer = pay.new_obligation, pay.payee, pay.payer
        txn = f"{n}/P{k}"
        desc = f"netting {n}: {payer} owes {payee} {a}"
        cp = (Posting("receivable", a, payer, "netting"), Posting("netting", -a, payer))
        dp = (Posting("netting", a, payee), Posting("payable", -a, payee, "netting"))
        out.append(Entry(payee, txn, on, "netting", n, cp, desc).check())
        out.append(Entry(payer, txn, on, "netting", n, dp, desc).check())
    return out


def check_fresh(statement: Statement, obligations: Iterable[Obligation]) -> None:
    """Refuse a statement whose obligations changed since it was proposed."""
    if fingerprint(obligations) != statement.fingerprint:
        raise RuleViolation(
            "netting_stale",
            "statement",
            statement.number,
            "the obligations changed since the proposal: propose again",
        )


def require_may_pay(user: User, debtor: str, creditor: str) -> None:
    """A netting obligation is paid, or its receipt recorded, by an active finance officer of
    the debtor or of the creditor (decision 23)."""
    what = "pay a netting obligation"
    if not user.active:
        raise PermissionDenied(user.name, what, "the user is disabled")
    if user.role is not Role.FINANCE_OFFICER:
        raise PermissionDenied(user.name, what, f"role {user.role.value}; needs finance_officer")
    if user.party not in (debtor, creditor):
        raise PermissionDenied(
            user.name, what, f"party {user.party} is neither {debtor} nor {creditor}"
        )


def post_debt_payment(statement: Statement, p: DebtPayment) -> list[Entry]:
    """DESIGN.md's cash payment rule on the netting method: the creditor's book
    ``Dr settlement_cash / Cr receivable:D:netting``, the debtor's ``Dr payable:C:netting /
    Cr settlement_cash``; tied to the statement, one currency per entry."""
    n, a, c, d = statement.number, p.amount, p.payee, p.payer
    txn = f"{n}/S{p.seq}"
    desc = f"cash {a} on netting obligation {n} ({d} to {c}), ref {p.reference}"
    cp = (Posting("settlement_cash", a), Posting("receivable", -a, d, "netting"))
    dp = (Posting("payable", a, c, "netting"), Posting("settlement_cash", -a))
    return [
        Entry(c, txn, p.on, "cash", n, cp, desc).check(),
        Entry(d, txn, p.on, "cash", n, dp, desc).check(),
    ]
