"""Exchange rates and netting: import and list rates; propose, approve, post and read netting
statements. Each use case is one transaction: a refused action writes nothing.

Who acts: a finance officer of a party to the agreement proposes; a finance officer of *each*
party approves (once per party); the last approval posts. Rates are reference data: imported by
the node's database administration (no ``--as``) or by a finance officer; anyone may read them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from relos.domain import netting as dn
from relos.domain.agreements import Method
from relos.domain.errors import (
    Conflict,
    Invalid,
    NotFound,
    PermissionDenied,
    RelosError,
    ValidationError,
)
from relos.domain.money import Amount, is_currency, parse_decimal
from relos.domain.netting import (
    DebtPayment,
    NettingDebt,
    Obligation,
    Statement,
    StatementState,
)
from relos.domain.rates import Rate, parse_pair, parse_rate
from relos.domain.users import Role, User
from relos.services import audit, catalogue
from relos.services.actors import acting_user
from relos.services.unit_of_work import UnitOfWork

RATE_COLUMNS = ("date", "pair", "rate", "source")


def now() -> datetime:
    return datetime.now(UTC)


# -- rates ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateImport:
    added: list[Rate]
    unchanged: int


def parse_rates_csv(text: str, imported_at: datetime) -> list[Rate]:
    """Rows of ``date,pair,rate,source``; every problem named by line, field and value."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in RATE_COLUMNS if c not in header]
    if missing:
        raise ValidationError("line 1: header", ",".join(header), f"needs columns {RATE_COLUMNS}")
    reader.fieldnames = header
    problems: list[RelosError] = []
    out: list[Rate] = []
    seen: dict[tuple[date, str, str, str], int] = {}
    for row in reader:
        n = reader.line_num
        cells = {k: (v or "").strip() for k, v in row.items() if k}
        try:
            on = date.fromisoformat(cells["date"])
        except ValueError:
            problems.append(ValidationError(f"line {n}: date", cells["date"], "not YYYY-MM-DD"))
            continue
        try:
            base, quote = parse_pair(cells["pair"], f"line {n}: pair")
            rate = parse_rate(cells["rate"], f"line {n}: rate")
        except ValidationError as e:
            problems.append(e)
            continue
        if not cells["source"]:
            problems.append(ValidationError(f"line {n}: source", "", "name the rate's source"))
            continue
        r = Rate(on, base, quote, rate, cells["source"], imported_at)
        if r.key() in seen and out[seen[r.key()]].rate != rate:
            problems.append(
                ValidationError(
                    f"line {n}: rate", cells["rate"], "conflicts with an earlier line of the file"
                )
            )
            continue
        if r.key() not in seen:
            seen[r.key()] = len(out)
            out.append(r)
    if problems:
        raise Invalid(problems)
    return out


def import_rates(
    uow: UnitOfWork, text: str, actor: str | None = None, at: datetime | None = None
) -> RateImport:
    """All or nothing; a rate already stored identically is skipped, a different one refused."""
    at = at or now()
    parsed = parse_rates_csv(text, at)
    with uow:
        user = _finance_or_admin(uow, actor, "import exchange rates")
        stored = {r.key(): r for r in uow.netting.rates()}
        new: list[Rate] = []
        problems: list[RelosError] = []
        for r in parsed:
            old = stored.get(r.key())
            if old is None:
                new.append(r)
            elif old.rate != r.rate:
                problems.append(
                    ValidationError(
                        "rate",
                        f"{r.on} {r.pair} {r.rate} {r.source}",
                        f"{old.rate} is stored for that date, pair and source",
                        rule="rate_conflict",
                    )
                )
        if problems:
            raise Invalid(problems)
        uow.netting.add_rates(new)
        for r in new:
            audit.record(uow, user, "rate.import", "rate", _rate_key(r), None, rate_row(r), at=at)
        uow.commit()
    return RateImport(new, len(parsed) - len(new))


