"""End to end: `relos import orders` through the real command, on a fresh SQLite file."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relos.domain.users import Role
from relos.services.demo import USERS
from tests.e2e.test_cli import REFERENCE, RELOS, Cli
from tests.import_world import HEADER, write_csv

ADMIN = "Cdr Kavita Iyer"
DATASET = Path(__file__).resolve().parents[2] / "bench" / "dataset.py"

ROWS = [
    {
        "order_ref": ref,
        "agreement": "RELOS",
        "requester": "IND",
        "supplier": "RUS",
        "facility": "SEVEROMORSK",
        "unit": "INS-TABAR",
        "method": "cash",
        "ordered_on": "2026-02-01",
        "required_by": "2026-02-10",
        "item": "9140-00-273-2377",
        "quantity": quantity,
        "received_on": received_on,
        "received_quantity": quantity if received_on else "",
        "invoiced_on": invoiced_on,
    }
    for ref, quantity, received_on, invoiced_on in [
        ("IN-A", "400", "2026-02-05", "2026-02-06"),
        ("IN-A", "100", "2026-02-05", "2026-02-06"),
        ("IN-B", "50", "2026-02-07", ""),
        ("IN-C", "10", "", ""),
    ]
]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    c = Cli(tmp_path)
    c.run("init")
    (tmp_path / "reference.yaml").write_text(REFERENCE, encoding="utf-8")
    c.run("load", str(tmp_path / "reference.yaml"))
    c.run("user", "add", ADMIN, "--party", "IND", "--role", "party_admin")
    c.run(
        "user",
        "add",
        "Lt Priya Nair",
        "--party",
        "IND",
        "--role",
        "receiving_officer",
        "--as",
        ADMIN,
    )
    return c


def test_orders_are_imported_from_a_csv_file_once(cli: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "orders.csv", ROWS, [h for h in HEADER if h in ROWS[0]])
    summary = json.loads(cli.run("import", "orders", str(path), "--as", ADMIN, "--json"))
    assert (summary["rows"], summary["orders"], summary["entries"]) == (4, 3, 4)
    assert summary["lines_per_second"] > 0
    orders = cli.json("order", "list")
    assert sorted(o["state"] for o in orders) == ["accepted", "invoiced", "received"]
    rows = cli.json("report", "balances", "--book", "RUS")["balances"]
    assert [(r["account_name"], r["amount"]) for r in rows if r["account"] == "receivable"] == [
        ("receivable:IND:cash", "35750000.00")  # (400 + 100 + 50) t at 65,000.00 RUB
    ]
    again = cli.run("import", "orders", str(path), "--as", ADMIN, code=7)
    assert "imported already" in again
    cli.run("audit", "verify")


def test_a_bad_file_lists_its_problems_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS]
    rows[0]["quantity"] = "lots"
    rows[2]["received_quantity"] = "60"
    path = write_csv(tmp_path / "bad.csv", rows, [h for h in HEADER if h in ROWS[0]])
    out = cli.run("import", "orders", str(path), "--as", ADMIN, code=3)
    assert "line 2: quantity" in out
    assert "lots" in out
    assert "line 4: received_quantity" in out
    assert "nothing was written" in out
    assert cli.json("order", "list") == []
    refused = cli.run("import", "orders", str(path), "--as", "Lt Priya Nair", code=5)
    assert "party_admin" in refused


def test_the_import_runs_on_the_workers_and_in_the_spill_directory_the_officer_sets(
    cli: Cli, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "orders.csv", ROWS, [h for h in HEADER if h in ROWS[0]])
    bad = cli.run("import", "orders", str(path), "--as", ADMIN, "--workers", "0", code=3)
    assert "workers" in bad
    assert "at least 1 process" in bad
    cli.env["RELOS_IMPORT_SPILL_DIR"] = str(tmp_path / "nowhere")
    missing = cli.run("import", "orders", str(path), "--as", ADMIN, code=4)
    assert "nowhere" in missing
    assert cli.json("order", "list") == []
    (tmp_path / "spill").mkdir()
    cli.env["RELOS_IMPORT_SPILL_DIR"] = str(tmp_path / "spill")
    summary = json.loads(
        cli.run(
            "import", "orders", str(path), "--as", ADMIN, "--workers", "2", "--batch", "1", "--json"
        )
    )
    assert (summary["orders"], summary["batches"], summary["workers"]) == (3, 3, 2)
    assert list((tmp_path / "spill").iterdir()) == []


def _in_group(group: int) -> list[int]:
    """The processes of a process group (from /proc: the group is the fifth field of a
    process's stat, the first after its parenthesised name)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            if int(stat.rsplit(")", 1)[1].split()[2]) == group:
                found.append(int(entry.name))
    return found


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_while_an_import_is_checked_stops_it_its_workers_with_it_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """Ctrl-C (SIGINT to the command's process group, as a terminal sends it) during the check:
    exit 130, no order and no job written, and no worker process left behind."""
    cli = Cli(tmp_path)
    cli.run("demo", "--today", "2026-11-20")
    db = tmp_path / "relos.db"

    def written() -> tuple[int, int]:
        with sqlite3.connect(db) as c:
            orders = c.execute("SELECT count(*) FROM orders").fetchone()[0]
            jobs = c.execute("SELECT count(*) FROM import_jobs").fetchone()[0]
        return int(orders), int(jobs)

    before = written()
    path = tmp_path / "orders.csv"
    subprocess.run(
        [sys.executable, str(DATASET), "--lines", "60000", "--seed", "7", "--out", str(path)],
        check=True,
        capture_output=True,
    )
    admin = USERS["IND"][Role.PARTY_ADMIN]
    importing = subprocess.Popen(
        [str(RELOS), "import", "orders", str(path), "--as", admin, "--workers", "2"],
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # as a terminal's foreground command has it, even when the tests run where SIGINT is
        # ignored (a background job, nohup): a process that starts ignoring it keeps ignoring it
        preexec_fn=_default_sigint,
    )
    # checking: its two workers live only while the file is checked (60,000 lines take 2.5 s
    # on a fast machine, 15 s on a slow one), and the write starts after they are gone
    deadline = time.monotonic() + 60
    while len(_in_group(importing.pid)) < 3 and time.monotonic() < deadline:
        assert importing.poll() is None, importing.communicate()
        time.sleep(0.02)
    assert len(_in_group(importing.pid)) == 3, "the check's two workers never started"
    os.killpg(importing.pid, signal.SIGINT)
    _, err = importing.communicate(timeout=60)
    assert importing.returncode == 130, err
    assert "interrupted" in err
    assert written() == before
    with pytest.raises(ProcessLookupError):  # nothing left in the command's process group
        os.killpg(importing.pid, 0)
