"""Reconciliation between the parties: party keys, signed statements, matching runs, disputes.

Signing lives here, not in the domain: a statement is canonical JSON (sorted keys, no spaces,
UTF-8), its SHA-256 is signed with the party's Ed25519 key, and the file carries the digest, the
signature and the signer's key id. The statement is written order by order while the digest is
computed over the same bytes, so memory stays flat however large the ledger.

Keys: a party admin creates its own party's key pair (the private key is kept in the node's
database, never printed, exported or audited) and imports the counterpart's public key; matching
checks the counterpart's signature against the imported key and refuses anything else.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from relos.domain.errors import (
    AlreadyExists,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from relos.domain.orders import OrderState
from relos.domain.reconciliation import (
    STATEMENT_FORMAT,
    OrderView,
    PartyKey,
    ReconLine,
    ReconRun,
    match,
    mirror_balance_differences,
    order_view,
)
from relos.domain.users import Role, User, require_admin_of
from relos.services import audit, catalogue
from relos.services.actors import acting_user
from relos.services.unit_of_work import UnitOfWork

#: who may sign a statement, match one and dispute or resolve its lines (of their own party)
RECONCILERS = frozenset({Role.FINANCE_OFFICER})
#: who may read reconciliation runs of their own party
READERS = frozenset({Role.FINANCE_OFFICER, Role.AUDITOR, Role.PARTY_ADMIN})
SIGNED_PREFIX = STATEMENT_FORMAT.encode() + b"\n"  # domain separation: what is signed is
# SIGNED_PREFIX + the 32-byte SHA-256 of the canonical statement


def now() -> datetime:
    return datetime.now(UTC)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _require(user: User, roles: frozenset[Role], party: str, action: str) -> None:
    if not user.active:
        raise PermissionDenied(user.name, action, "the user is disabled")
    if user.role not in roles:
        allowed = " or ".join(sorted(r.value for r in roles))
        raise PermissionDenied(user.name, action, f"role {user.role.value}; needs {allowed}")
    if user.party != party:
        raise PermissionDenied(user.name, action, f"party {user.party}; only {party} may")


# -- keys -----------------------------------------------------------------------------------------


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _key_record(key: PartyKey) -> dict[str, Any]:
    """What the audit log holds of a key: never the private key."""
    return {
        "party": key.party,
        "key_id": key.key_id,
        "public_pem": key.public_pem,
        "private": key.private_pem is not None,
    }


def create_key(uow: UnitOfWork, actor: str | None, party: str, at: datetime | None = None) -> str:
    """A new Ed25519 key pair for `party` (its party admin only); returns the key id. The newest
    key signs from now on; older public keys stay to verify older statements."""
    at = at or now()
    with uow:
        user = acting_user(uow, actor, "create a party key")
        if uow.reference.find_party(party) is None:
            raise NotFound("party", party, field="party")
        require_admin_of(user, party, "create a party key")
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        key = PartyKey(
            party, key_id(private.public_key()), _public_pem(private.public_key()), at, pem
        )
        uow.reconciliation.add_key(key)
        audit.record(uow, user, "key.create", "party_key", key.key_id, None, _key_record(key), at)
        uow.commit()
    return key.key_id


def export_key(uow: UnitOfWork, party: str) -> str:
    """The newest public key of `party`, as PEM (public: anyone may read it)."""
    with uow:
        keys = uow.reconciliation.party_keys(party)
    if not keys:
        raise NotFound("key of party", party, field="party")
    return keys[-1].public_pem


def import_key(
    uow: UnitOfWork, actor: str | None, party: str, pem: str, at: datetime | None = None
) -> str:
    """Import the counterpart `party`'s public key (a party admin of a counterparty of `party` in
    some agreement); returns its key id."""
    at = at or now()
    try:
        loaded = serialization.load_pem_public_key(pem.encode("ascii", "replace"))
    except (ValueError, TypeError):
        raise ValidationError("key", "", "not a PEM public key") from None
    if not isinstance(loaded, Ed25519PublicKey):
        raise ValidationError("key", type(loaded).__name__, "an Ed25519 public key is needed")
    with uow:
        user = acting_user(uow, actor, "import a party key")
        if uow.reference.find_party(party) is None:
            raise NotFound("party", party, field="party")
        require_admin_of(user, user.party, "import a party key")
        if party == user.party:
            raise RuleViolation(
                "import_own_key", "party", party, "create your own party's key; import others'"
            )
        if not any({party, user.party} <= set(a.parties) for a in uow.reference.agreements()):
            raise PermissionDenied(user.name, "import a party key", f"{party} is no counterpart")
        kid = key_id(loaded)
        if any(k.key_id == kid for k in uow.reconciliation.party_keys()):
            raise AlreadyExists("key", kid, field="key_id")
        key = PartyKey(party, kid, _public_pem(loaded), at)
        uow.reconciliation.add_key(key)
        audit.record(uow, user, "key.import", "party_key", kid, None, _key_record(key), at)
        uow.commit()
    return kid


# -- statements -----------------------------------------------------------------------------------


def _counterparty(uow: UnitOfWork, agreement: str, party: str, given: str | None) -> str:
    a = catalogue.agreement(uow, agreement)
    if party not in a.parties:
        raise ValidationError("party", party, f"not a party to {agreement}")
    others = [p for p in a.parties if p != party]
    if given is None:
        if len(others) != 1:
            raise ValidationError("counterparty", "", f"name one of {', '.join(others)}")
        return others[0]
    if given not in others:
        raise ValidationError("counterparty", given, f"not another party to {agreement}")
    return given


def _balances(
    uow: UnitOfWork, party: str, counterparty: str, as_of: date
) -> dict[tuple[str, str, str], Decimal]:
    return {
        (acc, m, c): v
        for (_, acc, cp, m, c), v in uow.ledger.balances(party, as_of).items()
        if cp == counterparty and acc in ("receivable", "payable") and v != 0
    }


def _views(
    uow: UnitOfWork, agreement: str, party: str, counterparty: str, as_of: date
) -> Iterator[OrderView]:
    """Our view of each order between the two parties, loaded one at a time. Drafts are the
    requester's own business and not part of a statement; nor is an order made after `as_of`."""
    for number in uow.orders.numbers(agreement=agreement, party=party):
        o = uow.orders.get(number)
        if {o.requesting, o.supplying} != {party, counterparty} or o.state is OrderState.DRAFT:
            continue
        if o.created_on is not None and o.created_on > as_of:
            continue
        yield order_view(o, as_of)


