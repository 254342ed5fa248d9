"""The audit trail: every change recorded in the unit of work that makes it, and the chain checked.

Use cases call `record` after a change and before their commit, so a change and its audit record
are written together or not at all (a refused action writes neither). Snapshots (`before`,
`after`) are plain JSON: Decimals and dates as text; a user's record never holds a password hash.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from relos.domain import audit as chain
from relos.domain.audit import AuditProblem, AuditRecord
from relos.domain.orders import Order
from relos.domain.users import User
from relos.services.unit_of_work import UnitOfWork

#: who the log names for a change made by the node's database administration (no acting user)
ADMINISTRATION = "(administration)"


def record(
    uow: UnitOfWork,
    user: User | None,
    action: str,
    entity: str,
    key: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    at: datetime | None = None,
) -> AuditRecord:
    """Append one change to the audit log, in `uow`'s open transaction."""
    return uow.audit.append(
        user=ADMINISTRATION if user is None else user.name,
        party="" if user is None else user.party,
        request_id=uow.request_id,
        action=action,
        entity=entity,
        key=key,
        before=before,
        after=after,
        at=at or datetime.now(UTC),
    )


@dataclass(frozen=True)
class ChainCheck:
    records: int
    head: str | None  # hash of the last record: note it down to detect a rewritten chain later
    problems: list[AuditProblem]

    @property
    def intact(self) -> bool:
        return not self.problems


class _Counted:
    """Records passed through, counted, the last one's hash kept."""

    def __init__(self, records: Iterable[AuditRecord]) -> None:
        self._records = records
        self.count = 0
        self.head: str | None = None

    def __iter__(self) -> Iterator[AuditRecord]:
        for r in self._records:
            self.count += 1
            self.head = r.hash
            yield r


def check(uow: UnitOfWork) -> ChainCheck:
    """Check the whole chain (streamed: memory stays flat however long the log)."""
    with uow.reading():
        counted = _Counted(uow.audit.records())
        problems = chain.verify(counted)
    return ChainCheck(counted.count, counted.head, problems)


def verify(uow: UnitOfWork) -> list[AuditProblem]:
    """Every problem of the audit chain (empty when it is intact)."""
    return check(uow).problems


def log(
    uow: UnitOfWork,
    entity: str | None = None,
    key: str | None = None,
    limit: int | None = None,
    request: str | None = None,
) -> list[AuditRecord]:
    """Audit records in order, of one entity (or one record of it), of one request (an HTTP
    request's X-Request-ID); the last `limit` if given."""
    with uow.reading():
        found = list(uow.audit.records(entity, key, request))
    return found[-limit:] if limit else found


# -- snapshots: what `before` and `after` hold ---------------------------------------------------


def plain(value: Any) -> Any:
    """JSON-able form: dataclasses as dicts, Decimal as text (exact), dates ISO, enums by value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def order_snapshot(order: Order) -> dict[str, Any]:
    """The order as signed (its document) with its state, receipts, invoices and settlements."""
    return {
        **order.document(),
        "state": order.state.value,
        "receipts": plain(order.receipts),
        "invoices": plain(order.invoices),
        "settlements": plain(order.settlements),
    }


def user_snapshot(user: User) -> dict[str, Any]:
    """A user's record as audited: name, party, role, active; never credentials."""
    return {"name": user.name, "party": user.party, "role": user.role.value, "active": user.active}