def import_rate_rows(
    uow: UnitOfWork,
    actor: str | None,
    rows: Iterable[tuple[str, str, str, str]],
    at: datetime | None = None,
) -> RateImport:
    """The same import from rows (date, pair, rate, source), as the API receives them."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(RATE_COLUMNS)
    w.writerows(rows)
    return import_rates(uow, buf.getvalue(), actor, at)


def _finance_or_admin(uow: UnitOfWork, actor: str | None, action: str) -> User | None:
    if not actor:
        return None
    user = acting_user(uow, actor, action)
    if user.role is not Role.FINANCE_OFFICER:
        raise PermissionDenied(actor, action, f"role {user.role.value}; needs finance_officer")
    return user


def _rate_key(r: Rate) -> str:
    return f"{r.on.isoformat()}/{r.base}{r.quote}/{r.source}"


def rates(uow: UnitOfWork, pair: str | None = None) -> list[Rate]:
    with uow:
        if not pair:
            return uow.netting.rates()
        base, quote = parse_pair(pair)
        return uow.netting.rates(base, quote)


def rate_row(r: Rate) -> dict[str, Any]:
    return {
        "date": r.on.isoformat(),
        "pair": r.pair,
        "rate": str(r.rate),
        "source": r.source,
        "imported_at": r.imported_at.isoformat() if r.imported_at else None,
    }


# -- netting -------------------------------------------------------------------------------------


def obligations(uow: UnitOfWork, agreement: str, as_of: date) -> list[Obligation]:
    """Invoiced, outstanding cash obligations under the agreement (invoiced on or before):
    the kept debts in a currency of cash orders and of orders converted to cash, read in one
    query (no order loaded; decision 67)."""
    return [
        Obligation(d.order, d.debtor, d.creditor, Amount(d.outstanding, d.commodity), on)
        for d, on in uow.orders.cash_debts(agreement, as_of)
        if is_currency(d.commodity)
    ]


def _finance_officer_of(
    uow: UnitOfWork, actor: str | None, parties: Iterable[str], what: str
) -> User:
    user = acting_user(uow, actor, what)
    if user.role is not Role.FINANCE_OFFICER:
        raise PermissionDenied(user.name, what, f"role {user.role.value}; needs finance_officer")
    if user.party not in parties:
        raise PermissionDenied(user.name, what, f"party {user.party} is not a party to it")
    return user


def propose(
    uow: UnitOfWork,
    actor: str | None,
    agreement: str,
    as_of: date,
    currency: str | None = None,
    at: datetime | None = None,
) -> Statement:
    """Propose the offset of the mutual cash obligations and the payments left; stored."""
    at = at or now()
    with uow:
        a = catalogue.agreement(uow, agreement)
        user = _finance_officer_of(uow, actor, a.parties, "propose a netting")
        obs = obligations(uow, a.code, as_of)
        all_rates = uow.netting.rates()
        kw: dict[str, Any] = {
            "rule": a.rate_rule,
            "source": a.rate_source,
            "proposed_by": user.name,
            "proposed_at": at,
        }
        prefix = f"NET-{a.code}-{as_of.year}-"
        number = f"{prefix}{uow.netting.next_statement_seq(prefix):04d}"
        if currency:
            cur = currency.upper()
            if not is_currency(cur):
                raise ValidationError("currency", currency, "not an ISO 4217 currency")
        else:
            # provisional positions in the first party's currency; then net in the currency of
            # the largest creditor, so what is left to pay stays on its own invoices
            homes = {p: _home(uow, p) for p in a.parties}
            first = dn.propose(
                number, a.code, a.parties, as_of, obs, all_rates, currency=homes[a.parties[0]], **kw
            )
            pos = first.positions()
            top = max(pos, key=lambda p: (pos[p].number, p))
            cur = homes[top] if pos[top].number > 0 else homes[a.parties[0]]
        st = dn.propose(number, a.code, a.parties, as_of, obs, all_rates, currency=cur, **kw)
        uow.netting.add_statement(st)
        audit.record(uow, user, "netting.propose", "netting", st.number, None, snapshot(st), at=at)
        uow.commit()
    return st


def approve(
    uow: UnitOfWork, actor: str | None, number: str, at: datetime | None = None
) -> Statement:
    """A finance officer of one party approves; once every party has, the statement posts."""
    at = at or now()
    with uow:
        st = uow.netting.get_statement_for_update(number)
        user = _finance_officer_of(uow, actor, st.parties, "approve a netting")
        before = snapshot(st)
        st.approve(user, at)  # role, party, state, once per party
        dn.check_fresh(st, obligations(uow, st.agreement, st.as_of))
        if st.fully_approved():
            _post(uow, user, st, at)
        uow.netting.save_statement(st)
        audit.record(
            uow, user, "netting.approve", "netting", st.number, before, snapshot(st), at=at
        )
        uow.commit()
    return st


def _post(uow: UnitOfWork, user: User, st: Statement, at: datetime) -> None:
    on = max(st.as_of, at.date())
    for ln in st.lines:
        if ln.covered.is_zero():
            continue
        o = uow.orders.get_for_update(ln.order)
        before = audit.order_snapshot(o)
        o.settle_by_netting(user, at, on, ln.covered, st.number)
        uow.orders.save(o)
        audit.record(
            uow, user, "order.net", "order", o.number, before, audit.order_snapshot(o), at=at
        )
    uow.ledger.append(dn.post(st, on))
    st.state = StatementState.POSTED
    st.posted_at = at
    if any(not p.new_obligation.is_zero() for p in st.payments):
        # a new netting obligation is due like a cash invoice: the cash window after posting
        a = catalogue.agreement(uow, st.agreement)
        st.due_on = on + timedelta(days=a.terms(Method.CASH).due_days)


# -- paying a netting obligation -------------------------------------------------------------------


@dataclass(frozen=True)
class DebtPaid:
    statement: Statement
    payment: DebtPayment
    replayed: bool  # the same reference and content was recorded already: nothing was written


def pay(
    uow: UnitOfWork,
    actor: str | None,
    number: str,
    *,
    debtor: str,
    creditor: str,
    amount: object,
    currency: str | None = None,
    on: date | None = None,
    reference: str,
    at: datetime | None = None,
) -> DebtPaid:
    """Record a cash payment of the netting obligation `debtor` owes `creditor` under statement
    `number` (full or partial, never more than outstanding), post it in both books on the
    netting method, sign and audit it.

    Idempotent by the payment's `reference`: the same reference with the same debtor, creditor,
    amount and date returns the payment first recorded and writes nothing; with other content it
    is refused (`Conflict`). Who: a finance officer of the debtor or of the creditor.
    """
    at = at or now()
    day = on or at.date()
    value = parse_decimal(amount, "amount")
    debtor, creditor = debtor.strip().upper(), creditor.strip().upper()
    ref = (reference or "").strip()
    with uow:
        user = acting_user(uow, actor, "pay a netting obligation")
        st = uow.netting.get_statement_for_update(number)
        if not _visible(user, st):
            raise NotFound("netting statement", number, field="statement")
        cur = (currency or st.currency).strip().upper()
        if not is_currency(cur):
            raise ValidationError("currency", currency, "not an ISO 4217 currency")
        sent = Amount.of(value, cur)
        dn.require_may_pay(user, debtor, creditor)  # before a replay: others learn nothing
        earlier = next((p for p in st.debt_payments if p.reference == ref), None)
        if earlier is not None:
            same = (earlier.payer, earlier.payee, earlier.amount, earlier.on) == (
                debtor,
                creditor,
                sent,
                day,
            )
            if not same:
                raise Conflict(
                    f"payment reference {ref!r} is recorded on {st.number} for "
                    f"{earlier.payer} to {earlier.payee} {earlier.amount} on {earlier.on}",
                    field="reference",
                    value=ref,
                )
            return DebtPaid(st, earlier, True)
        before = snapshot(st)
        p = st.pay_debt(user, debtor, creditor, sent, day, ref, at)
        uow.netting.save_statement(st)
        uow.ledger.append(dn.post_debt_payment(st, p))
        audit.record(uow, user, "netting.pay", "netting", st.number, before, snapshot(st), at=at)
        uow.commit()
    return DebtPaid(st, p, False)


def debts(
    uow: UnitOfWork,
    actor: str | None,
    agreement: str | None = None,
    outstanding_only: bool = True,
) -> list[NettingDebt]:
    """The netting obligations of the statements the actor's party is a party to."""
    with uow:
        user = acting_user(uow, actor, "read")
        found = [
            d for st in uow.netting.statements(agreement) if _visible(user, st) for d in st.debts()
        ]
    if outstanding_only:
        found = [d for d in found if not d.outstanding.is_zero()]
    return sorted(found, key=lambda d: (d.due_on, d.statement, d.debtor, d.creditor))


