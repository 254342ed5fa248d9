"""Order use cases: draft, submit, accept, reject, amend, cancel, receive, invoice, settle,
reverse a settlement, close. Each is one transaction: the order, its signature and its ledger
postings are written together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from relos.domain.agreements import Method
from relos.domain.errors import Conflict, PreconditionFailed, RuleViolation, ValidationError
from relos.domain.ledger import Entry, post_receipt, post_settlement
from relos.domain.money import Amount, parse_decimal
from relos.domain.orders import (
    Order,
    OrderLine,
    OrderState,
    Signature,
    new_order,
    order_number,
)
from relos.domain.users import User, require_order_action
from relos.domain.visits import require_order_fits
from relos.services import audit, catalogue
from relos.services.actors import acting_user
from relos.services.unit_of_work import UnitOfWork

LineSpec = tuple[str, object]  # (item code, quantity)


def now() -> datetime:
    return datetime.now(UTC)


def parse_lines(specs: Iterable[LineSpec]) -> list[OrderLine]:
    lines = []
    for i, (item, qty) in enumerate(specs, start=1):
        if not str(item).strip():
            raise ValidationError(f"lines[{i}].item", item, "name the price-list item")
        lines.append(OrderLine(i, str(item).strip(), parse_decimal(qty, f"lines[{i}].quantity")))
    if not lines:
        raise ValidationError("lines", "", "an order has at least one line")
    return lines


def _method(value: str) -> Method:
    try:
        return Method(value)
    except ValueError:
        raise ValidationError("method", value, "one of cash, rik, eve") from None


def draft(
    uow: UnitOfWork,
    actor: str | None,
    *,
    agreement: str,
    supplying: str,
    facility: str,
    unit: str,
    method: str,
    use: str,
    required_by: date,
    lines: Iterable[LineSpec],
    data: dict[str, str] | None = None,
    at: datetime | None = None,
    visit: str | None = None,
) -> Order:
    at = at or now()
    parsed = parse_lines(lines)
    kind = _method(method)
    with uow:
        # one look-up for what the order names; refused in the same order as before
        found_a, found_u, found_f = uow.reference.order_references(agreement, unit, facility)
        a = catalogue.found("agreement", agreement, found_a)
        u = catalogue.found("unit", unit, found_u)
        user = acting_user(uow, actor, "draft an order")
        require_order_action(user, "draft", u.party, supplying)
        f = catalogue.found("facility", facility, found_f)
        prefix = order_number(a.code, u.party, at.year, 0)[: -len("000000")]
        seq = uow.orders.next_number(prefix)
        order = new_order(
            order_number(a.code, u.party, at.year, seq),
            a,
            u.party,
            supplying,
            f,
            u,
            kind,
            use,
            required_by,
            parsed,
            data or {},
            at.date(),
        )
        if visit is not None:  # an order for a visit: one of its units, its facility and dates
            require_order_fits(
                uow.visits.get(visit),
                agreement=a.code,
                unit=u.code,
                facility=f.code,
                on=required_by,
            )
        uow.orders.add(order)
        if visit is not None:
            uow.visits.link_order(order.number, visit)
        audit.record(
            uow, user, "order.draft", "order", order.number, None, audit.order_snapshot(order)
        )
        uow.commit()
    return order


def version(order: Order) -> int:
    """The order's version for optimistic concurrency: every transition appends a signature."""
    return len(order.signatures)


@contextmanager
def _concurrency(number: str, expected_version: int | None) -> Iterator[None]:
    """A concurrent writer's signature (order, seq) collision, as the domain error it means."""
    try:
        yield
    except IntegrityError:
        if expected_version is not None:
            raise PreconditionFailed(
                f"order {number} was changed by someone else: read it again",
                field="If-Match",
                value=expected_version,
            ) from None
        raise Conflict(
            f"order {number} was changed by someone else at the same time: try again",
            field="number",
            value=number,
        ) from None


def _sig(s: Signature) -> tuple[str, str, str, int, str, str]:
    return (s.action, s.user, s.party, s.revision, s.digest, s.note)


