"""The `relos` command starts fast: importing it loads Typer, Rich and its own modules only.

Each command imports the services (and through them the database, the web framework, PDF and
spreadsheet writers, the sea-route planner, cryptography) when it runs (decision 46). These are
rules about what is imported, not timings, checked in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: packages no command needs before it runs
HEAVY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "reportlab",
    "weasyprint",
    "openpyxl",
    "searoute",
    "cryptography",
    "argon2",
    "alembic",
    "sqlalchemy",
    "psycopg",
    "pydantic",
    "pydantic_settings",
    "yaml",
    "relos.services",
    "relos.storage",
    "relos.api",
    "relos.config",
)


def loaded_after(code: str) -> list[str]:
    """The modules a fresh interpreter has loaded after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    loaded: list[str] = json.loads(out.splitlines()[-1])
    return loaded


def heavy_in(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_importing_the_command_loads_no_service_database_or_web_framework() -> None:
    assert heavy_in(loaded_after("import relos.cli.app")) == []


def test_help_loads_no_service_database_or_web_framework() -> None:
    code = (
        "import sys\nsys.argv = ['relos', '--help']\nfrom relos.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert heavy_in(loaded_after(code)) == []


@pytest.mark.parametrize("group", ["report", "order", "netting", "visit", "plan", "import"])
def test_a_group_help_loads_no_service(group: str) -> None:
    """(Typer itself reads a command's options through pydantic, so pydantic may be there.)"""
    code = (
        f"import sys\nsys.argv = ['relos', '{group}', '--help']\nfrom relos.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    loaded = heavy_in(loaded_after(code))
    assert [m for m in loaded if m.split(".")[0] != "pydantic"] == []


def test_a_report_loads_no_web_framework_pdf_or_planner(tmp_path: object) -> None:
    """`relos report balances` needs the database, not the API, PDFs, spreadsheets or routes."""
    code = (
        "import os, sys\n"
        f"os.environ['RELOS_DATABASE_URL'] = 'sqlite:///{tmp_path}/relos.db'\n"
        "sys.argv = ['relos', 'init']\nfrom relos.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    report = code.replace("'init'", "'report', 'balances'")
    loaded = loaded_after(report)
    assert "sqlalchemy" in loaded  # it did read the database
    for name in ("fastapi", "uvicorn", "reportlab", "openpyxl", "searoute", "alembic", "argon2"):
        assert not [m for m in loaded if m == name or m.startswith(name + ".")], name


def test_the_import_batch_default_is_the_services() -> None:
    from relos.cli import importing
    from relos.services import bulk_import

    assert importing.DEFAULT_BATCH == bulk_import.DEFAULT_BATCH
