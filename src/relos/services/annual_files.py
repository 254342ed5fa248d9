"""The annual report as JSON, XLSX (openpyxl, with a native bar chart of monthly flows) and PDF
(WeasyPrint, with a hand-written SVG chart; Noto fonts render Devanagari and Cyrillic names)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from relos.domain.settlement import AnnualReport, Unreconciled
from relos.services.audit import plain

Names = dict[str, tuple[str, str]]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def as_json(report: AnnualReport, names: Names) -> dict[str, Any]:
    return {
        "agreement": report.agreement,
        "year": report.year,
        "as_of": report.as_of.isoformat(),
        "parties": {p: {"name": n[0], "native_name": n[1]} for p, n in sorted(names.items())},
        "currency_note": report.currency_note,
        "support": [plain(r) for r in report.rows],
        "unreconciled_over_a_year": [unreconciled_row(u) for u in report.unreconciled],
        "unreconciled_rule": UNRECONCILED_RULE,
        "ceilings": [
            {
                "name": c.name,
                "party": c.party,
                "direction": c.direction,
                "ceiling": str(c.ceiling.number),
                "currency": c.ceiling.commodity,
                "exempt_categories": list(c.exempt_categories),
                "used": str(c.used),
                "exempt": str(c.exempt),
                "remaining": str(c.ceiling.number - c.used),
                "not_counted_other_currencies": plain(c.not_counted),
                "converted_other_currencies": [
                    {
                        "currency": cur,
                        "amount": str(v),
                        "rate": str(r),
                        "rate_on": on.isoformat(),
                        "source": src,
                    }
                    for cur, v, r, on, src in c.converted
                ],
            }
            for c in report.ceilings
        ],
        "monthly": [
            {"giver": g, "receiver": r, "currency": cur, "values": [str(v) for v in vals]}
            for (g, r, cur), vals in report.monthly.items()
        ],
    }


UNRECONCILED_RULE = (
    "lines of the party's latest reconciliation run per counterparty not matched and not "
    "resolved more than a year after their transaction (date, country, value)"
)
UNRECONCILED_COLUMNS = [
    "transaction date",
    "country",
    "order",
    "value",
    "currency",
    "status",
    "disputed",
    "run",
    "line",
    "details",
]


def unreconciled_row(u: Unreconciled) -> dict[str, Any]:
    """One unreconciled transaction as the JSON shows it (the XLSX and PDF show the same)."""
    return {
        "transaction_date": u.transaction_date.isoformat(),
        "country": u.country,
        "order": u.order,
        "value": None if u.value is None else str(u.value.number),
        "currency": None if u.value is None else u.value.commodity,
        "status": u.status,
        "disputed": u.disputed,
        "run": u.run,
        "line": u.line,
        "details": list(u.details),
    }


def _unreconciled_cells(u: Unreconciled) -> list[str]:
    r = unreconciled_row(u)
    return [
        r["transaction_date"],
        r["country"],
        r["order"],
        r["value"] or "",
        r["currency"] or "",
        r["status"],
        "yes" if r["disputed"] else "no",
        str(r["run"]),
        str(r["line"]),
        "; ".join(r["details"]),
    ]


def chart_svg(report: AnnualReport) -> str:
    """Bars of the value delivered each month, one colour per direction (floats for drawing)."""
    series = list(report.monthly.items())
    w, h, pad = 640, 240, 40
    top = max((float(v) for _, vals in series for v in vals), default=0.0) or 1.0
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    n = max(len(series), 1)
    slot = (w - 2 * pad) / 12
    bar = slot * 0.8 / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h + 40}" '
        f'viewBox="0 0 {w} {h + 40}">',
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#333"/>',
    ]
    for m, label in enumerate(MONTHS):
        x = pad + m * slot + slot / 2
        parts.append(
            f'<text x="{x:.1f}" y="{h - pad + 14}" font-size="10" '
            f'text-anchor="middle">{label}</text>'
        )
    for i, ((g, r, cur), vals) in enumerate(series):
        colour = colours[i % len(colours)]
        for m, v in enumerate(vals):
            bh = float(v) / top * (h - 2 * pad)
            x = pad + m * slot + slot * 0.1 + i * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{h - pad - bh:.1f}" width="{bar:.1f}" '
                f'height="{bh:.1f}" fill="{colour}"/>'
            )
        parts.append(
            f'<rect x="{pad + i * 180}" y="{h - 6}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{pad + i * 180 + 14}" y="{h + 3}" font-size="11">'
            f"{escape(g)} → {escape(r)} ({escape(cur)})</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def write_xlsx(report: AnnualReport, names: Names, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Support"
    ws.append([f"{report.agreement} annual report {report.year} (as of {report.as_of})"])
    ws.append([report.currency_note])
    ws.append(
        [
            "giver",
            "receiver",
            "category",
            "currency",
            "total value",
            "collected",
            "outstanding",
            "orders",
        ]
    )
    for r in report.rows:  # numbers as text: exact decimals, never a float
        ws.append(
            [
                r.giver,
                r.receiver,
                r.category,
                r.currency,
                str(r.total_value),
                str(r.collected),
                str(r.outstanding),
                r.orders,
            ]
        )
    un = wb.create_sheet("Unreconciled")
    un.append(UNRECONCILED_COLUMNS)
    for u in report.unreconciled:
        un.append(_unreconciled_cells(u))
    ce = wb.create_sheet("Ceilings")
    ce.append(
        [
            "ceiling",
            "party",
            "direction",
            "amount",
            "currency",
            "exempt categories",
            "used",
            "exempt",
            "remaining",
            "other currencies (not counted)",
        ]
    )
    for c in report.ceilings:
        ce.append(
            [
                c.name,
                c.party,
                c.direction,
                str(c.ceiling.number),
                c.ceiling.commodity,
                ", ".join(c.exempt_categories),
                str(c.used),
                str(c.exempt),
                str(c.ceiling.number - c.used),
                "; ".join(f"{v} {k}" for k, v in sorted(c.not_counted.items())),
            ]
        )
    mo = wb.create_sheet("Monthly")
    mo.append(["month", *[f"{g}→{r} {cur}" for (g, r, cur) in report.monthly]])
    for m, label in enumerate(MONTHS):
        mo.append([label, *[float(vals[m]) for vals in report.monthly.values()]])  # chart data
    pa = wb.create_sheet("Parties")
    pa.append(["code", "name", "native name"])
    for code, (name, native) in sorted(names.items()):
        pa.append([code, name, native])
    if report.monthly:
        chart = BarChart()
        chart.title = "Support delivered per month"
        data = Reference(mo, min_col=2, max_col=1 + len(report.monthly), min_row=1, max_row=13)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(mo, min_col=1, min_row=2, max_row=13))
        mo.add_chart(chart, "H2")
    wb.save(path)


def _table(head: list[str], rows: list[list[str]], css: str = "") -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}><tr>{th}</tr>{body}</table>"


def html(report: AnnualReport, names: Names) -> str:
    parties = "".join(
        f"<li>{escape(code)}: {escape(n)} — {escape(native)}</li>"
        for code, (n, native) in sorted(names.items())
    )
    support = _table(
        ["giver", "receiver", "category", "currency", "total value", "collected", "outstanding"],
        [
            [
                r.giver,
                r.receiver,
                r.category,
                r.currency,
                f"{r.total_value:,}",
                f"{r.collected:,}",
                f"{r.outstanding:,}",
            ]
            for r in report.rows
        ],
    )
    unrec = _table(
        UNRECONCILED_COLUMNS, [_unreconciled_cells(u) for u in report.unreconciled], "unrec"
    )
    ceil = _table(
        ["ceiling", "party", "direction", "amount", "exempt", "used", "remaining", "not counted"],
        [
            [
                c.name,
                c.party,
                c.direction,
                str(c.ceiling),
                ", ".join(c.exempt_categories),
                f"{c.used:,}",
                f"{c.ceiling.number - c.used:,}",
                "; ".join(f"{v} {k}" for k, v in sorted(c.not_counted.items())),
            ]
            for c in report.ceilings
        ],
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>
body {{ font-family: "Noto Sans", "Noto Sans Devanagari", sans-serif; font-size: 10pt; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 1em; }}
td, th {{ border: 1px solid #999; padding: 2px 4px; }}
table.unrec td, table.unrec th {{ font-size: 7pt; white-space: nowrap; }}
table.unrec td:last-child {{ white-space: normal; overflow-wrap: anywhere; }}
</style></head><body>
<h1>{escape(report.agreement)} — annual report {report.year}</h1>
<p>As of {report.as_of.isoformat()}. {escape(report.currency_note)}.</p>
<ul>{parties}</ul>
<h2>Support given and received, by category</h2>{support}
<h2>Monthly flows</h2>{chart_svg(report)}
<h2>Unreconciled after a year ({escape(UNRECONCILED_RULE)})</h2>{unrec}
<h2>Annual ceilings</h2>{ceil}
</body></html>"""


def write_pdf(report: AnnualReport, names: Names, path: Path) -> None:
    from weasyprint import HTML

    HTML(string=html(report, names)).write_pdf(path)


def write(report: AnnualReport, names: Names, fmt: str, path: Path) -> None:
    import json

    if fmt == "json":
        path.write_text(json.dumps(as_json(report, names), ensure_ascii=False, indent=2) + "\n")
    elif fmt == "xlsx":
        write_xlsx(report, names, path)
    elif fmt == "pdf":
        write_pdf(report, names, path)
    else:
        from relos.domain.errors import ValidationError

        raise ValidationError("format", fmt, "one of json, pdf, xlsx")
