"""End to end: `relos audit verify` and `relos audit log` on the demo database (SQLite), and what
verify says after the audit table is changed behind relos's back with sqlite3."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

RELOS = Path(sys.executable).parent / "relos"


class Cli:
    def __init__(self, db: Path) -> None:
        self.db = db
        self.env = {**os.environ, "RELOS_DATABASE_URL": f"sqlite:///{db}"}
        self.env.pop("RELOS_USER", None)

    def run(self, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(RELOS), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
            check=False,
        )
        assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
        return done

    def json(self, *args: str, code: int = 0) -> Any:
        return json.loads(self.run(*args, "--json", code=code).stdout)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo loaded once; each test works on its own copy."""
    db = tmp_path_factory.mktemp("demo") / "relos.db"
    Cli(db).run("demo", "--today", "2026-11-20")
    return db


@pytest.fixture
def cli(demo_db: Path, tmp_path: Path) -> Cli:
    db = tmp_path / "relos.db"
    with sqlite3.connect(demo_db) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    return Cli(db)


def _count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM audit_log").fetchone()[0])


def test_verify_finds_the_demo_chain_intact(cli: Cli) -> None:
    n = _count(cli.db)
    assert n > 100
    done = cli.run("audit", "verify")
    assert f"audit chain intact: {n} records" in done.stdout
    report = cli.json("audit", "verify")
    assert report["intact"] is True
    assert report["records"] == n
    assert report["problems"] == []
    assert len(report["head"]) == 64


def test_verify_exits_6_and_names_the_seq_after_an_update_with_sqlite3(cli: Cli) -> None:
    with sqlite3.connect(cli.db) as conn:
        conn.execute("UPDATE audit_log SET user_name = 'someone else' WHERE seq = 42")
    done = cli.run("audit", "verify", code=6)
    assert "audit chain broken" in done.stdout
    assert "42" in done.stdout
    assert "edited" in done.stdout
    assert "seq 42: edited" in done.stderr  # the error names it too
    report = cli.json("audit", "verify", code=6)
    assert report["intact"] is False
    assert report["problems"] == [
        {"seq": 42, "kind": "edited", "detail": "its hash does not match its content"}
    ]


def test_verify_names_a_deleted_record(cli: Cli) -> None:
    with sqlite3.connect(cli.db) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq = 7")
    report = cli.json("audit", "verify", code=6)
    assert [(p["seq"], p["kind"]) for p in report["problems"]] == [(7, "deleted")]


def test_log_lists_one_orders_records_in_order(cli: Cli) -> None:
    with sqlite3.connect(cli.db) as conn:
        number = conn.execute(
            "SELECT entity_key FROM audit_log WHERE action = 'order.close' ORDER BY seq LIMIT 1"
        ).fetchone()[0]
    records = cli.json("audit", "log", "--entity", "order", "--key", number)
    actions = [r["action"] for r in records]
    assert actions[0] == "order.draft"
    assert actions[-1] == "order.close"
    assert "order.accept" in actions
    assert [r["seq"] for r in records] == sorted(r["seq"] for r in records)
    assert all(r["key"] == number for r in records)
    assert records[0]["before"] is None
    assert records[-1]["after"]["state"] == "closed"
    table = cli.run("audit", "log", "--entity", "order", "--key", number).stdout
    assert "order.close" in table
