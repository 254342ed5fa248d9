"""The bulk import's batches, built in this process or in worker processes (decision 56).

A batch is about `batch` rows of the file (whole orders). Building it parses its rows (a row
refused adds its problems; the reader checked only their key columns, `row_key`), takes each of
its orders through every step its rows record (`domain/imports.build_order`), with the number
it is foreseen to get, and turns the orders and their ledger entries into the rows the driver
takes (`BatchRows`): the CPU-bound part of the import's check. Orders do not depend on one
another once their numbers are foreseen, so batches are built side by side, one per worker
process, while this process reads and numbers the next ones; results come back in the file's
order, at most `workers + 1` batches ahead, so memory stays a few batches.

Workers are forked (POSIX): they start in milliseconds and inherit what building needs (the
reference data, the importer, the dialect's conversions) without pickling it; only the rows
of a batch go to a worker, and the built batch comes back as one pickle, written to the spill
as it is. Where fork is not available, or with one worker, batches are built in this process
by the same code.
"""

from __future__ import annotations

import gc
import multiprocessing
import pickle
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from relos.domain.errors import RelosError
from relos.domain.imports import (
    ImportRow,
    Problem,
    Reference,
    build_order,
    check_same_order,
    locate,
    parse_row,
    row_text,
)
from relos.domain.ledger import Entry
from relos.domain.orders import Order
from relos.domain.users import User
from relos.services.unit_of_work import BatchRows


@dataclass
class Batch:
    """One batch as the check built it, in the rows the write hands the driver: its orders
    (`BatchRows.orders`) numbered as foreseen (the next numbers under each prefix when the
    check began), their ledger entries (`BatchRows.entries`) and what those add to the kept
    balances (`BatchRows.balance_sums`), and what the job and its audit
    record say of the batch."""

    orders: list[list[tuple[Any, ...]]]
    entries: list[tuple[Any, ...]]
    sums: list[list[tuple[Any, ...]]] | None  # what the entries add to the kept balances
    numbers: list[str]
    refs: list[tuple[str, int]]  # (order reference, first line) of each order
    rows: int
    first_line: int
    last_line: int

    def firsts(self) -> dict[str, tuple[int, int]]:
        """(first number, count) per number prefix, in the order the prefixes come."""
        out: dict[str, tuple[int, int]] = {}
        for number in self.numbers:
            p, n = number[:-6], int(number[-6:])
            first, count = out.get(p, (n, 0))
            out[p] = (first, count + 1)
        return out


@dataclass(frozen=True)
class Work:
    """A batch to build: each order's rows, as (file line, text column by column:
    `row_reader`), with the number it is foreseen to get; `use` where the file has none.
    Rehearsed (`build_order(rehearse=True)`: the same rules, no digests, nothing kept) once a
    problem was found, since nothing will be written. The rows go as text, parsed by the
    builder: the text pickles in a tenth of the time the parsed rows take."""

    orders: list[tuple[list[tuple[int, tuple[str, ...]]], str]]
    use: str
    rehearse: bool


@dataclass(frozen=True)
class Built:
    """A batch built: its problems, or the pickled `Batch` (None if rehearsed or wrong)."""

    problems: list[Problem]
    batch: bytes | None
    rows: int


@contextmanager
def cycles_collected_after() -> Iterator[None]:
    """Python's collector of reference cycles paused for the block and resumed after it (as it
    was: left off if it was off). Building a batch or writing one makes hundreds of thousands
    of small objects, nearly none in a cycle (reference counting frees them), and each
    thousand or so of them started a collection that walked the process's live objects: about
    a tenth of the check's CPU (decision 77). A cycle made in the block is freed by the first
    collection after it; memory stays a batch's."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@dataclass(frozen=True)
class Builder:
    """Builds batches: what every order of the import is built with."""

    importer: User
    ref: Reference
    today: date
    rows: BatchRows

    def __call__(self, work: Work) -> Built:
        with cycles_collected_after():
            return self._build(work)

    def _build(self, work: Work) -> Built:
        problems: list[Problem] = []
        built: list[tuple[Order, str, int]] = []
        entries: list[Entry] = []
        lines = 0
        for text, number in work.orders:
            lines += len(text)
            rows: list[ImportRow] = []
            for line, t in text:  # the reader checked the key columns; the rest is read here
                row, bad = parse_row(line, row_text(t), work.use)
                if row is None:
                    problems += bad
                else:
                    rows.append(row)
            if not rows:
                continue
            same = check_same_order(rows)
            if same:
                problems += same
                continue
            try:
                if work.rehearse or problems:
                    build_order(rows, number, self.importer, self.ref, self.today, rehearse=True)
                else:
                    order, posted = build_order(rows, number, self.importer, self.ref, self.today)
                    built.append((order, rows[0].order_ref, rows[0].line))
                    entries += posted
            except RelosError as e:
                problems += locate(e, rows)
        if problems or not built:
            return Built(problems, None, lines)
        entry_rows = self.rows.entries(entries)
        batch = Batch(
            self.rows.orders(built),
            entry_rows,
            self.rows.balance_sums(entry_rows),
            [o.number for o, _, _ in built],
            [(r, line) for _, r, line in built],
            lines,
            built[0][2],
            work.orders[-1][0][-1][0],
        )
        return Built([], pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL), lines)


#: the builder of this worker process (set once when the worker starts)
_builder: Callable[[Work], Built] | None = None


def _install(builder: Callable[[Work], Built]) -> None:
    global _builder
    _builder = builder


def _build(work: Work) -> Built:
    assert _builder is not None, "the worker was started without its builder"
    return _builder(work)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class Builders:
    """``with Builders(builder, workers) as b: for built in b.build(works): ...`` — the works'
    batches built, in their order; in `workers` forked processes, or here with one worker."""

    def __init__(self, builder: Callable[[Work], Built], workers: int) -> None:
        self.builder = builder
        self.workers = workers if workers > 1 and can_fork() else 1
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Builders:
        if self.workers > 1:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_install,
                initargs=(self.builder,),  # inherited by the fork, not pickled
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def build(self, works: Iterator[Work]) -> Iterator[Built]:
        """Each work's batch built, in order. The works are read lazily, at most `workers + 1`
        ahead of the batch last given: whoever makes them may look at what came back."""
        if self._pool is None:
            for work in works:
                yield self.builder(work)
            return
        window: deque[Future[Built]] = deque()
        for work in works:
            window.append(self._pool.submit(_build, work))
            if len(window) > self.workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
