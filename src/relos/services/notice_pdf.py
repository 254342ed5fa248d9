"""A visit's notice as a PDF (WeasyPrint; Debian's Noto fonts render Devanagari and Cyrillic)."""

from __future__ import annotations

from html import escape
from typing import Any


def notice_html(doc: dict[str, Any]) -> str:
    def e(v: object) -> str:
        return escape("" if v is None else str(v))

    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{e(u[k])}</td>"
            for k in (
                "name",
                "class",
                "pennant",
                "displacement_t",
                "length_m",
                "beam_m",
                "draught_m",
                "crew",
            )
        )
        + "</tr>"
        for u in doc["units"]
    )
    req = doc["requests"]
    revision = ""
    if doc.get("revision", 1) > 1:
        revision = f", revision {e(doc['revision'])} (amended on {e(doc.get('amended_on'))})"
    cancelled = ""
    if doc.get("status") == "cancelled":
        cancelled = (
            f"<p><strong>CANCELLED on {e(doc.get('cancelled_on'))}: "
            f"{e(doc.get('cancel_reason'))}</strong></p>"
        )
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>
body {{ font-family: "Noto Sans", "Noto Sans Devanagari", sans-serif; font-size: 10pt; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border: 1px solid #444; padding: 3pt; }}
</style></head><body>
<h1>Notice of visit {e(doc["notice"])}{revision}</h1>{cancelled}
<p>Under {e(doc["agreement"])}: {e(doc["agreement_title"])}</p>
<p>From {e(doc["from_party"])} to {e(doc["to_party"])}, given on {e(doc["given_on"])}
({e(doc["notice_days_required"])} days' notice required;
deadline {e(doc.get("notice_deadline"))})</p>
<p>Facility: {e(doc["facility"]["name"])} ({e(doc["facility"]["code"])})</p>
<p>Purpose: {e(doc["purpose"])}. Arrival {e(doc["arrival"])}, departure {e(doc["departure"])}.</p>
<p>Number of ships: {e(doc["number_of_ships"])}; personnel: {e(doc["personnel"])}</p>
<table><tr><th>Name</th><th>Class</th><th>Pennant</th><th>Displacement (t)</th>
<th>Length (m)</th><th>Beam (m)</th><th>Draught (m)</th><th>Crew</th></tr>{rows}</table>
<p>Commander: {e(doc["commander"]["rank"])} {e(doc["commander"]["name"])}</p>
<p>Radio frequencies: {e(", ".join(doc["radio_frequencies"]))}</p>
<p>Requests: pilot {"yes" if req["pilot"] else "no"}; tugs {e(req["tugs"])}; {e(req["other"])}</p>
</body></html>"""


def notice_pdf(doc: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # heavy: imported only when a PDF is asked for

    out = HTML(string=notice_html(doc)).write_pdf()
    assert isinstance(out, bytes)
    return out
