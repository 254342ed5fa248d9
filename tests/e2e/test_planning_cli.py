"""End to end: the planner and the cap timeline from the `relos` command, on the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

RELOS = Path(sys.executable).parent / "relos"
PLANNER = "Cdr Rahul Menon"  # the demo's Indian planner


def run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELOS_DATABASE_URL": f"sqlite:///{tmp / 'relos.db'}"}
    return subprocess.run(
        [str(RELOS), *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def voyage(tmp: Path, unit: str, to: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return run(
        tmp,
        "plan",
        "voyage",
        "--unit",
        unit,
        "--from",
        "INBOM",
        "--to",
        to,
        "--speed",
        "14",
        "--reserve",
        "20%",
        "--depart",
        "2026-12-01",
        "--as",
        PLANNER,
        *extra,
    )


def test_voyages_are_planned_or_refused_with_reasons_from_the_command_line(
    tmp_path: Path,
) -> None:
    assert run(tmp_path, "demo", "--today", "2026-11-25").returncode == 0
    plan = voyage(tmp_path, "INS-VIKRAMADITYA", "RUVVO", "--json")
    assert plan.returncode == 0, plan.stderr
    answer = json.loads(plan.stdout)
    assert answer["legs"]
    assert answer["legs"][0]["from"] == "INBOM"
    assert answer["legs"][-1]["to"] == "RUVVO"
    geo = voyage(tmp_path, "INS-VIKRAMADITYA", "RUVVO", "--geojson")
    assert geo.returncode == 0, geo.stderr
    assert json.loads(geo.stdout)["type"] == "FeatureCollection"
    frigate = voyage(tmp_path, "INS-TABAR", "RUMMK", "--json")  # by Suez, US bases (LEMOA)
    assert frigate.returncode == 0, frigate.stderr
    assert json.loads(frigate.stdout)["stops"] == ["GRSUD", "ESROT"]
    winter = voyage(tmp_path, "INS-TABAR", "RUSMR")  # December: out of the open-water season
    assert winter.returncode == 6
    assert "arctic_out_of_season" in winter.stderr
    assert "not ice-class: refused" in winter.stderr
    far = voyage(tmp_path, "INS-TABAR", "RUMMK", "--reserve", "60%")
    assert far.returncode == 6
    assert "no_voyage_plan" in far.stderr
    assert "beyond" in far.stderr
    caps = run(tmp_path, "visit", "caps", "--agreement", "RELOS", "--json", "--as", PLANNER)
    assert caps.returncode == 0, caps.stderr
    json.loads(caps.stdout)


def test_a_visit_is_amended_and_cancelled_from_the_command_line(tmp_path: Path) -> None:
    assert run(tmp_path, "demo", "--today", "2026-11-25").returncode == 0
    arrival = date.today() + timedelta(days=90)
    created = run(
        tmp_path,
        "visit",
        "create",
        "--agreement",
        "RELOS",
        "--facility",
        "RUVVO",
        "--unit",
        "INS-TABAR",
        "--use",
        "port_call",
        "--arrival",
        arrival.isoformat(),
        "--departure",
        (arrival + timedelta(days=4)).isoformat(),
        "--commander",
        "Arjun Mehta",
        "--rank",
        "Captain",
        "--frequency",
        "4.125 MHz",
        "--as",
        PLANNER,
        "--json",
    )
    assert created.returncode == 0, created.stderr
    number = json.loads(created.stdout)["number"]
    amended = run(
        tmp_path, "visit", "amend", number, "--commander", "Vikram Rao", "--as", PLANNER, "--json"
    )
    assert amended.returncode == 0, amended.stderr
    assert json.loads(amended.stdout)["revision"] == 2
    order = run(
        tmp_path,
        "order",
        "draft",
        "--agreement",
        "RELOS",
        "--supplying",
        "RUS",
        "--facility",
        "RUVVO",
        "--unit",
        "INS-TABAR",
        "--method",
        "cash",
        "--use",
        "port_call",
        "--required-by",
        (arrival + timedelta(days=1)).isoformat(),
        "--line",
        "RU-DT-GOST305=100",
        "--visit",
        number,
        "--as",
        PLANNER,
        "--json",
    )
    assert order.returncode == 0, order.stderr
    order_number = json.loads(order.stdout)["number"]
    shown = run(tmp_path, "order", "show", order_number, "--json")
    assert json.loads(shown.stdout)["visit"] == number
    refused = run(tmp_path, "visit", "cancel", number, "--reason", "called off", "--as", PLANNER)
    assert refused.returncode == 6
    assert "visit_has_open_orders" in refused.stderr
    assert order_number in refused.stderr
