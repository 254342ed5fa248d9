"""Two officers acting on one order at the same moment: neither write is lost."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import Engine

from relos.domain.ledger import mirror_mismatches
from relos.services import ordering
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.integration.builders import at, placed, world


def test_concurrent_partial_receipts_on_one_order_are_both_kept(engine: Engine) -> None:
    setup = SqlUnitOfWork(engine)
    world(setup)
    number = placed(setup, "IND", "cash", [("F76", "400")])
    workers = 4
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def receive(k: int) -> None:
        barrier.wait()
        try:
            ordering.receive(
                SqlUnitOfWork(engine),
                "in_receive",
                number,
                [(1, "50")],
                date(2026, 3, 2),
                at(date(2026, 3, 2), 12 + k),
            )
        except BaseException as e:  # collected, reported below
            errors.append(e)

    threads = [threading.Thread(target=receive, args=(k,)) for k in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # They take turns on the order's row: each reads what the one before it wrote, so every
    # receipt is kept and none is refused as a collision (or silently dropped).
    assert errors == []
    order = ordering.show(setup, number)
    kept = len(order.receipts)
    assert kept == workers
    assert order.received_quantity(1) == 50 * kept
    assert [s.action for s in order.signatures].count("receive") == kept
    with setup:
        entries = setup.ledger.entries(order=number)
        assert len([e for e in entries if e.event == "receipt"]) == 2 * kept
        assert mirror_mismatches(setup.ledger.balances()) == []
        assert setup.ledger.balances() == setup.ledger.summed_balances()
