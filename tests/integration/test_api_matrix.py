"""Every endpoint × every role × every party relation, on the demo world (`api_world`).

The expected outcome comes from the rules of DESIGN.md, written out below as a small oracle
(`RULES`, `sees_*`), never from what the server answered before. Reads: each user sees exactly
what its party may see, and nothing of a party outside its agreements. Writes: only the role and
side the design gives an action succeed; everything else is 403 (or 404 where the caller may not
even see the object) and writes nothing. A read-only token is refused on every write.

The endpoints are enumerated from the application, so a new one without a case fails
`test_every_endpoint_has_a_case`. SQLite runs every case; PostgreSQL a representative subset (one
user of each role on every read list, and the whole RELOS order-action matrix for three roles).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from relos.api.app import create_app
from relos.domain.agreements import Agreement, Party
from relos.domain.facilities import Facility, PriceItem, Unit
from relos.domain.ledger import Entry
from relos.domain.orders import Order
from relos.domain.users import Role, User
from relos.services import ordering
from relos.services.demo import USERS
from relos.storage import tables as t
from relos.storage.reconciliation_tables import party_keys
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.integration.api_world import (
    KEY_PASSPHRASE,
    LOGIN_USER,
    PASSWORD,
    SIDES,
    START,
    TODAY,
    World,
    bearer,
    build_postgres,
    build_sqlite,
    client,
    copy_of,
    drop_postgres,
    parties_of,
    user,
)

PROBLEM = "application/problem+json"
T = TypeVar("T")
PARTIES = ("IND", "RUS", "USA")
ROLES = list(Role)
ALL_USERS = [USERS[p][r] for p in PARTIES for r in ROLES]
#: the agreement each party's relations are read in: its counterpart there, and the third party
FRAME = {
    "IND": ("RELOS", "RUS", "USA"),
    "RUS": ("RELOS", "IND", "USA"),
    "USA": ("LEMOA", "IND", "RUS"),
}
RELATIONS = ("own", "counterpart", "third")

# -- the rules (DESIGN.md, "Who uses it" and the order states) ------------------------------------

REQ, SUP, EITHER = "requesting", "supplying", "either"
#: order action -> (roles that may, side of the order the user's party must be on)
RULES: dict[str, tuple[set[Role], str]] = {
    "draft": ({Role.ORDERING_OFFICER, Role.PLANNER}, REQ),
    "submit": ({Role.ORDERING_OFFICER}, REQ),
    "amend": ({Role.ORDERING_OFFICER}, REQ),
    "cancel": ({Role.ORDERING_OFFICER}, REQ),
    "accept": ({Role.ACCEPTING_OFFICER}, SUP),
    "reject": ({Role.ACCEPTING_OFFICER}, SUP),
    "receive": ({Role.RECEIVING_OFFICER}, REQ),
    "invoice": ({Role.FINANCE_OFFICER}, SUP),
    "settle": ({Role.FINANCE_OFFICER}, EITHER),
    "reverse": ({Role.FINANCE_OFFICER}, EITHER),
    "close": ({Role.FINANCE_OFFICER}, SUP),
}
#: the state an order is in after the action succeeds on its target (see api_world.START)
AFTER = {
    "submit": "submitted",
    "accept": "accepted",
    "reject": "rejected",
    "amend": "submitted",
    "cancel": "cancelled",
    "receive": "received",
    "invoice": "invoiced",
    "settle": "invoiced",
    "reverse": "invoiced",
    "close": "closed",
}


def may_act(action: str, role: Role, party: str, requesting: str, supplying: str) -> bool:
    roles, side = RULES[action]
    sides = {REQ: {requesting}, SUP: {supplying}, EITHER: {requesting, supplying}}[side]
    return role in roles and party in sides


def expected_action(action: str, role: Role, party: str, o: Order) -> int:
    """200 for the role and side the design gives the action; 404 when the caller's party may
    not see the order at all; else 403."""
    if not sees_order(party, o):
        return 404
    return 200 if may_act(action, role, party, o.requesting, o.supplying) else 403


@dataclass
class Truth:
    """The whole database as the repositories hold it: what the oracle decides from."""

    parties: list[Party]
    agreements: list[Agreement]
    facilities: list[Facility]
    units: list[Unit]
    price_items: list[PriceItem]
    users: list[User]
    orders: list[Order]
    entries: list[Entry]

    def agreements_of(self, party: str) -> list[Agreement]:
        return [a for a in self.agreements if party in a.parties]

    def counterparts(self, party: str) -> set[str]:
        return {p for a in self.agreements_of(party) for p in a.parties} - {party}


def read_truth(engine: Engine) -> Truth:
    uow = SqlUnitOfWork(engine)
    with uow:
        r = uow.reference
        truth = Truth(
            r.parties(),
            r.agreements(),
            r.facilities(),
            r.units(),
            r.price_items(),
            r.users(),
            [],
            uow.ledger.entries(),
        )
    truth.orders = ordering.find_orders(uow)
    return truth


def sees_order(party: str, o: Order) -> bool:
    """A party sees the orders it requests, and those it supplies once submitted."""
    return party == o.requesting or (party == o.supplying and o.state.value != "draft")


def sees_party(truth: Truth, party: str, code: str) -> bool:
    return code == party or code in truth.counterparts(party)


def sees_agreement(party: str, a: Agreement) -> bool:
    return party in a.parties


def sees_facility(truth: Truth, party: str, f: Facility) -> bool:
    """Its own, and a counterpart's facility open under an agreement both are parties to."""
    return f.party == party or any(
        a.code in f.open_under and f.party in a.parties for a in truth.agreements_of(party)
    )


def sees_unit(truth: Truth, party: str, u: Unit) -> bool:
    """Its own, and a counterpart's unit on an order the party sees."""
    return u.party == party or any(o.unit == u.code and sees_order(party, o) for o in truth.orders)


def sees_price_item(truth: Truth, party: str, p: PriceItem) -> bool:
    return p.supplier == party or p.supplier in truth.counterparts(party)


# -- worlds, clients ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_sqlite(tmp_path_factory.mktemp("matrix"))


@pytest.fixture(scope="module")
def pg_world(postgres_url: str) -> Iterator[World]:
    world = build_postgres(postgres_url)
    try:
        yield world
    finally:
        drop_postgres(world)


BACKENDS = [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]


@dataclass
class Reader:
    """A copy of the template shared by the read tests of one backend (reads change nothing)."""

    world: World
    client: TestClient
    truth: Truth

    def get(self, name: str, path: str, **params: Any) -> httpx.Response:
        r: httpx.Response = self.client.get(
            path, params=params, headers=bearer(self.world.tokens[name])
        )
        return r


@pytest.fixture(scope="module")
def readers() -> Iterator[dict[str, Reader]]:
    """One reader per backend, made when first asked for; closed with the module."""
    made: dict[str, Reader] = {}
    opened: list[Any] = []
    yield made
    for cm in opened:
        cm.__exit__(None, None, None)
    for cm in _OPEN:
        cm.__exit__(None, None, None)
    _OPEN.clear()


_OPEN: list[Any] = []


def reader_for(world: World, readers: dict[str, Reader], tmp: Path) -> Reader:
    if world.backend not in readers:
        cm = copy_of(world, tmp)
        engine = cm.__enter__()
        _OPEN.append(cm)
        readers[world.backend] = Reader(world, client(engine), read_truth(engine))
    return readers[world.backend]


def fingerprint(engine: Engine) -> dict[str, Any]:
    """Row counts of every table, and every row of the tables whose rows change in place: equal
    before and after proves a refused request wrote nothing."""
    mutable = ("orders", "balances", "api_tokens", "users", "agreements", "facilities", "units")
    with engine.connect() as conn:
        counts = {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in t.metadata.tables.items()
        }
        rows = {
            name: sorted(
                (tuple(r) for r in conn.execute(select(t.metadata.tables[name]))), key=repr
            )
            for name in mutable
        }
    return {"counts": counts, "rows": rows}


@dataclass
class Writer:
    engine: Engine
    client: TestClient
    world: World

    def send(
        self,
        name: str,
        method: str,
        path: str,
        body: Any = None,
        *,
        read_only: bool = False,
        if_match: str | None = None,
    ) -> httpx.Response:
        token = (self.world.read_tokens if read_only else self.world.tokens)[name]
        h = bearer(token, **{"Idempotency-Key": uuid.uuid4().hex})
        if if_match is not None:
            h["If-Match"] = if_match
        r: httpx.Response = self.client.request(method, path, json=body, headers=h)
        return r

    def order(self, number: str) -> Order:
        found = ordering.find_orders(SqlUnitOfWork(self.engine))
        return next(o for o in found if o.number == number)


