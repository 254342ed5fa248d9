"""The only place that knows Rich: tables for people, JSON for machines.

A cell is shown as it is: its text is never read as Rich markup or emoji codes (an order's
free data "[/ref]" would otherwise fail the command, "[b]x[/b]" show as "x"). A table of more
than `RICH_ROWS` rows is written line by line by `boxed_lines`, in Rich's own box and
alignment, without Rich rendering each cell (decision 84).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.control import strip_control_codes
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
from rich.text import Text

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


def emit_json_items(items: Iterable[Any]) -> None:
    """A JSON array written an item at a time, the text `emit_json` writes for the list."""
    write = sys.stdout.write
    first = True
    for item in items:
        text = json.dumps(plain(item), ensure_ascii=False, indent=2).replace("\n", "\n  ")
        write(("[\n  " if first else ",\n  ") + text)
        first = False
    write("[]\n" if first else "\n]\n")


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


#: tables of more rows than this are written by `boxed_lines`: Rich measures and renders each
#: cell as a renderable, about 1.2 ms a row of six cells (decision 84)
RICH_ROWS = 500


def table(
    title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[str] = ()
) -> None:
    cells = [[cell(v) for v in row] for row in rows]
    if not cells:
        out.print(Text(f"{title}: none"))
        return
    right = [c in numeric for c in columns]
    if len(cells) > RICH_ROWS:
        file = out.file
        for line in boxed_lines(title, columns, cells, right):
            file.write(line)
            file.write("\n")
        file.flush()
        return
    t = Table(title=Text(title, style="table.title"), title_justify="left")
    for c, r in zip(columns, right, strict=True):
        t.add_column(c, justify="right" if r else "left")
    for row in cells:
        t.add_row(*(Text(c) for c in row))
    out.print(t)


def boxed_lines(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]
) -> Iterator[str]:
    """A table as Rich draws it when it fits the console (the title padded to the table's
    width, a heavy head, each cell padded by one space, numeric columns right-aligned, a
    cell of several lines on as many), without styles, and with no column narrowed to fit a
    console: a wide table is as wide as its widest cells. Widths are in terminal cells
    (`cell_len`: a Devanagari vowel sign takes none, a CJK character two)."""
    widths = [cell_len(c) for c in columns]
    shown: list[tuple[str, ...]] = []  # each cell's text as shown, lines joined by "\n"
    for row in rows:
        texts = tuple(_shown(c) for c in row)
        for i, text in enumerate(texts):
            w = max(map(cell_len, text.split("\n"))) if "\n" in text else cell_len(text)
            if w > widths[i]:
                widths[i] = w
        shown.append(texts)
    if title:
        total = sum(widths) + 3 * len(widths) + 1
        yield title + " " * (total - cell_len(title))
    yield "┏" + "┳".join("━" * (w + 2) for w in widths) + "┓"
    head = (_fit(c, w, r) for c, w, r in zip(columns, widths, right, strict=True))
    yield "┃" + "┃".join(head) + "┃"
    yield "┡" + "╇".join("━" * (w + 2) for w in widths) + "┩"
    for texts in shown:
        if not any("\n" in text for text in texts):
            cells = (_fit(t, w, r) for t, w, r in zip(texts, widths, right, strict=True))
            yield "│" + "│".join(cells) + "│"
            continue
        parts = [text.split("\n") for text in texts]
        for k in range(max(map(len, parts))):
            cells = (
                _fit(lines[k] if k < len(lines) else "", w, r)
                for lines, w, r in zip(parts, widths, right, strict=True)
            )
            yield "│" + "│".join(cells) + "│"
    yield "└" + "┴".join("─" * (w + 2) for w in widths) + "┘"


def _shown(text: str) -> str:
    """A cell's text as Rich shows it: control codes (bell, backspace, carriage return...)
    left out. A tab is expanded to the next multiple of eight (Rich counts it as no width
    when it measures a column, then expands it, and wraps the cell)."""
    if not text.isprintable():
        text = strip_control_codes(text)
        if "\t" in text:
            text = "\n".join(line.expandtabs(8) for line in text.split("\n"))
    return text


def _fit(text: str, width: int, right: bool) -> str:
    if right:
        text = text.rstrip()  # as Rich aligns a line right: without its trailing spaces
        return f" {' ' * (width - cell_len(text))}{text} "
    return f" {text}{' ' * (width - cell_len(text))} "


def fields(title: str, pairs: Iterable[tuple[str, Any]]) -> None:
    t = Table(title=Text(title, style="table.title"), title_justify="left", show_header=False)
    t.add_column("field", style="bold")
    t.add_column("value")
    for k, v in pairs:
        t.add_row(k, Text(cell(v)))
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
