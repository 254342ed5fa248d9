"""Imports in sets: jobs, blocks of order numbers, and whole batches of orders written with one
executemany per table (orders, lines, receipts, receipt lines, invoices, signatures, references).

The rows are those `OrderRepository` writes for the same orders one by one (same columns, same
mapping), so an imported order reads back through `OrderRepository.get` like any other.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from relos.domain.errors import AlreadyExists, Conflict
from relos.domain.imports import ImportJob
from relos.domain.ledger import Entry
from relos.domain.orders import Order
from relos.storage import debt_repository
from relos.storage import import_tables as it
from relos.storage import tables as t
from relos.storage.bulk_insert import Rows, converter, insert_rows
from relos.storage.repositories import (
    LINE_COLUMNS,
    OrderRepository,
    _milli,
    balance_sums,
    entry_rows,
)

#: rows per IN (...) lookup: well under SQLite's and PostgreSQL's bound-parameter limits
LOOKUP_CHUNK = 500
#: the tables `refresh_statistics` analyzes
ANALYZED = (t.ledger_entries, it.order_references)
#: the children's columns `add_orders` writes, in the order of its tuples (as `OrderRepository`)
INVOICE_COLUMNS = (
    "number",
    "order_number",
    "issued_on",
    "due_on",
    "value_minor",
    "currency",
    "amounts",
)
SIGNATURE_COLUMNS = (
    "order_number",
    "seq",
    "action",
    "user_name",
    "role",
    "party",
    "at",
    "revision",
    "digest",
    "note",
)
REFERENCE_COLUMNS = ("order_number", "requesting", "reference", "job_id", "line")


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

    # -- the write-ahead log ---------------------------------------------------------------------

    @contextmanager
    def checkpoints_every(self, pages: int) -> Iterator[None]:
        """On SQLite, a commit in the block checkpoints the write-ahead log (copies its pages into
        the database file) only once the log holds `pages` pages (this connection's
        `wal_autocheckpoint`; SQLite's default is 1,000), and the setting is put back as it was
        after the block. Elsewhere nothing. Straight to the driver: a pragma, no transaction."""
        if self.conn.dialect.name != "sqlite":
            yield
            return
        driver = self.conn.connection.driver_connection
        assert driver is not None  # a connection in use
        (before,) = driver.execute("PRAGMA wal_autocheckpoint").fetchone()
        driver.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
        try:
            yield
        finally:
            driver.execute(f"PRAGMA wal_autocheckpoint={int(before)}")

    def refresh_statistics(self) -> None:
        """On PostgreSQL, `ANALYZE` the tables an import grows and then reads by key (the ledger's
        entries by book and transaction, the orders' references), in the transaction open:
        without statistics of a table grown from empty the planner takes a transaction's key
        for one matching about every row and scans every entry of the book for each batch.
        Elsewhere nothing (SQLite's planner prefers an index without statistics)."""
        if self.conn.dialect.name == "postgresql":
            quote = self.conn.dialect.identifier_preparer.quote
            self.conn.exec_driver_sql(f"ANALYZE {', '.join(quote(a.name) for a in ANALYZED)}")

    def checkpoint(self) -> None:
        """On SQLite, copy what the write-ahead log holds into the database file, as far as no
        reader still needs the log's older pages (PASSIVE: waits for no one). Elsewhere
        nothing. Outside a transaction: after a commit, before anything else is read or
        written."""
        if self.conn.dialect.name == "sqlite":
            driver = self.conn.connection.driver_connection
            assert driver is not None  # a connection in use
            driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

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

    def last_numbers(self, prefixes: Collection[str]) -> dict[str, int]:
        """The last number taken under each prefix (0 for a prefix not used yet); nothing is
        reserved."""
        seq = t.order_sequences
        wanted = sorted(set(prefixes))
        found = dict.fromkeys(wanted, 0)
        for i in range(0, len(wanted), LOOKUP_CHUNK):
            q = select(seq.c.prefix, seq.c.last).where(
                seq.c.prefix.in_(wanted[i : i + LOOKUP_CHUNK])
            )
            found.update({row[0]: int(row[1]) for row in self.conn.execute(q)})
        return found

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
        """Insert new orders whole: (order, its reference, its first file line) each; one
        executemany of tuples per table (`bulk_insert`), the rows `OrderRepository` writes."""
        self.add_order_rows(job_id, self.order_rows(orders))

    def order_rows(self, orders: Sequence[tuple[Order, str, int]]) -> list[Rows]:
        """`order_rows` on this connection's dialect."""
        return order_rows(self.conn.dialect, orders)

    def batch_rows(self) -> BatchRows:
        """What turns a batch's orders and entries into driver rows, without this connection."""
        return BatchRows(self.conn.dialect)

    def add_order_rows(self, job_id: int, rows: list[Rows]) -> None:
        """Insert the rows `order_rows` gave, the references as of import job `job_id`."""
        if not rows:
            return
        c = self.conn
        [head_columns], heads, lines, receipts, receipt_lines, invoices, signatures, refs, debts = (
            rows
        )
        references = [(n, party, ref, job_id, line) for n, party, ref, line in refs]
        insert_rows(c, t.orders, head_columns, heads)
        insert_rows(c, t.order_lines, LINE_COLUMNS, lines)
        insert_rows(c, t.receipts, ("order_number", "seq", "received_on", "digest"), receipts)
        insert_rows(
            c, t.receipt_lines, ("order_number", "seq", "line_no", "quantity_milli"), receipt_lines
        )
        insert_rows(c, t.invoices, INVOICE_COLUMNS, invoices)
        insert_rows(c, t.signatures, SIGNATURE_COLUMNS, signatures)
        debt_repository.add_rows(c, debts)
        try:
            insert_rows(c, it.order_references, REFERENCE_COLUMNS, references)
        except IntegrityError:  # another import stored one of these references meanwhile
            raise Conflict(
                "an order reference of this batch was stored by another import meanwhile",
                field="order_ref",
                value=references[0][2],
            ) from None


def order_rows(dialect: Dialect, orders: Sequence[tuple[Order, str, int]]) -> list[Rows]:
    """The rows `add_order_rows` writes for these orders, per table, as the driver takes
    them (plain values, cheap to keep on disk until they are written: the import's spill);
    the order references without their job. Only the dialect's conversions are needed, not a
    connection: the import's worker processes make them (decision 56)."""
    if not orders:
        return []
    c = dialect
    # the order's own row: OrderRepository's mapping, so both write the same columns
    head_columns = tuple(OrderRepository._header(orders[0][0]))
    head = [converter(c, t.orders, name) for name in head_columns]
    received_on = converter(c, t.receipts, "received_on")
    issued_on = converter(c, t.invoices, "issued_on")
    due_on = converter(c, t.invoices, "due_on")
    at = converter(c, t.signatures, "at")
    amounts = converter(c, t.invoices, "amounts")
    heads: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    receipts: list[tuple[Any, ...]] = []
    receipt_lines: list[tuple[Any, ...]] = []
    invoices: list[tuple[Any, ...]] = []
    signatures: list[tuple[Any, ...]] = []
    references: list[tuple[Any, ...]] = []
    for o, ref, line in orders:
        n = o.number
        row = OrderRepository._header(o)
        heads.append(tuple(f(row[name]) for f, name in zip(head, head_columns, strict=True)))
        references.append((n, o.requesting, ref, line))
        for ln in o.lines:
            price = ln.unit_price
            lines.append(
                (
                    n,
                    ln.line_no,
                    ln.item_code,
                    _milli(ln.quantity),
                    ln.description,
                    ln.category.value if ln.category else None,
                    ln.unit_of_measure,
                    price.minor if price else None,
                    price.commodity if price else None,
                    ln.commodity,
                )
            )
        for r in o.receipts:
            receipts.append((n, r.seq, received_on(r.received_on), r.digest))
            receipt_lines += [(n, r.seq, no, _milli(q)) for no, q in r.quantities]
        for i in o.invoices:
            invoices.append(
                (
                    i.number,
                    n,
                    issued_on(i.issued_on),
                    due_on(i.due_on),
                    i.value.minor,
                    i.value.commodity,
                    amounts(
                        [{"number": str(a.number), "commodity": a.commodity} for a in i.amounts]
                    ),
                )
            )
        signatures += [
            (n, k, g.action, g.user, g.role, g.party, at(g.at), g.revision, g.digest, g.note)
            for k, g in enumerate(o.signatures, start=1)
        ]
    return [
        [(*head_columns,)],
        heads,
        lines,
        receipts,
        receipt_lines,
        invoices,
        signatures,
        references,
        debt_repository.debt_rows(o for o, _, _ in orders),
    ]


@dataclass(frozen=True)
class BatchRows:
    """The driver's rows of a batch of new orders (`order_rows`) and of their ledger entries
    (`entry_rows`), made with the dialect's conversions alone: no connection, so an import
    worker process makes them (decision 56)."""

    dialect: Dialect

    def orders(self, orders: Sequence[tuple[Order, str, int]]) -> list[Rows]:
        return order_rows(self.dialect, orders)

    def entries(self, entries: list[Entry]) -> Rows:
        return entry_rows(self.dialect, entries)

    def balance_sums(self, rows: Rows) -> list[Rows]:
        return balance_sums(self.dialect, rows)