def refused(w: Writer, r: httpx.Response, expected: int | set[int], before: dict[str, Any]) -> None:
    wanted = {expected} if isinstance(expected, int) else expected
    assert r.status_code in wanted, r.text
    assert r.headers["content-type"] == PROBLEM
    assert fingerprint(w.engine) == before


# -- every endpoint has a case --------------------------------------------------------------------

READS = {
    "/auth/me",
    "/parties",
    "/parties/{code}",
    "/agreements",
    "/agreements/{code}",
    "/facilities",
    "/facilities/{code}",
    "/units",
    "/units/{code}",
    "/price-items",
    "/users",
    "/users/{name}",
    "/tokens",
    "/orders",
    "/orders.csv",
    "/orders/{number}",
    "/ledger/balances",
    "/ledger/entries",
    "/reports/open-orders",
    "/reports/states",
    "/reports/obligations",
    "/reports/aging",
    "/alerts",
    "/reports/annual",
}
ORDER_ACTIONS = {f"/orders/{{number}}/{a}" for a in START}
REFERENCE_WRITES = {
    ("POST", "/agreements"),
    ("POST", "/agreements/{code}/steps"),
    ("POST", "/facilities"),
    ("POST", "/units"),
    ("POST", "/price-items"),
    ("POST", "/users"),
    ("POST", "/users/{name}/disable"),
    ("POST", "/tokens"),
    ("DELETE", "/tokens/{token_id}"),
    ("POST", "/orders"),
}
SESSION = {("POST", "/auth/login"), ("POST", "/auth/logout")}
SETTLEMENT_WRITES = {("POST", "/settlement/run")}
CASES: set[tuple[str, str]] = (
    {("GET", p) for p in READS}
    | {("POST", p) for p in ORDER_ACTIONS}
    | REFERENCE_WRITES
    | SESSION
    | SETTLEMENT_WRITES
)


#: visits and voyage planning (routes/visits.py)
VISIT_READS = {
    "/visits",
    "/visits/{number}",
    "/visits/{number}/notice",
    "/visits/{number}/notice.pdf",
    "/agreements/{code}/caps",
    "/plans/voyage",
}
CASES |= {("GET", p) for p in VISIT_READS} | {
    ("POST", "/visits"),
    ("POST", "/visits/{number}/amend"),
    ("POST", "/visits/{number}/cancel"),
}


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for r in routes:
        if isinstance(r, APIRoute):
            yield r
        inner = getattr(r, "original_router", None) or getattr(r, "app", None)
        if inner is not None and hasattr(inner, "routes"):
            yield from _api_routes(list(inner.routes))


def test_every_endpoint_has_a_case() -> None:
    app = create_app()
    documented = {
        (method.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    }
    routed = {
        (m, r.path) for r in _api_routes(list(app.routes)) for m in (r.methods or set()) - {"HEAD"}
    }
    assert documented, "no endpoints found"
    assert (documented | routed) - CASES == set(), "endpoints without a matrix case"
    assert CASES - documented == set(), "cases for endpoints that do not exist"


# -- reads ----------------------------------------------------------------------------------------


def read_users(world_backends: list[str]) -> list[Any]:
    cases = []
    for name in ALL_USERS:
        party, role = parties_of(name)
        for b in world_backends:
            marks = [pytest.mark.postgres] if b == "postgresql" else []
            if b == "postgresql" and role is not Role.AUDITOR:
                continue
            cases.append(pytest.param(b, name, marks=marks, id=f"{b}-{party}-{role.value}"))
    return cases


READ_CASES = read_users(["sqlite", "postgresql"])


@pytest.fixture
def backend_reader(
    request: pytest.FixtureRequest,
    readers: dict[str, Reader],
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], Reader]:
    def make(backend: str) -> Reader:
        w: World = request.getfixturevalue("sqlite_world" if backend == "sqlite" else "pg_world")
        return reader_for(w, readers, tmp_path_factory.mktemp("read"))

    return make


def per_party(objects: list[T], party_of: Callable[[T], str], full: bool) -> list[T]:
    """All the objects, or the first of Russia's and of the USA's (for India: two
    counterparts; for Russia its own and a third party's; for the USA the reverse)."""
    if full:
        return objects
    firsts = {p: next((o for o in objects if party_of(o) == p), None) for p in PARTIES[1:]}
    return [o for o in firsts.values() if o is not None]


@pytest.mark.parametrize(("backend", "name"), READ_CASES)
def test_reference_reads_show_exactly_what_the_party_may_see(
    backend: str, name: str, backend_reader: Callable[[str], Reader]
) -> None:
    rd = backend_reader(backend)
    truth = rd.truth
    party, role = parties_of(name)

    me = rd.get(name, "/auth/me").json()
    assert (me["name"], me["party"], me["role"]) == (name, party, role.value)

    got = {p["code"] for p in rd.get(name, "/parties").json()}
    assert got == {p.code for p in truth.parties if sees_party(truth, party, p.code)}
    for p in truth.parties:
        r = rd.get(name, f"/parties/{p.code}")
        assert r.status_code == (200 if sees_party(truth, party, p.code) else 404), p.code

    got = {a["code"] for a in rd.get(name, "/agreements").json()}
    assert got == {a.code for a in truth.agreements if sees_agreement(party, a)}
    for a in truth.agreements:
        r = rd.get(name, f"/agreements/{a.code}")
        assert r.status_code == (200 if sees_agreement(party, a) else 404), a.code

    visible_f = {f.code for f in truth.facilities if sees_facility(truth, party, f)}
    assert {f["code"] for f in rd.get(name, "/facilities").json()} == visible_f
    full = role is Role.AUDITOR  # visibility is per party: every object once per party
    for f in per_party(truth.facilities, lambda x: x.party, full):
        r = rd.get(name, f"/facilities/{f.code}")
        assert r.status_code == (200 if f.code in visible_f else 404), f.code
    visible_u = {u.code for u in truth.units if sees_unit(truth, party, u)}
    assert {u["code"] for u in rd.get(name, "/units").json()} == visible_u
    for u in per_party(truth.units, lambda x: x.party, full):
        r = rd.get(name, f"/units/{u.code}")
        assert r.status_code == (200 if u.code in visible_u else 404), u.code
    visible_p = {
        (p.supplier, p.code) for p in truth.price_items if sees_price_item(truth, party, p)
    }
    got_p = {(p["supplier"], p["code"]) for p in rd.get(name, "/price-items").json()}
    assert got_p == visible_p
    for other in PARTIES if full else ():  # the party filters never widen what is seen
        f_got = {f["code"] for f in rd.get(name, "/facilities", party=other).json()}
        assert f_got == {f.code for f in truth.facilities if f.party == other} & visible_f
        u_got = {u["code"] for u in rd.get(name, "/units", party=other).json()}
        assert u_got == {u.code for u in truth.units if u.party == other} & visible_u
        p_got = {
            (p["supplier"], p["code"]) for p in rd.get(name, "/price-items", supplier=other).json()
        }
        assert p_got == {v for v in visible_p if v[0] == other}

    got_users = {u["name"] for u in rd.get(name, "/users").json()}
    assert got_users == {u.name for u in truth.users if u.party == party}
    for someone in truth.users:
        r = rd.get(name, f"/users/{someone.name}")
        assert r.status_code == (200 if someone.party == party else 404), someone.name
    tokens = rd.get(name, "/tokens").json()
    assert {tk["user"] for tk in tokens} == {name}
    assert rd.world.token_ids[name] in {tk["id"] for tk in tokens}


