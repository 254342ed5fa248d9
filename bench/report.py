"""docs/benchmarks.md and its plots, written from bench/run.py's results (never by hand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PAST = "2026-06-30"  # bench/run.py's past date


def _n(x: float | int | None, digits: int = 0) -> str:
    if x is None:
        return "–"
    return f"{x:,.{digits}f}"


def _mb(x: float | None) -> str:
    return "–" if not x else f"{x:.0f}"


def _size(n: int) -> str:
    return (
        f"{n // 1_000_000}M"
        if n >= 1_000_000 and n % 1_000_000 == 0
        else (f"{n // 1000}k" if n % 1000 == 0 else str(n))
    )


def _plots(results: dict[str, Any], figures: Path) -> dict[str, str]:
    """Draw what there is to draw; returns {name: file name}."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # said in the document; no earlier run's plot is left to mislead
        for old in figures.glob("*.png"):
            old.unlink()
        return {}
    figures.mkdir(parents=True, exist_ok=True)
    made: dict[str, str] = {}
    s = results["sections"]
    rows = [r for r in s.get("import", {}).get("rows", []) if "lines_per_s" in r]
    if rows:
        ns = [r["lines"] for r in rows]
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
        a.plot(ns, [r["lines_per_s"] for r in rows], "o-", label="relos import (every rule)")
        a.plot(ns, [r["raw_lines_per_s"] for r in rows], "s--", label="raw executemany, same rows")
        a.axhline(100_000, color="grey", lw=0.8, ls=":", label="target 100k lines/s")
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel("order lines (N)")
        a.set_ylabel("lines/s")
        a.set_title("Import throughput (SQLite)")
        a.legend(fontsize=8)
        b.plot(ns, [r["peak_mb"] for r in rows], "o-")
        b.set_xscale("log")
        b.set_ylim(0, max(r["peak_mb"] for r in rows) * 1.25)
        b.set_xlabel("order lines (N)")
        b.set_ylabel("peak resident memory, MB")
        b.set_title("Import memory")
        fig.tight_layout()
        fig.savefig(figures / "import.png", dpi=90)
        plt.close(fig)
        made["import"] = "import.png"
    tools = s.get("peers", {}).get("tools", {})
    bars = [(k, v["seconds"]) for k, v in tools.items() if "seconds" in v]
    peers = s.get("peers", {})
    if "relos_import_and_balance_s" in peers:
        bars.append(("relos import + balances", peers["relos_import_and_balance_s"]))
    if bars:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        ax.barh([k for k, _ in bars], [v for _, v in bars])
        ax.set_xlabel("seconds (load and balance)")
        ax.set_title(f"The same {_n(peers.get('lines'))} order lines in each tool")
        fig.tight_layout()
        fig.savefig(figures / "peers.png", dpi=90)
        plt.close(fig)
        made["peers"] = "peers.png"
    api = s.get("api", {})
    cases = []
    for engine in ("sqlite", "postgresql"):
        for kind in ("writes", "reads"):
            k = api.get(engine, {}).get(kind, {}) if isinstance(api.get(engine), dict) else {}
            if "rps" in k:
                cases.append((f"{engine}\n{kind}", k["rps"], k["p50_ms"], k["p99_ms"]))
    if cases:
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
        labels = [c[0] for c in cases]
        a.bar(labels, [c[1] for c in cases])
        a.axhline(1000, color="grey", lw=0.8, ls=":", label="target 1,000 writes/s")
        a.set_ylabel("requests/s")
        a.set_title("API throughput")
        a.legend(fontsize=8)
        x = range(len(cases))
        b.bar([i - 0.2 for i in x], [c[2] for c in cases], width=0.4, label="p50")
        b.bar([i + 0.2 for i in x], [c[3] for c in cases], width=0.4, label="p99")
        b.axhline(50, color="grey", lw=0.8, ls=":", label="target p99 50 ms")
        b.set_xticks(list(x), labels)
        b.set_ylabel("ms")
        b.set_title("API latency")
        b.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(figures / "api.png", dpi=90)
        plt.close(fig)
        made["api"] = "api.png"
    return made


def _cpu(run: dict[str, Any], key: str = "server_cpu_ms") -> str:
    """CPU time per request of a run, the server's or the load generator's (`load_cpu_ms`);
    blank for runs measured before it was kept."""
    ms = run.get(key)
    return "" if ms is None else f"{ms:.2f}"


def _connections(run: dict[str, Any]) -> Any:
    """How many requests the load generator kept going at once (locust's users, in results
    from before wrk)."""
    return run.get("connections", run.get("users"))


