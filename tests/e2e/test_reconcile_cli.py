"""End to end: two nodes (two SQLite files from the demo) exchange public keys and signed
statements with `relos key` and `relos reconcile`; a tampered statement exits 6."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from relos.domain.users import Role
from relos.services.demo import USERS
from tests.e2e.test_audit_cli import Cli

IND_ADMIN, RUS_ADMIN = USERS["IND"][Role.PARTY_ADMIN], USERS["RUS"][Role.PARTY_ADMIN]
IND_FIN, RUS_FIN = USERS["IND"][Role.FINANCE_OFFICER], USERS["RUS"][Role.FINANCE_OFFICER]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "relos.db"
    Cli(db).run("demo", "--today", "2026-11-20")
    return db


def node(demo_db: Path, path: Path) -> Cli:
    with sqlite3.connect(demo_db) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    return Cli(path)


def test_two_nodes_reconcile_by_signed_statements(demo_db: Path, tmp_path: Path) -> None:
    ind, rus = node(demo_db, tmp_path / "ind.db"), node(demo_db, tmp_path / "rus.db")
    ind.run("key", "create", "--party", "IND", "--as", IND_ADMIN)
    rus.run("key", "create", "--party", "RUS", "--as", RUS_ADMIN)
    ind.run("key", "create", "--party", "RUS", "--as", IND_ADMIN, code=5)
    pem = tmp_path / "ind.pem"
    ind.run("key", "export", "--party", "IND", "--output", str(pem))
    assert "PRIVATE" not in pem.read_text()
    assert "PUBLIC KEY" in pem.read_text()
    rus.run("key", "import", str(pem), "--party", "IND", "--as", RUS_ADMIN)

    statement = tmp_path / "ind-statement.json"
    ind.run(
        "reconcile", "export", "--agreement", "RELOS", "--party", "IND",
        "--as-of", "2026-11-20", "--output", str(statement), "--as", IND_FIN,
    )  # fmt: skip
    report = rus.json("reconcile", "match", str(statement), "--as", RUS_FIN)
    assert set(report["counts"]) == {"matched"}
    assert rus.json("reconcile", "list", "--as", RUS_FIN)[0]["id"] == report["run"]["id"]
    shown = rus.json("reconcile", "show", str(report["run"]["id"]), "--as", RUS_FIN)
    assert len(shown["lines"]) == report["counts"]["matched"]

    text = statement.read_text("utf-8")
    tampered = tmp_path / "tampered.json"
    tampered.write_text(text.replace('"as_of":"2026-11-20"', '"as_of":"2026-11-21"'), "utf-8")
    done = rus.run("reconcile", "match", str(tampered), "--as", RUS_FIN, code=6)
    assert "bad_signature" in done.stderr
    # a statement addressed to Russia is matched by Russia only
    ind.run("reconcile", "match", str(statement), "--as", IND_FIN, code=5)
