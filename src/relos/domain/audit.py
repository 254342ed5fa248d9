"""The audit trail: every change, hash-chained, so that an edited, inserted or deleted record shows.

An **audit record** says who (user and party) did what (action) to which record (entity and key),
in which request, when, and the record before and after the change. Records are numbered
1, 2, 3, ... (`seq`) and each carries the hash of the one before it (`prev_hash`; 64 zeros for the
first) and its own `hash`: SHA-256 of the canonical JSON of every other field. Changing a record
without recomputing its hash shows as *edited*; a gap in the numbers shows as *deleted*; a record
that the chain does not lead to (its `prev_hash` is not its predecessor's hash) shows as
*inserted*. Rewriting the chain from some record on, hashes and all, is not detectable from the
chain alone: compare the head hash (`verify` output) with one noted down earlier.

Pure: no I/O. Storage keeps records; this module builds and checks them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

#: kinds of problem `verify` reports
EDITED = "edited"
INSERTED = "inserted"
DELETED = "deleted"


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: datetime  # UTC
    user: str
    party: str
    request_id: str
    action: str  # e.g. "order.accept", "facility.add"
    entity: str  # e.g. "order", "facility"
    key: str  # the record's key within its entity, e.g. the order number
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str

    def fields(self) -> dict[str, Any]:
        """Every field but `hash`, as hashed (`at` as an ISO string in UTC)."""
        return {
            "seq": self.seq,
            "at": canonical_time(self.at),
            "user": self.user,
            "party": self.party,
            "request_id": self.request_id,
            "action": self.action,
            "entity": self.entity,
            "key": self.key,
            "before": self.before,
            "after": self.after,
            "prev_hash": self.prev_hash,
        }

    def computed_hash(self) -> str:
        """The hash this record's content calls for (equal to `hash` unless it was changed)."""
        return chain_hash(self.prev_hash, self.fields())


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    kind: str  # EDITED, INSERTED or DELETED
    detail: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.kind}: {self.detail}"


def utc(at: datetime) -> datetime:
    """`at` in UTC; a naive datetime (SQLite hands those back) is taken to be UTC already."""
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


def canonical_time(at: datetime) -> str:
    return utc(at).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def plain_json(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """`value` as it reads back from a JSON column (tuples become lists, keys text); a value JSON
    cannot hold (a Decimal, a date) is refused: convert it to text first."""
    if value is None:
        return None
    result = json.loads(canonical_json(dict(value)))
    assert isinstance(result, dict)
    return result


def chain_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a record's fields (all but `hash`), `prev_hash`
    included, so each hash commits to the whole chain before it."""
    content = {k: v for k, v in fields.items() if k != "hash"}
    content["prev_hash"] = prev_hash
    if isinstance(content.get("at"), datetime):
        content["at"] = canonical_time(content["at"])
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainHead:
    """What a new record links to: the last record's number and hash."""

    seq: int
    hash: str


def next_record(
    prev: AuditRecord | ChainHead | None,
    *,
    at: datetime,
    user: str,
    party: str,
    request_id: str,
    action: str,
    entity: str,
    key: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> AuditRecord:
    """The record that follows `prev` (or starts the chain), with its hash."""
    if at.tzinfo is None:
        raise ValueError("an audit time must carry its time zone")
    draft = AuditRecord(
        seq=1 if prev is None else prev.seq + 1,
        # microseconds are what both SQLite and PostgreSQL keep
        at=utc(at),
        user=user,
        party=party,
        request_id=request_id,
        action=action,
        entity=entity,
        key=key,
        before=plain_json(before),
        after=plain_json(after),
        prev_hash=GENESIS if prev is None else prev.hash,
        hash="",
    )
    return replace(draft, hash=draft.computed_hash())


def verify(records: Iterable[AuditRecord]) -> list[AuditProblem]:
    """Every problem of the chain `records` (in seq order), not only the first.

    - *edited*: a record's hash does not match its content;
    - *deleted*: numbers are missing (the problem names the first missing seq);
    - *inserted*: a record the chain does not lead to: its number repeats or goes back, or its
      `prev_hash` is not its predecessor's hash. When the record after it links past it to its
      predecessor, that record is the one named.

    Streams: it holds three records at a time, however long the chain.
    """
    problems: list[AuditProblem] = []
    before_prev: AuditRecord | None = None  # the record before `prev`
    prev: AuditRecord | None = None
    for r in records:
        if r.computed_hash() != r.hash:
            problems.append(AuditProblem(r.seq, EDITED, "its hash does not match its content"))
        expected_seq = 1 if prev is None else prev.seq + 1
        expected_link = GENESIS if prev is None else prev.hash
        after = "the start of the chain" if prev is None else f"seq {prev.seq}"
        if r.seq > expected_seq:
            last = r.seq - 1
            missing = (
                f"seq {expected_seq}" if last == expected_seq else f"seqs {expected_seq}-{last}"
            )
            problems.append(
                AuditProblem(
                    expected_seq, DELETED, f"{missing} missing: seq {r.seq} follows {after}"
                )
            )
        elif r.seq < expected_seq:
            problems.append(
                AuditProblem(r.seq, INSERTED, f"seq {r.seq} repeats or goes back after {after}")
            )
        elif r.prev_hash != expected_link:
            skipped_to = GENESIS if before_prev is None else before_prev.hash
            if prev is not None and r.prev_hash == skipped_to:
                problems.append(
                    AuditProblem(
                        prev.seq,
                        INSERTED,
                        f"the chain passes it by: seq {r.seq} links to the record before it",
                    )
                )
            else:
                problems.append(
                    AuditProblem(
                        r.seq,
                        INSERTED,
                        f"its prev_hash is not the hash of {after}: seq {r.seq} was inserted or "
                        f"forged, or {after} was rewritten with a new hash",
                    )
                )
        before_prev, prev = prev, r
    return problems