def _rounds(api: dict[str, Any]) -> int:
    """How many times each load of section 4 ran (once, for results from before rounds)."""
    return max((r.get("rounds", 1) for r in api.values() if isinstance(r, dict)), default=1)


def _seconds(api: dict[str, Any]) -> int:
    for r in api.values():
        if isinstance(r, dict) and isinstance(r.get("writes"), dict) and "seconds" in r["writes"]:
            return int(r["writes"]["seconds"])
    return 0


def _ratio(x: float) -> str:
    """Two decimals, or two significant digits when that would show 0.00."""
    return f"{x:.2f}" if x >= 0.01 else f"{x:.2g}"


def _status(value: float | None, target: float, higher_is_better: bool = True) -> str:
    if value is None:
        return "not measured"
    ok = value >= target if higher_is_better else value < target
    return "met" if ok else "not met"


def _targets(results: dict[str, Any], targets: dict[str, float]) -> list[str]:
    s = results["sections"]
    rows = [r for r in s.get("import", {}).get("rows", []) if "lines_per_s" in r]
    big = rows[-1] if rows else None
    imp = s.get("balances", {}).get("imported", {})
    peers = s.get("peers", {})
    ledger = peers.get("tools", {}).get("ledger-cli", {}).get("seconds")
    relos_ib = peers.get("relos_import_and_balance_s")
    sq = s.get("api", {}).get("sqlite", {})
    w = sq.get("writes", {}) if isinstance(sq, dict) else {}
    growth = rows[-1]["peak_mb"] / rows[0]["peak_mb"] if len(rows) > 1 else None
    out = [
        "| target | where we stand | ratio to target (≥ 1 meets it) | status |",
        "|---|---|---|---|",
    ]

    def row(
        name: str,
        value: float | None,
        shown: str,
        target: float,
        higher: bool = True,
        note: str = "",
    ) -> None:
        ratio = (
            "–"
            if value is None
            else f"{_ratio(value / target)}×"
            if higher
            else f"{_ratio(target / value)}×"
            if value
            else "–"
        )
        out.append(f"| {name} | {shown} | {ratio} | {_status(value, target, higher)}{note} |")

    tag = f" (N = {_size(big['lines'])})" if big else ""
    row(
        "import ≥ 100,000 lines/s on SQLite",
        big["lines_per_s"] if big else None,
        f"{_n(big['lines_per_s'])} lines/s{tag}" if big else "not measured",
        targets["import_lines_per_s"],
    )
    row(
        "import ≥ 25% of the raw-insert limit",
        big["raw_ratio"] if big else None,
        f"{big['raw_ratio']:.1%} of {_n(big['raw_lines_per_s'])} lines/s{tag}"
        if big
        else "not measured",
        targets["import_raw_ratio"],
    )
    bal = imp.get("balances_now_ms")
    small = bal is not None and imp["lines"] < 1_000_000
    row(
        "balances < 20 ms (at 1M lines)",
        bal,
        f"{bal:.1f} ms at {_size(imp['lines'])} lines ({_n(imp['postings'])} postings)"
        if bal is not None
        else "not measured",
        targets["balances_ms"],
        higher=False,
        note=" below 1M lines only" if small else "",
    )
    pg = s.get("balances", {}).get("imported_postgresql", {})
    pg_ms = pg.get("balances_now_ms")
    row(
        "balances < 20 ms (at 1M lines), PostgreSQL",
        pg_ms,
        f"{pg_ms:.1f} ms at {_size(pg['lines'])} lines (the same books, copied)"
        if pg_ms is not None
        else "not measured",
        targets["balances_ms"],
        higher=False,
        note=" below 1M lines only" if pg_ms is not None and pg["lines"] < 1_000_000 else "",
    )
    ok = None if ledger is None or relos_ib is None else relos_ib < ledger
    out.append(
        "| relos import-and-balance faster than ledger-cli's load-and-balance | "
        + (
            f"relos {relos_ib:.2f} s vs ledger-cli {ledger:.2f} s at {_size(peers['lines'])} lines"
            if ok is not None
            else "not measured"
        )
        + " | "
        + (f"{_ratio(ledger / relos_ib)}×" if ok is not None else "–")
        + " | "
        + ("not measured" if ok is None else "met" if ok else "not met")
        + " |"
    )
    rps = w.get("rps")
    row(
        "API ≥ 1,000 writes/s (SQLite WAL)",
        rps,
        f"{rps:,.0f} writes/s" if rps is not None else "not measured",
        targets["api_writes_per_s"],
    )
    p99 = w.get("p99_ms")
    row(
        "API writes p99 < 50 ms (SQLite WAL)",
        p99,
        f"{p99:.0f} ms at {_connections(w)} connections" if p99 is not None else "not measured",
        targets["api_p99_ms"],
        higher=False,
    )
    row(
        "memory flat as N grows",
        growth,
        f"peak {rows[0]['peak_mb']:.0f} MB at {_size(rows[0]['lines'])} → "
        f"{rows[-1]['peak_mb']:.0f} MB at {_size(rows[-1]['lines'])}"
        if growth is not None
        else "not measured (needs two sizes)",
        targets["memory_growth"],
        higher=False,
    )
    return out


