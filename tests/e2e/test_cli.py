"""End to end: the real `relos` command in a subprocess, on a fresh SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

RELOS = Path(sys.executable).parent / "relos"
BEAN_CHECK = Path(sys.executable).parent / "bean-check"

REFERENCE = """
parties:
  - {code: IND, name: India, native_name: भारत, currency: INR}
  - {code: RUS, name: Russia, native_name: Россия, currency: RUB}
agreements:
  - code: RELOS
    title: Reciprocal Exchange of Logistics Agreement
    title_native: Соглашение о взаимном материально-техническом обеспечении
    parties: [IND, RUS]
    signed_on: 2025-02-18
    steps:
      - {party: RUS, step: State Duma ratifies, date: 2025-12-02}
      - {party: IND, step: Notification, date: 2026-01-09}
facilities:
  - {code: SEVEROMORSK, name: Severomorsk, native_name: Североморск, party: RUS,
     kind: naval_base, categories: [pol, water], open_under: [RELOS]}
units:
  - {code: INS-TABAR, name: INS Tabar, native_name: आईएनएस तबर, party: IND}
price_lists:
  - supplier: RUS
    items:
      - {code: 9140-00-273-2377, description: F-76 diesel, category: pol,
         unit_of_measure: t, unit_price: "65000.00", currency: RUB, valid_from: 2025-01-01}