@pytest.mark.parametrize(("backend", "name"), READ_CASES)
def test_order_reads_show_only_the_partys_orders(
    backend: str, name: str, backend_reader: Callable[[str], Reader]
) -> None:
    rd = backend_reader(backend)
    truth = rd.truth
    party, _ = parties_of(name)
    visible = {o.number for o in truth.orders if sees_order(party, o)}
    assert visible, "the demo gives every party orders"

    page = rd.get(name, "/orders", limit=500).json()
    listed = {o["number"] for o in page["items"]}
    assert listed == visible
    assert page["total"] == len(visible)
    for o in page["items"]:  # e.g. Russia never sees an Indian draft nor any LEMOA order
        assert party in (o["requesting"], o["supplying"])
        assert o["state"] != "draft" or o["requesting"] == party
    full = parties_of(name)[1] is Role.AUDITOR  # the filters are per party: once per party
    for other in PARTIES if full else ():
        r = rd.get(name, "/orders", limit=500, party=other).json()
        assert {o["number"] for o in r["items"]} == {
            o.number
            for o in truth.orders
            if o.number in visible and other in (o.requesting, o.supplying)
        }
    for a in truth.agreements if full else ():
        r = rd.get(name, "/orders", limit=500, agreement=a.code).json()
        assert {o["number"] for o in r["items"]} == {
            o.number for o in truth.orders if o.number in visible and o.agreement == a.code
        }
    text = rd.get(name, "/orders.csv").text
    assert {row["number"] for row in csv.DictReader(io.StringIO(text))} == visible

    for o in sample_orders(truth, party, parties_of(name)[1]):
        r = rd.get(name, f"/orders/{o.number}")
        assert r.status_code == (200 if o.number in visible else 404), o.number
        if r.status_code == 404:
            assert r.headers["content-type"] == PROBLEM

    opened = {o["number"] for o in rd.get(name, "/reports/open-orders").json()}
    open_states = {
        "draft",
        "submitted",
        "accepted",
        "partially_received",
        "received",
        "invoiced",
        "settled",
    }
    assert opened == {
        o.number for o in truth.orders if o.number in visible and o.state.value in open_states
    }
    states = rd.get(name, "/reports/states").json()
    for state, count in states.items():
        assert count == sum(
            1 for o in truth.orders if o.number in visible and o.state.value == state
        )
    assert sum(states.values()) == len(visible)


@pytest.mark.parametrize(("backend", "name"), READ_CASES)
def test_ledger_reads_show_only_the_callers_own_book(
    backend: str, name: str, backend_reader: Callable[[str], Reader]
) -> None:
    rd = backend_reader(backend)
    truth = rd.truth
    party, _ = parties_of(name)
    own = [e for e in truth.entries if e.book == party]
    assert own, "the demo gives every party a book"

    balances = rd.get(name, "/ledger/balances").json()
    assert balances
    assert {b["book"] for b in balances} == {party}
    assert {b["book"] for b in rd.get(name, "/ledger/balances", as_of="2026-06-30").json()} <= {
        party
    }
    entries = rd.get(name, "/ledger/entries").json()
    assert sorted(e["txn"] for e in entries) == sorted(e.txn for e in own)
    by_order = truth.orders if parties_of(name)[1] is Role.AUDITOR else []  # books are per party
    for o in by_order:  # asking by another party's order shows nothing of its book
        got = rd.get(name, "/ledger/entries", order=o.number).json()
        assert sorted(e["txn"] for e in got) == sorted(e.txn for e in own if e.order == o.number)

    for overdue in ("false", "true"):
        rows = rd.get(name, "/reports/obligations", as_of=TODAY.isoformat(), overdue=overdue).json()
        assert all(party in (r["creditor"], r["debtor"]) for r in rows)
        if overdue == "false":
            owing = {
                o.number
                for o in truth.orders
                if o.state.value == "invoiced"
                and party in (o.requesting, o.supplying)
                and any(v > 0 for v in o.obligations().values())
            }
            assert {r["order"] for r in rows} == owing

    # the listing a page at a time (by each page's last cursor) is the whole listing, and aging
    # sums it per debtor, creditor and commodity
    listed = rd.get(name, "/reports/obligations", as_of=TODAY.isoformat(), limit=1000).json()
    paged: list[Any] = []
    after: dict[str, str] = {}
    while True:
        page = rd.get(name, "/reports/obligations", as_of=TODAY.isoformat(), limit=3, **after)
        assert page.status_code == 200
        paged += page.json()
        if len(page.json()) < 3:
            break
        after = {"after": page.json()[-1]["cursor"]}
    assert paged == listed
    totals: dict[tuple[str, str, str], Decimal] = {}
    for r in listed:
        key = (r["debtor"], r["creditor"], r["commodity"])
        totals[key] = totals.get(key, Decimal(0)) + Decimal(r["outstanding"])
    aging = rd.get(name, "/reports/aging", as_of=TODAY.isoformat()).json()
    assert {(r["debtor"], r["creditor"], r["commodity"]): Decimal(r["total"]) for r in aging} == (
        totals
    )
    bad = rd.get(name, "/reports/obligations", after="not-a-cursor")
    assert bad.status_code == 422


def sample_orders(truth: Truth, party: str, role: Role) -> list[Order]:
    """Every order for the auditor; for other roles (whose view is the same: visibility is per
    party) one order of each relation: requested, supplied, a counterpart's draft, a third's."""
    if role is Role.AUDITOR:
        return truth.orders
    kinds: list[Callable[[Order], bool]] = [
        lambda o: o.requesting == party,
        lambda o: o.supplying == party and o.state.value != "draft",
        lambda o: o.supplying == party and o.state.value == "draft",
        lambda o: party not in (o.requesting, o.supplying),
    ]
    found = [next((o for o in truth.orders if kind(o)), None) for kind in kinds]
    return [o for o in found if o is not None]


def test_a_third_party_learns_nothing_of_an_agreement_it_is_not_party_to(
    sqlite_world: World, readers: dict[str, Reader], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The brief's examples, spelled out: Russia under LEMOA, the USA under RELOS."""
    rd = reader_for(sqlite_world, readers, tmp_path_factory.mktemp("read"))
    for third, agreement in (("RUS", "LEMOA"), ("USA", "RELOS")):
        name = user(third, Role.AUDITOR)
        assert rd.get(name, f"/agreements/{agreement}").status_code == 404
        assert rd.get(name, "/orders", agreement=agreement).json()["total"] == 0
        text = rd.get(name, "/orders.csv", agreement=agreement).text
        assert text.splitlines()[1:] == []
        for o in rd.truth.orders:
            if o.agreement == agreement:
                assert rd.get(name, f"/orders/{o.number}").status_code == 404
    drafts = [o for o in rd.truth.orders if o.state.value == "draft"]
    assert drafts
    for o in drafts:  # a draft is its requester's own
        for party in PARTIES:
            r = rd.get(user(party, Role.AUDITOR), f"/orders/{o.number}")
            assert r.status_code == (200 if party == o.requesting else 404)


# -- order actions --------------------------------------------------------------------------------


def action_body(action: str, o: Order) -> dict[str, Any] | None:
    if action in ("reject", "cancel"):
        return {"reason": "matrix: not needed / не нужно / आवश्यक नहीं"}
    if action == "amend":
        return {
            "lines": [{"item": ln.item_code, "quantity": str(ln.quantity + 1)} for ln in o.lines]
        }
    if action in ("receive", "invoice"):
        return {}
    if action == "settle":
        (currency, _), *_ = o.obligations().items()
        return {"amount": "1", "commodity": currency}
    if action == "reverse":
        return {"settlement": 1, "reason": "matrix: recorded in error"}
    return None


def relation_party(agreement: str, relation: str) -> str:
    req, sup, third = SIDES[agreement]
    return {"own": req, "counterpart": sup, "third": third}[relation]


def action_cases() -> list[Any]:
    cases = []
    for agreement in SIDES:
        for action in START:
            for role in ROLES:
                for relation in ("requester", "supplier", "third"):
                    for backend in ("sqlite", "postgresql"):
                        pg = backend == "postgresql"
                        if agreement == "LEMOA" and role in (Role.PLANNER, Role.PARTY_ADMIN):
                            continue  # refused like the auditor, whose LEMOA cases run
                        if pg and (
                            agreement != "RELOS"
                            or role
                            not in (
                                Role.ORDERING_OFFICER,
                                Role.ACCEPTING_OFFICER,
                                Role.FINANCE_OFFICER,
                            )
                        ):
                            continue
                        cases.append(
                            pytest.param(
                                backend,
                                agreement,
                                action,
                                role,
                                relation,
                                marks=[pytest.mark.postgres] if pg else [],
                                id=f"{backend}-{agreement}-{action}-{role.value}-{relation}",
                            )
                        )
    return cases


@pytest.fixture
def backend_writer(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[str], Writer]]:
    opened: list[Any] = []

    def make(backend: str) -> Writer:
        w: World = request.getfixturevalue("sqlite_world" if backend == "sqlite" else "pg_world")
        cm = copy_of(w, tmp_path)
        engine = cm.__enter__()
        opened.append(cm)
        return Writer(engine, client(engine), w)

    yield make
    for cm in opened:
        cm.__exit__(None, None, None)


