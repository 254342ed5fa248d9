"""The audit log on SQL: append the next hash-chained record; read the chain in order, in batches.

Writers are serialised so that the chain cannot fork: every writing transaction takes the
writers' turn when it starts (`relos.storage.unit_of_work`): on PostgreSQL this table's lock in
EXCLUSIVE mode (`SERIALISE_WRITERS`, decision 59: other writers wait until the transaction ends,
plain readers do not), on SQLite the database's write lock (``BEGIN IMMEDIATE``, see
`relos.storage.engine`). The primary key on `seq` is the last line of defence: two records can
never share a number.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text

from relos.domain.audit import AuditRecord, ChainHead, next_record, utc
from relos.storage.audit_tables import audit_log
from relos.storage.bulk_insert import insert_values
from relos.storage.driver_statement import DriverStatement

BATCH = 500
#: built once (decision 55): the chain's head is its last number and hash, nothing more
_HEAD = DriverStatement(
    select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
)
_LAST = select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)
#: PostgreSQL: the writers' turn (writers queue for it in arrival order; readers are not held)
SERIALISE_WRITERS = text("LOCK TABLE audit_log IN EXCLUSIVE MODE")


def _record(row: Mapping[Any, Any]) -> AuditRecord:
    return AuditRecord(
        seq=int(row["seq"]),
        at=utc(row["at"]),  # SQLite hands back a naive datetime: it was stored in UTC
        user=row["user_name"],
        party=row["party"],
        request_id=row["request_id"],
        action=row["action"],
        entity=row["entity"],
        key=row["entity_key"],
        before=row["before"],
        after=row["after"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


class AuditRepository:
    def __init__(self, conn: Connection, batch: int = BATCH) -> None:
        self.conn = conn
        self.batch = batch

    def last(self) -> AuditRecord | None:
        row = self.conn.execute(_LAST).mappings().first()
        return None if row is None else _record(row)

    def head(self) -> ChainHead | None:
        """The last record's number and hash (what the next record links to)."""
        row = _HEAD.first(self.conn, {})
        return None if row is None else ChainHead(int(row[0]), row[1])

    def append(
        self,
        user: str,
        party: str,
        request_id: str,
        action: str,
        entity: str,
        key: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        at: datetime,
    ) -> AuditRecord:
        """Write the record that follows the last one, in the caller's transaction (which holds
        the writers' turn)."""
        record = next_record(
            self.head(),
            at=at,
            user=user,
            party=party,
            request_id=request_id,
            action=action,
            entity=entity,
            key=key,
            before=before,
            after=after,
        )
        insert_values(
            self.conn,
            audit_log,
            [
                {
                    "seq": record.seq,
                    # stored in UTC: SQLite keeps no time zone, and the hash covers the UTC time
                    "at": record.at
                    if self.conn.dialect.name != "sqlite"
                    else record.at.replace(tzinfo=None),
                    "user_name": record.user,
                    "party": record.party,
                    "request_id": record.request_id,
                    "action": record.action,
                    "entity": record.entity,
                    "entity_key": record.key,
                    "before": record.before,
                    "after": record.after,
                    "prev_hash": record.prev_hash,
                    "hash": record.hash,
                },
            ],
        )
        return record

    def records(
        self, entity: str | None = None, key: str | None = None, request: str | None = None
    ) -> Iterator[AuditRecord]:
        """Records in seq order (of one entity, or one record of it; of one request), read
        `batch` at a time."""
        query = select(audit_log).order_by(audit_log.c.seq).limit(self.batch)
        if entity is not None:
            query = query.where(audit_log.c.entity == entity)
        if key is not None:
            query = query.where(audit_log.c.entity_key == key)
        if request is not None:
            query = query.where(audit_log.c.request_id == request)
        after: int | None = None
        while True:
            page = query if after is None else query.where(audit_log.c.seq > after)
            rows = self.conn.execute(page).mappings().all()
            for row in rows:
                yield _record(row)
            if len(rows) < self.batch:
                return
            after = int(rows[-1]["seq"])