def _require_saved(uow: UnitOfWork, order: Order, expected_version: int) -> None:
    """Read back what was saved: a writer that committed between our read and our write
    (PostgreSQL, READ COMMITTED) would otherwise have its signatures taken for ours."""
    stored = uow.orders.get(order.number)
    mine = [_sig(s) for s in order.signatures[expected_version:]]
    if [_sig(s) for s in stored.signatures[expected_version:]] != mine:
        raise PreconditionFailed(
            f"order {order.number} was changed by someone else: read it again",
            field="If-Match",
            value=expected_version,
        )


def _act(
    uow: UnitOfWork,
    actor: str | None,
    number: str,
    action: str,
    step: Callable[[User, Order], list[Entry] | None],
    expected_version: int | None = None,
) -> Order:
    """One action on one order. With `expected_version` (optimistic concurrency), refuse unless
    the stored order is still at that version; the check and the write share one transaction,
    and a concurrent writer that got in first makes the signature (order, seq) key collide."""
    with _concurrency(number, expected_version), uow:
        user = acting_user(uow, actor, action)
        order = uow.orders.get_for_update(number)
        if expected_version is not None and version(order) != expected_version:
            raise PreconditionFailed(
                f"order {number} is at version {version(order)}, not {expected_version}:"
                " read it again",
                field="If-Match",
                value=expected_version,
            )
        before, stored = audit.order_snapshot(order), order.copy()
        entries = step(user, order)
        uow.orders.save(order, stored)  # not read again
        if expected_version is not None:
            _require_saved(uow, order, expected_version)
        if entries:
            uow.ledger.append(entries)
        audit.record(
            uow, user, f"order.{action}", "order", number, before, audit.order_snapshot(order)
        )
        uow.commit()
    return order


def _no_posting(step: Callable[[User, Order], object]) -> Callable[[User, Order], None]:
    """A step that signs but posts nothing to the ledger."""

    def run(user: User, order: Order) -> None:
        step(user, order)

    return run


def _context(uow: UnitOfWork, order: Order) -> dict[str, Any]:
    return {
        "agreement": catalogue.agreement(uow, order.agreement),
        "facility": catalogue.facility(uow, order.facility),
        "prices": uow.reference.price_items(order.supplying),
    }