@dataclass(frozen=True)
class Exported:
    party: str
    counterparty: str
    orders: int
    digest: str
    key_id: str


def export_statement(
    uow: UnitOfWork,
    actor: str | None,
    out: IO[str],
    *,
    agreement: str,
    party: str,
    as_of: date,
    counterparty: str | None = None,
    at: datetime | None = None,
) -> Exported:
    """Write `party`'s signed statement to `out`, order by order (memory stays flat)."""
    at = at or now()
    with uow:
        user = acting_user(uow, actor, "export a statement")
        _require(user, RECONCILERS | {Role.AUDITOR}, party, "export a statement")
        other = _counterparty(uow, agreement, party, counterparty)
        keys = [k for k in uow.reconciliation.party_keys(party) if k.private_pem is not None]
        if not keys:
            raise NotFound("signing key of party", party, field="party")
        key = keys[-1]
        assert key.private_pem is not None
        private = serialization.load_pem_private_key(key.private_pem.encode("ascii"), None)
        assert isinstance(private, Ed25519PrivateKey)
        balances = _balances(uow, party, other, as_of)
        header: dict[str, Any] = {
            "format": STATEMENT_FORMAT,
            "agreement": agreement,
            "party": party,
            "counterparty": other,
            "as_of": as_of.isoformat(),
            "generated_at": at.isoformat(),
            "generated_by": user.name,
            "balances": [
                {"account": a, "method": m, "commodity": c, "amount": str(v)}
                for (a, m, c), v in sorted(balances.items())
            ],
            "orders": None,  # streamed
        }
        h = hashlib.sha256()

        def put(text: str) -> None:
            out.write(text)
            h.update(text.encode("utf-8"))

        out.write('{"statement":')
        put("{")
        count = 0
        for i, name in enumerate(sorted(header)):
            put(("," if i else "") + canonical(name) + ":")
            if name != "orders":
                put(canonical(header[name]))
                continue
            put("[")
            for view in _views(uow, agreement, party, other, as_of):
                put(("," if count else "") + canonical(view.document()))
                count += 1
            put("]")
        put("}")
        digest = h.hexdigest()
        signature = private.sign(SIGNED_PREFIX + bytes.fromhex(digest))
        out.write(
            f',"digest":{canonical(digest)},"key_id":{canonical(key.key_id)},'
            f'"signature":{canonical(base64.b64encode(signature).decode("ascii"))}}}\n'
        )
        audit.record(
            uow,
            user,
            "statement.export",
            "statement",
            digest,
            None,
            {
                "agreement": agreement,
                "party": party,
                "counterparty": other,
                "as_of": as_of.isoformat(),
                "orders": count,
                "key_id": key.key_id,
            },
            at,
        )
        uow.commit()
    return Exported(party, other, count, digest, key.key_id)


