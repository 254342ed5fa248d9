"""A three-party agreement (India, Russia, the United States) and a multilateral netting posted
under it, built through the real services: the world where a netting leaves new obligations
(``receivable:P:netting``) that only a cash payment of the netting obligation settles.

The orders make a chain: India owes Russia 1,000.00 RUB (1,100.00 INR at 1.10), Russia owes the
United States 5.00 USD (500.00 INR at 100), the United States owes India 200.00 INR. Netted in
INR: India's position is -900, Russia's +600, the United States' +300, so India pays Russia 600
and the United States 300 INR, and India has no INR invoice of either to leave them on: both
payments become new obligations of the statement. Works on the fake node and on SQL alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from relos.domain.netting import Statement
from relos.services import catalogue, netting, ordering, people
from relos.services.unit_of_work import UnitOfWork

CODE = "TRILAT"
PARTIES = ("IND", "RUS", "USA")
AS_OF = date(2026, 5, 31)
POSTED_AT = datetime(2026, 6, 1, 9, tzinfo=UTC)
CASH_DAYS = 30
PARTY_RECORDS = {
    "IND": {"code": "IND", "name": "India", "native_name": "भारत", "currency": "INR"},
    "RUS": {"code": "RUS", "name": "Russia", "native_name": "Россия", "currency": "RUB"},
    "USA": {"code": "USA", "name": "United States", "native_name": "", "currency": "USD"},
}
RATES = "date,pair,rate,source\n2026-05-01,RUB/INR,1.10,TRI\n2026-05-01,USD/INR,100,TRI\n"
#: supplier -> (price item code, currency, unit price)
ITEM = {"RUS": ("TRI-WATER-RU", "RUB", "10.00"), "USA": ("TRI-WATER-US", "USD", "1.00")}
ITEM["IND"] = ("TRI-WATER-IN", "INR", "2.00")
#: (requesting, supplying, quantity): IND owes RUS 1000 RUB, RUS owes USA 5 USD, USA owes IND 200
CHAIN = (("IND", "RUS", "100"), ("RUS", "USA", "5"), ("USA", "IND", "100"))

#: who acts: (party, role) -> user name
Names = Callable[[str, str], str]


def document(with_parties: tuple[str, ...] = ()) -> dict[str, Any]:
    """The agreement, a facility and a unit of each party, and a water price of each supplier;
    with the party records named (those not yet on the node)."""
    return {
        "parties": [PARTY_RECORDS[p] for p in with_parties],
        "agreements": [
            {
                "code": CODE,
                "title": "Trilateral logistics support arrangement (illustrative)",
                "parties": list(PARTIES),
                "signed_on": "2026-01-10",
                "uses": ["port_call", "exercise"],
                "categories": ["water"],
                "methods": [{"method": "cash", "due_days": CASH_DAYS}],
                "data_elements": [],
                "rate_source": "TRI",
            }
        ],
        "facilities": [
            {
                "code": f"TRI-{p}-PORT",
                "name": f"{p} port (illustrative)",
                "party": p,
                "kind": "naval_base",
                "categories": ["water"],
                "open_under": [CODE],
            }
            for p in PARTIES
        ],
        "units": [
            {
                "code": f"TRI-{p}-SHIP",
                "name": f"{p} ship (illustrative)",
                "party": p,
                "kind": "ship",
            }
            for p in PARTIES
        ],
        "price_lists": [
            {
                "supplier": sup,
                "items": [
                    {
                        "code": code,
                        "description": "Fresh water",
                        "category": "water",
                        "unit_of_measure": "m3",
                        "unit_price": price,
                        "currency": cur,
                        "valid_from": "2026-01-01",
                        "illustrative": True,
                    }
                ],
            }
            for sup, (code, cur, price) in ITEM.items()
        ],
    }


def load(
    uow: UnitOfWork, name: Names, with_parties: tuple[str, ...] = (), users: bool = True
) -> None:
    """Load the world; with `users`, add the users `name` gives (admins first, by bootstrap)."""
    catalogue.load(uow, document(with_parties))
    if not users:
        return
    for p in PARTIES:
        people.add_user(uow, None, name(p, "party_admin"), p, "party_admin")
        for role in ("ordering_officer", "accepting_officer", "receiving_officer"):
            people.add_user(uow, name(p, "party_admin"), name(p, role), p, role)
        people.add_user(
            uow, name(p, "party_admin"), name(p, "finance_officer"), p, "finance_officer"
        )


def _at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def invoiced(uow: UnitOfWork, name: Names, requesting: str, supplying: str, qty: str) -> str:
    """A cash order under the agreement, delivered in full and invoiced; returns its number."""
    day = date(2026, 5, 2)
    code = ITEM[supplying][0]
    o = ordering.draft(
        uow,
        name(requesting, "ordering_officer"),
        agreement=CODE,
        supplying=supplying,
        facility=f"TRI-{supplying}-PORT",
        unit=f"TRI-{requesting}-SHIP",
        method="cash",
        use="port_call",
        required_by=date(2026, 5, 20),
        lines=[(code, qty)],
        at=_at(day, 8),
    )
    n = o.number
    ordering.submit(uow, name(requesting, "ordering_officer"), n, _at(day, 9))
    ordering.accept(uow, name(supplying, "accepting_officer"), n, _at(day, 10))
    ordering.receive_all(uow, name(requesting, "receiving_officer"), n, day, _at(day, 11))
    ordering.invoice(uow, name(supplying, "finance_officer"), n, day, _at(day, 12))
    return n


def posted_netting(uow: UnitOfWork, name: Names) -> Statement:
    """The chain's orders, netted in INR and approved by a finance officer of each party."""
    for req, sup, qty in CHAIN:
        invoiced(uow, name, req, sup, qty)
    netting.import_rates(uow, RATES)
    st = netting.propose(uow, name("IND", "finance_officer"), CODE, AS_OF, "INR", at=POSTED_AT)
    for p in PARTIES:
        st = netting.approve(uow, name(p, "finance_officer"), st.number, at=POSTED_AT)
    return st
