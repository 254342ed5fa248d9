"""Bulk import of orders from a CSV file (`relos import orders`), in two passes.

1. **Check.** Every row is read, parsed and its order taken through every step the rows record
   (draft, submit, accept, receipts, invoice: `domain/imports.build_order`, the same domain
   methods an officer's action runs), against reference data loaded once, with the number it
   is foreseen to get (the next under its prefix when the check began, counting on). Every
   problem is collected (up to `max_problems`) with its line, column and value; if there is
   any, nothing is written and `Invalid` lists them. This process reads the rows, checks
   their key columns (`row_key`: reference, agreement, requester, order date) and numbers the
   orders; batches of about `batch` rows (whole orders) are parsed and built by `workers`
   processes side by side (`import_batches`, decisions 56 and 58). The built orders and ledger
   entries, as the rows the driver takes, are spilled to a temporary file (in `spill_dir`),
   deleted when the import ends.
2. **Write.** The spilled batches are read back one at a time: a block of order numbers per
   number prefix; the batch's rows as spilled if the blocks are the foreseen numbers, else its
   orders built again from the file with the blocks' numbers; one executemany per table, the
   ledger rows in one `LedgerRepository.append_rows`, the job's progress and one audit record.
   Consecutive batches share a transaction until it holds `commit_rows` rows. On SQLite a
   commit copies the write-ahead log into the database only once the log holds
   `checkpoint_pages` pages, and the write ends with one copy of what is left (decision 78).
   On PostgreSQL the planner's statistics of the tables the write reads by key are brought up
   to date after the first commit and again each time the rows written have doubled
   (decision 93).

An interrupted import is resumed with ``resume=True``: the job (the file's SHA-256) remembers
the last committed file line (what was written since the last commit is rolled back). A file
already imported is refused (`AlreadyExists`). Memory stays flat as the file grows: rows are
read one at a time and a few batches are held (one per worker and the ones read ahead of them);
the check keeps 8 bytes per order (a hash of its reference) to find an order whose rows are not
consecutive.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import pickle
import tempfile
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from relos.domain.errors import (
    AlreadyExists,
    Conflict,
    Invalid,
    NotFound,
    PermissionDenied,
    RelosError,
    ValidationError,
)
from relos.domain.imports import (
    COLUMNS,
    ImportJob,
    ImportRow,
    Problem,
    Reference,
    RowKey,
    build_order,
    check_header,
    parse_row,
    row_key,
    row_reader,
    row_text,
)
from relos.domain.ledger import Entry
from relos.domain.orders import Order, order_number
from relos.domain.users import Importer, Role, User
from relos.services import audit
from relos.services.actors import acting_user
from relos.services.import_batches import Batch, Builder, Builders, Work, cycles_collected_after
from relos.services.unit_of_work import UnitOfWork

KIND = "orders"
DEFAULT_BATCH = 5000
#: rows written per transaction: consecutive batches share one commit until they hold this
#: many rows. On SQLite each commit used to checkpoint the write-ahead log, copying every page
#: the transaction dirtied into the database: at 1M lines, 200 commits took 82 s of a 232 s
#: write, 50 took 50 s (decision 58); now only past `CHECKPOINT_PAGES`. Fewer rows per
#: transaction would also merge fewer batches' balance changes (decision 79).
COMMIT_ROWS = 20_000
#: pages (4 KiB each) SQLite's write-ahead log may hold before the write's commit copies it into
#: the database file (SQLite's default: 1,000, which every commit of 20,000 rows passed): a page
#: dirtied by several transactions is copied once per checkpoint, not once per commit. The log
#: grows to about this much plus a transaction's pages (decision 78).
CHECKPOINT_PAGES = 65_536
MAX_PROBLEMS = 100
#: orders whose references are looked up in the database at once, during the check
REF_CHUNK = 2000
#: order-reference hashes sorted at once when looking for an order's rows apart (`_repeats`)
SORT_RUN = 65_536

#: a row's text, column by column (`domain/imports.row_reader`)
Text = tuple[str, ...]
#: rows as the driver takes them
Rows = list[tuple[Any, ...]]
_R = TypeVar("_R")

#: progress(phase, rows so far, rows in all or None while unknown); phase "check" or "write"
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class ImportSummary:
    job: int
    file: str
    sha256: str
    rows: int  # rows written by this run
    orders: int
    entries: int
    batches: int
    seconds: float
    resumed_after_line: int  # 0 unless resumed
    workers: int = 1  # processes that built the checked batches

    @property
    def lines_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "file": self.file,
            "sha256": self.sha256,
            "rows": self.rows,
            "orders": self.orders,
            "entries": self.entries,
            "batches": self.batches,
            "seconds": round(self.seconds, 3),
            "lines_per_second": round(self.lines_per_second, 1),
            "resumed_after_line": self.resumed_after_line,
            "workers": self.workers,
        }


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _importer(uow: UnitOfWork, actor: str | None) -> Importer:
    user = acting_user(uow, actor, "import orders")
    if user.role is not Role.PARTY_ADMIN:
        raise PermissionDenied(
            user.name, "import orders", f"role {user.role.value}; needs party_admin"
        )
    return Importer(user.name, user.party, user.role, user.active)


def _reference(uow: UnitOfWork) -> Reference:
    prices: dict[str, list[Any]] = {}
    for p in uow.reference.price_items():
        prices.setdefault(p.supplier, []).append(p)
    return Reference(
        {a.code: a for a in uow.reference.agreements()},
        {f.code: f for f in uow.reference.facilities()},
        {u.code: u for u in uow.reference.units()},
        prices,
    )


def _texts(path: Path, after_line: int, problems: list[Problem]) -> Iterator[tuple[int, Text]]:
    """The text of each row after `after_line` (`row_reader`), with its line; a row with the
    wrong number of fields (or a bad header) adds its problem and is skipped."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        bad = check_header(header)
        if bad:
            problems += bad
            return
        assert header is not None
        names = [h.strip() for h in header]
        read = row_reader(names)
        for values in reader:
            line = reader.line_num
            if line <= after_line or not any(v.strip() for v in values):
                continue
            if len(values) != len(names):
                problems.append(
                    Problem(
                        line,
                        "row",
                        str(len(values)),
                        "invalid_input",
                        f"{len(values)} fields; the header has {len(names)}",
                    )
                )
                continue
            yield line, read(values)


