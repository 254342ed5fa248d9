"""In-memory fakes of the storage layer, behaving like the SQL repositories.

``FakeUnitOfWork`` keeps a *committed* state and, inside ``with uow:``, a *working copy* made on
enter (see `FakeState.copy`). ``commit()`` makes the working copy the committed state (and starts
a new working copy, as SQLAlchemy autobegins a new transaction); leaving the block without
committing throws the working copy away. So a test can prove that a refused use case wrote
nothing: read the state again in a fresh ``with uow:``. Units of work nest as the SQL one does.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self, TypeVar
from uuid import uuid4

from relos.domain.aging import band, days_overdue
from relos.domain.agreements import Agreement, Method, Party
from relos.domain.audit import AuditRecord, next_record
from relos.domain.credentials import ApiToken, Session
from relos.domain.errors import AlreadyExists, Conflict, NotFound
from relos.domain.facilities import Facility, PriceItem, Unit
from relos.domain.imports import ImportJob
from relos.domain.ledger import BalanceKey, Entry
from relos.domain.money import from_minor
from relos.domain.netting import Statement
from relos.domain.order_search import OrderHead, OrderSearch
from relos.domain.orders import Conversion, Order, OrderDebt, OrderState
from relos.domain.rates import Rate
from relos.domain.reconciliation import MatchStatus, PartyKey, ReconLine, ReconRun
from relos.domain.records import agreement_from, facility_from, price_item_from, unit_from
from relos.domain.users import Role, User
from relos.domain.visits import Visit
from relos.services import catalogue, people

#: the passphrase tests encrypt party signing keys under (RELOS_KEY_PASSPHRASE)
KEY_PASSPHRASE = "test passphrase: Arctic port call"

_T = TypeVar("_T")


@dataclass
class FakeState:
    """Everything a node stores, as plain Python objects."""

    parties: dict[str, Party] = field(default_factory=dict)
    agreements: dict[str, Agreement] = field(default_factory=dict)
    facilities: dict[str, Facility] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    price_items: list[PriceItem] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    kept: dict[BalanceKey, int] = field(default_factory=dict)  # minor units, like the SQL table
    audit: list[AuditRecord] = field(default_factory=list)
    password_hashes: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, ApiToken] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    responses: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    visits: dict[str, Visit] = field(default_factory=dict)
    order_visits: dict[str, str] = field(default_factory=dict)
    party_keys: list[PartyKey] = field(default_factory=list)
    recon_runs: dict[int, ReconRun] = field(default_factory=dict)
    recon_lines: dict[int, list[ReconLine]] = field(default_factory=dict)  # replaced, not mutated
    rates: dict[tuple[date, str, str, str], Rate] = field(default_factory=dict)
    statements: dict[str, Statement] = field(default_factory=dict)
    import_jobs: dict[int, ImportJob] = field(default_factory=dict)  # replaced, not mutated
    #: the rows an unfinished import job had written each time the planner's statistics were
    #: brought up to date
    statistics_refreshed: list[int] = field(default_factory=list)
    order_references: dict[tuple[str, str], str] = field(default_factory=dict)

    def copy(self) -> FakeState:
        """A working copy. Stored objects are never changed in place (reference records and
        entries are frozen; an order is stored and handed out as a deep copy and replaced on
        save), so copying the containers is enough to keep the committed state untouched."""
        return FakeState(**{f.name: _container_copy(getattr(self, f.name)) for f in fields(self)})


def _container_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


class _Repo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _s(self) -> FakeState:
        return self._uow.working()


class FakeReferenceRepo(_Repo):
    # parties
    def add_party(self, party: Party) -> None:
        if party.code in self._s.parties:
            raise AlreadyExists("party", party.code, field="code")
        self._s.parties[party.code] = party

    def find_party(self, code: str) -> Party | None:
        return self._s.parties.get(code)

    def parties(self) -> list[Party]:
        return [self._s.parties[k] for k in sorted(self._s.parties)]

    # agreements
    def add_agreement(self, a: Agreement) -> None:
        if a.code in self._s.agreements:
            raise AlreadyExists("agreement", a.code, field="code")
        self._s.agreements[a.code] = a

    def save_agreement(self, a: Agreement) -> None:
        if a.code in self._s.agreements:  # SQL: an UPDATE of a missing row changes nothing
            self._s.agreements[a.code] = a

    def find_agreement(self, code: str) -> Agreement | None:
        return self._s.agreements.get(code)

    def agreements(self) -> list[Agreement]:
        return [self._s.agreements[k] for k in sorted(self._s.agreements)]

    # facilities
    def add_facility(self, f: Facility) -> None:
        if f.code in self._s.facilities:
            raise AlreadyExists("facility", f.code, field="code")
        self._s.facilities[f.code] = f

    def find_facility(self, code: str) -> Facility | None:
        return self._s.facilities.get(code)

    def facilities(self, party: str | None = None) -> list[Facility]:
        found = [f for f in self._s.facilities.values() if not party or f.party == party]
        return sorted(found, key=lambda f: (f.party, f.code))

    # units
    def add_unit(self, u: Unit) -> None:
        if u.code in self._s.units:
            raise AlreadyExists("unit", u.code, field="code")
        self._s.units[u.code] = u

    def find_unit(self, code: str) -> Unit | None:
        return self._s.units.get(code)

    def units(self, party: str | None = None) -> list[Unit]:
        found = [u for u in self._s.units.values() if not party or u.party == party]
        return sorted(found, key=lambda u: (u.party, u.code))

    def order_references(
        self, agreement: str, unit: str, facility: str
    ) -> tuple[Agreement | None, Unit | None, Facility | None]:
        return (
            self._s.agreements.get(agreement),
            self._s.units.get(unit),
            self._s.facilities.get(facility),
        )

    # price items
    def add_price_item(self, p: PriceItem) -> None:
        for q in self._s.price_items:
            if (q.supplier, q.code, q.valid_from) == (p.supplier, p.code, p.valid_from):
                raise AlreadyExists(
                    "price item", f"{p.supplier} {p.code} from {p.valid_from}", field="code"
                )
        # SQL stores the item's RIK commodity explicitly; read back, the item carries it.
        self._s.price_items.append(replace(p, commodity=p.rik_commodity))

    def price_items(self, supplier: str | None = None) -> list[PriceItem]:
        found = [p for p in self._s.price_items if not supplier or p.supplier == supplier]
        return sorted(found, key=lambda p: (p.supplier, p.code, p.valid_from))

    # users
    def add_user(self, u: User) -> None:
        if u.name in self._s.users:
            raise AlreadyExists("user", u.name, field="name")
        self._s.users[u.name] = u

    def save_user(self, u: User) -> None:
        if u.name in self._s.users:
            self._s.users[u.name] = u

    def find_user(self, name: str) -> User | None:
        return self._s.users.get(name)

    def users(self, party: str | None = None) -> list[User]:
        found = [u for u in self._s.users.values() if not party or u.party == party]
        return sorted(found, key=lambda u: (u.party, u.name))


class FakeOrderRepo(_Repo):
    def next_number(self, prefix: str) -> int:
        nxt = self._s.sequences.get(prefix, 0) + 1
        self._s.sequences[prefix] = nxt
        return nxt

    def get_for_update(self, number: str) -> Order:
        return self.get(number)

    def get(self, number: str) -> Order:
        order = self.find(number)
        if order is None:
            raise NotFound("order", number, field="number")
        return order

    def find(self, number: str) -> Order | None:
        stored = self._s.orders.get(number)
        return None if stored is None else stored.copy()

    def add(self, order: Order) -> None:
        if order.number in self._s.orders:
            raise AlreadyExists("order", order.number, field="number")
        self._s.orders[order.number] = order.copy()

    def save(self, order: Order, stored: Order | None = None) -> None:
        """Header and lines are replaced; receipts, invoices, settlements and signatures are
        appended only (what was stored before stays as stored), as in the SQL repository,
        which writes the difference from `stored` (the order as the caller read it) and would
        write wrong rows if `stored` were not what is kept."""
        kept = self._s.orders.get(order.number)
        if kept is None:
            raise NotFound("order", order.number, field="number")
        assert stored is None or stored == kept, f"order {order.number}: `stored` is not as kept"
        new = order.copy()
        new.receipts = kept.receipts + new.receipts[len(kept.receipts) :]
        new.invoices = kept.invoices + new.invoices[len(kept.invoices) :]
        new.settlements = kept.settlements + new.settlements[len(kept.settlements) :]
        new.signatures = kept.signatures + new.signatures[len(kept.signatures) :]
        new.conversions = kept.conversions + new.conversions[len(kept.conversions) :]
        self._s.orders[order.number] = new

    def numbers(
        self,
        *,
        agreement: str | None = None,
        party: str | None = None,
        states: Iterable[OrderState] | None = None,
        received_in: int | None = None,
    ) -> list[str]:
        wanted = None if states is None else set(states)
        return sorted(
            o.number
            for o in self._s.orders.values()
            if (not agreement or o.agreement == agreement)
            and (not party or party in (o.requesting, o.supplying))
            and (wanted is None or o.state in wanted)
            and (received_in is None or any(r.received_on.year == received_in for r in o.receipts))
        )

    def number_pages(
        self,
        size: int,
        *,
        agreement: str | None = None,
        party: str | None = None,
        states: Iterable[OrderState] | None = None,
        received_in: int | None = None,
    ) -> Generator[list[str], None, None]:
        return self._paged(
            self.numbers(
                agreement=agreement,
                party=party,
                states=states,
                received_in=received_in,
            ),
            size,
        )

    def _paged(self, found: list[_T], size: int) -> Generator[list[_T], None, None]:
        """`found` `size` at a time, counted as an open cursor until the pages end or close."""
        self._uow.open_cursors += 1
        try:
            for k in range(0, len(found), size):
                yield found[k : k + size]
        finally:
            self._uow.open_cursors -= 1

    def count_by_state(self, party: str | None = None) -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in self._s.orders.values():
            if not party or party in (o.requesting, o.supplying):
                counts[o.state.value] = counts.get(o.state.value, 0) + 1
        return counts

    def load(self, numbers: Sequence[str], *, signatures: bool = True) -> list[Order]:
        out = [self._s.orders[n].copy() for n in numbers if n in self._s.orders]
        if not signatures:
            for o in out:
                o.signatures = []
        return out

    def _matching(self, s: OrderSearch) -> list[Order]:
        return s.ordered([o for o in self._s.orders.values() if s.matches(o)])

    def search(self, s: OrderSearch, limit: int | None = None, offset: int = 0) -> list[OrderHead]:
        found = self._matching(s)[offset:]
        return [OrderHead.of(o) for o in (found if limit is None else found[:limit])]

    def count(self, s: OrderSearch) -> int:
        return len(self._matching(s))

    def state_counts(self, s: OrderSearch) -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in self._matching(s):
            counts[o.state.value] = counts.get(o.state.value, 0) + 1
        return counts

    def foreign_units(self, viewer: str) -> set[str]:
        seen = OrderSearch(viewer=viewer)
        return {
            o.unit for o in self._s.orders.values() if seen.matches(o) and o.requesting != viewer
        }

    def invoice_exists(self, number: str) -> bool:
        return any(i.number == number for o in self._s.orders.values() for i in o.invoices)

    def debts(self, party: str | None = None) -> list[OrderDebt]:
        return [
            d
            for n in sorted(self._s.orders)
            if not party or party in (self._s.orders[n].requesting, self._s.orders[n].supplying)
            for d in self._s.orders[n].debts()
        ]

    def changed_debts(self, as_of: date, party: str | None = None) -> list[OrderDebt]:
        return [
            d for n in self._changed_after(as_of, party) for d in self._s.orders[n].debts_on(as_of)
        ]

    def cash_debts(self, agreement: str, as_of: date) -> list[tuple[OrderDebt, date]]:
        return [
            (d, o.invoices[-1].issued_on)
            for n, o in sorted(self._s.orders.items())
            if o.agreement == agreement
            and o.invoices
            and o.invoices[-1].issued_on <= as_of
            and (o.method is Method.CASH or o.conversions)
            for d in o.debts()
        ]

    def debt_pages(
        self, size: int, *, party: str
    ) -> Generator[list[tuple[OrderDebt, bool]], None, None]:
        found = [
            (d, bool(o.conversions))
            for n, o in sorted(self._s.orders.items())
            if party in (o.requesting, o.supplying)
            for d in o.debts()
        ]
        return self._paged(found, size)

    def converted_kept(self, as_of: date, party: str | None = None) -> list[OrderDebt]:
        converted = set(self._changed_after(as_of, party, converted_only=True))
        return [d for d in self._kept(as_of, party) if d.order in converted]

    def converted_debts(self, as_of: date, party: str | None = None) -> list[OrderDebt]:
        return [
            d
            for n in self._changed_after(as_of, party, converted_only=True)
            for d in self._s.orders[n].debts_on(as_of)
        ]

    def _changed_after(
        self, as_of: date, party: str | None = None, converted_only: bool = False
    ) -> list[str]:
        """Orders invoiced by `as_of` whose debts moved after it: settled, converted or
        invoiced again (only converted, which is how an order is invoiced again, with
        `converted_only`)."""
        return [
            n
            for n, o in sorted(self._s.orders.items())
            if (not party or party in (o.requesting, o.supplying))
            and o.invoices
            and o.invoices[0].issued_on <= as_of
            and (
                (not converted_only and any(x.on > as_of for x in o.settlements))
                or any(x.on > as_of for x in o.conversions)
                or any(i.issued_on > as_of for i in o.invoices)
            )
        ]

    def _kept(self, as_of: date, party: str | None) -> list[OrderDebt]:
        """The kept debts of the orders invoiced on or before `as_of`."""
        return [
            d for d in self.debts(party) if self._s.orders[d.order].invoices[-1].issued_on <= as_of
        ]

    def open_debts(
        self,
        as_of: date,
        party: str | None = None,
        overdue_only: bool = False,
        after: tuple[date, str, str] | None = None,
        limit: int | None = None,
    ) -> list[OrderDebt]:
        changed = set(self._changed_after(as_of, party))
        found = sorted(
            (
                d
                for d in self._kept(as_of, party)
                if d.order not in changed
                and not (overdue_only and d.due_on >= as_of)
                and (after is None or (d.due_on, d.order, d.commodity) > after)
            ),
            key=lambda d: (d.due_on, d.order, d.commodity),
        )
        return found if limit is None else found[:limit]

    def aging(
        self, as_of: date, party: str | None = None
    ) -> dict[tuple[str, str, str, int], Decimal]:
        """As the SQL sums: what is kept, but what they owed then for the orders settled (and
        not converted) after `as_of`."""
        settled = set(self._changed_after(as_of, party)) - set(
            self._changed_after(as_of, party, converted_only=True)
        )
        owed = [d for d in self._kept(as_of, party) if d.order not in settled]
        owed += [d for n in sorted(settled) for d in self._s.orders[n].debts_on(as_of)]
        out: dict[tuple[str, str, str, int], Decimal] = {}
        for d in owed:
            key = (d.creditor, d.debtor, d.commodity, band(days_overdue(d.due_on, as_of)))
            out[key] = out.get(key, Decimal(0)) + d.outstanding
        return out


class FakeLedgerRepo(_Repo):
    """Append-only entries; balances kept in integer minor units in the same transaction."""

    def append_rows(
        self,
        rows: list[tuple[Any, ...]],
        sums: list[list[tuple[Any, ...]]] | None = None,
        *,
        balances: bool = True,
    ) -> None:
        if not balances:
            raise NotImplementedError("the fake ledger keeps its balances as it appends")
        self.append([e for (e,) in rows])

    def add_balance_sums(self, sums: Sequence[list[list[tuple[Any, ...]]]]) -> None:
        if sums:
            raise NotImplementedError("the fake ledger keeps its balances as it appends")

    def append(self, entries: list[Entry]) -> None:
        for e in entries:
            if any(x.book == e.book and x.txn == e.txn for x in self._s.entries):
                raise AlreadyExists("ledger entry", f"{e.book} {e.txn}", field="txn")
            minors = [p.amount.minor for p in e.postings]  # refuses excess precision, like SQL
            self._s.entries.append(e)
            for p, minor in zip(e.postings, minors, strict=True):
                key = (e.book, p.account, p.counterparty, p.method, p.amount.commodity)
                self._s.kept[key] = self._s.kept.get(key, 0) + minor

    def balances(
        self, book: str | None = None, as_of: date | None = None
    ) -> dict[BalanceKey, Decimal]:
        if as_of is None:
            kept = {k: v for k, v in self._s.kept.items() if not book or k[0] == book}
        else:
            kept = self._sum(e for e in self._s.entries if e.on <= as_of)
            kept = {k: v for k, v in kept.items() if not book or k[0] == book}
        return {k: from_minor(v, k[4]) for k, v in kept.items() if v != 0}

    def summed_balances(
        self, book: str | None = None, as_of: date | None = None
    ) -> dict[BalanceKey, Decimal]:
        found = self._sum(
            e
            for e in self._s.entries
            if (not book or e.book == book) and (as_of is None or e.on <= as_of)
        )
        return {k: from_minor(v, k[4]) for k, v in found.items() if v != 0}

    def entries(self, book: str | None = None, order: str | None = None) -> list[Entry]:
        found = [
            (e.on, i, e)
            for i, e in enumerate(self._s.entries)
            if (not book or e.book == book) and (not order or e.order == order)
        ]
        return [e for _, _, e in sorted(found, key=lambda t: (t[0], t[1]))]

    @staticmethod
    def _sum(entries: Iterable[Entry]) -> dict[BalanceKey, int]:
        out: dict[BalanceKey, int] = {}
        for e in entries:
            for p in e.postings:
                key = (e.book, p.account, p.counterparty, p.method, p.amount.commodity)
                out[key] = out.get(key, 0) + p.amount.minor
        return out


class FakeAuthRepo(_Repo):
    def set_password_hash(self, user: str, password_hash: str) -> None:
        if user not in self._s.users:
            raise NotFound("user", user, field="name")
        self._s.password_hashes[user] = password_hash

    def password_hash(self, user: str) -> str | None:
        return self._s.password_hashes.get(user)

    def add_token(self, token: ApiToken) -> None:
        self._s.tokens[token.id] = token

    def find_token(self, token_id: str) -> ApiToken | None:
        return self._s.tokens.get(token_id)

    def find_token_and_user(self, token_id: str) -> tuple[ApiToken, User | None] | None:
        token = self._s.tokens.get(token_id)
        return None if token is None else (token, self._s.users.get(token.user))

    def tokens(self, user: str | None = None) -> list[ApiToken]:
        found = sorted(self._s.tokens.values(), key=lambda t: t.created_at)
        return [t for t in found if user is None or t.user == user]

    def revoke_token(self, token_id: str, at: datetime) -> None:
        token = self._s.tokens.get(token_id)
        if token is not None and token.revoked_at is None:
            self._s.tokens[token_id] = replace(token, revoked_at=at)

    def add_session(self, s: Session) -> None:
        self._s.sessions[s.id_digest] = s

    def find_session(self, id_digest: str) -> Session | None:
        return self._s.sessions.get(id_digest)

    def delete_session(self, id_digest: str) -> None:
        self._s.sessions.pop(id_digest, None)

    def find_response(self, user: str, key: str) -> dict[str, Any] | None:
        found = self._s.responses.get((user, key))
        return None if found is None else dict(found)

    def add_response(
        self,
        user: str,
        key: str,
        request_digest: str,
        status_code: int,
        response: Any,
        headers: dict[str, str],
        at: datetime,
    ) -> None:
        if (user, key) in self._s.responses:
            raise AlreadyExists("idempotency key", key, field="Idempotency-Key")
        self._s.responses[(user, key)] = {
            "user_name": user,
            "key": key,
            "request_digest": request_digest,
            "status_code": status_code,
            "response": response,
            "headers": headers,
            "created_at": at,
        }


class FakeConversionRepo(_Repo):
    def conversions(self, agreement: str | None = None) -> list[tuple[str, Conversion]]:
        found = [
            (o.number, c)
            for o in self._s.orders.values()
            if agreement is None or o.agreement == agreement
            for c in o.conversions
        ]
        return sorted(found, key=lambda x: (x[1].on, x[0]))


class FakeReconciliationRepo(_Repo):
    def add_key(self, key: PartyKey) -> None:
        if any(k.key_id == key.key_id for k in self._s.party_keys):
            raise AlreadyExists("key", key.key_id, field="key_id")
        self._s.party_keys.append(key)

    def party_keys(self, party: str | None = None) -> list[PartyKey]:
        found = sorted(self._s.party_keys, key=lambda k: (k.created_at, k.key_id))
        return [k for k in found if party is None or k.party == party]

    def set_private(self, key_id: str, private_pem: str) -> None:
        found = [k for k in self._s.party_keys if k.key_id == key_id]
        if not found:
            raise NotFound("key", key_id, field="key_id")
        self._s.party_keys = [
            replace(k, private_pem=private_pem) if k.key_id == key_id else k
            for k in self._s.party_keys
        ]

    def add_run(self, run: ReconRun, lines: list[ReconLine]) -> int:
        run_id = max(self._s.recon_runs, default=0) + 1
        self._s.recon_runs[run_id] = replace(run, id=run_id)
        self._s.recon_lines[run_id] = list(lines)
        return run_id

    def add_lines(self, run_id: int, lines: list[ReconLine]) -> None:
        self._s.recon_lines[run_id] = [*self._s.recon_lines.get(run_id, []), *lines]

    def finish_run(self, run_id: int, statement_digest: str) -> None:
        run = self._s.recon_runs[run_id]
        self._s.recon_runs[run_id] = replace(run, statement_digest=statement_digest)

    def runs(self, party: str | None = None) -> list[ReconRun]:
        found = [self._s.recon_runs[i] for i in sorted(self._s.recon_runs)]
        return [r for r in found if party is None or r.party == party]

    def find_run(self, run_id: int) -> ReconRun | None:
        return self._s.recon_runs.get(run_id)

    def lines(
        self,
        run_id: int,
        *,
        after: int | None = None,
        limit: int | None = None,
        unmatched: bool = False,
    ) -> list[ReconLine]:
        found = sorted(self._s.recon_lines.get(run_id, []), key=lambda ln: ln.line_no)
        found = [
            ln
            for ln in found
            if (after is None or ln.line_no > after)
            and not (unmatched and ln.status is MatchStatus.MATCHED)
        ]
        return found if limit is None else found[:limit]

    def line(self, run_id: int, line_no: int) -> ReconLine | None:
        return next((ln for ln in self.lines(run_id) if ln.line_no == line_no), None)

    def status_counts(self, run_id: int) -> dict[str, int]:
        out: dict[str, int] = {}
        for ln in self.lines(run_id):
            out[ln.status.value] = out.get(ln.status.value, 0) + 1
        return out

    def save_line(self, run_id: int, line: ReconLine) -> None:
        old = self._s.recon_lines.get(run_id, [])
        if not any(ln.line_no == line.line_no for ln in old):
            raise NotFound("reconciliation line", f"{run_id}/{line.line_no}")
        self._s.recon_lines[run_id] = [line if ln.line_no == line.line_no else ln for ln in old]


class FakeAuditRepo(_Repo):
    """The hash-chained audit log: appended in the working copy, so it commits or vanishes with
    the change it records."""

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
        log = self._s.audit
        record = next_record(
            log[-1] if log else None,
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
        log.append(record)
        return record

    def records(
        self, entity: str | None = None, key: str | None = None, request: str | None = None
    ) -> Iterator[AuditRecord]:
        for r in list(self._s.audit):
            if (
                (entity is None or r.entity == entity)
                and (key is None or r.key == key)
                and (request is None or r.request_id == request)
            ):
                yield r


class FakeNettingRepo(_Repo):
    """Exchange rates and netting statements; statements stored and handed out as copies."""

    def add_rates(self, rates: list[Rate]) -> None:
        for r in rates:
            if r.key() in self._s.rates:
                raise AlreadyExists("rate", r.key())
        for r in rates:
            self._s.rates[r.key()] = r

    def rates(self, base: str | None = None, quote: str | None = None) -> list[Rate]:
        return sorted(
            (
                r
                for r in self._s.rates.values()
                if (not base or r.base == base) and (not quote or r.quote == quote)
            ),
            key=lambda r: r.key(),
        )

    def next_statement_seq(self, prefix: str) -> int:
        return sum(1 for n in self._s.statements if n.startswith(prefix)) + 1

    def add_statement(self, st: Statement) -> None:
        if st.number in self._s.statements:
            raise AlreadyExists("netting statement", st.number)
        self._s.statements[st.number] = copy.deepcopy(st)

    def save_statement(self, st: Statement) -> None:
        self.get_statement(st.number)
        self._s.statements[st.number] = copy.deepcopy(st)

    def find_statement(self, number: str) -> Statement | None:
        st = self._s.statements.get(number)
        return None if st is None else copy.deepcopy(st)

    def get_statement(self, number: str) -> Statement:
        st = self.find_statement(number)
        if st is None:
            raise NotFound("netting statement", number, field="statement")
        return st

    def get_statement_for_update(self, number: str) -> Statement:
        return self.get_statement(number)

    def statements(self, agreement: str | None = None) -> list[Statement]:
        return [
            copy.deepcopy(st)
            for n, st in sorted(self._s.statements.items())
            if not agreement or st.agreement == agreement
        ]


class FakeVisitRepo(_Repo):
    def next_number(self, prefix: str) -> int:
        seqs = [int(n[len(prefix) :]) for n in self._s.visits if n.startswith(prefix)]
        return max(seqs, default=0) + 1

    def add(self, visit: Visit) -> None:
        if visit.number in self._s.visits:
            raise AlreadyExists("visit", visit.number, field="number")
        self._s.visits[visit.number] = visit

    def find(self, number: str) -> Visit | None:
        return self._s.visits.get(number)

    def get(self, number: str) -> Visit:
        visit = self.find(number)
        if visit is None:
            raise NotFound("visit", number, field="visit")
        return visit

    def overlapping(
        self,
        *,
        agreement: str | None = None,
        party: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> list[Visit]:
        found = [
            v
            for v in self._s.visits.values()
            if (not agreement or v.agreement == agreement)
            and (not party or party in (v.visiting, v.host))
            and (start is None or v.departure >= start)
            and (end is None or v.arrival <= end)
        ]
        return sorted(found, key=lambda v: (v.arrival, v.number))

    def replace(self, visit: Visit) -> None:
        self.get(visit.number)
        self._s.visits[visit.number] = visit

    def orders_of(self, visit: str) -> list[str]:
        return sorted(o for o, v in self._s.order_visits.items() if v == visit)

    def link_order(self, order: str, visit: str) -> None:
        self._s.order_visits[order] = visit

    def order_visit(self, order: str) -> str | None:
        return self._s.order_visits.get(order)


class FakeBatchRows:
    """The orders (copies) and entries themselves, as the "rows" the fakes' `add_order_rows`
    (one "table") and `append_rows` take."""

    def orders(self, orders: Sequence[tuple[Order, str, int]]) -> list[list[tuple[Any, ...]]]:
        return [[(o.copy(), ref, line) for o, ref, line in orders]]

    def entries(self, entries: list[Entry]) -> list[tuple[Any, ...]]:
        return [(e,) for e in entries]

    def balance_sums(self, rows: list[tuple[Any, ...]]) -> None:
        return None  # the fake ledger keeps its balances as it appends


class FakeImportRepo(_Repo):
    def find_job(self, kind: str, sha256: str) -> ImportJob | None:
        for j in self._s.import_jobs.values():
            if (j.kind, j.sha256) == (kind, sha256):
                return replace(j)
        return None

    def unfinished_jobs(self, kind: str) -> list[ImportJob]:
        jobs = self._s.import_jobs.values()
        return [replace(j) for j in jobs if j.kind == kind and not j.finished]

    def add_job(self, job: ImportJob) -> ImportJob:
        if self.find_job(job.kind, job.sha256) is not None:
            raise AlreadyExists("import job", job.sha256, field="sha256")
        job.id = len(self._s.import_jobs) + 1
        self._s.import_jobs[job.id] = replace(job)
        return job

    def save_job(self, job: ImportJob) -> None:
        assert job.id in self._s.import_jobs
        self._s.import_jobs[job.id] = replace(job)

    def checkpoints_every(self, pages: int) -> AbstractContextManager[None]:
        return nullcontext()  # no log in memory

    def checkpoint(self) -> None:
        pass

    def refresh_statistics(self) -> None:  # no planner in memory: when it was asked for
        jobs = self._s.import_jobs.values()
        self._s.statistics_refreshed += [j.rows_done for j in jobs if not j.finished]

    def reserve_numbers(self, prefix: str, count: int) -> int:
        first = self._s.sequences.get(prefix, 0) + 1
        self._s.sequences[prefix] = first + count - 1
        return first

    def last_numbers(self, prefixes: Collection[str]) -> dict[str, int]:
        return {p: self._s.sequences.get(p, 0) for p in prefixes}

    def known_references(self, refs: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
        return {r for r in refs if r in self._s.order_references}

    def batch_rows(self) -> FakeBatchRows:
        return FakeBatchRows()

    def add_order_rows(self, job_id: int, rows: list[list[tuple[Any, ...]]]) -> None:
        for table in rows:
            self.add_orders(job_id, [(o, ref, line) for o, ref, line in table])

    def add_orders(self, job_id: int, orders: Sequence[tuple[Order, str, int]]) -> None:
        for order, ref, _line in orders:
            key = (order.requesting, ref)
            if order.number in self._s.orders or key in self._s.order_references:
                raise AlreadyExists("order", order.number, field="number")
            self._s.orders[order.number] = order.copy()
            self._s.order_references[key] = order.number


class FakeUnitOfWork:
    """The UnitOfWork protocol in memory, with real commit and rollback semantics."""

    def __init__(self, request_id: str | None = None) -> None:
        self._given_request_id = request_id
        self.request_id = request_id or uuid4().hex
        self._committed = FakeState()
        self._work: FakeState | None = None
        self._depth = 0
        self._failed = False
        self._reading_next = False
        self._reading = False
        self.commits = 0
        self.open_cursors = 0  # streamed queries not read to their end nor closed
        self.cursors_open_at_end: list[int] = []  # units of work that ended with any
        self.reference = FakeReferenceRepo(self)
        self.orders = FakeOrderRepo(self)
        self.ledger = FakeLedgerRepo(self)
        self.audit = FakeAuditRepo(self)
        self.auth = FakeAuthRepo(self)
        self.visits = FakeVisitRepo(self)
        self.reconciliation = FakeReconciliationRepo(self)
        self.conversions = FakeConversionRepo(self)
        self.netting = FakeNettingRepo(self)
        self.imports = FakeImportRepo(self)

    def working(self) -> FakeState:
        if self._work is None:
            raise RuntimeError("repositories are used only inside `with uow:`")
        return self._work

    def fork(self) -> FakeUnitOfWork:
        """A new fake node starting from this one's committed state (cheap: no deep copy)."""
        other = FakeUnitOfWork()
        other._committed = self._committed.copy()
        return other

    @property
    def committed(self) -> FakeState:
        """The committed state (read it; do not change it)."""
        return self._committed

    def __enter__(self) -> Self:
        """Units of work nest as in SQL: an inner one joins the outer transaction."""
        self._depth += 1
        if self._depth > 1:
            return self
        self._failed = False
        self._reading, self._reading_next = self._reading_next, False
        self.request_id = self._given_request_id or uuid4().hex
        self._work = self._committed.copy()
        return self

    def reading(self) -> Self:
        """The next unit of work only reads: committing in it is a mistake of the service."""
        if self._depth == 0:
            self._reading_next = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth > 0:
            if exc_type is not None:
                self._failed = True  # the outer unit of work may no longer commit
            return
        if self.open_cursors:  # a real cursor would be closed after its transaction
            self.cursors_open_at_end.append(self.open_cursors)
        self._work = None  # whatever was not committed is gone

    def commit(self) -> None:
        """Commit the outermost unit of work; an inner commit waits for it."""
        work = self.working()
        if self._reading:
            raise RuntimeError("a unit of work opened with reading() does not commit")
        if self._failed:
            raise Conflict("a step of this unit of work failed: nothing is written")
        if self._depth > 1:
            return
        self._committed = work
        self._work = work.copy()
        self.commits += 1

    def rollback(self) -> None:
        self.working()
        self._work = self._committed.copy()


