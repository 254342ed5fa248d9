"""Reconciliation between the parties: party keys, signed statements, matching runs, disputes.

Signing lives here, not in the domain. A statement (format `relos-statement/2`) is one JSON
object written in this order: `format`, `header` (agreement, parties, as-of date, balances and
the signer's key id), `orders` (one object per order, sorted by number), `digest`, `signature`.
The digest is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of the header and
of each order in turn, each followed by a newline (canonical JSON holds no raw newline, so the
framing is unambiguous); the party's Ed25519 key signs `b"relos-statement/2\n" + digest`. The
writer hashes what it writes and the reader hashes what it parses (re-encoded canonically), both
one order at a time, so memory stays flat however large the statement.

Keys: a party admin creates (or rotates) its own party's key pair. The private key is kept in
the node's database encrypted (PKCS#8, the `cryptography` package's best available encryption)
under the passphrase of the setting RELOS_KEY_PASSPHRASE, which the entrypoint passes in; it is
never printed, exported or audited. Public keys of the counterpart are imported by the admin, and
matching checks the counterpart's signature against the imported key and refuses anything else.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
from collections.abc import Generator, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any, NoReturn

import ijson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from relos.domain.errors import (
    AlreadyExists,
    NotConfigured,
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
    merge,
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
# SIGNED_PREFIX + the 32-byte SHA-256 of the statement (see the module's docstring)
#: the setting that holds the passphrase of the node's private keys
PASSPHRASE_SETTING = "RELOS_KEY_PASSPHRASE"
#: lines written to the database at once while matching
BATCH = 1000
#: orders read from the database at once for a statement (`_views`)
VIEW_CHUNK = 500


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


def _encrypted(private: Ed25519PrivateKey, passphrase: str) -> str:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    ).decode("ascii")


def is_encrypted(pem: str) -> bool:
    """Whether a stored private key is encrypted (PKCS#8 `ENCRYPTED PRIVATE KEY`)."""
    return "-----BEGIN ENCRYPTED PRIVATE KEY-----" in pem


def _need_passphrase(passphrase: str | None, why: str) -> str:
    if not passphrase:
        raise NotConfigured(
            PASSPHRASE_SETTING,
            f"{why} needs the passphrase of the node's private keys: set {PASSPHRASE_SETTING}",
            rule="key_passphrase_missing",
        )
    return passphrase


def _unlock(key: PartyKey, passphrase: str | None) -> Ed25519PrivateKey:
    """The private key of `key`, decrypted with `passphrase`; a clear error naming the setting
    (never its value) when it is absent or wrong, or when the key is still stored unencrypted."""
    assert key.private_pem is not None
    if not is_encrypted(key.private_pem):
        raise NotConfigured(
            "key_id",
            f"the private key {key.key_id} of {key.party} is stored unencrypted: run "
            f"`relos key protect` with {PASSPHRASE_SETTING} set before signing with it",
            value=key.key_id,
            rule="key_not_encrypted",
        )
    secret = _need_passphrase(passphrase, f"signing with {key.party}'s key {key.key_id}")
    try:
        private = serialization.load_pem_private_key(
            key.private_pem.encode("ascii"), secret.encode("utf-8")
        )
    except (ValueError, TypeError):
        raise NotConfigured(
            PASSPHRASE_SETTING,
            f"{PASSPHRASE_SETTING} does not decrypt the private key {key.key_id} of {key.party}: "
            "wrong passphrase",
            value=key.key_id,
            rule="key_passphrase_wrong",
        ) from None
    assert isinstance(private, Ed25519PrivateKey)
    return private


def create_key(
    uow: UnitOfWork,
    actor: str | None,
    party: str,
    *,
    passphrase: str | None,
    at: datetime | None = None,
) -> str:
    """A new Ed25519 key pair for `party` (its party admin only), the private key encrypted under
    `passphrase`; returns the key id. The newest key signs from now on (creating another one
    rotates the key); older public keys stay to verify older statements."""
    at = at or now()
    with uow:
        user = acting_user(uow, actor, "create a party key")
        if uow.reference.find_party(party) is None:
            raise NotFound("party", party, field="party")
        require_admin_of(user, party, "create a party key")
        secret = _need_passphrase(passphrase, "creating a party key")
        private = Ed25519PrivateKey.generate()
        key = PartyKey(
            party,
            key_id(private.public_key()),
            _public_pem(private.public_key()),
            at,
            _encrypted(private, secret),
        )
        uow.reconciliation.add_key(key)
        audit.record(uow, user, "key.create", "party_key", key.key_id, None, _key_record(key), at)
        uow.commit()
    return key.key_id


def protect_keys(
    uow: UnitOfWork,
    passphrase: str | None,
    *,
    old_passphrase: str | None = None,
    at: datetime | None = None,
) -> list[str]:
    """Encrypt every private key the node still holds unencrypted under `passphrase` and, given
    `old_passphrase`, re-encrypt the encrypted ones under the new passphrase (database
    administration, audited without key material). Returns the key ids changed."""
    at = at or now()
    secret = _need_passphrase(passphrase, "protecting the private keys")
    changed = []
    with uow:
        for key in uow.reconciliation.party_keys():
            if key.private_pem is None:
                continue
            if is_encrypted(key.private_pem):
                if old_passphrase is None:
                    continue
                try:
                    private = _unlock(key, old_passphrase)
                except NotConfigured:
                    raise NotConfigured(
                        "old passphrase",
                        f"the old passphrase does not decrypt the private key {key.key_id} "
                        f"of {key.party}",
                        value=key.key_id,
                        rule="key_passphrase_wrong",
                    ) from None
            else:
                loaded = serialization.load_pem_private_key(key.private_pem.encode("ascii"), None)
                assert isinstance(loaded, Ed25519PrivateKey)
                private = loaded
            before = {**_key_record(key), "encrypted": is_encrypted(key.private_pem)}
            uow.reconciliation.set_private(key.key_id, _encrypted(private, secret))
            audit.record(
                uow,
                None,
                "key.protect",
                "party_key",
                key.key_id,
                before,
                {**_key_record(key), "encrypted": True},
                at,
            )
            changed.append(key.key_id)
        uow.commit()
    return changed


@dataclass(frozen=True)
class PublicKey:
    """What anyone of the party or of a counterpart may read of a party's key."""

    party: str
    key_id: str
    public_pem: str
    created_at: datetime
    signing: bool  # the newest key of the node's own party: it signs statements from now on


def public_keys(uow: UnitOfWork, actor: str | None, party: str) -> list[PublicKey]:
    """`party`'s public keys held by this node, oldest first: readable by the users of `party`
    and of its counterparts (a party that shares an agreement with it); anyone else gets 404."""
    with uow:
        user = acting_user(uow, actor, "read a party's public keys")
        if uow.reference.find_party(party) is None:
            raise NotFound("party", party, field="party")
        if party != user.party and not any(
            {party, user.party} <= set(a.parties) for a in uow.reference.agreements()
        ):
            raise NotFound("party", party, field="party")
        keys = uow.reconciliation.party_keys(party)
    newest = next((k.key_id for k in reversed(keys) if k.private_pem is not None), None)
    return [
        PublicKey(k.party, k.key_id, k.public_pem, k.created_at, k.key_id == newest) for k in keys
    ]


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
) -> Generator[OrderView, None, None]:
    """Our view of each order between the two parties, loaded one at a time and sorted by
    number (as Python orders text, whatever the database's collation). Drafts are the
    requester's own business and not part of a statement; nor is an order made after `as_of`.

    The numbers are streamed a page of `VIEW_CHUNK` at a time (`OrderRepository.number_pages`)
    and each page's orders read at once (one query per table, `OrderRepository.load`; their
    signature trail, which a view never shows, left out), never one order at a time: one page
    is held, never the numbers of the whole statement."""
    pages = uow.orders.number_pages(
        VIEW_CHUNK,
        agreement=agreement,
        party=party,
        states=[s for s in OrderState if s is not OrderState.DRAFT],
    )
    with closing(pages):  # the query's cursor closed here, in the transaction, however it ends
        for numbers in pages:
            for o in uow.orders.load(numbers, signatures=False):
                if {o.requesting, o.supplying} != {party, counterparty}:
                    continue
                if o.created_on is not None and o.created_on > as_of:
                    continue
                yield order_view(o, as_of)