@pytest.mark.parametrize(("backend", "agreement", "action", "role", "relation"), action_cases())
def test_an_order_action_succeeds_only_for_its_role_and_side(
    backend: str,
    agreement: str,
    action: str,
    role: Role,
    relation: str,
    backend_writer: Callable[[str], Writer],
) -> None:
    w = backend_writer(backend)
    req, sup, third = SIDES[agreement]
    party = {"requester": req, "supplier": sup, "third": third}[relation]
    name = user(party, role)
    target = w.world.targets[agreement, START[action]]
    n = target.number
    etag = f'W/"{n}-{len(target.signatures)}"'
    body = action_body(action, target)
    expected = expected_action(action, role, party, target)
    before = fingerprint(w.engine)

    r = w.send(name, "POST", f"/orders/{n}/{action}", body, read_only=True, if_match=etag)
    refused(w, r, 403, before)  # a read-only token never writes, seen or not

    r = w.send(name, "POST", f"/orders/{n}/{action}", body, if_match=etag)
    if expected != 200:
        refused(w, r, expected, before)
        if expected == 403:
            assert r.json()["rule"] == "permission_denied"
        return
    assert r.status_code == 200, r.text
    assert r.json()["state"] == AFTER[action]
    after = w.order(n)
    assert after.state.value == AFTER[action]
    assert len(after.signatures) == len(target.signatures) + 1
    signed = after.signatures[-1]
    assert (signed.action, signed.user, signed.party) == (action, name, party)


def test_every_action_has_exactly_its_designed_signers() -> None:
    """The oracle itself: one role per action, two sides for the finance officer's settlement
    work, and no action open to an auditor, planner (beyond drafting) or admin."""
    for action, (roles, side) in RULES.items():
        signers = [
            (p, r)
            for agreement in SIDES
            for p in PARTIES
            for r in ROLES
            if may_act(action, r, p, *SIDES[agreement][:2])
        ]
        per_agreement = len(roles) * (2 if side == EITHER else 1)
        assert len(signers) == 2 * per_agreement, action
        assert not {r for _, r in signers} & {Role.AUDITOR, Role.PARTY_ADMIN}


# -- drafting and reference-data writes -----------------------------------------------------------


def draft_body(target: Order) -> dict[str, Any]:
    return {
        "agreement": target.agreement,
        "supplying": target.supplying,
        "facility": target.facility,
        "unit": target.unit,
        "method": target.method.value,
        "use": target.use,
        "required_by": target.required_by.isoformat(),
        "lines": [{"item": ln.item_code, "quantity": str(ln.quantity)} for ln in target.lines],
        "data": dict(target.data),
    }


def write_cases(relations: tuple[str, ...]) -> list[Any]:
    """Every party × role on the own party's objects; the admin (the one role that may write)
    also on every other relation, where any other role is refused before the relation counts."""
    return [
        pytest.param(p, r, rel, id=f"{p}-{r.value}-{rel}")
        for p in PARTIES
        for r in ROLES
        for rel in relations
        if r is Role.PARTY_ADMIN or rel in ("own", "colleague")
    ]


def draft_cases() -> list[Any]:
    return [
        pytest.param(a, r, rel, id=f"{a}-{r.value}-{rel}")
        for a in SIDES
        for r in ROLES
        for rel in ("requester", "supplier", "third")
    ]


@pytest.mark.parametrize(("agreement", "role", "relation"), draft_cases())
def test_an_order_is_drafted_only_by_an_ordering_officer_or_planner_of_the_requester(
    agreement: str, role: Role, relation: str, sqlite_world: World, tmp_path: Path
) -> None:
    req, sup, third = SIDES[agreement]
    party = {"requester": req, "supplier": sup, "third": third}[relation]
    with copy_of(sqlite_world, tmp_path) as engine:
        w = Writer(engine, client(engine), sqlite_world)
        name = user(party, role)
        body = draft_body(sqlite_world.targets[agreement, "draft"])
        before = fingerprint(engine)
        r = w.send(name, "POST", "/orders", body, read_only=True)
        refused(w, r, 403, before)
        r = w.send(name, "POST", "/orders", body)
        if not may_act("draft", role, party, req, sup):
            # a third party is refused too; 404 would hide even that the agreement exists
            refused(w, r, {403, 404} if relation == "third" else 403, before)
            return
        assert r.status_code == 201, r.text
        assert (r.json()["requesting"], r.json()["state"]) == (req, "draft")


def others(party: str) -> tuple[str, str, str]:
    agreement, counterpart, third = FRAME[party]
    return agreement, counterpart, third


def reference_write(
    name: str, party: str, relation: str, endpoint: str
) -> tuple[str, str, Any, int]:
    """(method, path, body, expected status) of one reference-data write."""
    agreement, counterpart, third = others(party)
    target = {"own": party, "counterpart": counterpart, "third": third}[relation]
    _, role = parties_of(name)
    admin = role is Role.PARTY_ADMIN
    tag = uuid.uuid4().hex[:8].upper()
    if endpoint == "facilities":
        body: Any = {"code": f"MX{tag}", "name": "Matrix berth", "party": target}
        return "POST", "/facilities", body, 201 if admin and target == party else 403
    if endpoint == "units":
        body = {"code": f"MX-{tag}", "name": "Matrix tug", "party": target}
        return "POST", "/units", body, 201 if admin and target == party else 403
    if endpoint == "price-items":
        currency = {"IND": "INR", "RUS": "RUB", "USA": "USD"}[target]
        body = {
            "supplier": target,
            "code": f"MX-{tag}",
            "category": "water",
            "unit_of_measure": "m3",
            "unit_price": "10.50",
            "currency": currency,
            "valid_from": "2026-01-01",
        }
        return "POST", "/price-items", body, 201 if admin and target == party else 403
    if endpoint == "agreements":
        pair = [party, counterpart] if relation == "own" else [counterpart, third]
        if relation == "third":
            pair = [third, counterpart]
        body = {"code": f"MX{tag}", "title": "Matrix agreement", "parties": pair}
        return "POST", "/agreements", body, 201 if admin and party in pair else 403
    if endpoint == "steps":
        shared = {a for a, (r, s, _) in SIDES.items() if party in (r, s)}
        if relation == "third" and shared != set(SIDES):
            code = next(a for a in SIDES if a not in shared)
            return "POST", f"/agreements/{code}/steps", {"party": party, "step": "x"}, 404
        body = {"party": target, "step": "matrix step", "on": "2026-11-01"}
        return (
            "POST",
            f"/agreements/{agreement}/steps",
            body,
            200 if admin and target == party else 403,
        )
    if endpoint == "users":
        body = {"name": f"Matrix {tag}", "role": "auditor"}
        return "POST", "/users", body, 201 if admin else 403
    victim_role = Role.PLANNER if role is not Role.PLANNER else Role.AUDITOR
    victim = user(target, victim_role)
    if endpoint == "disable":
        status = 404 if target != party else (200 if admin else 403)
        return "POST", f"/users/{victim}/disable", None, status
    if endpoint in ("token", "token-self"):
        whom = name if endpoint == "token-self" and relation == "own" else victim
        status = 404 if target != party else 201
        if whom != name and target == party and not admin:
            status = 403  # a colleague's token: its party's admin only
        return "POST", "/tokens", {"name": "matrix", "scopes": ["read"], "user": whom}, status
    raise AssertionError(endpoint)


REFERENCE = (
    "facilities",
    "units",
    "price-items",
    "agreements",
    "steps",
    "users",
    "disable",
    "token",
    "token-self",
)


@pytest.mark.parametrize("endpoint", REFERENCE)
@pytest.mark.parametrize(("party", "role", "relation"), write_cases(RELATIONS))
def test_reference_data_is_written_only_by_the_owning_partys_admin(
    endpoint: str, party: str, role: Role, relation: str, sqlite_world: World, tmp_path: Path
) -> None:
    name = user(party, role)
    method, path, body, expected = reference_write(name, party, relation, endpoint)
    with copy_of(sqlite_world, tmp_path) as engine:
        w = Writer(engine, client(engine), sqlite_world)
        before = fingerprint(engine)
        r = w.send(name, method, path, body, read_only=True)
        refused(w, r, 403, before)
        r = w.send(name, method, path, body)
        if expected >= 400:
            refused(w, r, expected, before)
            return
        assert r.status_code == expected, r.text
        assert fingerprint(engine) != before