def _rows(
    path: Path, after_line: int, default_use: str, problems: list[Problem]
) -> Iterator[ImportRow]:
    """Rows after `after_line`, parsed; a bad row adds its problems and is skipped."""
    for line, text in _texts(path, after_line, problems):
        row, bad = parse_row(line, row_text(text), default_use)
        if row is None:
            problems += bad
        else:
            yield row


def _keyed(
    path: Path, after_line: int, default_use: str, problems: list[Problem]
) -> Iterator[tuple[RowKey, Text]]:
    """Rows after `after_line`, each with its key (`row_key`) and text: the rest of a row is
    parsed where its batch is built. A row without a key adds its problems and is skipped."""
    for line, text in _texts(path, after_line, problems):
        key = row_key(line, text)
        if key is None:
            row, bad = parse_row(line, row_text(text), default_use)
            assert row is None, f"line {line}: a row without a key parsed"
            problems += bad
        else:
            yield key, text


def _grouped(rows: Iterator[_R], ref: Callable[[_R], str]) -> Iterator[list[_R]]:
    """Consecutive rows with one order reference, grouped."""
    group: list[_R] = []
    for r in rows:
        if group and ref(r) != ref(group[0]):
            yield group
            group = []
        group.append(r)
    if group:
        yield group


def _orders(rows: Iterator[ImportRow]) -> Iterator[list[ImportRow]]:
    """Consecutive rows with one order reference, grouped."""
    return _grouped(rows, lambda r: r.order_ref)


def _ref_of(read: tuple[RowKey, Text]) -> str:
    return read[0].order_ref


