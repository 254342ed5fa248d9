"""The same transactions in Beancount, hledger and ledger-cli: each tool's load-and-balance time.

The books a `relos import` wrote are exported with relos's own journal export
(`relos export beancount` and `relos export hledger`, src/relos/services/journal.py); ledger-cli
reads the hledger journal (the two formats share their syntax for what the export writes). Each
tool then loads the file and prints every account's balance, as a person would ask it:

- hledger: ``hledger -f BOOKS.journal balance``
- ledger-cli: ``ledger -f BOOKS.journal balance``
- Beancount: ``loader.load_file`` (parses, books, runs the check_commodity plugin and validates)
  and the balance of every account (``realization.realize``), in a fresh Python process, as
  ``python bench/peers.py beancount-balance BOOKS.beancount``.

The tools are installed here, at bench time, not as project dependencies: Debian's ``hledger``
and ``ledger`` with apt-get, PyPI's ``beancount`` into the project's venv with pip.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import world


def ensure_tools() -> list[str]:
    """Install what is missing; returns what could not be had (each with the reason)."""
    problems = world.apt_install({"hledger": "hledger", "ledger": "ledger"})
    if world.run([world.PYTHON, "-c", "import beancount.loader"]).code != 0:
        done = subprocess.run(
            [world.PYTHON, "-m", "pip", "install", "-q", "beancount"],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            problems.append(f"beancount: pip install failed: {done.stderr.strip()[-200:]}")
    return problems


def versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for name, cmd in (("hledger", ["hledger", "--version"]), ("ledger", ["ledger", "--version"])):
        if shutil.which(cmd[0]):
            out[name] = subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
    r = world.run([world.PYTHON, "-c", "import beancount; print(beancount.__version__)"])
    if r.code == 0:
        out["beancount"] = "beancount " + r.out.strip()
    return out


def beancount_balance(path: Path) -> int:
    """Load a Beancount file and compute every account's balance; print how many accounts."""
    from beancount import loader
    from beancount.core import realization

    entries, errors, _options = loader.load_file(str(path))
    if errors:
        print(f"{len(errors)} errors, first: {errors[0]}", file=sys.stderr)
        return 1
    real = realization.realize(entries)
    accounts = [
        (ra.account, ra.balance)
        for ra in realization.iter_children(real)
        if not ra.balance.is_empty()
    ]
    for name, balance in accounts:
        print(name, balance)
    return 0


def median_run(cmd: list[str], repeat: int, url: str | None = None) -> dict[str, Any]:
    runs = [world.run(cmd, url) for _ in range(repeat)]
    bad = [r for r in runs if r.code != 0]
    if bad:
        return {"error": f"exit {bad[0].code}: {(bad[0].err or bad[0].out).strip()[-300:]}"}
    return {
        "seconds": statistics.median(r.seconds for r in runs),
        "peak_mb": max(r.peak_mb for r in runs),
        "runs": len(runs),
    }


def measure(url: str, work: Path, repeat: int = 3) -> dict[str, Any]:
    """Export the books in `url`, then time each tool's load-and-balance and relos's balances."""
    result: dict[str, Any] = {"problems": ensure_tools(), "versions": versions()}
    bean, journal = work / "books.beancount", work / "books.journal"
    for fmt, path in (("beancount", bean), ("hledger", journal)):
        r = world.relos(["export", fmt, "--output", str(path)], url)
        if r.code != 0:
            result["problems"].append(f"relos export {fmt} failed: {r.err.strip()[-300:]}")
            return result
        result[f"export_{fmt}_s"] = r.seconds
    result["transactions"] = sum(
        1 for line in journal.read_text(encoding="utf-8").splitlines() if line[:1].isdigit()
    )
    result["journal_mb"] = journal.stat().st_size / 2**20
    tools: dict[str, Any] = {}
    if shutil.which("hledger"):
        tools["hledger"] = median_run(["hledger", "-f", str(journal), "balance"], repeat)
    if shutil.which("ledger"):
        tools["ledger-cli"] = median_run(["ledger", "-f", str(journal), "balance"], repeat)
    tools["beancount"] = median_run(
        [world.PYTHON, __file__, "beancount-balance", str(bean)], repeat
    )
    tools["relos balances"] = median_run([world.RELOS, "report", "balances", "--json"], repeat, url)
    # what any relos command costs before it does anything (Python and module start-up)
    tools["relos start-up only"] = median_run([world.RELOS, "--help"], repeat)
    result["tools"] = tools
    return result


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "beancount-balance":
        sys.exit(beancount_balance(Path(sys.argv[2])))
    print(__doc__)
    sys.exit(2)