@pytest.mark.parametrize(
    ("party", "role", "relation"), write_cases(("own", "colleague", "counterpart", "third"))
)
def test_a_token_is_revoked_by_its_owner_or_its_partys_admin_only(
    party: str, role: Role, relation: str, sqlite_world: World, tmp_path: Path
) -> None:
    name = user(party, role)
    _, counterpart, third = others(party)
    colleague = user(party, Role.PLANNER if role is not Role.PLANNER else Role.AUDITOR)
    owner = {
        "own": name,
        "colleague": colleague,
        "counterpart": user(counterpart, role),
        "third": user(third, role),
    }[relation]
    token_id = sqlite_world.token_ids[owner]
    expected = 404 if parties_of(owner)[0] != party else 200
    if relation == "colleague" and role is not Role.PARTY_ADMIN:
        expected = 403
    with copy_of(sqlite_world, tmp_path) as engine:
        w = Writer(engine, client(engine), sqlite_world)
        before = fingerprint(engine)
        r = w.send(name, "DELETE", f"/tokens/{token_id}", read_only=True)
        refused(w, r, 403, before)
        r = w.send(name, "DELETE", f"/tokens/{token_id}")
        if expected != 200:
            refused(w, r, expected, before)
            return
        assert r.status_code == 200, r.text
        assert r.json()["revoked_at"] is not None


# -- visits and voyage planning -------------------------------------------------------------------


def test_a_visit_is_notified_only_by_a_planner_of_the_visiting_party_and_read_by_both_parties(
    sqlite_world: World, tmp_path: Path
) -> None:
    """DESIGN.md: the planner plans port calls and checks caps and notice; a visit is seen by
    the visiting and the host party, never by a third; a voyage is planned for one's own unit."""
    arrival = date.today() + timedelta(days=30)
    body = {
        "agreement": "RELOS",
        "facility": "RUVVO",
        "units": ["INS-TABAR", "INS-TALWAR"],
        "use": "port_call",
        "arrival": arrival.isoformat(),
        "departure": (arrival + timedelta(days=4)).isoformat(),
        "commander_name": "Arjun Mehta",
        "commander_rank": "Captain",
        "frequencies": ["4.125 MHz", "VHF 16"],
        "pilot": True,
        "tugs": 2,
    }
    planner = user("IND", Role.PLANNER)
    with copy_of(sqlite_world, tmp_path) as engine:
        w = Writer(engine, client(engine), sqlite_world)
        before = fingerprint(engine)
        refused(w, w.send(planner, "POST", "/visits", body, read_only=True), 403, before)
        for name in ALL_USERS:
            if name != planner:
                refused(w, w.send(name, "POST", "/visits", body), 403, before)
        r = w.send(planner, "POST", "/visits", body)
        assert r.status_code == 201, r.text
        number = r.json()["number"]
        assert r.json()["warships"] == 2
        assert r.json()["personnel"] == 360
        late = {**body, "arrival": date.today().isoformat(), "facility": "RUBLT"}
        before = fingerprint(engine)
        r = w.send(planner, "POST", "/visits", late)
        refused(w, r, 422, before)
        assert r.json()["rule"] == "notice_late"
        for name in ALL_USERS:
            party, _ = parties_of(name)
            h = bearer(sqlite_world.tokens[name])
            sees = party in ("IND", "RUS")
            listed = w.client.get("/visits", headers=h).json()
            assert [v["number"] for v in listed] == ([number] if sees else [])
            for path in ("", "/notice", "/notice.pdf"):
                got = w.client.get(f"/visits/{number}{path}", headers=h)
                assert got.status_code == (200 if sees else 404), (name, path)
            caps = w.client.get("/agreements/RELOS/caps", headers=h)
            assert caps.status_code == (200 if sees else 404), name
            if sees:
                assert [(s["warships"], s["personnel"]) for s in caps.json()["spans"]] == [(2, 360)]
            plan = w.client.get(
                "/plans/voyage",
                params={"unit": "INS-VIKRAMADITYA", "from": "INBOM", "to": "RUVVO"},
                headers=h,
            )
            assert plan.status_code == (200 if party == "IND" else 403), (name, plan.text)
        order = {
            "agreement": "RELOS",
            "supplying": "RUS",
            "facility": "RUVVO",
            "unit": "INS-TABAR",
            "method": "cash",
            "use": "port_call",
            "required_by": (arrival + timedelta(days=1)).isoformat(),
            "lines": [{"item": "RU-DT-GOST305", "quantity": "100"}],
            "visit": number,
        }
        drafted = w.send(planner, "POST", "/orders", order)
        assert drafted.status_code == 201, drafted.text
        assert drafted.json()["visit"] == number  # OrderPublic names the order's visit
        shown = w.client.get(
            f"/orders/{drafted.json()['number']}", headers=bearer(sqlite_world.tokens[planner])
        )
        assert shown.json()["visit"] == number
        before = fingerprint(engine)
        outside = {**order, "required_by": (arrival + timedelta(days=9)).isoformat()}
        r = w.send(planner, "POST", "/orders", outside)
        refused(w, r, 422, before)
        assert (r.json()["rule"], r.json()["field"]) == ("order_outside_visit", "required_by")
        notice = w.client.get(
            f"/visits/{number}/notice", headers=bearer(sqlite_world.tokens[planner])
        )
        assert notice.json()["missing_particulars"] == []
        assert notice.json()["requests"] == {"pilot": True, "tugs": 2, "other": ""}


def test_a_visit_is_amended_and_cancelled_only_by_a_planner_of_the_visiting_party(
    sqlite_world: World, tmp_path: Path
) -> None:
    """A visit's notice is changed by whoever may give it: a planner of the visiting party; the
    host's users get 403, a third party 404 (it does not see the visit), a read-only token 403;
    every refusal writes nothing, and a replayed Idempotency-Key has one effect."""
    arrival = date.today() + timedelta(days=40)
    body = {
        "agreement": "RELOS",
        "facility": "RUVVO",
        "units": ["INS-TABAR"],
        "use": "port_call",
        "arrival": arrival.isoformat(),
        "departure": (arrival + timedelta(days=4)).isoformat(),
        "commander_name": "Arjun Mehta",
        "commander_rank": "Captain",
        "frequencies": ["4.125 MHz"],
    }
    planner = user("IND", Role.PLANNER)
    with copy_of(sqlite_world, tmp_path) as engine:
        w = Writer(engine, client(engine), sqlite_world)
        number = w.send(planner, "POST", "/visits", body).json()["number"]
        amend = {
            "commander_name": "Vikram Rao",
            "departure": (arrival + timedelta(days=6)).isoformat(),
        }
        cancel = {"reason": "exercise called off"}
        for path, payload in (("amend", amend), ("cancel", cancel)):
            before = fingerprint(engine)
            url = f"/visits/{number}/{path}"
            refused(w, w.send(planner, "POST", url, payload, read_only=True), 403, before)
            for name in ALL_USERS:
                if name == planner:
                    continue
                party, _ = parties_of(name)
                expected = 403 if party in ("IND", "RUS") else 404
                refused(w, w.send(name, "POST", url, payload), expected, before)
        key = {"Idempotency-Key": uuid.uuid4().hex}
        h = bearer(sqlite_world.tokens[planner], **key)
        first = w.client.post(f"/visits/{number}/amend", json=amend, headers=h)
        assert first.status_code == 200, first.text
        assert (first.json()["revision"], first.json()["commander_name"]) == (2, "Vikram Rao")
        again = w.client.post(f"/visits/{number}/amend", json=amend, headers=h)
        assert again.json() == first.json()  # the same key: the first answer, no third revision
        before = fingerprint(engine)
        r = w.send(
            planner, "POST", f"/visits/{number}/amend", {"arrival": date.today().isoformat()}
        )
        refused(w, r, 422, before)
        assert r.json()["rule"] == "notice_late"
        r = w.send(planner, "POST", f"/visits/{number}/cancel", cancel)
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["cancel_reason"]) == (
            "cancelled",
            "exercise called off",
        )
        notice = w.client.get(
            f"/visits/{number}/notice", headers=bearer(sqlite_world.tokens[planner])
        )
        assert (notice.json()["revision"], notice.json()["status"]) == (2, "cancelled")
        before = fingerprint(engine)
        r = w.send(planner, "POST", f"/visits/{number}/cancel", cancel)
        refused(w, r, 422, before)
        assert r.json()["rule"] == "visit_cancelled"


# -- sessions, and no one unauthenticated --------------------------------------------------------


