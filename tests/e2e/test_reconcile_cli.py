"""End to end: two nodes (two SQLite files from the demo) exchange public keys and signed
statements with `relos key` and `relos reconcile`; a tampered statement exits 6."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from relos.domain.users import Role
from relos.services.demo import USERS
from tests.e2e.test_audit_cli import RELOS, Cli

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
    cli = Cli(path)
    cli.env["RELOS_KEY_PASSPHRASE"] = f"passphrase of {path.stem}"
    return cli


def test_two_nodes_reconcile_by_signed_statements(demo_db: Path, tmp_path: Path) -> None:
    ind, rus = node(demo_db, tmp_path / "ind.db"), node(demo_db, tmp_path / "rus.db")
    without = {k: v for k, v in ind.env.items() if k != "RELOS_KEY_PASSPHRASE"}
    done = subprocess.run(
        [str(RELOS), "key", "create", "--party", "IND", "--as", IND_ADMIN],
        capture_output=True, text=True, env=without, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 9, done.stderr
    assert "RELOS_KEY_PASSPHRASE" in done.stderr
    ind.run("key", "create", "--party", "IND", "--as", IND_ADMIN)
    rus.run("key", "create", "--party", "RUS", "--as", RUS_ADMIN)
    with sqlite3.connect(tmp_path / "ind.db") as db:
        (stored,) = db.execute("select private_pem from party_keys").fetchone()
    assert stored.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
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
    run_id = str(report["run"]["id"])
    shown = rus.json("reconcile", "show", run_id, "--as", RUS_FIN)
    assert len(shown["lines"]) == report["counts"]["matched"]
    assert shown["next_after"] is None
    assert len(shown["lines"]) > 2
    first = rus.json("reconcile", "show", run_id, "--limit", "2", "--as", RUS_FIN)
    assert (first["lines"], first["counts"]) == (shown["lines"][:2], shown["counts"])
    after = str(first["next_after"])
    rest = rus.json("reconcile", "show", run_id, "--after", after, "--as", RUS_FIN)
    assert rest["lines"] == shown["lines"][2:]
    page = rus.run("reconcile", "show", run_id, "--limit", "2", "--as", RUS_FIN).stdout
    assert f"more: --after {after}" in page
    refused = rus.run("reconcile", "show", run_id, "--limit", "0", "--as", RUS_FIN, code=2)
    assert "--limit" in refused.stderr

    text = statement.read_text("utf-8")
    tampered = tmp_path / "tampered.json"
    tampered.write_text(text.replace('"as_of":"2026-11-20"', '"as_of":"2026-11-21"'), "utf-8")
    done = rus.run("reconcile", "match", str(tampered), "--as", RUS_FIN, code=6)
    assert "bad_signature" in done.stderr
    summary = rus.json("reconcile", "match", str(statement), "--as", RUS_FIN, "--summary")
    assert summary["counts"] == report["counts"]
    # signing with another passphrase than the key's is exit 9, naming the setting
    ind.env["RELOS_KEY_PASSPHRASE"] = "not the passphrase"
    done = ind.run(
        "reconcile", "export", "--agreement", "RELOS", "--party", "IND",
        "--as-of", "2026-11-20", "--output", str(tmp_path / "x.json"), "--as", IND_FIN, code=9,
    )  # fmt: skip
    assert "key_passphrase_wrong" in done.stderr
    assert "RELOS_KEY_PASSPHRASE" in done.stderr
    assert not (tmp_path / "x.json").exists()
    # a statement addressed to Russia is matched by Russia only
    ind.run("reconcile", "match", str(statement), "--as", IND_FIN, code=5)
