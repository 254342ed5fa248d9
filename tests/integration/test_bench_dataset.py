"""bench/dataset.py: the benchmark's import files pass every rule of `relos import orders`, on
SQLite and PostgreSQL, and are the same file for the same seed."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import date
from pathlib import Path

from relos.domain.users import Role
from relos.services import bulk_import, catalogue, people, reconciliation, reports
from relos.services.demo import USERS, reference_document
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.fakes import KEY_PASSPHRASE

DATASET = Path(__file__).resolve().parents[2] / "bench" / "dataset.py"
TODAY = date(2026, 11, 20)  # after the generator's last day (2026-10-31)


def generate(path: Path, lines: int, seed: int, *options: str) -> Path:
    subprocess.run(
        [
            sys.executable,
            str(DATASET),
            "--lines",
            str(lines),
            "--seed",
            str(seed),
            "--out",
            path,
            *options,
        ],
        check=True,
        capture_output=True,
    )
    return path


def load_reference(uow: SqlUnitOfWork) -> None:
    """The demo's reference data and users, no orders: what the benchmark imports into."""
    with uow:
        catalogue.load(uow, reference_document())
        for party, roles in USERS.items():
            admin = roles[Role.PARTY_ADMIN]
            people.add_user(uow, None, admin, party, Role.PARTY_ADMIN.value)
        uow.commit()


def test_generated_order_lines_pass_every_rule_of_the_import(
    uow: SqlUnitOfWork, tmp_path: Path
) -> None:
    path = generate(tmp_path / "orders.csv", 200, seed=11)
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    load_reference(uow)

    summary = bulk_import.import_orders(uow, USERS["IND"][Role.PARTY_ADMIN], path, today=TODAY)

    assert summary.rows == len(rows) == 200
    assert summary.orders == len({r["order_ref"] for r in rows})
    states = reports.orders_by_state(uow)
    assert sum(states.values()) == summary.orders
    # the file exercises receipts (whole and partial) and invoices, not only drafts
    assert states.get("invoiced", 0) > 0
    assert states.get("partially_received", 0) > 0
    assert summary.entries > 0
    assert {r["agreement"] for r in rows} == {"RELOS", "LEMOA"}


def test_the_generator_writes_the_same_file_for_the_same_seed(tmp_path: Path) -> None:
    a = generate(tmp_path / "a.csv", 300, seed=5).read_bytes()
    b = generate(tmp_path / "b.csv", 300, seed=5).read_bytes()
    c = generate(tmp_path / "c.csv", 300, seed=6).read_bytes()
    assert a == b
    assert a != c
    assert a.count(b"\n") == 301  # the header and exactly the lines asked for


def test_statement_books_are_relos_orders_of_one_line_each_that_both_parties_share(
    uow: SqlUnitOfWork, tmp_path: Path
) -> None:
    """Section 5's books: N lines are N orders, every one a line of RUS's statement to IND."""
    path = generate(tmp_path / "st.csv", 120, 3, "--agreement", "RELOS", "--max-lines", "1")
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    load_reference(uow)
    with uow:
        people.add_user(
            uow, USERS["RUS"][Role.PARTY_ADMIN], "ru_fin", "RUS", Role.FINANCE_OFFICER.value
        )
        uow.commit()

    summary = bulk_import.import_orders(uow, USERS["IND"][Role.PARTY_ADMIN], path, today=TODAY)
    reconciliation.create_key(uow, USERS["RUS"][Role.PARTY_ADMIN], "RUS", passphrase=KEY_PASSPHRASE)
    exported = reconciliation.export_statement(
        uow,
        "ru_fin",
        io.StringIO(),
        agreement="RELOS",
        party="RUS",
        as_of=TODAY,
        passphrase=KEY_PASSPHRASE,
    )

    assert summary.rows == summary.orders == len(rows) == 120
    assert {r["agreement"] for r in rows} == {"RELOS"}
    assert {(r["requester"], r["supplier"]) for r in rows} == {("IND", "RUS"), ("RUS", "IND")}
    assert exported.orders == 120
