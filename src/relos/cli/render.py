"""The only place that knows Rich: tables for people, JSON for machines."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.console import Console
from rich.markup import escape
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