def test_login_me_and_logout_with_a_session(sqlite_world: World, tmp_path: Path) -> None:
    with copy_of(sqlite_world, tmp_path) as engine:
        c = client(engine)
        bad = c.post("/auth/login", json={"name": LOGIN_USER, "password": "wrong password!!"})
        assert bad.status_code == 401
        r = c.post("/auth/login", json={"name": LOGIN_USER, "password": PASSWORD})
        assert r.status_code == 200, r.text
        assert r.json()["party"] == "IND"
        assert c.get("/auth/me").json()["via"] == "session"
        # a session without its CSRF token cannot write
        assert (
            c.post(
                "/users", json={"name": "x", "role": "auditor"}, headers={"Idempotency-Key": "k"}
            ).status_code
            == 403
        )
        assert (
            c.post("/auth/logout", headers={"X-CSRF-Token": r.json()["csrf_token"]}).status_code
            == 204
        )
        assert c.get("/auth/me").status_code == 401


def test_no_endpoint_answers_without_credentials(sqlite_world: World, tmp_path: Path) -> None:
    with copy_of(sqlite_world, tmp_path) as engine:
        c = client(engine)
        before = fingerprint(engine)
        samples = {
            "{code}": "RELOS",
            "{number}": "RELOS-IN-2026-000001",
            "{name}": "x",
            "{token_id}": "0" * 16,
            "{run_id}": "1",
            "{line_no}": "1",
        }
        for method, path in sorted(CASES - {("POST", "/auth/login")}):
            for k, v in samples.items():
                path = path.replace(k, v)
            r = c.request(method, path, json={}, headers={"Idempotency-Key": "k", "If-Match": "x"})
            assert r.status_code == 401, (method, path, r.status_code)
        assert fingerprint(engine) == before


def test_balances_match_the_books_sum(
    sqlite_world: World, readers: dict[str, Reader], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """What /ledger/balances shows is the caller's book, per account, as the postings sum."""
    rd = reader_for(sqlite_world, readers, tmp_path_factory.mktemp("read"))
    for party in PARTIES:
        sums: dict[tuple[str, str, str, str], Decimal] = {}
        for e in rd.truth.entries:
            if e.book != party:
                continue
            for p in e.postings:
                key = (p.account, p.counterparty, p.method, p.amount.commodity)
                sums[key] = sums.get(key, Decimal(0)) + p.amount.number
        shown = {
            (b["account"], b["counterparty"], b["method"], b["commodity"]): Decimal(b["amount"])
            for b in rd.get(user(party, Role.AUDITOR), "/ledger/balances").json()
        }
        assert shown == {k: v for k, v in sums.items() if v != 0}


# -- the settlement engine: alerts, annual report, conversion run ----------------------------------


@pytest.mark.parametrize(("backend", "name"), READ_CASES)
def test_alerts_and_annual_reports_show_only_the_callers_party(
    backend: str, name: str, backend_reader: Callable[[str], Reader]
) -> None:
    rd = backend_reader(backend)
    party, role = parties_of(name)
    seen = {o.number: o for o in rd.truth.orders if sees_order(party, o)}
    got = rd.get(name, "/alerts", as_of=TODAY.isoformat())
    assert got.status_code == 200, got.text
    rows = got.json()
    assert {r["order"] for r in rows} <= set(seen)
    if role not in (Role.ACCEPTING_OFFICER, Role.FINANCE_OFFICER):
        assert rows == []
    if role is Role.ACCEPTING_OFFICER:
        waiting = {
            n for n, o in seen.items() if o.supplying == party and o.state.value == "submitted"
        }
        assert {r["order"] for r in rows if r["kind"] == "awaiting_acceptance"} == waiting
    for agreement in ("RELOS", "LEMOA"):
        r = rd.get(name, "/reports/annual", agreement=agreement, year=TODAY.year)
        a = next(x for x in rd.truth.agreements if x.code == agreement)
        if party not in a.parties:
            assert r.status_code == 404, r.text  # a third party learns nothing of it
            continue
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body["parties"]) == set(a.parties)
        for row in body["support"]:
            assert party in (row["giver"], row["receiver"])
            assert {row["giver"], row["receiver"]} <= set(a.parties)


def run_cases() -> list[Any]:
    return [
        pytest.param(p, r, id=f"{p}-{r.value}")
        for p in ("IND", "RUS")
        for r in (Role.FINANCE_OFFICER, Role.AUDITOR, Role.ACCEPTING_OFFICER, Role.PARTY_ADMIN)
    ]


@pytest.mark.parametrize(("party", "role"), run_cases())
def test_a_settlement_run_is_made_only_by_a_finance_officer(
    party: str, role: Role, sqlite_world: World, tmp_path: Path
) -> None:
    name = user(party, role)
    with copy_of(sqlite_world, tmp_path) as engine:
        w = Writer(engine, client(engine), sqlite_world)
        before = fingerprint(engine)
        body = {"as_of": TODAY.isoformat()}
        refused(w, w.send(name, "POST", "/settlement/run", body, read_only=True), 403, before)
        r = w.send(name, "POST", "/settlement/run", body)
        if role is not Role.FINANCE_OFFICER:
            refused(w, r, 403, before)
            return
        assert r.status_code == 200, r.text
        ledger_before = fingerprint(engine)["counts"]["postings"]
        again = w.send(name, "POST", "/settlement/run", body)
        assert again.status_code == 200, again.text
        assert again.json()["converted"] == []  # the second run finds nothing left to convert
        assert fingerprint(engine)["counts"]["postings"] == ledger_before


# -- exchange rates and netting (routes/netting.py) -----------------------------------------------

NETTING_READS = {
    "/rates",
    "/netting",
    "/netting/{number}",
    "/netting/{number}.csv",
    "/netting/{number}.pdf",
}
NETTING_WRITES = {("POST", "/rates"), ("POST", "/netting"), ("POST", "/netting/{number}/approve")}
CASES |= {("GET", p) for p in NETTING_READS} | NETTING_WRITES
RATE_ROWS = {"rows": [{"date": "2026-01-01", "pair": "RUB/INR", "rate": "1.05", "source": "CBR"}]}


