"""Settlement engine use cases: the conversion run, alerts, the annual report.

Who may run conversions: a finance officer of the creditor (the supplying party) converts the
in-kind debts owed *to its own party*; the debtor's finance officers see them as alerts but
cannot convert them (the creditor decides to claim cash; the debtor may still return in kind
until then). The run is one transaction; an order that cannot be converted (its item no longer on
the price list at the "current" basis, cash not an allowed method) is reported and skipped.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import chain

from relos.domain.agreements import Agreement
from relos.domain.errors import NotFound, RelosError, RuleViolation
from relos.domain.orders import Conversion, Order
from relos.domain.orders import OrderState as S
from relos.domain.settlement import (
    OWING_STATES,
    Alert,
    AnnualReport,
    alert_states,
    conversion_due,
    convert,
    debt_alerts,
    latest_runs,
    netting_alerts,
    require_may_convert,
    sort_alerts,
    unreconciled_alerts,
)
from relos.domain.settlement import (
    alerts as compute_alerts,
)
from relos.domain.settlement import (
    annual_report as compute_report,
)
from relos.services import audit
from relos.services.actors import acting_user
from relos.services.queries import may_see_order
from relos.services.reconciliation import READERS as RECONCILIATION_READERS
from relos.services.unit_of_work import UnitOfWork

#: orders read at once for the alerts, the annual report and the conversion run (one query
#: per table a page): memory flat however many there are
ALERT_PAGE = 500
REPORT_PAGE = 500


@dataclass(frozen=True)
class Converted:
    order: str
    conversion: Conversion
    invoice: str
    due_on: date


@dataclass(frozen=True)
class RunResult:
    as_of: date
    converted: list[Converted]
    skipped: list[tuple[str, str]]  # (order, why)


def _conversion_snapshot(order: Order) -> dict[str, object]:
    return {**audit.order_snapshot(order), "conversions": len(order.conversions)}


def _conversions_due(
    uow: UnitOfWork, supplying: str, agreements: dict[str, Agreement], as_of: date
) -> list[str]:
    """The orders `supplying` is owed an in-kind debt on that is overdue on `as_of`: the owing
    orders of the party read a page at a time (without their signature trail) and checked in
    memory, never one order at a time; each due one is then read whole, locked, to convert."""
    due: list[str] = []
    pages = uow.orders.number_pages(REPORT_PAGE, party=supplying, states=OWING_STATES)
    with closing(pages):
        for numbers in pages:
            for o in uow.orders.load(numbers, signatures=False):
                a = agreements.get(o.agreement)
                if o.supplying == supplying and a is not None and conversion_due(o, a, as_of):
                    due.append(o.number)
    return due


def run(uow: UnitOfWork, actor: str | None, as_of: date, at: datetime | None = None) -> RunResult:
    """Convert every in-kind debt owed to the actor's party that is overdue on `as_of` to cash.

    Running it again finds nothing overdue in kind any more, so it changes nothing.
    """
    at = at or datetime.now(UTC)
    if as_of > at.date():
        raise RuleViolation(
            "conversion_in_future",
            "as_of",
            as_of.isoformat(),
            "a conversion is dated today or earlier",
        )
    converted: list[Converted] = []
    skipped: list[tuple[str, str]] = []
    with uow:
        user = acting_user(uow, actor, "settle run")
        require_may_convert(user, user.party)
        agreements = {a.code: a for a in uow.reference.agreements()}
        for number in _conversions_due(uow, user.party, agreements, as_of):
            o = uow.orders.get_for_update(number)
            a = agreements[o.agreement]
            before = _conversion_snapshot(o)
            try:
                conv, entries = convert(
                    o, user, at, as_of, a, uow.reference.price_items(o.supplying)
                )
            except RelosError as e:
                skipped.append((number, str(e)))
                continue
            uow.orders.save(o)
            uow.ledger.append(entries)
            inv = o.invoices[-1]
            audit.record(
                uow,
                user,
                "order.convert",
                "order",
                number,
                before,
                {
                    **_conversion_snapshot(o),
                    "conversion": {
                        "seq": conv.seq,
                        "on": conv.on.isoformat(),
                        "basis": conv.basis,
                        "cleared": [str(x) for x in conv.cleared],
                        "unit_prices": [[n, str(q), str(p)] for n, q, p in conv.unit_prices],
                        "amount": str(conv.amount),
                        "invoice": inv.number,
                        "due_on": inv.due_on.isoformat(),
                    },
                },
                at,
            )
            converted.append(Converted(number, conv, inv.number, inv.due_on))
        uow.commit()
    return RunResult(as_of, converted, skipped)


def alerts(
    uow: UnitOfWork,
    actor: str | None,
    as_of: date,
    uninvoiced_days: int = 30,
    soon_days: int = 14,
) -> list[Alert]:
    """What needs the actor's action on `as_of`, for its role and party; with the netting
    obligations due soon or overdue, and the lines of the party's latest reconciliation runs
    still open a year after their transaction."""
    with uow.reading():
        user = acting_user(uow, actor, "alerts")
        agreements = {a.code: a for a in uow.reference.agreements()}
        found: list[Alert] = []
        states = alert_states(user)
        # only the orders that can alert this user, a page at a time: never every order held;
        # the invoiced ones from their kept debts (decision 70)
        wanted = states - {S.INVOICED}
        pages = uow.orders.number_pages(ALERT_PAGE, party=user.party, states=wanted)
        with closing(pages):
            for numbers in pages:
                page = uow.orders.load(numbers, signatures=S.SUBMITTED in wanted)
                mine = (o for o in page if may_see_order(user, o))
                found += compute_alerts(user, mine, agreements, as_of, uninvoiced_days, soon_days)
        if S.INVOICED in states:
            kept = uow.orders.debt_pages(ALERT_PAGE, party=user.party)
            with closing(kept):
                owed = chain.from_iterable(kept)
                found += debt_alerts(user, owed, agreements, as_of, soon_days)
        runs = [
            (r, uow.reconciliation.lines(r.id, unmatched=True))
            for r in latest_runs(uow.reconciliation.runs(user.party))
        ]
        debts = [
            d
            for st in uow.netting.statements()
            if user.party in st.parties
            for d in st.debts()
            if d.posted_on <= as_of
        ]
    found = sort_alerts(found + netting_alerts(user, debts, as_of, soon_days))
    return found + unreconciled_alerts(user, runs, as_of)


def annual_report(
    uow: UnitOfWork, actor: str | None, agreement: str, year: int, as_of: date | None = None
) -> tuple[AnnualReport, dict[str, tuple[str, str]]]:
    """The agreement's annual report, over the orders the actor's party is a side of; with the
    parties' names (English, own script). Its transactions unreconciled for over a year come
    from the party's reconciliation runs, shown to those who may read them (finance officers,
    auditors, admins); for other roles that list is empty."""
    with uow.reading():
        user = acting_user(uow, actor, "annual report")
        a = uow.reference.find_agreement(agreement)
        if a is None or user.party not in a.parties:
            raise NotFound("agreement", agreement, field="agreement")
        rates = uow.netting.rates()
        names = {
            p.code: (p.name, p.native_name) for p in uow.reference.parties() if p.code in a.parties
        }
        # unreconciled lines come from the party's reconciliation runs, for those who read them
        runs = (
            [
                (r, uow.reconciliation.lines(r.id, unmatched=True))
                for r in uow.reconciliation.runs(user.party)
                if r.agreement == a.code
            ]
            if user.active and user.role in RECONCILIATION_READERS
            else []
        )
        # only the orders with a receipt in the year count; read a page at a time, summed as
        # they come (never every order held), without their signature trail (not reported)
        pages = uow.orders.number_pages(
            REPORT_PAGE, agreement=a.code, party=user.party, received_in=year
        )
        with closing(pages):
            orders = (
                o
                for numbers in pages
                for o in uow.orders.load(numbers, signatures=False)
                if may_see_order(user, o)
            )
            report = compute_report(a, orders, year, as_of, rates, runs)
    return report, names
