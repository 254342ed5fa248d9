"""Journal exports: each party's book as a Beancount or hledger journal (Fava, hledger).

Every book gets its own account tree under the five standard roots, named after the book's party
code; the relos account name ``account:counterparty:method`` maps to a journal account like this
(``B`` is the book, ``P`` the counterparty, ``K`` the reimbursement method):

========================  =====================================  ================================
relos account             journal account                        what it holds
========================  =====================================  ================================
``receivable:P:K``        ``Assets:B:Receivable:P:K``            what P owes B (cash, RIK, EVE)
``payable:P:K``           ``Liabilities:B:Payable:P:K``          what B owes P (cash, RIK, EVE)
``support_provided:P``    ``Income:B:SupportProvided:P``         support B supplied to P
``support_received:P``    ``Expenses:B:SupportReceived:P``       support B received from P
``support_returned:P``    ``Expenses:B:SupportReturned:P``       in-kind returns between B and P
``settlement_cash``       ``Assets:B:SettlementCash``            cash paid or received on orders
``netting[:P]``           ``Equity:B:Netting[:P]``               trading account of a netting
any other ``name:P:K``    ``Equity:B:<CamelCaseName>:P:K``       (so an export never fails)
========================  =====================================  ================================

The method component is ``Cash``, ``RIK`` or ``EVE``. ``support_returned`` is a signed flow
account: in the creditor's book (the supplier, who gets its item back) it carries a debit, in the
returning party's book a credit; it sits under ``Expenses`` in both so a book's income statement
shows in-kind flows on one side.

Commodities are the ISO 4217 currencies and the replacement-in-kind item commodities
(``F76_T``: tonnes of F-76 diesel). A relos commodity that is not a valid Beancount commodity
name (one starting with a digit, say) is written as ``X`` + its name and the original kept in the
commodity directive's ``relos_commodity`` metadata; hledger quotes every symbol that is not plain
letters (``"F76_T"``).

Amounts are written exactly as stored (Decimal, never float). One transaction per ledger entry:
the description is the narration, the order number a tag, and the order, txn, event and reversed
txn are metadata (hledger: tags in the transaction comment).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from relos.domain.ledger import Entry
from relos.services.unit_of_work import UnitOfWork

#: relos account -> (root, journal name of the account under the book)
ACCOUNTS: dict[str, tuple[str, str]] = {
    "receivable": ("Assets", "Receivable"),
    "payable": ("Liabilities", "Payable"),
    "support_provided": ("Income", "SupportProvided"),
    "support_received": ("Expenses", "SupportReceived"),
    "support_returned": ("Expenses", "SupportReturned"),
    "settlement_cash": ("Assets", "SettlementCash"),
    "netting": ("Equity", "Netting"),
}

METHODS: dict[str, str] = {"cash": "Cash", "rik": "RIK", "eve": "EVE"}

_COMPONENT = re.compile(r"[A-Z0-9][A-Za-z0-9-]*")
_BEANCOUNT_COMMODITY = re.compile(r"[A-Z](?:[A-Z0-9'._-]{0,22}[A-Z0-9])?")
_PLAIN_SYMBOL = re.compile(r"[A-Za-z]+")


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def _component(value: str) -> str:
    """One account component: capital letter or digit first, then letters, digits and ``-``."""
    text = re.sub(r"[^A-Za-z0-9-]+", "-", value).strip("-")
    text = text[:1].upper() + text[1:]
    if not _COMPONENT.fullmatch(text):
        text = "X" + text
    return text


def account_name(book: str, account: str, counterparty: str = "", method: str = "") -> str:
    """The journal account of a relos balance key: ``Assets:IND:Receivable:RUS:Cash``."""
    root, name = ACCOUNTS.get(account, ("Equity", _camel(account) or "Other"))
    parts = [root, _component(book), name]
    if counterparty:
        parts.append(_component(counterparty))
    if method:
        parts.append(METHODS.get(method, _component(method.upper())))
    return ":".join(parts)


def commodity_names(commodities: Iterable[str]) -> dict[str, str]:
    """Valid, distinct Beancount commodity names for relos commodities (mostly themselves)."""
    wanted = sorted(set(commodities))
    out: dict[str, str] = {c: c for c in wanted if _BEANCOUNT_COMMODITY.fullmatch(c)}
    used = set(out.values())
    for c in wanted:
        if c in out:
            continue
        base = re.sub(r"[^A-Z0-9'._-]+", "_", c.upper()).strip("_.'-")
        candidate = ("X" + base)[:24].rstrip("_.'-") or "X"
        n = 1
        while candidate in used or not _BEANCOUNT_COMMODITY.fullmatch(candidate):
            n += 1
            candidate = f"X{n}{base}"[:24].rstrip("_.'-")
        out[c] = candidate
        used.add(candidate)
    return out


def hledger_commodity(code: str) -> str:
    """hledger symbol: plain letters as they are, anything else in double quotes."""
    return code if _PLAIN_SYMBOL.fullmatch(code) else '"' + code.replace('"', "") + '"'


def number(value: Decimal) -> str:
    """A Decimal as plain text, never in exponent notation, never through a float."""
    return format(value, "f")


@dataclass(frozen=True)
class _Book:
    """What both formats need: the entries and the first date each account/commodity is used."""

    title: str
    currencies: list[str]
    entries: list[Entry]
    accounts: dict[str, date]
    commodities: dict[str, date]


def _read(uow: UnitOfWork, book: str | None) -> _Book:
    with uow.reading():
        entries = uow.ledger.entries(book)
        parties = uow.reference.parties()
    books = sorted({e.book for e in entries} | ({book} if book else set()))
    currencies = sorted({p.currency for p in parties if p.code in books})
    accounts: dict[str, date] = {}
    commodities: dict[str, date] = {}
    for e in entries:
        for p in e.postings:
            name = account_name(e.book, p.account, p.counterparty, p.method)
            accounts[name] = min(accounts.get(name, e.on), e.on)
            c = p.amount.commodity
            commodities[c] = min(commodities.get(c, e.on), e.on)
    title = f"relos book {book}" if book else "relos books " + ", ".join(books)
    return _Book(title, currencies, entries, accounts, commodities)


def _beancount_string(text: str) -> str:
    clean = " ".join(text.splitlines())
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tag(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_/.-]+", "-", text)


def beancount(uow: UnitOfWork, book: str | None = None) -> str:
    """The book (or every book) as a Beancount journal that passes ``bean-check``."""
    b = _read(uow, book)
    names = commodity_names(b.commodities)
    out = [
        f"option {_beancount_string('title')} {_beancount_string(b.title)}",
        *(f'option "operating_currency" "{names.get(c, c)}"' for c in b.currencies),
        'plugin "beancount.plugins.check_commodity"',
        "",
    ]
    for c, on in sorted(b.commodities.items(), key=lambda kv: (kv[1], kv[0])):
        out.append(f"{on.isoformat()} commodity {names[c]}")
        out.append(f"  relos_commodity: {_beancount_string(c)}")
    out.append("")
    for acc, on in sorted(b.accounts.items(), key=lambda kv: (kv[1], kv[0])):
        out.append(f"{on.isoformat()} open {acc}")
    for e in b.entries:
        out.append("")
        out.append(
            f"{e.on.isoformat()} * {_beancount_string(e.description)} #{_tag(e.order)}"
            if e.order
            else f"{e.on.isoformat()} * {_beancount_string(e.description)}"
        )
        out.append(f"  book: {_beancount_string(e.book)}")
        out.append(f"  order: {_beancount_string(e.order)}")
        out.append(f"  txn: {_beancount_string(e.txn)}")
        out.append(f"  event: {_beancount_string(e.event)}")
        if e.reverses:
            out.append(f"  reverses: {_beancount_string(e.reverses)}")
        for p in e.postings:
            acc = account_name(e.book, p.account, p.counterparty, p.method)
            out.append(f"  {acc}  {number(p.amount.number)} {names[p.amount.commodity]}")
    return "\n".join(out) + "\n"


def _hledger_text(text: str) -> str:
    """hledger ends a description at ``;`` (a comment starts there) and at the line's end."""
    return " ".join(text.splitlines()).replace(";", ",")