@pytest.mark.parametrize(("party", "role"), run_cases())
def test_rates_are_imported_only_by_a_finance_officer_and_read_by_every_user(
    party: str, role: Role, sqlite_world: World, tmp_path: Path
) -> None:
    name = user(party, role)
    with copy_of(sqlite_world, tmp_path) as engine:
        w = Writer(engine, client(engine), sqlite_world)
        before = fingerprint(engine)
        refused(w, w.send(name, "POST", "/rates", RATE_ROWS, read_only=True), 403, before)
        r = w.send(name, "POST", "/rates", RATE_ROWS)
        if role is not Role.FINANCE_OFFICER:
            refused(w, r, 403, before)
            return
        assert r.status_code == 201, r.text
        assert r.json() == {"added": 1, "unchanged": 0}
        assert w.send(name, "POST", "/rates", RATE_ROWS).json() == {"added": 0, "unchanged": 1}
        conflict = {"rows": [{**RATE_ROWS["rows"][0], "rate": "1.06"}]}
        refused(w, w.send(name, "POST", "/rates", conflict), 422, fingerprint(engine))
        for reader in ALL_USERS:
            got = w.client.get(
                "/rates", params={"pair": "RUBINR"}, headers=bearer(w.world.tokens[reader])
            )
            assert got.status_code == 200, got.text
            assert [x["rate"] for x in got.json()] == ["1.05"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_netting_is_proposed_and_approved_only_by_finance_officers_of_its_parties(
    backend: str, backend_writer: Callable[[str], Writer]
) -> None:
    w = backend_writer(backend)
    ind_fo, rus_fo = user("IND", Role.FINANCE_OFFICER), user("RUS", Role.FINANCE_OFFICER)
    with SqlUnitOfWork(w.engine) as u:
        relos = u.reference.find_agreement("RELOS")
        assert relos is not None
    rows = {"rows": [{**RATE_ROWS["rows"][0], "source": relos.rate_source or "CBR"}]}
    assert w.send(ind_fo, "POST", "/rates", rows).status_code == 201
    body = {"agreement": "RELOS", "as_of": TODAY.isoformat()}
    for name in ALL_USERS:  # only a finance officer of IND or RUS may propose under RELOS
        party, role = parties_of(name)
        if role is Role.FINANCE_OFFICER and party in ("IND", "RUS"):
            continue
        refused(w, w.send(name, "POST", "/netting", body), 403, fingerprint(w.engine))
    r = w.send(ind_fo, "POST", "/netting", body)
    assert r.status_code == 201, r.text
    st = r.json()
    n = st["number"]
    assert st["state"] == "proposed"
    assert st["lines"]
    assert all(ln["rate"] and ln["currency"] for ln in st["lines"])
    for name in ALL_USERS:  # party-scoped reads: a third party learns nothing
        party, _ = parties_of(name)
        h = bearer(w.world.tokens[name])
        one = w.client.get(f"/netting/{n}", headers=h)
        listed = w.client.get("/netting", headers=h)
        as_csv = w.client.get(f"/netting/{n}.csv", headers=h)
        assert listed.status_code == 200, listed.text
        if party == "USA":
            assert (one.status_code, as_csv.status_code) == (404, 404)
            assert listed.json() == []
        else:
            assert one.json() == st
            assert [x["number"] for x in listed.json()] == [n]
            assert as_csv.text.startswith("statement,kind,order")
    pdf = w.client.get(f"/netting/{n}.pdf", headers=bearer(w.world.tokens[rus_fo]))
    assert pdf.status_code == 200, pdf.text
    assert pdf.content.startswith(b"%PDF")
    for name in ALL_USERS:  # only a finance officer of a party approves
        party, role = parties_of(name)
        if role is Role.FINANCE_OFFICER and party in ("IND", "RUS"):
            continue
        before = fingerprint(w.engine)
        refused(w, w.send(name, "POST", f"/netting/{n}/approve"), {403, 404}, before)
    postings = fingerprint(w.engine)["counts"]["postings"]
    r = w.send(ind_fo, "POST", f"/netting/{n}/approve")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "proposed"
    refused(w, w.send(ind_fo, "POST", f"/netting/{n}/approve"), 422, fingerprint(w.engine))
    assert fingerprint(w.engine)["counts"]["postings"] == postings
    r = w.send(rus_fo, "POST", f"/netting/{n}/approve")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "posted"
    assert fingerprint(w.engine)["counts"]["postings"] > postings


# -- paying a netting obligation (a multilateral netting's new debts) -----------------------------

CASES |= {("GET", "/netting-obligations"), ("POST", "/netting/{number}/pay")}


def demo_name(party: str, role: str) -> str:
    return USERS[party][Role(role)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_netting_obligation_is_paid_only_by_a_finance_officer_of_its_debtor_or_creditor(
    backend: str, backend_writer: Callable[[str], Writer]
) -> None:
    """A three-party netting leaves India owing Russia 600 INR: only a finance officer of India
    or Russia records its payment (the third party's, a party to the statement, is refused 403);
    a retry with the same Idempotency-Key has one effect; paying more than outstanding is 422
    naming the amount; every party of the statement reads the obligations."""
    from tests import trilateral

    w = backend_writer(backend)
    uow = SqlUnitOfWork(w.engine)
    trilateral.load(uow, demo_name, users=False)
    n = trilateral.posted_netting(uow, demo_name).number
    ind_fo, rus_fo = user("IND", Role.FINANCE_OFFICER), user("RUS", Role.FINANCE_OFFICER)
    path = f"/netting/{n}/pay"
    body = {"debtor": "IND", "creditor": "RUS", "amount": "10.00", "on": "2026-06-10"}
    for name in ALL_USERS:
        party, role = parties_of(name)
        if role is Role.FINANCE_OFFICER and party in ("IND", "RUS"):
            continue
        before = fingerprint(w.engine)
        refused(w, w.send(name, "POST", path, {**body, "reference": name[:60]}), 403, before)
    pays = {**body, "reference": "UTR-0001"}
    refused(w, w.send(ind_fo, "POST", path, pays, read_only=True), 403, fingerprint(w.engine))
    key = bearer(w.world.tokens[ind_fo], **{"Idempotency-Key": uuid.uuid4().hex})
    first = w.client.post(path, json=pays, headers=key)
    assert first.status_code == 200, first.text
    postings = fingerprint(w.engine)["counts"]["postings"]
    again = w.client.post(path, json=pays, headers=key)
    assert (again.status_code, again.json()) == (200, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert fingerprint(w.engine)["counts"]["postings"] == postings  # one effect
    owed = {(o["debtor"], o["creditor"]): o["outstanding"] for o in first.json()["obligations"]}
    assert owed == {("IND", "RUS"): "590.00", ("IND", "USA"): "300.00"}
    r = w.send(rus_fo, "POST", path, {**body, "amount": "590.00", "reference": "UTR-0002"})
    assert r.status_code == 200, r.text  # the creditor records the receipt of the rest
    over = {**body, "creditor": "USA", "amount": "300.01", "reference": "UTR-0003"}
    r = w.send(ind_fo, "POST", path, over)
    refused(w, r, 422, fingerprint(w.engine))
    assert (r.json()["field"], r.json()["value"]) == ("amount", "300.01 INR")
    for name in ALL_USERS:  # every party of the statement reads what is still owed
        got = w.client.get("/netting-obligations", headers=bearer(w.world.tokens[name]))
        assert got.status_code == 200, got.text
        assert [(o["creditor"], o["outstanding"], o["due_on"]) for o in got.json()] == [
            ("USA", "300.00", "2026-07-01")
        ]


# -- reconciliation between the parties -----------------------------------------------------------

RECONCILIATION_READS = {
    "/reconciliation/runs",
    "/reconciliation/runs/{run_id}",
    "/reconciliation/statement",
    "/parties/{party}/keys",
}
RECONCILIATION_WRITES = {
    ("POST", "/reconciliation/runs"),
    ("POST", "/reconciliation/runs/{run_id}/lines/{line_no}/dispute"),
    ("POST", "/reconciliation/runs/{run_id}/lines/{line_no}/resolve"),
    ("POST", "/parties/{party}/keys"),
    ("POST", "/parties/{party}/keys/import"),
}
CASES |= {("GET", p) for p in RECONCILIATION_READS} | RECONCILIATION_WRITES
RECONCILERS = {Role.FINANCE_OFFICER}
RECONCILIATION_READERS = {Role.FINANCE_OFFICER, Role.AUDITOR, Role.PARTY_ADMIN}
#: who may read a party's public keys: its own users and those of its counterparts
KEY_READERS = {"IND": {"IND", "RUS", "USA"}, "RUS": {"IND", "RUS"}, "USA": {"IND", "USA"}}


def test_party_keys_are_made_by_their_admin_and_read_by_the_party_and_its_counterparts(
    sqlite_world: World, tmp_path: Path
) -> None:
    """Only India's admin creates (rotates) India's key, and only with the node's passphrase
    set (503 naming RELOS_KEY_PASSPHRASE otherwise); India's, Russia's and the US's users read
    India's public keys, a third party gets 404; only India's admin imports a counterpart's key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    with copy_of(sqlite_world, tmp_path) as engine:
        w = Writer(engine, client(engine), sqlite_world)
        ind_admin = user("IND", Role.PARTY_ADMIN)
        for name in ALL_USERS:
            if name != ind_admin:
                r = w.send(name, "POST", "/parties/IND/keys")
                refused(w, r, 403, fingerprint(engine))
        r = w.send(ind_admin, "POST", "/parties/IND/keys", read_only=True)
        refused(w, r, 403, fingerprint(engine))
        blind = Writer(engine, client(engine, passphrase=None), sqlite_world)
        r = blind.send(ind_admin, "POST", "/parties/IND/keys")
        refused(w, r, 503, fingerprint(engine))
        assert (r.json()["rule"], r.json()["field"]) == (
            "key_passphrase_missing",
            "RELOS_KEY_PASSPHRASE",
        )
        first = w.send(ind_admin, "POST", "/parties/IND/keys")
        assert first.status_code == 201, first.text
        second = w.send(ind_admin, "POST", "/parties/IND/keys")  # a rotation
        assert second.status_code == 201, second.text
        assert "PRIVATE" not in first.text + second.text
        with engine.connect() as conn:
            stored = [r.private_pem for r in conn.execute(select(party_keys))]
        assert len(stored) == 2
        assert all("ENCRYPTED PRIVATE KEY" in pem for pem in stored)

        for party in ("IND", "RUS", "USA"):
            for name in ALL_USERS:
                r = w.client.get(f"/parties/{party}/keys", headers=bearer(w.world.tokens[name]))
                if parties_of(name)[0] not in KEY_READERS[party]:
                    assert r.status_code == 404, (party, name, r.text)
                    continue
                assert r.status_code == 200, (party, name, r.text)
                if party == "IND":
                    keys = [(k["key_id"], k["signing"]) for k in r.json()]
                    assert keys == [
                        (first.json()["key_id"], False),
                        (second.json()["key_id"], True),
                    ]
                else:
                    assert r.json() == []

        pem = (
            Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        for name in ALL_USERS:
            if name != ind_admin:
                r = w.send(name, "POST", "/parties/USA/keys/import", {"public_pem": pem})
                own = name == user("USA", Role.PARTY_ADMIN)  # its own key is created, not imported
                refused(w, r, 422 if own else 403, fingerprint(engine))
        r = w.send(ind_admin, "POST", "/parties/USA/keys/import", {"public_pem": "not a key"})
        refused(w, r, 422, fingerprint(engine))
        assert r.json()["field"] == "key"
        r = w.send(ind_admin, "POST", "/parties/USA/keys/import", {"public_pem": pem})
        assert r.status_code == 201, r.text
        assert r.json()["party"] == "USA"
        r = w.send(ind_admin, "POST", "/parties/USA/keys/import", {"public_pem": pem})
        refused(w, r, 409, fingerprint(engine))


def test_a_partys_signed_statement_is_exported_streamed_to_its_finance_officers_and_auditors(
    sqlite_world: World, tmp_path: Path
) -> None:
    """India's finance officers and auditors get India's signed statement (read scope is
    enough); other roles 403; Russia, with no signing key on this node, 404; the US, no party to
    RELOS, 422; a node without its passphrase 503, naming the setting; nothing is written."""
    from relos.services import reconciliation as recon

    with copy_of(sqlite_world, tmp_path) as engine:
        uow = SqlUnitOfWork(engine)
        kid = recon.create_key(uow, user("IND", Role.PARTY_ADMIN), "IND", passphrase=KEY_PASSPHRASE)
        w = Writer(engine, client(engine), sqlite_world)
        path = f"/reconciliation/statement?agreement=RELOS&as_of={TODAY.isoformat()}"
        for name in ALL_USERS:
            party, role = parties_of(name)
            before = fingerprint(engine)
            r = w.client.get(path, headers=bearer(w.world.read_tokens[name]))
            if role not in (Role.FINANCE_OFFICER, Role.AUDITOR):
                refused(w, r, 403, before)
                continue
            if party != "IND":
                refused(w, r, 404 if party == "RUS" else 422, before)
                continue
            assert r.status_code == 200, r.text
            assert r.headers["content-type"].startswith("application/json")
            doc = r.json()
            assert doc["format"] == "relos-statement/2"
            assert (doc["header"]["party"], doc["header"]["key_id"]) == ("IND", kid)
            assert doc["header"]["generated_by"] == name
            assert r.headers["X-Statement-Digest"] == doc["digest"]
            numbers = [o["number"] for o in doc["orders"]]
            assert numbers
            assert numbers == sorted(numbers)
        blind = client(engine, passphrase=None)
        ind_fo = user("IND", Role.FINANCE_OFFICER)
        r = blind.get(path, headers=bearer(w.world.tokens[ind_fo]))
        refused(w, r, 503, fingerprint(engine))
        assert (r.json()["rule"], r.json()["field"]) == (
            "key_passphrase_missing",
            "RELOS_KEY_PASSPHRASE",
        )
        r = w.client.get(
            "/reconciliation/statement?agreement=RELOS&counterparty=USA",
            headers=bearer(w.world.tokens[ind_fo]),
        )
        refused(w, r, 422, fingerprint(engine))
        assert (r.json()["field"], r.json()["value"]) == ("counterparty", "USA")


def test_reconciliation_is_run_read_and_disputed_only_within_the_callers_party(
    sqlite_world: World, tmp_path: Path
) -> None:
    """India signs a statement (exported over HTTP); only Russia's finance officer may match it
    (201); the run is Russia's: its finance officers, auditors and admins read it, other parties
    get 404, other roles 403; only Russia's finance officer disputes and resolves its lines."""
    from relos.services import reconciliation as recon

    with copy_of(sqlite_world, tmp_path) as engine:
        uow = SqlUnitOfWork(engine)
        kid = recon.create_key(uow, user("IND", Role.PARTY_ADMIN), "IND", passphrase=KEY_PASSPHRASE)
        w = Writer(engine, client(engine), sqlite_world)
        exported = w.client.get(
            f"/reconciliation/statement?agreement=RELOS&as_of={TODAY.isoformat()}",
            headers=bearer(w.world.tokens[user("IND", Role.FINANCE_OFFICER)]),
        )
        assert exported.status_code == 200, exported.text
        body = exported.json()
        # Russia's record of one order differs, so the run has a line to dispute
        with engine.begin() as conn:
            number = body["orders"][0]["number"]
            conn.execute(
                t.orders.update().where(t.orders.c.number == number).values(state="cancelled")
            )
        rus_finance = user("RUS", Role.FINANCE_OFFICER)
        for name in ALL_USERS:
            if name == rus_finance:
                continue
            before = fingerprint(engine)
            refused(w, w.send(name, "POST", "/reconciliation/runs", body), 403, before)
        refused(
            w,
            w.send(rus_finance, "POST", "/reconciliation/runs", body, read_only=True),
            403,
            fingerprint(engine),
        )
        r = w.send(rus_finance, "POST", "/reconciliation/runs", body)
        assert r.status_code == 201, r.text
        run = r.json()
        assert run["party"] == "RUS"
        assert run["counts"]["state_mismatch"] == 1
        assert r.headers["Location"] == f"/reconciliation/runs/{run['id']}"
        lines = w.client.get(r.headers["Location"], headers=bearer(w.world.tokens[rus_finance]))
        line = next(ln["line"] for ln in lines.json()["lines"] if ln["status"] == "state_mismatch")
        tampered = {**body, "header": {**body["header"], "as_of": "2026-01-01"}}
        before = fingerprint(engine)
        r = w.send(rus_finance, "POST", "/reconciliation/runs", tampered)
        refused(w, r, 422, before)
        problem = r.json()
        assert (problem["rule"], problem["field"], problem["value"]) == (
            "bad_signature",
            "signature",
            kid,
        )
        assert "statement of IND for RUS under RELOS as of 2026-01-01" in problem["detail"]
        r = w.client.post(
            "/reconciliation/runs",
            content=b'{"format": "relos-statement/2"',
            headers=bearer(w.world.tokens[rus_finance], **{"Idempotency-Key": "truncated"}),
        )
        refused(w, r, 422, before)
        assert r.json()["field"] == "statement"

        for name in ALL_USERS:
            party, role = parties_of(name)
            listed = w.client.get("/reconciliation/runs", headers=bearer(w.world.tokens[name]))
            shown = w.client.get(
                f"/reconciliation/runs/{run['id']}", headers=bearer(w.world.tokens[name])
            )
            if role not in RECONCILIATION_READERS:
                assert (listed.status_code, shown.status_code) == (403, 403), name
                continue
            assert listed.status_code == 200, name
            assert [x["id"] for x in listed.json()] == ([run["id"]] if party == "RUS" else [])
            assert shown.status_code == (200 if party == "RUS" else 404), name
            for verb in ("dispute", "resolve"):
                path = f"/reconciliation/runs/{run['id']}/lines/{line}/{verb}"
                if name == rus_finance:
                    continue
                expected = 404 if party != "RUS" and role in RECONCILERS else 403
                refused(w, w.send(name, "POST", path, {"note": "n"}), expected, fingerprint(engine))
        for verb in ("dispute", "resolve"):
            path = f"/reconciliation/runs/{run['id']}/lines/{line}/{verb}"
            r = w.send(rus_finance, "POST", path, {"note": f"{verb}: checked with India"})
            assert r.status_code == 200, r.text
        final = w.client.get(
            f"/reconciliation/runs/{run['id']}", headers=bearer(w.world.tokens[rus_finance])
        ).json()
        (done,) = [ln for ln in final["lines"] if ln["line"] == line]
        assert (done["open"], done["resolved_note"]) == (False, "resolve: checked with India")
        assert final["next_after"] is None  # the whole run fits the default page
        owner = bearer(w.world.tokens[rus_finance])
        paged, after = [], None
        while True:
            query = "limit=1" + ("" if after is None else f"&after={after}")
            page = w.client.get(f"/reconciliation/runs/{run['id']}?{query}", headers=owner)
            assert page.status_code == 200, page.text
            assert page.json()["counts"] == final["counts"]  # every line counted, on each page
            paged += page.json()["lines"]
            after = page.json()["next_after"]
            if after is None:
                break
        assert len(final["lines"]) > 1
        assert paged == final["lines"]
        for bad in ("limit=0", "limit=1001", "after=-1"):
            r = w.client.get(f"/reconciliation/runs/{run['id']}?{bad}", headers=owner)
            assert r.status_code == 422, bad
