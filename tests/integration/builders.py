"""Build a realistic ledger through the real services: India and Russia under RELOS, users of
every role on both sides, and orders in both directions with every reimbursement method."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, select

from relos.services import catalogue, ordering, people
from relos.services.unit_of_work import UnitOfWork
from relos.storage import tables as t

IND_NATIVE = "भारत"
RUS_NATIVE = "Россия"
MUMBAI_NATIVE = "मुंबई नौसेना गोदी"
SEVEROMORSK_NATIVE = "Североморск"
GORSHKOV_NATIVE = "Адмирал Горшков"
NSN_OIL = "9150-00-180-6266"  # an NSN: its RIK commodity starts with a digit
NSN_OIL_COMMODITY = "9150_00_180_6266_L"

REFERENCE: dict[str, Any] = {
    "parties": [
        {"code": "IND", "name": "India", "native_name": IND_NATIVE, "currency": "INR"},
        {"code": "RUS", "name": "Russia", "native_name": RUS_NATIVE, "currency": "RUB"},
    ],
    "agreements": [
        {
            "code": "RELOS",
            "title": "Reciprocal Exchange of Logistics Support",
            "title_native": "Соглашение о взаимном материально-техническом обеспечении",
            "parties": ["IND", "RUS"],
            "signed_on": "2025-02-18",
            "steps": [{"party": "RUS", "step": "President signs", "on": "2025-12-15"}],
        }
    ],
    "facilities": [
        {
            "code": "RUSMR",
            "name": "Severomorsk",
            "native_name": SEVEROMORSK_NATIVE,
            "party": "RUS",
            "kind": "naval_base",
            "categories": ["pol", "water", "food"],
            "open_under": ["RELOS"],
        },
        {
            "code": "INBOM",
            "name": "Mumbai Naval Dockyard",
            "native_name": MUMBAI_NATIVE,
            "party": "IND",
            "kind": "naval_base",
            "categories": ["pol", "water", "food"],
            "open_under": ["RELOS"],
        },
    ],
    "units": [
        {"code": "INS-TABAR", "name": "INS Tabar", "native_name": "आईएनएस तबर", "party": "IND"},
        {
            "code": "ADM-GORSHKOV",
            "name": "Admiral Gorshkov",
            "native_name": GORSHKOV_NATIVE,
            "party": "RUS",
        },
    ],
    "price_lists": [
        {
            "supplier": "RUS",
            "items": [
                {
                    "code": "F76",
                    "description": "Дизельное топливо F-76",
                    "category": "pol",
                    "unit_of_measure": "t",
                    "unit_price": "65000.00",
                    "currency": "RUB",
                    "valid_from": "2025-01-01",
                },
                {
                    "code": "WATER",
                    "description": "Пресная вода",
                    "category": "water",
                    "unit_of_measure": "m3",
                    "unit_price": "150.25",
                    "currency": "RUB",
                    "valid_from": "2025-01-01",
                },
            ],
        },
        {
            "supplier": "IND",
            "items": [
                {
                    "code": "F76",
                    "description": "हाई स्पीड डीज़ल F-76",
                    "category": "pol",
                    "unit_of_measure": "t",
                    "unit_price": "85000.00",
                    "currency": "INR",
                    "valid_from": "2025-01-01",
                },
                {
                    "code": NSN_OIL,
                    "description": "Lubricating oil, NSN-coded (illustrative)",
                    "category": "pol",
                    "unit_of_measure": "l",
                    "unit_price": "310.00",
                    "currency": "INR",
                    "valid_from": "2025-01-01",
                    "illustrative": True,
                },
                {
                    "code": "RATION",
                    "description": "राशन पैक",
                    "category": "food",
                    "unit_of_measure": "pack",
                    "unit_price": "450.50",
                    "currency": "INR",
                    "valid_from": "2025-01-01",
                },
            ],
        },
    ],
}

#: name -> (party, role)
USERS: dict[str, tuple[str, str]] = {
    "in_order": ("IND", "ordering_officer"),
    "in_accept": ("IND", "accepting_officer"),
    "in_receive": ("IND", "receiving_officer"),
    "in_finance": ("IND", "finance_officer"),
    "ru_order": ("RUS", "ordering_officer"),
    "ru_accept": ("RUS", "accepting_officer"),
    "ru_receive": ("RUS", "receiving_officer"),
    "ru_finance": ("RUS", "finance_officer"),
}

DATA = {
    "point_of_contact": "Cdr R. Sharma / кап. 2 ранга И. Петров",
    "delivery_location": "Berth 3 / Причал 3",
    "purpose": "replenishment",
}

UNIT_OF = {"IND": "INS-TABAR", "RUS": "ADM-GORSHKOV"}
FACILITY_OF = {"IND": "INBOM", "RUS": "RUSMR"}
PREFIX = {"IND": "in", "RUS": "ru"}


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def world(uow: UnitOfWork) -> None:
    """Reference data and one user of every order role on both sides."""
    catalogue.load(uow, REFERENCE)
    for name, (party, role) in USERS.items():
        people.add_user(uow, None, name, party, role)


def placed(
    uow: UnitOfWork,
    requesting: str,
    method: str,
    lines: list[tuple[str, str]],
    day: date = date(2026, 3, 1),
) -> str:
    """An order drafted, submitted and accepted; returns its number."""
    supplying = "RUS" if requesting == "IND" else "IND"
    req, sup = PREFIX[requesting], PREFIX[supplying]
    o = ordering.draft(
        uow,
        f"{req}_order",
        agreement="RELOS",
        supplying=supplying,
        facility=FACILITY_OF[supplying],
        unit=UNIT_OF[requesting],
        method=method,
        use="port_call",
        required_by=date(2026, 4, 30),
        lines=lines,
        data=DATA,
        at=at(day, 9),
    )
    ordering.submit(uow, f"{req}_order", o.number, at(day, 10))
    ordering.accept(uow, f"{sup}_accept", o.number, at(day, 11))
    return o.number


@dataclass(frozen=True)
class Lifecycle:
    cash_in: str  # IND from RUS, cash: partial receipt, amendment, partial + reversed settlement
    rik_ru: str  # RUS from IND, replacement in kind (fuel, NSN oil): partial return
    eve_in: str  # IND from RUS, equal-value exchange: partial provision
    cash_ru: str  # RUS from IND, cash: short-delivered, invoiced, settled in full, closed


def lifecycle(uow: UnitOfWork) -> Lifecycle:
    """Orders in both directions with every reimbursement method, through the real services."""
    d = date
    # 1. India orders fuel and water from Russia, cash.
    o1 = placed(uow, "IND", "cash", [("F76", "400"), ("WATER", "100")])
    ordering.receive(uow, "in_receive", o1, [(1, "150")], d(2026, 3, 2), at(d(2026, 3, 2)))
    ordering.amend(
        uow,
        "in_order",
        o1,
        [("F76", "500"), ("WATER", "100")],
        data={"purpose": "replenishment; extended stay / продление стоянки"},
        at=at(d(2026, 3, 2), 13),
    )
    ordering.accept(uow, "ru_accept", o1, at(d(2026, 3, 2), 14))
    ordering.receive_all(uow, "in_receive", o1, d(2026, 3, 3), at(d(2026, 3, 3)))
    ordering.invoice(uow, "ru_finance", o1, d(2026, 3, 5), at(d(2026, 3, 5)))
    # 500 t x 65,000.00 + 100 m3 x 150.25 = 32,515,025.00 RUB
    ordering.settle(uow, "in_finance", o1, "1000000.00", on=d(2026, 3, 20), at=at(d(2026, 3, 20)))
    ordering.reverse(uow, "in_finance", o1, 1, "wrong amount / неверная сумма", at(d(2026, 3, 21)))
    ordering.settle(uow, "in_finance", o1, "20000000.00", on=d(2026, 3, 22), at=at(d(2026, 3, 22)))
    ordering.settle(
        uow,
        "ru_finance",
        o1,
        "12515025.00",
        on=d(2026, 3, 25),
        note='final "balance"; received',
        at=at(d(2026, 3, 25)),
    )
    ordering.close(uow, "ru_finance", o1, at(d(2026, 3, 26)))

    # 2. Russia orders fuel from India, replacement in kind; part returned.
    o2 = placed(uow, "RUS", "rik", [("F76", "120.5"), (NSN_OIL, "200")], d(2026, 3, 4))
    ordering.receive(uow, "ru_receive", o2, [(1, "70.25")], d(2026, 3, 5), at(d(2026, 3, 5)))
    ordering.receive_all(uow, "ru_receive", o2, d(2026, 3, 6), at(d(2026, 3, 6)))
    ordering.invoice(uow, "in_finance", o2, d(2026, 3, 7), at(d(2026, 3, 7)))
    ordering.settle(uow, "ru_finance", o2, "50", "F76_T", d(2026, 4, 1), at=at(d(2026, 4, 1)))

    # 3. India orders water from Russia, equal-value exchange; part provided back.
    o3 = placed(uow, "IND", "eve", [("WATER", "200")], d(2026, 3, 8))
    ordering.receive_all(uow, "in_receive", o3, d(2026, 3, 9), at(d(2026, 3, 9)))
    ordering.invoice(uow, "ru_finance", o3, d(2026, 3, 10), at(d(2026, 3, 10)))
    ordering.settle(uow, "in_finance", o3, "10000.00", on=d(2026, 3, 30), at=at(d(2026, 3, 30)))

    # 4. Russia orders rations from India, cash; short-delivered, invoiced, paid, closed.
    o4 = placed(uow, "RUS", "cash", [("RATION", "300"), ("F76", "10")], d(2026, 3, 11))
    ordering.receive(uow, "ru_receive", o4, [(1, "250")], d(2026, 3, 12), at(d(2026, 3, 12)))
    ordering.invoice(uow, "in_finance", o4, d(2026, 3, 13), at(d(2026, 3, 13)))
    ordering.settle(uow, "ru_finance", o4, "112625.00", on=d(2026, 3, 28), at=at(d(2026, 3, 28)))
    ordering.close(uow, "in_finance", o4, at(d(2026, 3, 29)))
    return Lifecycle(o1, o2, o3, o4)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: to prove a refused action wrote nothing."""
    with engine.connect() as conn:
        return {
            name: sorted((tuple(r) for r in conn.execute(select(table))), key=repr)
            for name, table in t.metadata.tables.items()
        }