def _hledger_tag_value(text: str) -> str:
    """A tag value ends at a comma or the line's end."""
    return _hledger_text(text).replace(",", " ")


def hledger(uow: UnitOfWork, book: str | None = None) -> str:
    """The book (or every book) as an hledger journal that passes ``hledger check -s``."""
    b = _read(uow, book)
    out = [f"; {_hledger_text(b.title)}", "decimal-mark .", ""]
    for c in sorted(b.commodities):
        out.append(f"commodity {hledger_commodity(c)}")
    out.append("")
    types = {"Assets": "A", "Liabilities": "L", "Equity": "E", "Income": "R", "Expenses": "X"}
    for acc, on in sorted(b.accounts.items()):
        out.append(f"account {acc}  ; type: {types[acc.split(':')[0]]}, opened: {on.isoformat()}")
    for e in b.entries:
        tags = [
            f"book: {e.book}",
            f"order: {_hledger_tag_value(e.order)}",
            f"txn: {_hledger_tag_value(e.txn)}",
            f"event: {_hledger_tag_value(e.event)}",
        ]
        if e.reverses:
            tags.append(f"reverses: {_hledger_tag_value(e.reverses)}")
        out.append("")
        out.append(f"{e.on.isoformat()} {_hledger_text(e.description)}")
        out.append(f"    ; {', '.join(tags)}")
        for p in e.postings:
            acc = account_name(e.book, p.account, p.counterparty, p.method)
            out.append(
                f"    {acc}  {number(p.amount.number)} {hledger_commodity(p.amount.commodity)}"
            )
    return "\n".join(out) + "\n"
