"""Imports in sets: jobs, blocks of order numbers, and whole batches of orders written with one
executemany per table (orders, lines, receipts, receipt lines, invoices, signatures, references).

The rows are those `OrderRepository` writes for the same orders one by one (same columns, same
mapping), so an imported order reads back through `OrderRepository.get` like any other.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from relos.domain.errors import AlreadyExists, Conflict
from relos.domain.imports import ImportJob
from relos.domain.orders import Order
from relos.storage import import_tables as it
from relos.storage import tables as t
from relos.storage.repositories import OrderRepository, _milli

#: rows per IN (...) lookup: well under SQLite's and PostgreSQL's bound-parameter limits
LOOKUP_CHUNK = 500


def _job(r: Any) -> ImportJob:
    return ImportJob(
        kind=r["kind"],
        sha256=r["sha256"],
        file_name=r["file_name"],
        user=r["user_name"],
        party=r["party"],
        started_at=r["started_at"],
        rows_total=r["rows_total"],
        orders_total=r["orders_total"],
        id=r["id"],
        last_line=r["last_line"],
        rows_done=r["rows_done"],
        orders_done=r["orders_done"],
        entries_done=r["entries_done"],
        batches_done=r["batches_done"],
        finished_at=r["finished_at"],
    )


def _job_values(job: ImportJob) -> dict[str, Any]:
    return {
        "kind": job.kind,
        "sha256": job.sha256,
        "file_name": job.file_name,
        "user_name": job.user,
        "party": job.party,
        "started_at": job.started_at,
        "rows_total": job.rows_total,
        "orders_total": job.orders_total,
        "last_line": job.last_line,
        "rows_done": job.rows_done,
        "orders_done": job.orders_done,
        "entries_done": job.entries_done,
        "batches_done": job.batches_done,
        "finished_at": job.finished_at,
    }


class ImportRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- jobs -----------------------------------------------------------------------------------

    def find_job(self, kind: str, sha256: str) -> ImportJob | None:
        j = it.import_jobs.c
        row = (
            self.conn.execute(select(it.import_jobs).where(j.kind == kind, j.sha256 == sha256))
            .mappings()
            .first()
        )
        return None if row is None else _job(row)

    def unfinished_jobs(self, kind: str) -> list[ImportJob]:
        j = it.import_jobs.c
        q = select(it.import_jobs).where(j.kind == kind, j.finished_at.is_(None)).order_by(j.id)
        return [_job(r) for r in self.conn.execute(q).mappings()]

    def add_job(self, job: ImportJob) -> ImportJob:
        try:
            key = self.conn.execute(
                insert(it.import_jobs).values(**_job_values(job))
            ).inserted_primary_key
        except IntegrityError:  # the same file, started by another process meanwhile
            raise AlreadyExists("import of", job.file_name, field="file") from None
        assert key is not None
        job.id = int(key[0])
        return job

    def save_job(self, job: ImportJob) -> None:
        self.conn.execute(
            update(it.import_jobs).where(it.import_jobs.c.id == job.id).values(**_job_values(job))
        )

    # -- numbers and references -----------------------------------------------------------------

    def reserve_numbers(self, prefix: str, count: int) -> int:
        """Reserve `count` consecutive order numbers under `prefix` (the sequence
        `OrderRepository.next_number` draws from) in one UPDATE; returns the first."""
        seq = t.order_sequences
        dialect = self.conn.dialect.name
        if dialect == "postgresql":
            self.conn.execute(pg_insert(seq).values(prefix=prefix, last=0).on_conflict_do_nothing())
        elif dialect == "sqlite":
            self.conn.execute(
                sqlite_insert(seq).values(prefix=prefix, last=0).on_conflict_do_nothing()
            )
        bumped = self.conn.execute(
            update(seq).where(seq.c.prefix == prefix).values(last=seq.c.last + count)
        )
        if bumped.rowcount == 0:  # another engine, without ON CONFLICT
            self.conn.execute(insert(seq).values(prefix=prefix, last=count))
            return 1
        last = self.conn.execute(select(seq.c.last).where(seq.c.prefix == prefix)).scalar_one()
        return int(last) - count + 1

    def known_references(self, refs: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (requesting party, reference) pairs name orders already stored."""
        r = it.order_references.c
        found: set[tuple[str, str]] = set()
        wanted = list(refs)
        for i in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[i : i + LOOKUP_CHUNK]
            q = select(r.requesting, r.reference).where(
                tuple_(r.requesting, r.reference).in_(chunk)
            )
            found |= {(row[0], row[1]) for row in self.conn.execute(q)}
        return found

    # -- orders in sets -------------------------------------------------------------------------

    def add_orders(self, job_id: int, orders: Sequence[tuple[Order, str, int]]) -> None:
        """Insert new orders whole: (order, its reference, its first file line) each."""
        if not orders:
            return
        heads: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        receipts: list[dict[str, Any]] = []
        receipt_lines: list[dict[str, Any]] = []
        invoices: list[dict[str, Any]] = []
        signatures: list[dict[str, Any]] = []
        references: list[dict[str, Any]] = []
        for o, ref, line in orders:
            n = o.number
            heads.append(OrderRepository._header(o))
            references.append(
                {
                    "order_number": n,
                    "requesting": o.requesting,
                    "reference": ref,
                    "job_id": job_id,
                    "line": line,
                }
            )
            for ln in o.lines:
                lines.append(
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
                )
            for r in o.receipts:
                receipts.append(
                    {
                        "order_number": n,
                        "seq": r.seq,
                        "received_on": r.received_on,
                        "digest": r.digest,
                    }
                )
                receipt_lines += [
                    {"order_number": n, "seq": r.seq, "line_no": no, "quantity_milli": _milli(q)}
                    for no, q in r.quantities
                ]
            for i in o.invoices:
                invoices.append(
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
                )
            signatures += [
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
                for k, g in enumerate(o.signatures, start=1)
            ]
        c = self.conn
        c.execute(insert(t.orders), heads)
        c.execute(insert(t.order_lines), lines)
        for table, rows in (
            (t.receipts, receipts),
            (t.receipt_lines, receipt_lines),
            (t.invoices, invoices),
        ):
            if rows:
                c.execute(insert(table), rows)
        c.execute(insert(t.signatures), signatures)
        try:
            c.execute(insert(it.order_references), references)
        except IntegrityError:  # another import stored one of these references meanwhile
            raise Conflict(
                "an order reference of this batch was stored by another import meanwhile",
                field="order_ref",
                value=references[0]["reference"],
            ) from None
