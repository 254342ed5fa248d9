"""Party keys and reconciliation runs, on the unit of work's connection."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from relos.domain.errors import NotFound
from relos.domain.money import from_minor, to_minor
from relos.domain.reconciliation import MatchStatus, PartyKey, ReconLine, ReconRun
from relos.storage.bulk_insert import converter, insert_rows
from relos.storage.reconciliation_tables import (
    party_keys,
    reconciliation_lines,
    reconciliation_runs,
)


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _minor(value: Decimal | None, currency: str) -> int | None:
    return None if value is None else to_minor(value, currency or "XXX")


def _number(minor: int | None, currency: str) -> Decimal | None:
    return None if minor is None else from_minor(int(minor), currency or "XXX")


#: the columns of a stored line, as `add_lines` hands them to the driver
LINE_COLUMNS = (
    "run_id",
    "line_no",
    "order_number",
    "status",
    "transaction_date",
    "our_state",
    "their_state",
    "our_value_minor",
    "their_value_minor",
    "currency",
    "details",
    "disputed_note",
    "disputed_by",
    "disputed_at",
    "resolved_note",
    "resolved_by",
    "resolved_at",
)


class ReconciliationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # keys
    def add_key(self, key: PartyKey) -> None:
        self.conn.execute(
            insert(party_keys).values(
                key_id=key.key_id,
                party=key.party,
                public_pem=key.public_pem,
                private_pem=key.private_pem,
                created_at=key.created_at,
            )
        )

    def set_private(self, key_id: str, private_pem: str) -> None:
        """Replace a key's stored private key (its encryption), never its public half."""
        done = self.conn.execute(
            update(party_keys).where(party_keys.c.key_id == key_id).values(private_pem=private_pem)
        )
        if done.rowcount == 0:
            raise NotFound("key", key_id, field="key_id")

    def party_keys(self, party: str | None = None) -> list[PartyKey]:
        q = select(party_keys).order_by(party_keys.c.created_at, party_keys.c.key_id)
        if party is not None:
            q = q.where(party_keys.c.party == party)
        out = []
        for r in self.conn.execute(q).mappings():
            created = _utc(r["created_at"])
            assert created is not None
            out.append(
                PartyKey(r["party"], r["key_id"], r["public_pem"], created, r["private_pem"])
            )
        return out

    # runs
    def add_run(self, run: ReconRun, lines: list[ReconLine]) -> int:
        done = self.conn.execute(
            insert(reconciliation_runs).values(
                agreement=run.agreement,
                party=run.party,
                counterparty=run.counterparty,
                their_as_of=run.their_as_of,
                their_key_id=run.their_key_id,
                statement_digest=run.statement_digest,
                run_by=run.run_by,
                run_at=run.run_at,
                balance_differences=list(run.balance_differences),
            )
        )
        pk = done.inserted_primary_key
        assert pk is not None
        run_id = int(pk[0])
        self.add_lines(run_id, lines)
        return run_id

    def add_lines(self, run_id: int, lines: list[ReconLine]) -> None:
        """Append a batch of a run's lines: one executemany of plain tuples, each value converted
        once by its column type's own conversion (`bulk_insert`), as SQLAlchemy would store it."""
        if not lines:
            return
        convert = [
            converter(self.conn.dialect, reconciliation_lines, name) for name in LINE_COLUMNS
        ]
        rows = []
        for ln in lines:
            row = self._row(run_id, ln)
            rows.append(tuple(f(row[n]) for f, n in zip(convert, LINE_COLUMNS, strict=True)))
        insert_rows(self.conn, reconciliation_lines, LINE_COLUMNS, rows)

    def finish_run(self, run_id: int, statement_digest: str) -> None:
        """Record the digest of the statement once it has been read whole and verified."""
        self.conn.execute(
            update(reconciliation_runs)
            .where(reconciliation_runs.c.id == run_id)
            .values(statement_digest=statement_digest)
        )

    @staticmethod
    def _row(run_id: int, ln: ReconLine) -> dict[str, object]:
        return {
            "run_id": run_id,
            "line_no": ln.line_no,
            "order_number": ln.order,
            "status": ln.status.value,
            "transaction_date": ln.transaction_date,
            "our_state": ln.our_state,
            "their_state": ln.their_state,
            "our_value_minor": _minor(ln.our_value, ln.currency),
            "their_value_minor": _minor(ln.their_value, ln.currency),
            "currency": ln.currency,
            "details": list(ln.details),
            "disputed_note": ln.disputed_note,
            "disputed_by": ln.disputed_by,
            "disputed_at": ln.disputed_at,
            "resolved_note": ln.resolved_note,
            "resolved_by": ln.resolved_by,
            "resolved_at": ln.resolved_at,
        }

    def runs(self, party: str | None = None) -> list[ReconRun]:
        return self._runs(party)

    def _runs(self, party: str | None = None, run_id: int | None = None) -> list[ReconRun]:
        q = select(reconciliation_runs).order_by(reconciliation_runs.c.id)
        if party is not None:
            q = q.where(reconciliation_runs.c.party == party)
        if run_id is not None:
            q = q.where(reconciliation_runs.c.id == run_id)
        out = []
        for r in self.conn.execute(q).mappings():
            at = _utc(r["run_at"])
            assert at is not None
            out.append(
                ReconRun(
                    int(r["id"]),
                    r["agreement"],
                    r["party"],
                    r["counterparty"],
                    r["their_as_of"],
                    r["their_key_id"],
                    r["statement_digest"],
                    r["run_by"],
                    at,
                    tuple(r["balance_differences"]),
                )
            )
        return out

    def find_run(self, run_id: int) -> ReconRun | None:
        return next(iter(self._runs(run_id=run_id)), None)

    def lines(
        self,
        run_id: int,
        *,
        after: int | None = None,
        limit: int | None = None,
        unmatched: bool = False,
    ) -> list[ReconLine]:
        """The run's lines in line order (only those not matched with `unmatched`): those
        after line `after`, at most `limit` (all without), read by the primary key."""
        c = reconciliation_lines.c
        q = select(reconciliation_lines).where(c.run_id == run_id).order_by(c.line_no)
        if unmatched:
            q = q.where(c.status != MatchStatus.MATCHED.value)
        if after is not None:
            q = q.where(c.line_no > after)
        if limit is not None:
            q = q.limit(limit)
        return self._lines(q)

    def line(self, run_id: int, line_no: int) -> ReconLine | None:
        c = reconciliation_lines.c
        q = select(reconciliation_lines).where(c.run_id == run_id, c.line_no == line_no)
        return next(iter(self._lines(q)), None)

    def status_counts(self, run_id: int) -> dict[str, int]:
        """The run's lines counted per status, in the database."""
        c = reconciliation_lines.c
        q = select(c.status, func.count()).where(c.run_id == run_id).group_by(c.status)
        return {str(status): int(n) for status, n in self.conn.execute(q)}

    def _lines(self, q: Any) -> list[ReconLine]:
        return [
            ReconLine(
                line_no=int(r["line_no"]),
                order=r["order_number"],
                status=MatchStatus(r["status"]),
                transaction_date=r["transaction_date"],
                our_state=r["our_state"],
                their_state=r["their_state"],
                our_value=_number(r["our_value_minor"], r["currency"]),
                their_value=_number(r["their_value_minor"], r["currency"]),
                currency=r["currency"],
                details=tuple(r["details"]),
                disputed_note=r["disputed_note"],
                disputed_by=r["disputed_by"],
                disputed_at=_utc(r["disputed_at"]),
                resolved_note=r["resolved_note"],
                resolved_by=r["resolved_by"],
                resolved_at=_utc(r["resolved_at"]),
            )
            for r in self.conn.execute(q).mappings()
        ]

    def save_line(self, run_id: int, line: ReconLine) -> None:
        row = self._row(run_id, line)
        done = self.conn.execute(
            update(reconciliation_lines)
            .where(
                and_(
                    reconciliation_lines.c.run_id == run_id,
                    reconciliation_lines.c.line_no == line.line_no,
                )
            )
            .values({k: v for k, v in row.items() if k not in ("run_id", "line_no")})
        )
        if done.rowcount == 0:
            raise NotFound("reconciliation line", f"{run_id}/{line.line_no}")
