"""The netting statement as PDF (WeasyPrint; Noto fonts render Devanagari and Cyrillic)."""

from __future__ import annotations

from html import escape

from relos.domain.netting import Statement

_CSS = """
@page { size: A4 landscape; margin: 14mm; }
body { font-family: "Noto Sans", "Noto Sans Devanagari", "Noto Sans Cyrillic", sans-serif;
       font-size: 9pt; }
h1 { font-size: 14pt; margin: 0 0 4pt 0; }
table { border-collapse: collapse; width: 100%; margin: 6pt 0; }
th, td { border: 0.5pt solid #888; padding: 2pt 4pt; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #eee; }
"""


def statement_html(st: Statement, names: dict[str, tuple[str, str]]) -> str:
    def party(code: str) -> str:
        name, native = names.get(code, (code, ""))
        return escape(f"{code} — {name}" + (f" ({native})" if native else ""))

    rows = "".join(
        "<tr>"
        f"<td>{escape(ln.order)}</td><td>{escape(ln.debtor)}</td><td>{escape(ln.creditor)}</td>"
        f"<td class=n>{ln.outstanding}</td><td class=n>{ln.covered}</td>"
        f"<td class=n>{ln.remaining}</td><td class=n>{ln.converted}</td>"
        f"<td class=n>{ln.rate}</td>"
        f"<td>{ln.rate_on.isoformat() if ln.rate_on else '—'}</td><td>{escape(ln.source)}</td>"
        "</tr>"
        for ln in st.lines
    )
    pays = (
        "".join(
            f"<li>{party(p.payer)} pays {party(p.payee)}: <b>{p.amount}</b></li>"
            for p in st.payments
        )
        or "<li>nothing: the obligations offset exactly</li>"
    )
    approvals = (
        "".join(
            f"<li>{party(a.party)}: {escape(a.user)} ({escape(a.role)}), {a.at.isoformat()},"
            f" SHA-256 {escape(a.digest)}</li>"
            for a in st.approvals
        )
        or "<li>none yet</li>"
    )
    parties = "".join(f"<li>{party(p)}</li>" for p in st.parties)
    debts = "".join(
        f"<tr><td>{escape(d.debtor)}</td><td>{escape(d.creditor)}</td>"
        f"<td class=n>{d.amount}</td><td class=n>{d.paid}</td><td class=n>{d.outstanding}</td>"
        f"<td>{d.due_on.isoformat()}</td></tr>"
        for d in st.debts()
    )
    paid = "".join(
        f"<li>{p.on.isoformat()}: {party(p.payer)} paid {party(p.payee)} <b>{p.amount}</b>,"
        f" ref {escape(p.reference)}, recorded by {escape(p.user)}, SHA-256 {escape(p.digest)}</li>"
        for p in st.debt_payments
    )
    created = (
        f"""<h2>Netting obligations created (due {st.due_on.isoformat() if st.due_on else "—"})</h2>
<table><tr><th>debtor</th><th>creditor</th><th>amount</th><th>paid</th><th>outstanding</th>
<th>due on</th></tr>{debts}</table><ul>{paid}</ul>"""
        if debts
        else ""
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>{_CSS}</style></head>
<body><h1>Netting statement {escape(st.number)}</h1>
<p>Agreement {escape(st.agreement)} · as of {st.as_of.isoformat()} · netting currency
{escape(st.currency)} · state {escape(st.state.value)} · SHA-256 {escape(st.digest())}</p>
<h2>Parties</h2><ul>{parties}</ul>
<h2>Obligations</h2><table><tr><th>order</th><th>debtor</th><th>creditor</th>
<th>outstanding</th><th>covered</th><th>remaining</th><th>in {escape(st.currency)}</th>
<th>rate</th><th>rate date</th><th>source</th></tr>{rows}</table>
<h2>Payments left</h2><ul>{pays}</ul>
<h2>Approvals</h2><ul>{approvals}</ul>{created}</body></html>"""


def statement_pdf(st: Statement, names: dict[str, tuple[str, str]]) -> bytes:
    from weasyprint import HTML  # imported here: loading it takes a moment

    pdf = HTML(string=statement_html(st, names)).write_pdf()
    assert pdf is not None
    return bytes(pdf)