# -- a small world for unit tests: India and Russia under RELOS, with its real dates ---------------

#: RELOS dates (DOMAIN.md). India's completion date is not published: ours is illustrative.
RELOS_SIGNED = date(2025, 2, 18)
RUS_STEPS = (
    ("Government submits to the State Duma", date(2025, 11, 28)),
    ("State Duma ratifies", date(2025, 12, 2)),
    ("Federation Council approves", date(2025, 12, 10)),
    ("President signs the law", date(2025, 12, 15)),
)
IND_STEP = ("notification of completed internal procedures", date(2026, 1, 15))  # illustrative
IN_FORCE_FROM = IND_STEP[1]

#: user name -> (party, role); the admins are added first (bootstrap), the others by them.
USERS: dict[str, tuple[str, str]] = {
    "ind-admin": ("IND", "party_admin"),
    "rus-admin": ("RUS", "party_admin"),
    "ind-oo": ("IND", "ordering_officer"),
    "ind-ao": ("IND", "accepting_officer"),
    "ind-ro": ("IND", "receiving_officer"),
    "ind-fo": ("IND", "finance_officer"),
    "rus-oo": ("RUS", "ordering_officer"),
    "rus-ao": ("RUS", "accepting_officer"),
    "rus-ro": ("RUS", "receiving_officer"),
    "rus-fo": ("RUS", "finance_officer"),
}