def _framed(value: Any, where: str) -> bytes:
    """The canonical JSON of one part of a statement and its newline: what the digest covers."""
    try:
        return (canonical(value) + "\n").encode("utf-8")
    except (TypeError, ValueError):
        raise ValidationError(
            where, "", "numbers are exact decimal text or integers, never floats"
        ) from None


def write_statement(
    out: IO[str],
    header: Mapping[str, Any],
    orders: Iterable[Mapping[str, Any]],
    private: Ed25519PrivateKey,
) -> tuple[str, int]:
    """Write a signed `relos-statement/2` to `out`, one order per line as it comes (the caller
    gives them sorted by number); returns the digest and the number of orders."""
    h = hashlib.sha256()
    part = _framed(dict(header), "header")
    h.update(part)
    # the layout `_StatementReader` reads fastest: one part per line
    out.write('{"format":' + canonical(STATEMENT_FORMAT) + ',\n"header":')
    out.write(part.decode("utf-8").rstrip("\n") + ',"orders":[\n')
    count = 0
    for doc in orders:
        part = _framed(doc, f"orders[{doc.get('number', '?')}]")
        h.update(part)
        out.write(("," if count else "") + part.decode("utf-8"))
        count += 1
    digest = h.hexdigest()
    signature = private.sign(SIGNED_PREFIX + bytes.fromhex(digest))
    out.write(
        f'],\n"digest":{canonical(digest)},'
        f'"signature":{canonical(base64.b64encode(signature).decode("ascii"))}}}\n'
    )
    return digest, count


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
    passphrase: str | None,
    counterparty: str | None = None,
    at: datetime | None = None,
) -> Exported:
    """Write `party`'s signed statement to `out`, order by order (memory stays flat), then
    record it in the audit trail. The statement is read and signed in a transaction that only
    reads (at a million orders it takes minutes, which the writers' turn would wait out), its
    record written in a short one after (decision 88): the caller publishes the statement only
    once this returns."""
    at = at or now()
    with uow.reading():
        user = acting_user(uow, actor, "export a statement")
        _require(user, RECONCILERS | {Role.AUDITOR}, party, "export a statement")
        other = _counterparty(uow, agreement, party, counterparty)
        keys = [k for k in uow.reconciliation.party_keys(party) if k.private_pem is not None]
        if not keys:
            raise NotFound("signing key of party", party, field="party")
        key = keys[-1]
        private = _unlock(key, passphrase)
        balances = _balances(uow, party, other, as_of)
        header: dict[str, Any] = {
            "agreement": agreement,
            "party": party,
            "counterparty": other,
            "as_of": as_of.isoformat(),
            "generated_at": at.isoformat(),
            "generated_by": user.name,
            "key_id": key.key_id,
            "balances": [
                {"account": a, "method": m, "commodity": c, "amount": str(v)}
                for (a, m, c), v in sorted(balances.items())
            ],
        }
        with closing(_views(uow, agreement, party, other, as_of)) as views:
            digest, count = write_statement(out, header, (v.document() for v in views), private)
    with uow:
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


