"""The import's batches built side by side in worker processes: in the file's order, by other
processes, never more than a few ahead of what was taken."""

from __future__ import annotations

import gc
import os
import pickle
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from relos.services.import_batches import Builder, Builders, Built, Work, cycles_collected_after


def _work(k: int) -> Work:
    return Work([([], f"RELOS-IN-2026-{k:06d}")], "port_call", rehearse=False)


def _by_whom(work: Work) -> Built:
    """A stand-in builder: says which process built which work (the real one is tested through
    the import in test_bulk_import)."""
    return Built([], pickle.dumps((os.getpid(), work.orders[0][1])), 1)


def _built(results: list[Built]) -> list[tuple[int, str]]:
    return [pickle.loads(r.batch) for r in results if r.batch is not None]


def test_batches_are_built_by_other_processes_and_come_back_in_the_file_order() -> None:
    works = [_work(k) for k in range(1, 13)]
    with Builders(_by_whom, 2) as builders:
        got = _built(list(builders.build(iter(works))))
    assert [number for _, number in got] == [w.orders[0][1] for w in works]
    pids = {pid for pid, _ in got}
    assert os.getpid() not in pids
    assert 1 <= len(pids) <= 2


def test_with_one_worker_batches_are_built_in_this_process() -> None:
    with Builders(_by_whom, 1) as builders:
        got = _built(list(builders.build(iter([_work(1), _work(2)]))))
    assert got == [(os.getpid(), "RELOS-IN-2026-000001"), (os.getpid(), "RELOS-IN-2026-000002")]


def test_the_works_are_read_at_most_one_more_than_the_workers_ahead() -> None:
    """Memory stays a few batches: the next works are asked for only as results are taken."""
    read: list[int] = []

    def works() -> Iterator[Work]:
        for k in range(1, 21):
            read.append(k)
            yield _work(k)

    ahead = []
    with Builders(_by_whom, 2) as builders:
        for taken, _ in enumerate(builders.build(works()), start=1):
            ahead.append(len(read) - taken)
    assert len(read) == 20
    assert max(ahead) <= 2  # workers + 1 in flight, one of them just taken


def test_the_cycle_collector_is_paused_for_the_block_and_resumed_as_it_was() -> None:
    assert gc.isenabled()
    with cycles_collected_after():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), cycles_collected_after():
        1 / 0  # noqa: B018
    assert gc.isenabled()
    gc.disable()
    try:
        with cycles_collected_after():
            assert not gc.isenabled()
        assert not gc.isenabled()  # left off, as it was
    finally:
        gc.enable()


class _Observing(Builder):
    """The real `Builder.__call__` around a stand-in build that says whether the collector
    ran."""

    def _build(self, work: Work) -> Built:
        return Built([], pickle.dumps(gc.isenabled()), 1)


def test_a_batch_is_built_with_the_cycle_collector_paused_and_resumed_after() -> None:
    nothing: Any = None
    builder = _Observing(nothing, nothing, date(2026, 1, 1), nothing)
    built = builder(_work(1))
    assert built.batch is not None
    assert pickle.loads(built.batch) is False
    assert gc.isenabled()