def _ref_hash(requester: str, ref: str) -> int:
    digest = hashlib.blake2b(f"{requester}\x1f{ref}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _prefix(rows: Sequence[ImportRow | RowKey]) -> str:
    first = rows[0]
    return order_number(first.agreement, first.requester, first.ordered_on.year, 0)[:-6]


@dataclass
class _Checked:
    rows: int = 0
    orders: int = 0
    batches: int = 0
    workers: int = 1


class _Spill:
    """The built batches, pickled one after another into a temporary file (deleted when
    closed), so that the write reads them back one at a time: memory stays one batch."""

    def __init__(self, where: Path | None = None) -> None:
        # closed below
        self.file = tempfile.TemporaryFile(prefix="relos-import-", dir=where)  # noqa: SIM115
        self.bytes = 0

    def add(self, batch: bytes) -> None:
        """Add a batch pickled (`Built.batch`)."""
        self.file.write(batch)

    def batches(self) -> Iterator[Batch]:
        self.bytes = self.file.tell()
        self.file.seek(0)
        while self.file.tell() < self.bytes:
            batch = pickle.load(self.file)  # one pickle (and memo) per batch
            assert isinstance(batch, Batch)
            yield batch

    def close(self) -> None:
        self.file.close()


def _check(
    uow: UnitOfWork,
    path: Path,
    after_line: int,
    builder: Builder,
    default_use: str,
    max_problems: int,
    progress: Progress | None,
    batch: int,
    workers: int,
    spill: _Spill,
) -> _Checked:
    """Pass 1: every row and order checked, and built once for the write: each order numbered
    as foreseen (the next numbers under its prefix when the check began), with its digests and
    ledger entries, in batches of about `batch` rows spilled to `spill`. This process reads the
    rows' keys, numbers the orders and looks up their references; the batches are built by
    `workers` processes side by side (`import_batches`). Once a problem is found the rest is
    only rehearsed, since nothing will be written. Raises `Invalid` listing the problems."""
    if progress is not None:
        progress("check", 0, None)
    problems: list[Problem] = []
    seen = array("Q")  # one 8-byte hash per order reference
    pending: list[tuple[str, str, int]] = []  # (requester, ref, line): looked up in chunks
    out = _Checked()
    nxt: dict[str, int] = {}  # the number foreseen for the next order under each prefix

    def lookup() -> None:
        with uow:
            known = uow.imports.known_references({(p, r) for p, r, _ in pending})
        for p, r, line in pending:
            if (p, r) in known:
                problems.append(
                    Problem(
                        line,
                        "order_ref",
                        r,
                        "order_ref_imported",
                        f"{p} already has an order with reference {r}",
                    )
                )
        pending.clear()

    def number(rows: list[RowKey]) -> str:
        prefix = _prefix(rows)
        if problems:
            return prefix + "000000"
        if prefix not in nxt:
            with uow:
                nxt[prefix] = uow.imports.last_numbers([prefix])[prefix] + 1
        nxt[prefix] += 1
        return f"{prefix}{nxt[prefix] - 1:06d}"

    def works() -> Iterator[Work]:
        orders: list[tuple[list[tuple[int, Text]], str]] = []
        rows_in = 0
        for read in _grouped(_keyed(path, after_line, default_use, problems), _ref_of):
            if len(problems) >= max_problems:
                break
            rows = [key for key, _ in read]
            out.rows += len(rows)
            out.orders += 1
            first = rows[0]
            seen.append(_ref_hash(first.requester, first.order_ref))
            pending.append((first.requester, first.order_ref, first.line))
            if len(pending) >= REF_CHUNK:
                lookup()
            orders.append(([(key.line, text) for key, text in read], number(rows)))
            rows_in += len(rows)
            if rows_in >= batch:
                yield Work(orders, default_use, bool(problems))
                orders, rows_in = [], 0
        if orders:
            yield Work(orders, default_use, bool(problems))

    checked = 0
    with Builders(builder, workers) as builders:
        out.workers = builders.workers
        for built in builders.build(works()):
            problems += built.problems
            if built.batch is not None and not problems:
                spill.add(built.batch)
                out.batches += 1
            checked += built.rows
            if progress is not None:
                progress("check", checked, None)
    if pending:
        lookup()
    if progress is not None:
        progress("check", out.rows, out.rows)
    if len(problems) < max_problems:
        problems += _repeated_orders(path, after_line, default_use, seen)
    if problems:
        shown = sorted(problems, key=lambda p: p.line)[:max_problems]
        errors: list[RelosError] = [p.error() for p in shown]
        if len(problems) >= max_problems:
            errors.append(
                ValidationError("file", str(path), f"stopped after {max_problems} problems")
            )
        raise Invalid(errors)
    if out.rows == 0:
        raise ValidationError("file", str(path), "no order rows to import")
    return out


def _repeats(seen: array[int]) -> set[int]:
    """The hashes `seen` holds more than once. Sorted a run of `SORT_RUN` at a time and the
    runs merged: a sorted list of them all would hold a Python int and a pointer per order
    reference (about 40 bytes, 40 MB at a million orders), five times the array's own 8 bytes
    a hash; the runs, kept as arrays, hold about as much as the array."""
    runs = [array("Q", sorted(seen[k : k + SORT_RUN])) for k in range(0, len(seen), SORT_RUN)]
    repeated: set[int] = set()
    previous: int | None = None
    for h in heapq.merge(*runs):
        if h == previous:
            repeated.add(h)
        previous = h
    return repeated


def _repeated_orders(
    path: Path, after_line: int, default_use: str, seen: array[int]
) -> list[Problem]:
    """Orders whose rows are not consecutive: a reference seen again after other orders.
    The hashes are sorted to find repeats; only then is the file read again to name them."""
    repeated = _repeats(seen)
    if not repeated:
        return []
    out: list[Problem] = []
    first_line: dict[tuple[str, str], int] = {}
    for rows in _orders(_rows(path, after_line, default_use, [])):
        first = rows[0]
        key = (first.requester, first.order_ref)
        if _ref_hash(*key) not in repeated:
            continue
        if key in first_line:
            out.append(
                Problem(
                    first.line,
                    "order_ref",
                    first.order_ref,
                    "order_rows_not_consecutive",
                    f"order {first.order_ref} began on line {first_line[key]}: the rows of an"
                    " order are consecutive",
                )
            )
        else:
            first_line[key] = first.line
    return out


def _require_unchanged(path: Path, sha: str) -> None:
    if file_digest(path) != sha:
        raise Conflict(
            f"{path.name} changed while it was checked: nothing was written; import it again",
            field="file",
            value=path.name,
        )


def _start(
    uow: UnitOfWork,
    actor: str | None,
    path: Path,
    sha: str,
    resume: bool,
) -> tuple[Importer, Reference, ImportJob | None]:
    """The importer, the reference data, and the job to resume (None for a new import)."""
    with uow:
        importer = _importer(uow, actor)
        ref = _reference(uow)
        job = uow.imports.find_job(KIND, sha)
        unfinished = uow.imports.unfinished_jobs(KIND)
    if job is not None and job.finished:
        done = AlreadyExists("import", path.name, field="file")
        done.message = (
            f"{path.name} was imported already: job {job.id}, {job.orders_done} orders,"
            f" finished {job.finished_at:%Y-%m-%d %H:%M} UTC"
        )
        raise done
    if not resume:
        if job is not None:
            raise Conflict(
                f"{path.name} was partly imported (job {job.id}, up to line {job.last_line}):"
                " resume it with --resume",
                field="file",
                value=path.name,
            )
        return importer, ref, None
    if job is None:
        others = ", ".join(f"job {j.id} ({j.file_name})" for j in unfinished)
        if others:
            raise Conflict(
                f"{path.name} is not the file of the unfinished import: {others};"
                " resume with that file",
                field="file",
                value=path.name,
            )
        raise NotFound("unfinished import of", path.name, field="file")
    if job.party != importer.party:
        raise PermissionDenied(
            importer.name, "resume the import", f"job {job.id} is {job.party}'s import"
        )
    return importer, ref, job


def import_orders(
    uow: UnitOfWork,
    actor: str | None,
    path: Path,
    *,
    resume: bool = False,
    batch: int = DEFAULT_BATCH,
    use: str = "port_call",
    max_problems: int = MAX_PROBLEMS,
    progress: Progress | None = None,
    today: date | None = None,
    workers: int = 1,
    spill_dir: Path | None = None,
    commit_rows: int = COMMIT_ROWS,
    checkpoint_pages: int = CHECKPOINT_PAGES,
) -> ImportSummary:
    """Import the orders of the CSV file at `path` (see the module's docstring). The check's
    batches are built by `workers` processes (1: in this one); the built batches wait for the
    write in a temporary file in `spill_dir` (None: the system's temporary directory), and
    are written `commit_rows` rows or more to a transaction (at least one batch each). On
    SQLite the write's commits copy the write-ahead log into the database once it holds
    `checkpoint_pages` pages, and the write ends by copying what is left."""
    if batch < 1:
        raise ValidationError("batch", batch, "at least 1 row per batch")
    if commit_rows < 1:
        raise ValidationError("commit_rows", commit_rows, "at least 1 row per transaction")
    if checkpoint_pages < 1:
        raise ValidationError("checkpoint_pages", checkpoint_pages, "at least 1 page")
    if workers < 1:
        raise ValidationError("workers", workers, "at least 1 process")
    if spill_dir is not None and not spill_dir.is_dir():
        raise NotFound("spill directory", str(spill_dir), field="spill_dir")
    if not path.is_file():
        raise NotFound("file", str(path), field="file")
    started = time.perf_counter()
    today = today or datetime.now(UTC).date()
    sha = file_digest(path)
    importer, ref, job = _start(uow, actor, path, sha, resume)
    after = job.last_line if job is not None else 0
    with uow.reading():
        builder = Builder(importer, ref, today, uow.imports.batch_rows())
    spill = _Spill(spill_dir)
    try:
        checked = _check(
            uow, path, after, builder, use, max_problems, progress, batch, workers, spill
        )
        _require_unchanged(path, sha)
        if job is None:
            job = ImportJob(
                KIND,
                sha,
                path.name,
                importer.name,
                importer.party,
                datetime.now(UTC),
                checked.rows,
                checked.orders,
            )
            with uow:
                uow.imports.add_job(job)
                audit.record(
                    uow,
                    importer,
                    "import.start",
                    "import",
                    str(job.id),
                    None,
                    {
                        "file": path.name,
                        "sha256": sha,
                        "rows": checked.rows,
                        "orders": checked.orders,
                    },
                )
                uow.commit()
        assert job.id is not None
        done = _Done()
        if progress is not None:
            progress("write", 0, checked.rows)
        rebuild = _Rebuild(path, sha, use, importer, ref, today)
        batches = spill.batches()
        analyzed_at = 0  # rows written when the planner's statistics were last brought up to date
        for built in batches:  # the first batch of a transaction
            with uow, cycles_collected_after(), uow.imports.checkpoints_every(checkpoint_pages):
                if done.rows and done.rows >= 2 * analyzed_at:  # after the first commit, then
                    uow.imports.refresh_statistics()  # each time the rows written double
                    analyzed_at = done.rows
                rows = 0
                sums: list[list[Rows]] = []  # the batches' changes of the kept balances
                while True:
                    final = done.batches + 1 == checked.batches
                    _commit_batch(uow, job, built, rebuild, importer, final, done, sums)
                    rows += built.rows
                    if progress is not None:
                        progress("write", done.rows, checked.rows)
                    if final or rows >= commit_rows:
                        break
                    built = next(batches)
                uow.ledger.add_balance_sums(sums)  # a key the batches share: one upsert
                uow.commit()
                if final:  # the log's pages into the database, now that the write is done
                    uow.imports.checkpoint()
    finally:
        spill.close()
    return ImportSummary(
        job.id,
        path.name,
        sha,
        done.rows,
        done.orders,
        done.entries,
        done.batches,
        time.perf_counter() - started,
        after,
        checked.workers,
    )


@dataclass
class _Done:
    rows: int = 0
    orders: int = 0
    entries: int = 0
    batches: int = 0


@dataclass(frozen=True)
class _Rebuild:
    """What building a batch's orders again from the file needs: done only when the numbers
    foreseen for a batch were taken meanwhile (an order drafted by hand under its prefix)."""

    path: Path
    sha256: str
    use: str
    importer: User
    ref: Reference
    today: date

    def __call__(
        self, built: Batch, firsts: dict[str, int]
    ) -> tuple[list[tuple[Order, str, int]], list[Entry]]:
        """The batch's orders built again with the numbers reserved for them (`firsts`: the
        first per prefix), read from the file between the batch's lines."""
        unread: list[Problem] = []
        groups: list[list[ImportRow]] = []
        for rows in _orders(_rows(self.path, built.first_line - 1, self.use, unread)):
            if rows[0].line > built.last_line:
                break
            groups.append(rows)
        changed = [(g[0].order_ref, g[0].line) for g in groups] != built.refs
        if unread or changed or file_digest(self.path) != self.sha256:
            raise Conflict(
                f"{self.path.name} changed while it was imported: import the new file as a new job",
                field="file",
                value=self.path.name,
            )
        nxt = dict(firsts)
        orders: list[tuple[Order, str, int]] = []
        entries: list[Entry] = []
        for rows in groups:
            p = _prefix(rows)
            number = f"{p}{nxt[p]:06d}"
            nxt[p] += 1
            order, posted = build_order(rows, number, self.importer, self.ref, self.today)
            orders.append((order, rows[0].order_ref, rows[0].line))
            entries += posted
        return orders, entries


def _commit_batch(
    uow: UnitOfWork,
    job: ImportJob,
    built: Batch,
    rebuild: _Rebuild,
    importer: User,
    final: bool,
    done: _Done,
    sums: list[list[Rows]],
) -> None:
    """Write one batch and the job's progress, with one audit record, in the transaction open
    (joined by `with uow`, committed by the outermost): a block of order numbers per prefix
    (one statement each); the orders as the check built them if the blocks are the numbers
    it foresaw, else built again with the blocks' numbers; then the orders and their
    children in one executemany per table and the ledger entries in one
    `LedgerRepository.append`. What the check's entries add to the kept balances is added to
    `sums`, for the transaction to add once with its other batches'."""
    assert job.id is not None
    with uow:
        foreseen = built.firsts()
        firsts = {p: uow.imports.reserve_numbers(p, n) for p, (_, n) in foreseen.items()}
        if all(firsts[p] == first for p, (first, _) in foreseen.items()):
            numbers = built.numbers
            uow.imports.add_order_rows(job.id, built.orders)
            if built.sums is None:  # the ledger sums the rows itself
                uow.ledger.append_rows(built.entries)
            else:
                uow.ledger.append_rows(built.entries, built.sums, balances=False)
                sums.append(built.sums)
            entries = len(built.entries)
        else:
            orders, posted = rebuild(built, firsts)
            numbers = [o.number for o, _, _ in orders]
            uow.imports.add_orders(job.id, orders)
            uow.ledger.append(posted)
            entries = len(posted)
        job.last_line = built.last_line
        job.rows_done += built.rows
        job.orders_done += len(numbers)
        job.entries_done += entries
        job.batches_done += 1
        if final:
            job.finished_at = datetime.now(UTC)
        uow.imports.save_job(job)
        audit.record(
            uow,
            importer,
            "import.batch",
            "import",
            f"{job.id}/{job.batches_done}",
            None,
            {
                "job": job.id,
                "sha256": job.sha256,
                "batch": job.batches_done,
                "lines": [built.first_line, built.last_line],
                "orders": [numbers[0], numbers[-1]],
                "order_count": len(numbers),
                "entries": entries,
                "finished": final,
            },
        )
        uow.commit()
    done.rows += built.rows
    done.orders += len(numbers)
    done.entries += entries
    done.batches += 1


__all__ = ["COLUMNS", "DEFAULT_BATCH", "ImportSummary", "import_orders"]