# -- reading a statement, streamed ----------------------------------------------------------------


def _values(source: IO[bytes], prefix: str) -> Iterator[Any]:
    """The values at `prefix` of a statement, in one pass over the whole file (ijson's C parser:
    a malformed byte anywhere is refused on every pass)."""
    source.seek(0)
    try:
        yield from ijson.items(source, prefix, use_float=False)
    except ijson.JSONError as e:
        raise ValidationError("statement", "", f"not JSON: {e}") from None


def _one(source: IO[bytes], name: str) -> Any:
    """The statement's top-level `name`, which it must hold exactly once."""
    found = list(itertools.islice(_values(source, name), 2))
    if not found:
        raise ValidationError(name, "", f"missing: not a {STATEMENT_FORMAT} statement")
    if len(found) > 1:
        raise ValidationError(name, "", "the statement holds it twice")
    return found[0]


def _no_constant(text: str) -> Any:
    raise ValidationError("statement", text, "not a number: numbers are exact decimal text")


FIRST_LINE = b'{"format":' + json.dumps(STATEMENT_FORMAT).encode() + b",\n"


class _StatementReader:
    """A statement read streamed, in one of two ways:

    - **as written** (the fast path): `write_statement`'s layout, one part per line — the
      format, the header, one order per line, the digest and signature — each line parsed with
      `json` as it is read: one pass, nothing but the current order held;
    - **any other JSON layout** (re-indented, keys moved): ijson's C parser, a pass each for
      the format, header, digest and signature (each exactly once) and one for the orders.

    Both give the same values, and the digest is computed over their canonical re-encoding,
    so the layout never changes what verifies."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        source.seek(0)
        self.lined = source.readline() == FIRST_LINE
        self._trailer: tuple[Any, Any] | None = None
        if self.lined:
            self.line_no = 1
            line = self._line()
            head, tail = b'"header":', b',"orders":[\n'
            if not (line.startswith(head) and line.endswith(tail)):
                self._layout("the header, then the list of orders")
            self.header = self._json(line[len(head) : -len(tail)], "header")
        else:
            fmt = _one(source, "format")
            if fmt != STATEMENT_FORMAT:
                raise ValidationError(
                    "format",
                    fmt,
                    f"expected {STATEMENT_FORMAT}; ask the counterpart to export it again",
                )
            self.header = _one(source, "header")

    def _line(self) -> bytes:
        self.line_no += 1
        return self.source.readline()

    def _layout(self, expected: str) -> NoReturn:
        raise ValidationError(
            "statement", f"line {self.line_no}", f"expected {expected} ({STATEMENT_FORMAT})"
        )

    def _json(self, text: bytes, where: str) -> Any:
        try:
            # a float is read as a Decimal, and refused by `_framed` naming its order
            return json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValidationError(where, f"line {self.line_no}", f"not JSON: {e}") from None

    def orders(self) -> Iterator[Any]:
        if not self.lined:
            yield from _values(self.source, "orders.item")
            return
        first = True
        while True:
            line = self._line()
            if line == b"],\n":
                break
            if not line.endswith(b"\n") or (not first and not line.startswith(b",")):
                self._layout("one order per line, or the end of the orders")
            yield self._json(line[0 if first else 1 :], "orders")
            first = False
        trailer = self._json(b"{" + self._line(), "statement")
        if not isinstance(trailer, dict) or set(trailer) != {"digest", "signature"}:
            self._layout("the digest and the signature, and the end")
        if self.source.read(1):
            self._layout("nothing after the statement's end")
        self._trailer = (trailer["digest"], trailer["signature"])

    def trailer(self) -> tuple[Any, Any]:
        """The claimed digest and the signature (once the orders have been read)."""
        if self._trailer is None:
            self._trailer = (_one(self.source, "digest"), _one(self.source, "signature"))
        return self._trailer


@dataclass(frozen=True)
class Header:
    agreement: str
    party: str
    counterparty: str
    as_of: date
    key_id: str
    balances: dict[tuple[str, str, str], Decimal]


def _header(doc: Any) -> Header:
    if not isinstance(doc, dict):
        raise ValidationError("header", "", "not an object")
    try:
        return Header(
            agreement=str(doc["agreement"]),
            party=str(doc["party"]),
            counterparty=str(doc["counterparty"]),
            as_of=date.fromisoformat(doc["as_of"]),
            key_id=str(doc["key_id"]),
            balances={
                (str(b["account"]), str(b["method"]), str(b["commodity"])): Decimal(
                    str(b["amount"])
                )
                for b in doc["balances"]
            },
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as e:
        raise ValidationError("header", "", f"malformed statement header: {e!r}") from None


@dataclass(frozen=True)
class RunSummary:
    """A stored run and how many of its lines have each status (its lines stay in storage)."""

    run: ReconRun
    counts: dict[str, int]


def reconcile(
    uow: UnitOfWork, actor: str | None, source: IO[bytes], at: datetime | None = None
) -> RunSummary:
    """Verify their statement and match it against our records, streaming. `source` is a
    seekable file, read by `_StatementReader` one order at a time; each order is hashed as
    parsed and merged with our orders (both sorted by number), and lines are stored in batches.
    Everything is written in one transaction that commits only once the signature verifies
    over the digest of what was read: an altered or unsigned statement leaves nothing behind."""
    at = at or now()
    reader = _StatementReader(source)
    raw_header = reader.header
    h = hashlib.sha256(_framed(raw_header, "header"))
    theirs = _header(raw_header)
    kid = theirs.key_id
    with uow:
        user = acting_user(uow, actor, "reconcile a statement")
        _require(user, RECONCILERS, theirs.counterparty, "reconcile a statement")
        ours_party = theirs.counterparty
        _counterparty(uow, theirs.agreement, ours_party, theirs.party)
        key = next(
            (k for k in uow.reconciliation.party_keys(theirs.party) if k.key_id == kid), None
        )
        if key is None:
            raise NotFound(f"imported public key of party {theirs.party}", kid, field="key_id")
        ours_bal = _balances(uow, ours_party, theirs.party, theirs.as_of)
        run = ReconRun(
            0,
            theirs.agreement,
            ours_party,
            theirs.party,
            theirs.as_of,
            kid,
            "",  # the digest, known once the whole statement is read
            user.name,
            at,
            tuple(mirror_balance_differences(ours_bal, theirs.balances)),
        )
        run_id = uow.reconciliation.add_run(run, [])

        def their_orders() -> Iterator[OrderView]:
            for doc in reader.orders():
                number = doc.get("number", "?") if isinstance(doc, dict) else "?"
                h.update(_framed(doc, f"orders[{number}]"))
                yield OrderView.from_document(doc)

        counts: dict[str, int] = {}
        batch: list[ReconLine] = []
        with closing(_views(uow, theirs.agreement, ours_party, theirs.party, theirs.as_of)) as ours:
            for line in merge(ours, their_orders()):
                counts[line.status.value] = counts.get(line.status.value, 0) + 1
                batch.append(line)
                if len(batch) >= BATCH:
                    uow.reconciliation.add_lines(run_id, batch)
                    batch = []
        if batch:
            uow.reconciliation.add_lines(run_id, batch)
        claimed, signature_text = reader.trailer()
        digest = h.hexdigest()
        public = serialization.load_pem_public_key(key.public_pem.encode("ascii"))
        assert isinstance(public, Ed25519PublicKey)
        try:
            signature = base64.b64decode(str(signature_text), validate=True)
            public.verify(signature, SIGNED_PREFIX + bytes.fromhex(digest))
        except (InvalidSignature, ValueError):
            raise RuleViolation(
                "bad_signature",
                "signature",
                kid,
                f"the statement of {theirs.party} for {ours_party} under {theirs.agreement} as "
                f"of {theirs.as_of} (SHA-256 {digest}) does not carry a valid signature of "
                f"{theirs.party}'s key {kid}: it was altered or not signed by that key",
            ) from None
        if claimed != digest:
            raise RuleViolation("bad_digest", "digest", claimed, f"the statement's is {digest}")
        uow.reconciliation.finish_run(run_id, digest)
        stored = uow.reconciliation.find_run(run_id)
        assert stored is not None
        audit.record(
            uow,
            user,
            "reconcile.run",
            "reconciliation",
            str(run_id),
            None,
            {**audit.plain(stored), "counts": counts},
            at,
        )
        uow.commit()
    return RunSummary(stored, counts)


# -- runs -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunReport:
    """A run, its lines counted per status, and its lines or a page of them (`next_after`: the
    line the next page starts after; None when this page is the last)."""

    run: ReconRun
    lines: list[ReconLine]
    as_of: date  # the day `overdue` is judged on
    totals: dict[str, int]  # every line of the run, per status
    next_after: int | None = None

    def overdue(self, line: ReconLine) -> bool:
        return line.overdue(self.as_of)

    def counts(self) -> dict[str, int]:
        return dict(self.totals)


def _counted(lines: list[ReconLine]) -> dict[str, int]:
    out: dict[str, int] = {}
    for ln in lines:
        out[ln.status.value] = out.get(ln.status.value, 0) + 1
    return out


def match_statement(
    uow: UnitOfWork,
    actor: str | None,
    statement: str | bytes | IO[bytes],
    at: datetime | None = None,
) -> RunReport:
    """`reconcile`, then the stored run with all its lines (for a statement small enough to
    show whole; `reconcile` alone keeps memory flat)."""
    if isinstance(statement, str):
        statement = statement.encode("utf-8")
    source = io.BytesIO(statement) if isinstance(statement, bytes) else statement
    done = reconcile(uow, actor, source, at)
    with uow:
        lines = uow.reconciliation.lines(done.run.id)
    return RunReport(done.run, lines, done.run.their_as_of, _counted(lines))


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


def show(
    uow: UnitOfWork,
    actor: str | None,
    run_id: int,
    as_of: date | None = None,
    limit: int | None = None,
    after: int | None = None,
) -> RunReport:
    """A run with its lines counted per status and its lines after line `after`, at most
    `limit` of them (all without; a 1M-line run is read a page at a time, by key); `overdue`
    judged on `as_of` (default: today)."""
    if limit is not None and limit < 1:
        raise ValidationError("limit", limit, "at least 1")
    if after is not None and after < 0:
        raise ValidationError("after", after, "a line number (0 or more)")
    with uow:
        user = acting_user(uow, actor, "read a reconciliation run")
        _require(user, READERS, user.party, "read a reconciliation run")
        run = _run_of(uow, user, run_id, "read a reconciliation run")
        lines = uow.reconciliation.lines(run_id, after=after, limit=limit)
        totals = uow.reconciliation.status_counts(run_id)
    following = lines[-1].line_no if limit is not None and len(lines) == limit else None
    return RunReport(run, lines, as_of or date.today(), totals, following)


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
        line = uow.reconciliation.line(run_id, line_no)
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
