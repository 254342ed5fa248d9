"""A large statement reconciles in flat memory: 30,000 orders (about 24 MiB) are generated on
the fly into a file (never held as a list), signed, and matched by `reconcile`, which reads the
file streamed. Peak Python memory during the match is measured with tracemalloc, not assumed
(SQLite, whose own allocations tracemalloc does not see, keeps at most its page cache)."""

from __future__ import annotations

import io
import json
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from relos.services import people, reconciliation
from relos.storage.engine import make_engine, upgrade
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.fakes import KEY_PASSPHRASE
from tests.integration.builders import lifecycle, world

ORDERS = 30_000  # 200,000 (163 MiB) gave the same 2.4 MiB peak; kept smaller for CI time
AS_OF = "2026-04-30"


def generated(n: int) -> Iterator[dict[str, Any]]:
    """`n` orders of India's view, made one at a time (numbers sort before the real ones')."""
    for i in range(1, n + 1):
        qty = 100 + i % 400
        yield {
            "number": f"RELOS-IN-2025-{i:06d}",
            "revision": 1,
            "state": "settled",
            "requesting": "IND",
            "supplying": "RUS",
            "method": "cash",
            "transaction_date": "2025-06-01",
            "lines": [
                {
                    "line": 1,
                    "item": "9140-00-273-2377",
                    "quantity": f"{qty}.000",
                    "received": f"{qty}.000",
                    "unit_price": "65000.00",
                    "currency": "RUB",
                    "category": "pol",
                },
                {
                    "line": 2,
                    "item": "WATER",
                    "quantity": "50.000",
                    "received": "50.000",
                    "unit_price": "120.00",
                    "currency": "RUB",
                    "category": "water",
                },
            ],
            "receipts": [
                {
                    "seq": 1,
                    "received_on": "2025-06-01",
                    "quantities": [
                        {"line": 1, "quantity": f"{qty}.000"},
                        {"line": 2, "quantity": "50.000"},
                    ],
                }
            ],
            "invoices": [
                {
                    "number": f"INV-RUS-2025-{i:06d}",
                    "issued_on": "2025-06-05",
                    "due_on": "2025-07-05",
                    "value": f"{qty * 65000 + 6000}.00",
                    "currency": "RUB",
                }
            ],
            "settlements": [
                {
                    "seq": 1,
                    "kind": "cash",
                    "on": "2025-07-01",
                    "amount": f"{qty * 65000 + 6000}.00",
                    "commodity": "RUB",
                    "reverses": None,
                }
            ],
            "value": f"{qty * 65000 + 6000}.00",
            "currency": "RUB",
            "outstanding": [],
        }


def test_a_large_statement_reconciles_with_peak_memory_far_below_its_size(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'node.db'}")
    upgrade(engine)
    uow = SqlUnitOfWork(engine)
    world(uow)
    lifecycle(uow)  # four real orders between India and Russia on this node
    people.add_user(uow, None, "in_admin", "IND", "party_admin")
    reconciliation.create_key(uow, "in_admin", "IND", passphrase=KEY_PASSPHRASE)
    real = io.StringIO()
    reconciliation.export_statement(
        uow,
        "in_finance",
        real,
        agreement="RELOS",
        party="IND",
        as_of=__import__("datetime").date.fromisoformat(AS_OF),
        passphrase=KEY_PASSPHRASE,
    )
    ours = json.loads(real.getvalue())
    with uow:
        (key,) = [k for k in uow.reconciliation.party_keys("IND") if k.private_pem]
    assert key.private_pem is not None
    private = serialization.load_pem_private_key(key.private_pem.encode(), KEY_PASSPHRASE.encode())
    assert isinstance(private, Ed25519PrivateKey)

    def orders() -> Iterator[dict[str, Any]]:
        yield from generated(ORDERS)
        yield from ours["orders"]  # the real ones sort after the generated ones

    path = tmp_path / "big-statement.json"
    started = time.perf_counter()
    with path.open("w", encoding="utf-8") as out:
        digest, count = reconciliation.write_statement(out, ours["header"], orders(), private)
    written = time.perf_counter() - started
    size = path.stat().st_size
    assert count == ORDERS + 4

    tracemalloc.start()
    started = time.perf_counter()
    try:
        with path.open("rb") as source:
            done = reconciliation.reconcile(uow, "ru_finance", source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    took = time.perf_counter() - started

    assert done.run.statement_digest == digest
    assert done.counts == {"missing_on_our_side": ORDERS, "matched": 4}
    print(
        f"\nstatement: {count} orders, {size / 2**20:.1f} MiB written in {written:.1f} s; "
        f"reconciled in {took:.1f} s with peak traced memory {peak / 2**20:.2f} MiB "
        f"({peak / size:.2%} of the statement)"
    )
    assert size > 20 * 2**20  # the statement is large ...
    assert peak < size / 5  # ... and what reconciling it holds at once is not
    assert peak < 8 * 2**20