def submit(
    uow: UnitOfWork,
    actor: str | None,
    number: str,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Order:
    at = at or now()

    def step(user: User, o: Order) -> None:
        o.submit(user, at, **_context(uow, o))

    return _act(uow, actor, number, "submit", step, expected_version=expected_version)


def accept(
    uow: UnitOfWork,
    actor: str | None,
    number: str,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Order:
    at = at or now()

    def step(user: User, o: Order) -> None:
        o.accept(user, at, **_context(uow, o))

    return _act(uow, actor, number, "accept", step, expected_version=expected_version)


def reject(
    uow: UnitOfWork,
    actor: str | None,
    number: str,
    reason: str,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Order:
    at = at or now()
    return _act(
        uow,
        actor,
        number,
        "reject",
        _no_posting(lambda u, o: o.reject(u, at, reason)),
        expected_version=expected_version,
    )


def cancel(
    uow: UnitOfWork,
    actor: str | None,
    number: str,
    reason: str,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Order:
    at = at or now()
    return _act(
        uow,
        actor,
        number,
        "cancel",
        _no_posting(lambda u, o: o.cancel(u, at, reason)),
        expected_version=expected_version,
    )


def amend(
    uow: UnitOfWork,
    actor: str | None,
    number: str,
    lines: Iterable[LineSpec],
    required_by: date | None = None,
    data: dict[str, str] | None = None,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Order:
    at = at or now()
    parsed = parse_lines(lines)

    def step(user: User, o: Order) -> None:
        visit = uow.visits.order_visit(o.number)
        if visit is not None and required_by is not None:  # still within its visit's dates
            require_order_fits(
                uow.visits.get(visit),
                agreement=o.agreement,
                unit=o.unit,
                facility=o.facility,
                on=required_by,
            )
        o.amend(user, at, parsed, required_by, data, **_context(uow, o))

    return _act(uow, actor, number, "amend", step, expected_version=expected_version)


def receive(
    uow: UnitOfWork,
    actor: str | None,
    number: str,
    quantities: Iterable[tuple[int, object]],
    on: date | None = None,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Order:
    at = at or now()
    day = on or at.date()
    parsed = [(int(n), parse_decimal(q, f"lines[{n}].quantity")) for n, q in quantities]

    def step(user: User, o: Order) -> list[Entry]:
        if day > at.date():
            raise RuleViolation("receipt_in_future", "on", day.isoformat(), "not yet happened")
        receipt = o.receive(user, at, day, parsed)
        return post_receipt(o, receipt)

    return _act(uow, actor, number, "receive", step, expected_version=expected_version)


def receive_all(
    uow: UnitOfWork,
    actor: str | None,
    number: str,
    on: date | None = None,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Order:
    """Receive whatever is still outstanding on every line."""
    with uow:
        o = uow.orders.get(number)
        rest = [(ln.line_no, ln.quantity - o.received_quantity(ln.line_no)) for ln in o.lines]
    rest = [(n, q) for n, q in rest if q > 0]
    return receive(uow, actor, number, rest, on, at, expected_version=expected_version)


def invoice(
    uow: UnitOfWork,
    actor: str | None,
    number: str,
    issued_on: date | None = None,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Order:
    at = at or now()
    day = issued_on or at.date()

    def step(user: User, o: Order) -> None:
        inv_no = f"INV-{o.number}-{len(o.invoices) + 1}"
        o.invoice(user, at, inv_no, day, catalogue.agreement(uow, o.agreement))

    return _act(uow, actor, number, "invoice", step, expected_version=expected_version)


def settle(
    uow: UnitOfWork,
    actor: str | None,
    number: str,
    amount: object,
    commodity: str | None = None,
    on: date | None = None,
    note: str = "",
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Order:
    """Record a cash payment, a return in kind or an equal-value provision against the order."""
    at = at or now()
    day = on or at.date()
    number_ = parse_decimal(amount, "amount")

    def step(user: User, o: Order) -> list[Entry]:
        owed = o.obligations()
        code = commodity or (next(iter(owed)) if len(owed) == 1 else "")
        if not code and len(owed) > 1:
            raise ValidationError("commodity", "", f"name one of {', '.join(sorted(owed))}")
        s = o.settle(user, at, day, Amount.of(number_, code), note)
        return post_settlement(o, s)

    return _act(uow, actor, number, "settle", step, expected_version=expected_version)


def reverse(
    uow: UnitOfWork,
    actor: str | None,
    number: str,
    settlement: int,
    reason: str,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Order:
    """Correct a wrongly recorded settlement by reversing it; nothing is edited or deleted."""
    at = at or now()

    def step(user: User, o: Order) -> list[Entry]:
        s = o.reverse_settlement(user, at, settlement, reason)
        return post_settlement(o, s)

    return _act(uow, actor, number, "reverse", step, expected_version=expected_version)


def close(
    uow: UnitOfWork,
    actor: str | None,
    number: str,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Order:
    at = at or now()
    return _act(
        uow,
        actor,
        number,
        "close",
        _no_posting(lambda u, o: o.close(u, at)),
        expected_version=expected_version,
    )


def show(uow: UnitOfWork, number: str) -> Order:
    with uow:
        return uow.orders.get(number)


def find_orders(
    uow: UnitOfWork,
    *,
    agreement: str | None = None,
    party: str | None = None,
    state: str | None = None,
) -> list[Order]:
    states = None
    if state:
        try:
            states = [OrderState(state)]
        except ValueError:
            allowed = ", ".join(s.value for s in OrderState)
            raise ValidationError("state", state, f"one of {allowed}") from None
    with uow:
        return uow.orders.load(uow.orders.numbers(agreement=agreement, party=party, states=states))


def outstanding_total(order: Order) -> dict[str, Decimal]:
    return {c: n for c, n in order.obligations().items() if n}