def relos_document() -> dict[str, Any]:
    """Reference data as `catalogue.load` reads it (prices illustrative)."""
    categories = ["pol", "water", "food", "medical", "repair_maintenance", "port_services"]
    return {
        "parties": [
            {"code": "IND", "name": "India", "native_name": "भारत", "currency": "INR"},
            {"code": "RUS", "name": "Russia", "native_name": "Россия", "currency": "RUB"},
        ],
        "agreements": [
            {
                "code": "RELOS",
                "title": "Reciprocal Exchange of Logistics Support",
                "parties": ["IND", "RUS"],
                "signed_on": RELOS_SIGNED.isoformat(),
                "signatories": ["Vinay Kumar", "Alexander Fomin"],
                "steps": [
                    *({"party": "RUS", "step": s, "date": d.isoformat()} for s, d in RUS_STEPS),
                    {"party": "IND", "step": IND_STEP[0], "date": IND_STEP[1].isoformat()},
                ],
                "uses": ["exercise", "training", "port_call", "hadr", "disaster_relief"],
                "categories": categories,
                "excluded_categories": ["ammunition"],
                "methods": [
                    {"method": "cash", "due_days": 30},
                    {"method": "rik", "due_days": 365},
                    {"method": "eve", "due_days": 365},
                ],
                "caps": {"warships": 5, "aircraft": 10, "personnel": 3000},
                "notice_days": 14,
            }
        ],
        "facilities": [
            {
                "code": "RU-SEV",
                "name": "Severomorsk",
                "native_name": "Североморск",
                "party": "RUS",
                "kind": "naval_base",
                "categories": ["pol", "water", "food", "port_services"],
                "open_under": ["RELOS"],
                "ice_support": True,
            },
            {
                "code": "RU-KRN",
                "name": "Kronstadt",
                "native_name": "Кронштадт",
                "party": "RUS",
                "kind": "naval_base",
                "categories": ["pol", "water", "food"],
                "open_under": [],
            },
            {
                "code": "IN-VTZ",
                "name": "Visakhapatnam",
                "native_name": "विशाखापत्तनम",
                "party": "IND",
                "kind": "naval_base",
                "locode": "INVTZ",
                "categories": ["pol", "water", "food", "repair_maintenance"],
                "open_under": ["RELOS"],
            },
        ],
        "units": [
            {"code": "INS-TABAR", "name": "INS Tabar", "party": "IND", "kind": "ship"},
            {"code": "INS-VIKRAMADITYA", "name": "INS Vikramaditya", "party": "IND"},
            {"code": "RFS-GORSHKOV", "name": "Admiral Gorshkov", "party": "RUS", "kind": "ship"},
        ],
        "price_lists": [
            {
                "supplier": "RUS",
                "items": [
                    _item(
                        "F76",
                        "Diesel F-76",
                        "pol",
                        "t",
                        "65000.00",
                        "RUB",
                        "2025-01-01",
                        "2026-06-30",
                        commodity="DIESEL_T",
                    ),
                    _item(
                        "F76",
                        "Diesel F-76",
                        "pol",
                        "t",
                        "70000.00",
                        "RUB",
                        "2026-07-01",
                        None,
                        commodity="DIESEL_T",
                    ),
                    _item("WATER", "Fresh water", "water", "m3", "150.00", "RUB", "2025-01-01"),
                    _item("RATION", "Crew ration", "food", "day", "900.50", "RUB", "2025-01-01"),
                    _item(
                        "MEDKIT", "Medical kit", "medical", "kit", "5000.00", "RUB", "2025-01-01"
                    ),
                ],
            },
            {
                "supplier": "IND",
                "items": [
                    _item(
                        "HSD",
                        "High-speed diesel",
                        "pol",
                        "kl",
                        "95000.00",
                        "INR",
                        "2025-01-01",
                        commodity="HSD_KL",
                    ),
                    _item("FW", "Fresh water", "water", "m3", "120.50", "INR", "2025-01-01"),
                    _item(
                        "REPAIR-HR",
                        "Repair hour",
                        "repair_maintenance",
                        "hour",
                        "4500.00",
                        "INR",
                        "2025-01-01",
                    ),
                ],
            },
        ],
    }