def _home(uow: UnitOfWork, code: str) -> str:
    party = uow.reference.find_party(code)
    if party is None:
        raise NotFound("party", code, field="party")
    return party.currency


def _visible(user: User, st: Statement) -> bool:
    return user.party in st.parties


def statement(uow: UnitOfWork, actor: str | None, number: str) -> Statement:
    """The statement, if the user's party is a party to it; else *not found*."""
    with uow:
        user = acting_user(uow, actor, "read")
        st = uow.netting.find_statement(number)
        if st is None or not _visible(user, st):
            raise NotFound("netting statement", number, field="statement")
        return st


def statements(uow: UnitOfWork, actor: str | None, agreement: str | None = None) -> list[Statement]:
    with uow:
        user = acting_user(uow, actor, "read")
        return [st for st in uow.netting.statements(agreement) if _visible(user, st)]


def party_names(uow: UnitOfWork, st: Statement) -> dict[str, tuple[str, str]]:
    """Party code -> (name, native name), for documents."""
    with uow:
        out = {}
        for p in st.parties:
            party = uow.reference.find_party(p)
            out[p] = (party.name, party.native_name) if party else (p, "")
        return out


# -- documents -----------------------------------------------------------------------------------


def snapshot(st: Statement) -> dict[str, Any]:
    """The statement as JSON: what the API and `--json` show, and what the audit log keeps."""
    return {
        **st.document(),
        "state": st.state.value,
        "proposed_by": st.proposed_by,
        "proposed_at": st.proposed_at.isoformat(),
        "posted_at": st.posted_at.isoformat() if st.posted_at else None,
        "digest": st.digest(),
        "positions": {p: str(a.number) for p, a in st.positions().items()},
        "lines": [
            {
                "order": ln.order,
                "debtor": ln.debtor,
                "creditor": ln.creditor,
                "currency": ln.outstanding.commodity,
                "outstanding": str(ln.outstanding.number),
                "covered": str(ln.covered.number),
                "remaining": str(ln.remaining.number),
                "converted": str(ln.converted.number),
                "converted_covered": str(ln.converted_covered.number),
                "rate": str(ln.rate),
                "rate_date": ln.rate_on.isoformat() if ln.rate_on else None,
                "source": ln.source,
            }
            for ln in st.lines
        ],
        "payments": [
            {
                "payer": p.payer,
                "payee": p.payee,
                "amount": str(p.amount.number),
                "currency": p.amount.commodity,
                "on_orders": str(p.on_orders.number),
                "new_obligation": str(p.new_obligation.number),
            }
            for p in st.payments
        ],
        "approvals": [
            {
                "party": a.party,
                "user": a.user,
                "role": a.role,
                "at": a.at.isoformat(),
                "digest": a.digest,
            }
            for a in st.approvals
        ],
        "due_on": st.due_on.isoformat() if st.due_on else None,
        "obligations": [debt_row(d) for d in st.debts()],
        "debt_payments": [
            {
                "seq": p.seq,
                "payer": p.payer,
                "payee": p.payee,
                "amount": str(p.amount.number),
                "currency": p.amount.commodity,
                "on": p.on.isoformat(),
                "reference": p.reference,
                "user": p.user,
                "party": p.party,
                "at": p.at.isoformat(),
                "digest": p.digest,
            }
            for p in st.debt_payments
        ],
    }


