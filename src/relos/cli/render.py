"""The only place that knows Rich: tables for people, JSON for machines."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

# Wide enough for a report when written to a file or a pipe; the terminal's width otherwise.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


def plain(value: Any) -> Any:
    """JSON-ready form of domain values: Decimal as text (exact), dates ISO, enums by value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def emit_json(value: Any) -> None:
    print(json.dumps(plain(value), ensure_ascii=False, indent=2))


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {cell(v)}" for k, v in value.items() if v not in (0, None, ""))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def table(
    title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[str] = ()
) -> None:
    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c, justify="right" if c in numeric else "left")
    n = 0
    for row in rows:
        t.add_row(*(cell(v) for v in row))
        n += 1
    if n == 0:
        out.print(f"{title}: none")
    else:
        out.print(t)


def fields(title: str, pairs: Iterable[tuple[str, Any]]) -> None:
    t = Table(title=title, title_justify="left", show_header=False)
    t.add_column("field", style="bold")
    t.add_column("value")
    for k, v in pairs:
        t.add_row(k, cell(v))
    out.print(t)


def ok(message: str) -> None:
    out.print(f"[green]✓[/green] {escape(message)}")


def error(text: str) -> None:
    err.print(f"[red]error[/red] {escape(text)}", highlight=False, soft_wrap=True)


class Bar:
    """A progress bar on stderr (rows and rows/s), for a long command; silent when `quiet`."""

    def __init__(self, quiet: bool) -> None:
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        if not quiet:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("rows"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=err,
                transient=False,
            )
        self._started: dict[str, float] = {}

    def __enter__(self) -> Bar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, phase: str, done: int, total: int | None) -> None:
        if self._progress is None:
            return
        if phase not in self._tasks:
            self._tasks[phase] = self._progress.add_task(phase, total=total, rate="")
            self._started[phase] = time.perf_counter()
        seconds = time.perf_counter() - self._started[phase]
        rate = f"{done / seconds:,.0f} rows/s" if seconds > 0 else ""
        self._progress.update(self._tasks[phase], completed=done, total=total, rate=rate)