def _item(
    code: str,
    description: str,
    category: str,
    uom: str,
    price: str,
    currency: str,
    valid_from: str,
    valid_to: str | None = None,
    *,
    commodity: str = "",
) -> dict[str, Any]:
    return {
        "code": code,
        "description": description,
        "category": category,
        "unit_of_measure": uom,
        "unit_price": price,
        "currency": currency,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "commodity": commodity,
        "illustrative": True,
    }


#: The data elements RELOS requires beyond the order's own fields.
ORDER_DATA = {
    "point_of_contact": "Cdr A. Rao",
    "delivery_location": "Berth 3",
    "purpose": "replenishment",
}


def seeded_uow() -> FakeUnitOfWork:
    """A fake node with the RELOS world loaded and every user of `USERS`, all committed."""
    uow = FakeUnitOfWork()
    catalogue.load(uow, relos_document())
    for name, (party, role) in USERS.items():
        admin = None if role == "party_admin" else f"{party.lower()}-admin"
        people.add_user(uow, admin, name, party, role)
    return uow


@dataclass(frozen=True)
class World:
    """The same world as domain objects, for tests of the domain alone."""

    relos: Agreement
    facilities: dict[str, Facility]
    units: dict[str, Unit]
    prices: list[PriceItem]
    users: dict[str, User]

    def prices_of(self, supplier: str) -> list[PriceItem]:
        return [p for p in self.prices if p.supplier == supplier]


def world() -> World:
    doc = relos_document()
    prices = [
        price_item_from(item, pl["supplier"]) for pl in doc["price_lists"] for item in pl["items"]
    ]
    return World(
        relos=agreement_from(doc["agreements"][0]),
        facilities={f.code: f for f in map(facility_from, doc["facilities"])},
        units={u.code: u for u in map(unit_from, doc["units"])},
        prices=prices,
        users={n: User(n, p, Role(r)) for n, (p, r) in USERS.items()},
    )