def debt_row(d: NettingDebt) -> dict[str, Any]:
    """A netting obligation as JSON: what `show`, `--json` and the API list."""
    return {
        "statement": d.statement,
        "agreement": d.agreement,
        "debtor": d.debtor,
        "creditor": d.creditor,
        "currency": d.amount.commodity,
        "amount": str(d.amount.number),
        "paid": str(d.paid.number),
        "outstanding": str(d.outstanding.number),
        "posted_on": d.posted_on.isoformat(),
        "due_on": d.due_on.isoformat(),
    }


CSV_COLUMNS = (
    "statement",
    "kind",
    "order",
    "debtor",
    "creditor",
    "currency",
    "outstanding",
    "covered",
    "remaining",
    "netting_currency",
    "converted",
    "converted_covered",
    "rate",
    "rate_date",
    "source",
)


def statement_csv(st: Statement) -> str:
    """One row per line, then one per payment left (kind ``payment``), then, once posted, one
    per netting obligation it created (kind ``obligation``: outstanding = the obligation,
    covered = paid so far, remaining = still owed)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for ln in st.lines:
        w.writerow(
            [
                st.number,
                "line",
                ln.order,
                ln.debtor,
                ln.creditor,
                ln.outstanding.commodity,
                ln.outstanding.number,
                ln.covered.number,
                ln.remaining.number,
                st.currency,
                ln.converted.number,
                ln.converted_covered.number,
                ln.rate,
                ln.rate_on.isoformat() if ln.rate_on else "",
                ln.source,
            ]
        )
    for p in st.payments:
        cur, amt = st.currency, p.amount.number
        w.writerow([st.number, "payment", "", p.payer, p.payee, cur, amt, "", "", cur, amt])
    for d in st.debts():  # what the netting created: outstanding = owed, covered = paid so far
        cur = d.amount.commodity
        w.writerow(
            [
                st.number,
                "obligation",
                "",
                d.debtor,
                d.creditor,
                cur,
                d.amount.number,
                d.paid.number,
                d.outstanding.number,
                cur,
            ]
        )
    return buf.getvalue()