@dataclass(frozen=True)
class Statement:
    """A counterparty's statement whose signature has been checked."""

    agreement: str
    party: str
    counterparty: str
    as_of: date
    key_id: str
    digest: str
    orders: list[OrderView]
    balances: dict[tuple[str, str, str], Decimal]


def _no_float(text: str) -> Decimal:
    raise ValidationError("statement", text, "numbers are exact decimal text, never floats")


def read_statement(uow: UnitOfWork, text: str) -> Statement:
    """Parse a statement and check its signature against the signer's imported public key."""
    try:
        doc = json.loads(text, parse_float=_no_float)
    except json.JSONDecodeError as e:
        raise ValidationError("statement", "", f"not JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("statement"), dict):
        raise ValidationError("statement", "", "not a relos statement")
    body = doc["statement"]
    if body.get("format") != STATEMENT_FORMAT:
        raise ValidationError("format", body.get("format"), f"expected {STATEMENT_FORMAT}")
    party, kid = str(body.get("party", "")), str(doc.get("key_id", ""))
    with uow:
        key = next((k for k in uow.reconciliation.party_keys(party) if k.key_id == kid), None)
    if key is None:
        raise NotFound(f"imported public key of party {party}", kid, field="key_id")
    digest = hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()
    public = serialization.load_pem_public_key(key.public_pem.encode("ascii"))
    assert isinstance(public, Ed25519PublicKey)
    try:
        signature = base64.b64decode(str(doc.get("signature", "")), validate=True)
        public.verify(signature, SIGNED_PREFIX + bytes.fromhex(digest))
    except (InvalidSignature, ValueError):
        raise RuleViolation(
            "bad_signature",
            "signature",
            kid,
            f"the statement does not carry a valid signature of {party}'s key {kid}: "
            "it was altered or not signed by that key",
        ) from None
    if doc.get("digest") != digest:
        raise RuleViolation("bad_digest", "digest", doc.get("digest"), "digest does not match")
    try:
        balances = {
            (str(b["account"]), str(b["method"]), str(b["commodity"])): Decimal(str(b["amount"]))
            for b in body["balances"]
        }
        return Statement(
            agreement=str(body["agreement"]),
            party=party,
            counterparty=str(body["counterparty"]),
            as_of=date.fromisoformat(body["as_of"]),
            key_id=kid,
            digest=digest,
            orders=[OrderView.from_document(o) for o in body["orders"]],
            balances=balances,
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ValidationError("statement", "", f"malformed statement: {e!r}") from None


# -- runs -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunReport:
    run: ReconRun
    lines: list[ReconLine]
    as_of: date  # the day `overdue` is judged on

    def overdue(self, line: ReconLine) -> bool:
        return line.overdue(self.as_of)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for ln in self.lines:
            out[ln.status.value] = out.get(ln.status.value, 0) + 1
        return out


def match_statement(
    uow: UnitOfWork, actor: str | None, text: str, at: datetime | None = None
) -> RunReport:
    """Verify their statement, match it against our records, store the run and its lines."""
    at = at or now()
    theirs = read_statement(uow, text)
    with uow:
        user = acting_user(uow, actor, "reconcile a statement")
        _require(user, RECONCILERS, theirs.counterparty, "reconcile a statement")
        ours_party = theirs.counterparty
        _counterparty(uow, theirs.agreement, ours_party, theirs.party)
        lines = match(
            _views(uow, theirs.agreement, ours_party, theirs.party, theirs.as_of), theirs.orders
        )
        ours_bal = _balances(uow, ours_party, theirs.party, theirs.as_of)
        run = ReconRun(
            0,
            theirs.agreement,
            ours_party,
            theirs.party,
            theirs.as_of,
            theirs.key_id,
            theirs.digest,
            user.name,
            at,
            tuple(mirror_balance_differences(ours_bal, theirs.balances)),
        )
        run_id = uow.reconciliation.add_run(run, lines)
        stored = uow.reconciliation.find_run(run_id)
        assert stored is not None
        report = RunReport(stored, uow.reconciliation.lines(run_id), theirs.as_of)
        audit.record(
            uow,
            user,
            "reconcile.run",
            "reconciliation",
            str(run_id),
            None,
            {**audit.plain(stored), "counts": report.counts()},
            at,
        )
        uow.commit()
    return report


def _run_of(uow: UnitOfWork, user: User, run_id: int, action: str) -> ReconRun:
    run = uow.reconciliation.find_run(run_id)
    if run is None or run.party != user.party:
        raise NotFound("reconciliation run", run_id, field="run")
    return run


def runs(uow: UnitOfWork, actor: str | None) -> list[ReconRun]:
    with uow:
        user = acting_user(uow, actor, "read reconciliation runs")
        _require(user, READERS, user.party, "read reconciliation runs")
        return uow.reconciliation.runs(user.party)


def show(uow: UnitOfWork, actor: str | None, run_id: int, as_of: date | None = None) -> RunReport:
    """A run with its lines; `overdue` judged on `as_of` (default: today)."""
    with uow:
        user = acting_user(uow, actor, "read a reconciliation run")
        _require(user, READERS, user.party, "read a reconciliation run")
        run = _run_of(uow, user, run_id, "read a reconciliation run")
        return RunReport(run, uow.reconciliation.lines(run_id), as_of or date.today())


def _change_line(
    uow: UnitOfWork,
    actor: str | None,
    run_id: int,
    line_no: int,
    note: str,
    at: datetime | None,
    verb: str,
) -> ReconLine:
    at = at or now()
    with uow:
        user = acting_user(uow, actor, f"{verb} a reconciliation line")
        _require(user, RECONCILERS, user.party, f"{verb} a reconciliation line")
        _run_of(uow, user, run_id, verb)
        line = next((ln for ln in uow.reconciliation.lines(run_id) if ln.line_no == line_no), None)
        if line is None:
            raise NotFound("reconciliation line", f"{run_id}/{line_no}", field="line")
        changed = (
            line.dispute(user.name, note, at)
            if verb == "dispute"
            else line.resolve(user.name, note, at)
        )
        uow.reconciliation.save_line(run_id, changed)
        audit.record(
            uow,
            user,
            f"reconcile.{verb}",
            "reconciliation_line",
            f"{run_id}/{line_no}",
            audit.plain(line),
            audit.plain(changed),
            at,
        )
        uow.commit()
    return changed


def dispute(
    uow: UnitOfWork,
    actor: str | None,
    run_id: int,
    line_no: int,
    note: str,
    at: datetime | None = None,
) -> ReconLine:
    return _change_line(uow, actor, run_id, line_no, note, at, "dispute")


def resolve(
    uow: UnitOfWork,
    actor: str | None,
    run_id: int,
    line_no: int,
    note: str,
    at: datetime | None = None,
) -> ReconLine:
    return _change_line(uow, actor, run_id, line_no, note, at, "resolve")