def _not_measured(section: dict[str, Any]) -> list[str]:
    return [f"**Not measured:** {section['not_measured']}", ""] if "not_measured" in section else []


def _when(section: dict[str, Any]) -> str:
    load = section.get("load_average")
    shown = f"; 1-minute load average {load[0]} before, {load[1]} after" if load else ""
    commit = f" at commit {section['relos_commit']}" if section.get("relos_commit") else ""
    return (
        f"_Measured {section.get('measured_at', '?')}{commit} "
        f"({section.get('wall_s', 0):.0f} s{shown})._"
    )


def _import_postgresql(pg: dict[str, Any] | None) -> list[str]:
    """Section 1's PostgreSQL table: the same files imported there, against COPY."""
    if pg is None:
        return []
    if "not_measured" in pg:
        return [f"PostgreSQL: not measured ({pg['not_measured']}).", ""]
    out = [
        "The same files imported into PostgreSQL (a throwaway server on loopback, its default",
        "settings), each into a database holding the same reference data and users (the",
        "SQLite baseline copied there, bench/pg_books.py); the raw limit is the rows of the",
        "SQLite import copied with `COPY` into another such database, in one transaction, every",
        "index, constraint and foreign-key trigger in place.",
        "",
        "| N lines | import s | lines/s | peak MB | with workers MB | raw rows | raw COPY s "
        "| raw lines/s | import / raw |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in pg.get("rows", []):
        if "error" in r:
            out.append(f"| {_n(r['lines'])} | failed: {r['error']} | | | | | | | |")
            continue
        raw = r["raw"]
        out.append(
            f"| {_n(r['lines'])} | {r['seconds']:.2f} | {_n(r['lines_per_s'])} | "
            f"{r['peak_mb']:.0f} | {_mb(r.get('tree_peak_mb'))} | {_n(raw['rows'])} | "
            f"{raw['seconds']:.2f} | {_n(r['raw_lines_per_s'])} | {r['raw_ratio']:.1%} |"
        )
    return [*out, ""]


def write(results: dict[str, Any], doc: Path, figures: Path, targets: dict[str, float]) -> None:
    plots = _plots(results, figures)
    m = results.get("machine", {})
    s = results["sections"]
    out: list[str] = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`); do not edit by hand. Every figure below comes",
        "from a run of the harness on the machine described here; a section that could not run",
        "says so and why. Sizes are the numbers of generated order lines (bench/dataset.py:",
        "valid under every rule, deterministic for a seed) that the run imported.",
        "",
        "## Machine",
        "",
        f"- {m.get('cores')} cores ({m.get('cpu') or 'unknown CPU'}), "
        f"{_n(m.get('memory_gb'), 1)} GiB RAM; {m.get('os')}",
        f"- Python {m.get('python')}, SQLite {m.get('sqlite')}, "
        f"{m.get('postgresql') or 'no PostgreSQL'}",
        f"- relos at commit {m.get('relos_commit')} for the latest section run (each section "
        "names its own)",
        *([f"- {m['bytecode']}"] if m.get("bytecode") else []),
        "- The machine is shared: other processes ran beside the harness, so figures are a floor",
        "  rather than a ceiling.",
        *([] if plots else ["- No plots: matplotlib is not installed (`make bench` installs it)."]),
        "",
        "## Targets",
        "",
        *_targets(results, targets),
        "",
    ]

    imp = s.get("import")
    out += ["## 1. Bulk import", ""]
    if imp is None:
        out += ["Not run yet.", ""]
    else:
        out += [_when(imp), "", *_not_measured(imp)]
        rows = imp.get("rows", [])
        if rows:
            out += [
                "`relos import orders FILE.csv --json` on a SQLite database holding the demo's",
                "reference data and users: every rule checked, every posting written, the check's",
                "batches built by one worker process per core (decision 56). Peak memory is the",
                'importing process\'s own (VmHWM); "with workers" is the peak of the resident',
                "memory of it and its workers summed (pages a worker shares with the process it",
                "was forked from count twice). The raw limit is the same rows the import",
                "wrote, copied into the same tables of a copy of the database as it was before the",
                "import with plain `executemany` in one transaction (bench/raw_insert.py).",
                "",
                "| N lines | orders | import s | lines/s | peak MB | with workers MB | raw rows "
                "| raw s | raw lines/s | import / raw |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for r in rows:
                if "error" in r:
                    out.append(
                        f"| {_n(r['lines'])} | {_n(r['orders'])} | failed: {r['error']} "
                        "| | | | | | | |"
                    )
                    continue
                raw = r["raw"]
                out.append(
                    f"| {_n(r['lines'])} | {_n(r['orders'])} | {r['seconds']:.2f} | "
                    f"{_n(r['lines_per_s'])} | {r['peak_mb']:.0f} | "
                    f"{_mb(r.get('tree_peak_mb'))} | {_n(raw['rows'])} | "
                    f"{raw['seconds']:.2f} | {_n(r['raw_lines_per_s'])} | {r['raw_ratio']:.1%} |"
                )
            out.append("")
            if any(r.get("reused") for r in rows):
                out += [
                    "Some imports above were made by an earlier run and reused (`--keep`); "
                    "their import figures are that run's.",
                    "",
                ]
            out += _import_postgresql(imp.get("postgresql"))
            tables = rows[-1].get("raw", {}).get("tables") if "raw" in rows[-1] else None
            if tables:
                out += [
                    "Rows the import wrote at the largest N, per table: "
                    + ", ".join(f"{k} {_n(v)}" for k, v in tables.items())
                    + ".",
                    "",
                ]
        if "import" in plots:
            out += [f"![import](benchmarks/{plots['import']})", ""]

    bal = s.get("balances")
    out += ["## 2. Balances and aging", ""]
    if bal is None:
        out += ["Not run yet.", ""]
    else:
        out += [_when(bal), ""]
        bp = bal.get("balances_py", {})
        out += ["### bench/balances.py", ""]
        if "not_measured" in bp:
            out += _not_measured(bp)
        for engine in ("sqlite", "postgresql", "sqlite and postgresql"):
            if engine in bp:
                out += [
                    f"{engine} (exit {bp[engine]['code']}, {bp[engine]['seconds']:.0f} s):",
                    "",
                    "```",
                    bp[engine]["output"].strip(),
                    "```",
                    "",
                ]
        ib = bal.get("imported", {})
        out += ["### The imported books, on SQLite and on PostgreSQL", ""]
        pg = bal.get("imported_postgresql", {})
        if "not_measured" in ib:
            out += _not_measured(ib)
        elif ib:
            engines = [("SQLite", ib)] + ([("PostgreSQL", pg)] if "balances_now_ms" in pg else [])
            out += [
                f"The books of {_n(ib['lines'])} imported lines ({_n(ib['postings'])} postings, "
                f"{_n(ib['balance_rows'])} balance rows, {_n(ib['obligations'])} open "
                "obligations), through the services (relos.services.reports) in process, "
                "median of 7 after one warm-up call (balances, the first page, aging); every "
                "obligation (the whole listing) once."
                + (
                    " PostgreSQL: the same books copied into a database relos's migrations made "
                    f"(bench/pg_books.py: {_n(pg['copied_rows'])} rows with COPY in "
                    f"{pg['copy_s']:.0f} s, then VACUUM ANALYZE)."
                    if len(engines) > 1
                    else ""
                ),
                "",
                "| query | "
                + " | ".join(f"{e} today | {e} as of {PAST}" for e, _ in engines)
                + " |",
                "|---|" + "---:|---:|" * len(engines),
            ]

            def row(name: str, now: str, past: str | None, fmt: str) -> None:
                cells = []
                for _, got in engines:
                    cells += [
                        f"{got[now]:{fmt}} ms" if now in got else "–",
                        f"{got[past]:{fmt}} ms" if past and past in got else "",
                    ]
                out.append(f"| {name} | " + " | ".join(cells) + " |")

            row("balances", "balances_now_ms", "balances_past_ms", ".1f")
            row(
                "obligations with due dates and days overdue, every one",
                "obligations_now_ms",
                "obligations_past_ms",
                ".0f",
            )
            row(
                "obligations, the first page (100 rows, as the API gives)",
                "obligations_page_ms",
                None,
                ".1f",
            )
            row(
                f"aging buckets ({_n(ib.get('aging_rows'))} rows: debtor, creditor, commodity;"
                " five bands)",
                "aging_now_ms",
                "aging_past_ms",
                ".1f",
            )
            out += [""]
            since = bal.get("settled_since")
            if since:
                out += [
                    f"Mostly settled books: on a copy of the SQLite books, {_n(since['orders'])}"
                    f" of the orders invoiced by {PAST} were paid in full after it, each as a "
                    f"finance officer records a payment (`ordering.settle`, "
                    f"{since['settle_s']:.0f} s in all). What they owed on {PAST} is not what "
                    "is kept for them now (decisions 62 and 65): aging as of "
                    f"{PAST} {since['aging_past_ms']:.1f} ms, the listing's first page as of "
                    f"it {since['obligations_page_past_ms']:.1f} ms; aging today "
                    f"{since['aging_now_ms']:.1f} ms.",
                    "",
                ]
        if "not_measured" in pg:
            out += ["PostgreSQL:", "", *_not_measured(pg)]

    peers = s.get("peers")
    out += ["## 3. Beancount, hledger and ledger-cli", ""]
    if peers is None:
        out += ["Not run yet.", ""]
    else:
        out += [_when(peers), "", *_not_measured(peers)]
        for problem in peers.get("problems", []):
            out += [f"- problem: {problem}"]
        tools = peers.get("tools", {})
        if tools:
            v = peers.get("versions", {})
            out += [
                f"The books of {_n(peers['lines'])} imported lines, exported by relos "
                f"(`relos export beancount|hledger`: {_n(peers.get('transactions'))} "
                f"transactions, {peers.get('journal_mb', 0):.1f} MB journal). ledger-cli reads "
                "the hledger journal. Each tool loads the file and prints every account's "
                "balance, in a fresh process (start-up included), median of "
                f"{next(iter(tools.values())).get('runs', '?')} runs. Versions: "
                + "; ".join(v.values())
                + ".",
                "",
                "| tool | load and balance, s | peak MB |",
                "|---|---:|---:|",
            ]
            for name, t in tools.items():
                if "seconds" in t:
                    out.append(f"| {name} | {t['seconds']:.2f} | {t['peak_mb']:.0f} |")
                else:
                    out.append(f"| {name} | failed: {t.get('error')} | |")
            if "relos_import_and_balance_s" in peers:
                out.append(
                    f"| relos import (CSV, every rule) + balances | "
                    f"{peers['relos_import_and_balance_s']:.2f} | |"
                )
            out.append("")
            start = tools.get("relos start-up only", {}).get("seconds")
            bal = tools.get("relos balances", {}).get("seconds")
            books = s.get("balances", {}).get("imported") or {}
            query = books.get("balances_now_ms")
            same = books.get("lines") == peers.get("lines")
            if start is not None and bal is not None:
                out += [
                    f"`relos --help` alone takes {start:.2f} s here and "
                    f"`relos report balances` {bal:.2f} s on these books"
                    + (
                        f", whose query takes {query:.1f} ms in process (section 2"
                        + ("" if same else f", on the books of {_n(books['lines'])} lines")
                        + "): the rest is Python starting, the modules the report loads (the"
                        " database layer) and opening the database."
                        if query is not None
                        else "."
                    ),
                    "",
                ]
        if "peers" in plots:
            out += [f"![peers](benchmarks/{plots['peers']})", ""]

    api = s.get("api")
    out += ["## 4. API under load", ""]
    if api is None:
        out += ["Not run yet.", ""]
    else:
        out += [_when(api), "", *_not_measured(api)]
        table = []
        for engine in ("sqlite", "postgresql"):
            r = api.get(engine)
            if not isinstance(r, dict):
                continue
            if "error" in r:
                table.append(f"| {engine} | | failed: {r['error']} | | | | | | | | |")
                continue
            for kind in ("writes", "reads"):
                k = r.get(kind, {})
                if "error" in k:
                    table.append(f"| {engine} | {kind} | failed: {k['error']} | | | | | | | | |")
                elif k:
                    runs = " · ".join(f"{x:,.0f}" for x in k.get("runs_rps", [k["rps"]]))
                    p99s = " · ".join(f"{x:.0f}" for x in k.get("runs_p99_ms", [k["p99_ms"]]))
                    table.append(
                        f"| {engine} | {kind} | {_connections(k)} | {_n(k['requests'])} | "
                        f"{k['rps']:,.0f} | {k['p50_ms']:.0f} / {k['p99_ms']:.0f} | "
                        f"{runs} | {p99s} | {_cpu(k)} | {_cpu(k, 'load_cpu_ms')} | "
                        f"{k['failures']} |"
                    )
        for engine in ("sqlite", "postgresql"):
            r = api.get(engine)
            for kind in ("writes", "reads"):
                k = r.get(kind, {}) if isinstance(r, dict) else {}
                if k.get("first_failure"):
                    table.append("")
                    table.append(f"First {engine} {kind} failure: `{k['first_failure']}`")
        if table:
            served = next(
                (r["server"] for r in api.values() if isinstance(r, dict) and "server" in r),
                "relos serve (uvicorn)",
            )
            out += [
                "wrk (Debian's; one thread keeping each connection busy, the next request sent",
                f"as soon as the last is answered) against `{served}` on 127.0.0.1, both on this",
                "machine's cores. writes: `POST /orders` (a new order, its own Idempotency-Key);",
                "reads: `GET /ledger/balances`. A fresh database per engine (reference data and",
                "users); the reads run after the writes, on the books they filled. Each load runs",
                f"{_rounds(api)} times in turn (writes, reads, writes, ...), "
                f"{_seconds(api)} s each; on this shared machine one run may be half as fast",
                "as the one before it, so the table shows the run of median throughput (its",
                "requests and latencies) and every run's req/s and p99 beside it.",
                "Server CPU is the CPU time the server's processes spent in that run, per",
                "request: what a request costs relos; load CPU is what wrk spent per request,",
                "the share of the two cores the load generator took (decision 94).",
                "",
                "| database | load | connections | requests | req/s | p50 / p99 ms | runs' req/s "
                "| runs' p99 ms | server CPU ms/request | load CPU ms/request | failures |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
                *table,
                "",
            ]
        if "api" in plots:
            out += [f"![api](benchmarks/{plots['api']})", ""]

    sc = s.get("scale")
    out += ["## 5. Planner and reconciliation at scale", ""]
    if sc is None:
        out += ["Not run yet.", ""]
    else:
        out += [_when(sc), ""]
        pl = sc.get("planner", {})
        if pl:
            out += [
                f"### bench/planner.py (exit {pl.get('code')}, {pl.get('seconds', 0):.0f} s)",
                "",
                "```",
                pl.get("output", ""),
                "```",
                "",
            ]
        rec = sc.get("reconciliation", {})
        out += ["### Reconciliation", ""]
        if "not_measured" in rec:
            out += _not_measured(rec)
        elif "error" in rec:
            out += [f"**Failed:** {rec['error']}", ""]
        elif rec:
            lines = rec["statement_lines"]

            def per_line(step: str) -> str:
                rate = rec.get(f"{step}_lines_per_s")
                return "" if rate is None else f"{rate:,.0f}"

            made = ""
            if rec.get("import_s") is not None:
                made = (
                    f" (`relos import orders`: {rec['import_s']:.0f} s, "
                    f"{rec['lines'] / rec['import_s']:,.0f} lines/s, peak "
                    f"{rec.get('import_peak_mb', 0):.0f} MB)"
                )
            out += [
                f"The statement's books: {_n(rec['orders'])} generated RELOS orders between "
                "India and Russia, both directions, of one line each (bench/dataset.py "
                "`--agreement RELOS --max-lines 1`), imported into a fresh copy of the "
                f"baseline{made}. A statement line is one order the two parties share, so "
                f"RUS's signed statement of them has {_n(lines)} lines "
                f"({rec['statement_mb']:.1f} MB). RUS exports it with "
                "`relos reconcile export`; IND matches it with "
                f"`relos reconcile match --summary --json` (counts {rec.get('counts')}; the "
                "run's lines stay in storage). Each step is one `relos` command, start-up "
                "included, on a throwaway copy of the books.",
                "",
                "| step | seconds | statement lines/s | peak MB |",
                "|---|---:|---:|---:|",
                f"| export (sign, stream) | {rec['export_s']:.2f} | {per_line('export')} "
                f"| {rec['export_peak_mb']:.0f} |",
                f"| match (verify, stream, store) | {rec['match_s']:.2f} | {per_line('match')} "
                f"| {rec['match_peak_mb']:.0f} |",
                "",
            ]
    doc.write_text("\n".join(out).rstrip() + "\n", encoding="utf-8")