"""

USERS = [
    ("Cdr Arjun Mehta", "IND", "ordering_officer"),
    ("Lt Priya Nair", "IND", "receiving_officer"),
    ("Cdr Vikram Rao", "IND", "finance_officer"),
    ("Капитан Иван Петров", "RUS", "accepting_officer"),
    ("Майор Ольга Смирнова", "RUS", "finance_officer"),
]


class Cli:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.env = {**os.environ, "RELOS_DATABASE_URL": f"sqlite:///{tmp / 'relos.db'}"}
        self.env.pop("RELOS_USER", None)

    def run(self, *args: str, code: int = 0, user: str | None = None) -> str:
        env = dict(self.env)
        if user:
            env["RELOS_USER"] = user
        done = subprocess.run(
            [str(RELOS), *args], capture_output=True, text=True, env=env, timeout=60, check=False
        )
        assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
        return done.stdout + done.stderr

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json"))


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    c = Cli(tmp_path)
    c.run("init")
    (tmp_path / "reference.yaml").write_text(REFERENCE, encoding="utf-8")
    c.run("load", str(tmp_path / "reference.yaml"))
    for name, party, role in USERS:
        c.run("user", "add", name, "--party", party, "--role", role)
    return c


def draft(cli: Cli, quantity: str = "400") -> str:
    out = cli.json(
        "order",
        "draft",
        "--agreement",
        "RELOS",
        "--supplying",
        "RUS",
        "--facility",
        "SEVEROMORSK",
        "--unit",
        "INS-TABAR",
        "--method",
        "cash",
        "--use",
        "port_call",
        "--required-by",
        "2026-12-10",
        "--line",
        f"9140-00-273-2377={quantity}",
        "--data",
        "point_of_contact=Cdr Mehta",
        "--data",
        "delivery_location=Berth 3",
        "--data",
        "purpose=Arctic port call",
        "--as",
        "Cdr Arjun Mehta",
    )
    number: str = out["number"]
    return number


def test_an_order_goes_from_draft_to_closed_from_the_command_line(cli: Cli, tmp_path: Path) -> None:
    n = draft(cli)
    assert n.startswith("RELOS-IN-")
    cli.run("order", "submit", n, "--as", "Cdr Arjun Mehta")
    cli.run("order", "accept", n, user="Капитан Иван Петров")  # RELOS_USER works as --as
    cli.run("order", "receive", n, "--line", "1=150", "--as", "Lt Priya Nair")
    assert cli.json("order", "show", n)["state"] == "partially_received"
    cli.run("order", "receive", n, "--all", "--as", "Lt Priya Nair")
    cli.run("order", "invoice", n, "--as", "Майор Ольга Смирнова")
    cli.run("order", "settle", n, "--amount", "6000000", "--as", "Cdr Vikram Rao")
    rows = cli.json("report", "balances", "--book", "RUS")["balances"]
    assert [(r["account_name"], r["amount"]) for r in rows] == [
        ("receivable:IND:cash", "20000000.00")
    ]
    cli.run("order", "settle", n, "--amount", "20000000", "--as", "Cdr Vikram Rao")
    cli.run("order", "close", n, "--as", "Майор Ольга Смирнова")
    order = cli.json("order", "show", n)
    assert order["state"] == "closed"
    assert [s["action"] for s in order["signatures"]] == [
        "submit",
        "accept",
        "receive",
        "receive",
        "invoice",
        "settle",
        "settle",
        "close",
    ]
    assert {s["user"] for s in order["signatures"]} >= {"Капитан Иван Петров", "Lt Priya Nair"}
    assert cli.json("report", "balances")["balances"] == []

    journal = tmp_path / "books.beancount"
    cli.run("export", "beancount", "--output", str(journal))
    checked = subprocess.run(
        [str(BEAN_CHECK), str(journal)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr


def test_the_requester_cannot_accept_its_own_order_and_nothing_is_written(cli: Cli) -> None:
    n = draft(cli)
    cli.run("order", "submit", n, "--as", "Cdr Arjun Mehta")
    out = cli.run("order", "accept", n, "--as", "Cdr Arjun Mehta", code=5)
    assert "permission_denied" in out
    assert "Cdr Arjun Mehta" in out
    order = cli.json("order", "show", n)
    assert order["state"] == "submitted"
    assert [s["action"] for s in order["signatures"]] == ["submit"]


def test_a_receipt_beyond_the_ordered_quantity_names_rule_field_and_value(cli: Cli) -> None:
    n = draft(cli)
    cli.run("order", "submit", n, "--as", "Cdr Arjun Mehta")
    cli.run("order", "accept", n, "--as", "Капитан Иван Петров")
    out = cli.run("order", "receive", n, "--line", "1=401", "--as", "Lt Priya Nair", code=6)
    assert "receipt_exceeds_order" in out
    assert "lines[1].quantity" in out
    assert "401" in out
    assert cli.json("report", "balances")["balances"] == []


def test_a_bad_reference_file_is_refused_whole_naming_the_record(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "parties:\n  - {code: USA, name: United States, currency: USD}\n"
        "facilities:\n  - {code: NORFOLK, name: Norfolk, party: USA, kind: harbour}\n",
        encoding="utf-8",
    )
    out = cli.run("load", str(bad), code=3)
    assert "facilities[0].kind" in out
    assert "harbour" in out
    assert [p["code"] for p in cli.json("party", "list")] == ["IND", "RUS"]


def test_agreement_status_is_derived_and_shown_with_its_history(cli: Cli) -> None:
    before = cli.json("agreement", "show", "RELOS", "--as-of", "2025-12-05")
    assert before["status"] == "ratifying"
    after = cli.json("agreement", "show", "RELOS", "--as-of", "2026-02-01")
    assert after["status"] == "in_force"
    assert after["entry_into_force"] == "2026-01-09"
    assert [h["event"] for h in after["history"]][:2] == ["signed", "RUS: State Duma ratifies"]
    assert after["title_native"].startswith("Соглашение")


def test_names_in_devanagari_and_cyrillic_round_trip(cli: Cli) -> None:
    parties = {p["code"]: p["native_name"] for p in cli.json("party", "list")}
    assert parties == {"IND": "भारत", "RUS": "Россия"}
    assert cli.json("unit", "show", "INS-TABAR")["native_name"] == "आईएनएस तबर"
    users = {u["name"] for u in cli.json("user", "list")}
    assert "Майор Ольга Смирнова" in users


def test_names_with_brackets_and_colons_are_listed_as_written(cli: Cli, tmp_path: Path) -> None:
    # Rich reads "[/B]" as a closing tag (the command failed), "[b]…[/b]" as bold and
    # ":anchor:" as an emoji: a table shows a name as it was loaded
    name, native = "Pier [/B] :anchor: [b]2[/b]", "Причал [i]Б[/i]"
    (tmp_path / "pier.yaml").write_text(
        f'facilities:\n  - {{code: PIER-B, name: "{name}", native_name: "{native}", party: RUS,'
        " kind: port, categories: [water], open_under: [RELOS]}\n",
        encoding="utf-8",
    )
    cli.run("load", str(tmp_path / "pier.yaml"))
    listed = cli.run("facility", "list", "--party", "RUS")
    (row,) = [line for line in listed.splitlines() if "PIER-B" in line]
    assert f"│ {name} │ {native} " in row


def test_a_command_on_a_database_not_created_says_to_run_init(tmp_path: Path) -> None:
    c = Cli(tmp_path)
    out = c.run("party", "list", code=8)
    assert "relos init" in out


def test_order_list_pages_in_the_database_in_every_format(cli: Cli, tmp_path: Path) -> None:
    numbers = sorted(draft(cli) for _ in range(3))
    table = cli.run("order", "list", "--limit", "1", "--offset", "1")
    assert [n for n in numbers if n in table] == [numbers[1]]
    listed = cli.json("order", "list", "--limit", "2")
    assert [o["number"] for o in listed] == numbers[:2]
    assert listed[0]["lines"][0]["item"] == "9140-00-273-2377"
    assert cli.json("order", "list", "--offset", "3") == []
    text = cli.run("order", "list", "--format", "csv", "--offset", "2")
    assert [row.split(",")[0] for row in text.splitlines()] == ["number", numbers[2]]
    out = tmp_path / "orders.csv"
    assert "3 orders written" in cli.run("order", "list", "--csv", str(out))
    assert [row.split(",")[0] for row in out.read_text().splitlines()] == ["number", *numbers]
    assert not (tmp_path / "orders.csv.part").exists()


def test_report_open_pages_by_number_and_refuses_a_bad_page(cli: Cli) -> None:
    numbers = sorted(draft(cli) for _ in range(3))
    listed = cli.json("report", "open", "--limit", "2", "--offset", "1")
    assert [r["number"] for r in listed] == numbers[1:3]
    table = cli.run("report", "open", "--limit", "1")
    assert [n for n in numbers if n in table] == numbers[:1]
    assert cli.json("report", "open", "--offset", "3") == []
    assert "field limit, value 0" in cli.run("report", "open", "--limit", "0", code=3)
    assert "field offset, value -2" in cli.run("report", "open", "--offset", "-2", code=3)


def test_order_list_refuses_a_bad_page_or_file_naming_the_option(cli: Cli, tmp_path: Path) -> None:
    draft(cli)
    assert "field limit, value 0" in cli.run("order", "list", "--limit", "0", code=3)
    assert "field offset, value -1" in cli.run("order", "list", "--json", "--offset", "-1", code=3)
    missing = tmp_path / "no-such-dir" / "orders.csv"
    out = cli.run("order", "list", "--csv", str(missing), code=3)
    assert f"field csv, value {missing}" in out
    assert "Traceback" not in out
