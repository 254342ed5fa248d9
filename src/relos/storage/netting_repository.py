"""Exchange rates and netting statements, on the unit of work's connection."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from relos.domain.errors import Conflict, NotFound
from relos.domain.money import Amount, from_minor
from relos.domain.netting import (
    Approval,
    DebtPayment,
    Line,
    Payment,
    Statement,
    StatementState,
)
from relos.domain.rates import Rate
from relos.storage.repositories import next_in_sequence
from relos.storage.settlement_tables import (
    exchange_rates,
    netting_approvals,
    netting_debt_payments,
    netting_lines,
    netting_payments,
    netting_statements,
)


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _rate(row: Any) -> Rate:
    return Rate(
        row["on"],
        row["base"],
        row["quote"],
        Decimal(row["rate"]),
        row["source"],
        _utc(row["imported_at"]),
    )


def _amount(minor: int, currency: str) -> Amount:
    return Amount(from_minor(minor, currency), currency)


class NettingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # rates
    def add_rates(self, rates: list[Rate]) -> None:
        if not rates:
            return
        self.conn.execute(
            insert(exchange_rates),
            [
                {
                    "on": r.on,
                    "base": r.base,
                    "quote": r.quote,
                    "source": r.source,
                    "rate": str(r.rate),
                    "imported_at": r.imported_at,
                }
                for r in rates
            ],
        )

    def rates(self, base: str | None = None, quote: str | None = None) -> list[Rate]:
        q = select(exchange_rates)
        if base:
            q = q.where(exchange_rates.c.base == base)
        if quote:
            q = q.where(exchange_rates.c.quote == quote)
        q = q.order_by(
            exchange_rates.c.on,
            exchange_rates.c.base,
            exchange_rates.c.quote,
            exchange_rates.c.source,
        )
        return [_rate(r) for r in self.conn.execute(q).mappings()]

    # statements
    def next_statement_seq(self, prefix: str) -> int:
        """The next statement number under `prefix` (``NET-RELOS-2026-``), drawn from the
        sequence table like order numbers, so concurrent proposals never collide; a prefix
        first drawn here starts after the statements stored before the sequence existed."""
        stored = self.conn.execute(
            select(func.count())
            .select_from(netting_statements)
            .where(netting_statements.c.number.like(prefix + "%"))
        ).scalar_one()
        return next_in_sequence(self.conn, prefix, int(stored))

    def add_statement(self, st: Statement) -> None:
        try:
            self._insert_head(st)
        except IntegrityError:  # a number taken by a concurrent writer: a clean conflict
            raise Conflict(
                f"netting statement {st.number} was just taken by another proposal: propose again",
                field="statement",
                value=st.number,
            ) from None
        self._insert_body(st)

    def _insert_head(self, st: Statement) -> None:
        self.conn.execute(
            insert(netting_statements).values(
                number=st.number,
                agreement=st.agreement,
                as_of=st.as_of,
                currency=st.currency,
                parties=list(st.parties),
                fingerprint=st.fingerprint,
                proposed_by=st.proposed_by,
                proposed_at=st.proposed_at,
                state=st.state.value,
                posted_at=st.posted_at,
                due_on=st.due_on,
            )
        )

    def _insert_body(self, st: Statement) -> None:
        self.conn.execute(
            insert(netting_lines),
            [
                {
                    "statement": st.number,
                    "seq": i,
                    "order_number": ln.order,
                    "debtor": ln.debtor,
                    "creditor": ln.creditor,
                    "currency": ln.outstanding.commodity,
                    "outstanding_minor": ln.outstanding.minor,
                    "covered_minor": ln.covered.minor,
                    "converted_minor": ln.converted.minor,
                    "converted_covered_minor": ln.converted_covered.minor,
                    "rate": str(ln.rate),
                    "rate_on": ln.rate_on,
                    "source": ln.source,
                }
                for i, ln in enumerate(st.lines, start=1)
            ],
        )
        if st.payments:
            self.conn.execute(
                insert(netting_payments),
                [
                    {
                        "statement": st.number,
                        "seq": i,
                        "payer": p.payer,
                        "payee": p.payee,
                        "amount_minor": p.amount.minor,
                        "on_orders_minor": p.on_orders.minor,
                        "new_obligation_minor": p.new_obligation.minor,
                    }
                    for i, p in enumerate(st.payments, start=1)
                ],
            )
        self._append_approvals(st, 0)
        self._append_debt_payments(st, 0)

    def _append_debt_payments(self, st: Statement, already: int) -> None:
        new = st.debt_payments[already:]
        if not new:
            return
        try:
            self.conn.execute(
                insert(netting_debt_payments),
                [
                    {
                        "statement": st.number,
                        "seq": p.seq,
                        "payer": p.payer,
                        "payee": p.payee,
                        "amount_minor": p.amount.minor,
                        "currency": p.amount.commodity,
                        "on": p.on,
                        "reference": p.reference,
                        "user_name": p.user,
                        "party": p.party,
                        "at": p.at,
                        "digest": p.digest,
                    }
                    for p in new
                ],
            )
        except IntegrityError:  # a concurrent payment took the reference (or the number)
            raise Conflict(
                f"a payment with reference {new[0].reference!r} was just recorded on "
                f"{st.number}: read the statement again",
                field="reference",
                value=new[0].reference,
            ) from None

    def _append_approvals(self, st: Statement, already: int) -> None:
        new = st.approvals[already:]
        if new:
            self.conn.execute(
                insert(netting_approvals),
                [
                    {
                        "statement": st.number,
                        "party": a.party,
                        "user_name": a.user,
                        "role": a.role,
                        "at": a.at,
                        "digest": a.digest,
                    }
                    for a in new
                ],
            )

    def save_statement(self, st: Statement) -> None:
        """Append new approvals and debt payments; record the state and due date (lines and
        payments never change)."""
        stored = self.get_statement(st.number)
        self._append_approvals(st, len(stored.approvals))
        self._append_debt_payments(st, len(stored.debt_payments))
        self.conn.execute(
            update(netting_statements)
            .where(netting_statements.c.number == st.number)
            .values(state=st.state.value, posted_at=st.posted_at, due_on=st.due_on)
        )

    def find_statement(self, number: str) -> Statement | None:
        head = (
            self.conn.execute(
                select(netting_statements).where(netting_statements.c.number == number)
            )
            .mappings()
            .first()
        )
        if head is None:
            return None
        cur = head["currency"]
        lines = [
            Line(
                r["order_number"],
                r["debtor"],
                r["creditor"],
                _amount(r["outstanding_minor"], r["currency"]),
                _amount(r["converted_minor"], cur),
                Decimal(r["rate"]),
                r["rate_on"],
                r["source"],
                _amount(r["covered_minor"], r["currency"]),
                _amount(r["converted_covered_minor"], cur),
            )
            for r in self.conn.execute(
                select(netting_lines)
                .where(netting_lines.c.statement == number)
                .order_by(netting_lines.c.seq)
            ).mappings()
        ]
        payments = [
            Payment(
                r["payer"],
                r["payee"],
                _amount(r["amount_minor"], cur),
                _amount(r["on_orders_minor"], cur),
                _amount(r["new_obligation_minor"], cur),
            )
            for r in self.conn.execute(
                select(netting_payments)
                .where(netting_payments.c.statement == number)
                .order_by(netting_payments.c.seq)
            ).mappings()
        ]
        approvals = [
            Approval(r["party"], r["user_name"], r["role"], _utc(r["at"]) or r["at"], r["digest"])
            for r in self.conn.execute(
                select(netting_approvals)
                .where(netting_approvals.c.statement == number)
                .order_by(netting_approvals.c.at, netting_approvals.c.party)
            ).mappings()
        ]
        debt_payments = [
            DebtPayment(
                r["seq"],
                r["payer"],
                r["payee"],
                _amount(r["amount_minor"], r["currency"]),
                r["on"],
                r["reference"],
                r["user_name"],
                r["party"],
                _utc(r["at"]) or r["at"],
                r["digest"],
            )
            for r in self.conn.execute(
                select(netting_debt_payments)
                .where(netting_debt_payments.c.statement == number)
                .order_by(netting_debt_payments.c.seq)
            ).mappings()
        ]
        return Statement(
            head["number"],
            head["agreement"],
            head["as_of"],
            cur,
            tuple(head["parties"]),
            lines,
            payments,
            head["fingerprint"],
            head["proposed_by"],
            _utc(head["proposed_at"]) or head["proposed_at"],
            StatementState(head["state"]),
            approvals,
            _utc(head["posted_at"]),
            head["due_on"],
            debt_payments,
        )

    def get_statement(self, number: str) -> Statement:
        st = self.find_statement(number)
        if st is None:
            raise NotFound("netting statement", number, field="statement")
        return st

    def get_statement_for_update(self, number: str) -> Statement:
        """Lock the statement's row (PostgreSQL) so concurrent approvals take turns."""
        self.conn.execute(
            select(netting_statements.c.number)
            .where(netting_statements.c.number == number)
            .with_for_update()
        )
        return self.get_statement(number)

    def statements(self, agreement: str | None = None) -> list[Statement]:
        q = select(netting_statements.c.number).order_by(netting_statements.c.number)
        if agreement:
            q = q.where(netting_statements.c.agreement == agreement)
        return [self.get_statement(n) for n in self.conn.execute(q).scalars()]
