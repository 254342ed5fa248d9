"""Two officers acting on one order at the same moment: neither write is lost."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine

from relos.domain.ledger import mirror_mismatches
from relos.services import netting, ordering
from relos.storage.unit_of_work import SqlUnitOfWork
from tests import trilateral
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


def test_concurrent_netting_proposals_get_distinct_numbers_and_no_raw_error(
    engine: Engine,
) -> None:
    """Two finance officers propose a netting of one agreement at the same moment: the numbers
    come from the sequence table, so both are stored, one after the other, no collision."""
    setup = SqlUnitOfWork(engine)
    world(setup)
    for requesting, sup in (("IND", "ru"), ("RUS", "in")):
        req = "in" if requesting == "IND" else "ru"
        n = placed(setup, requesting, "cash", [("F76", "10")])
        ordering.receive_all(setup, f"{req}_receive", n, date(2026, 3, 2), at(date(2026, 3, 2)))
        ordering.invoice(setup, f"{sup}_finance", n, date(2026, 3, 5), at(date(2026, 3, 5)))
    netting.import_rates(setup, "date,pair,rate,source\n2026-03-01,RUB/INR,1.05,CBR\n")
    workers = 2
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []
    numbers: list[str] = []

    def propose(name: str) -> None:
        barrier.wait()
        try:
            st = netting.propose(SqlUnitOfWork(engine), name, "RELOS", date(2026, 3, 31))
            numbers.append(st.number)
        except BaseException as e:  # collected, reported below
            errors.append(e)

    threads = [threading.Thread(target=propose, args=(n,)) for n in ("in_finance", "ru_finance")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert sorted(numbers) == ["NET-RELOS-2026-0001", "NET-RELOS-2026-0002"]
    assert [s.number for s in netting.statements(setup, "in_finance")] == sorted(numbers)


def test_concurrent_payments_of_one_netting_obligation_never_pay_more_than_owed(
    engine: Engine,
) -> None:
    """India owes Russia 600 INR by a netting; India's and Russia's finance officers record 400
    each at the same moment: they take turns on the statement's row, so the second sees 200
    left and is refused; the books still mirror."""
    setup = SqlUnitOfWork(engine)
    trilateral.load(setup, trilateral_name, with_parties=trilateral.PARTIES)
    number = trilateral.posted_netting(setup, trilateral_name).number
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def pay(party: str) -> None:
        barrier.wait()
        try:
            netting.pay(
                SqlUnitOfWork(engine),
                trilateral_name(party, "finance_officer"),
                number,
                debtor="IND",
                creditor="RUS",
                amount="400.00",
                on=date(2026, 6, 10),
                reference=f"UTR-{party}",
            )
        except BaseException as e:  # collected, reported below
            errors.append(e)

    threads = [threading.Thread(target=pay, args=(p,)) for p in ("IND", "RUS")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert [getattr(e, "rule", repr(e)) for e in errors] == ["settlement_exceeds_outstanding"]
    st = netting.statement(setup, trilateral_name("IND", "finance_officer"), number)
    assert [d.outstanding.number for d in st.debts() if d.creditor == "RUS"] == [Decimal("200.00")]
    with setup:
        assert mirror_mismatches(setup.ledger.balances()) == []
        assert setup.ledger.balances() == setup.ledger.summed_balances()


def trilateral_name(party: str, role: str) -> str:
    return f"{party.lower()}_{role}"
