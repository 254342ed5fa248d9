"""The demo world behind the HTTP API, built once per session and copied per test.

`load_demo` (fixed day: 2026-11-25) gives a year of RELOS (IND, RUS) and LEMOA (IND, USA) work
and one user per role and party. On top of it, for each agreement, one fresh order in each state
an order action starts from (draft, submitted, accepted, received, invoiced with a part payment,
settled), driven through the ordering services now, so that the action itself can succeed when the
right user asks. Under RELOS India requests from Russia and the USA is the third party; under LEMOA
the USA requests from India and Russia is the third party. Every user gets a read+write and a
read-only API token.

The template is a SQLite file (copied per test) or a PostgreSQL database (``CREATE DATABASE …
TEMPLATE``); tests read or write their own copy.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, text

from relos.api.app import create_app
from relos.config import Settings
from relos.domain.orders import Order
from relos.domain.users import Role
from relos.services import auth, ordering
from relos.services.demo import USERS, load_demo
from relos.storage.engine import make_engine, upgrade
from relos.storage.unit_of_work import SqlUnitOfWork

TODAY = date(2026, 11, 25)
PASSWORD = "correct horse battery staple"
LOGIN_USER = USERS["IND"][Role.AUDITOR]

#: agreement -> (requesting, supplying, third party) of the action targets
SIDES: dict[str, tuple[str, str, str]] = {
    "RELOS": ("IND", "RUS", "USA"),
    "LEMOA": ("USA", "IND", "RUS"),
}
#: the state each order action starts from (its target order)
START = {
    "submit": "draft",
    "accept": "submitted",
    "reject": "submitted",
    "amend": "submitted",
    "cancel": "submitted",
    "receive": "accepted",
    "invoice": "received",
    "settle": "invoiced",
    "reverse": "invoiced",
    "close": "settled",
}
STEPS = ["draft", "submitted", "accepted", "received", "invoiced", "settled"]


@dataclass
class World:
    """What a test needs to know of the template (which it must not change)."""

    backend: str
    tokens: dict[str, str] = field(default_factory=dict)  # user -> read+write token
    read_tokens: dict[str, str] = field(default_factory=dict)  # user -> read-only token
    token_ids: dict[str, str] = field(default_factory=dict)  # user -> id of its rw token
    targets: dict[tuple[str, str], Order] = field(default_factory=dict)  # (agreement, state)
    sqlite_file: Path | None = None
    pg_server: str | None = None
    pg_template: str | None = None


def user(party: str, role: Role | str) -> str:
    return USERS[party][Role(role)]


def parties_of(name: str) -> tuple[str, Role]:
    for party, roles in USERS.items():
        for role, who in roles.items():
            if who == name:
                return party, role
    raise KeyError(name)


def _clone(uow: SqlUnitOfWork, agreement: str, state: str) -> Order:
    """A new cash order like an earlier demo order of this agreement and direction, driven to
    `state` by the users the design gives each step."""
    req, sup, _ = SIDES[agreement]
    model = next(
        o
        for o in ordering.find_orders(uow, agreement=agreement)
        if (o.requesting, o.supplying) == (req, sup) and o.method.value == "cash"
    )
    data = dict(model.data)
    if "notice_given_on" in data:
        data["notice_given_on"] = TODAY.isoformat()
    o = ordering.draft(
        uow,
        user(req, Role.ORDERING_OFFICER),
        agreement=agreement,
        supplying=sup,
        facility=model.facility,
        unit=model.unit,
        method="cash",
        use=model.use,
        required_by=TODAY + timedelta(days=40),
        lines=[(ln.item_code, ln.quantity) for ln in model.lines],
        data=data,
    )
    n = o.number
    done = STEPS[: STEPS.index(state) + 1]
    if "submitted" in done:
        o = ordering.submit(uow, user(req, Role.ORDERING_OFFICER), n)
    if "accepted" in done:
        o = ordering.accept(uow, user(sup, Role.ACCEPTING_OFFICER), n)
    if "received" in done:
        o = ordering.receive_all(uow, user(req, Role.RECEIVING_OFFICER), n, TODAY)
    if "invoiced" in done:
        o = ordering.invoice(uow, user(sup, Role.FINANCE_OFFICER), n, TODAY)
        (currency, owed), *_ = o.obligations().items()
        part = "1" if state == "invoiced" else str(owed)
        o = ordering.settle(uow, user(req, Role.FINANCE_OFFICER), n, part, currency, TODAY, "")
    assert o.state.value == state, (n, o.state, state)
    return o


def populate(engine: Engine, world: World) -> None:
    uow = SqlUnitOfWork(engine)
    load_demo(uow, TODAY)
    for agreement in SIDES:
        for state in STEPS:
            world.targets[agreement, state] = _clone(uow, agreement, state)
    for roles in USERS.values():
        for name in roles.values():
            token, world.tokens[name] = auth.create_token(uow, name, name, "rw", ["read", "write"])
            world.token_ids[name] = token.id
            _, world.read_tokens[name] = auth.create_token(uow, name, name, "ro", ["read"])
    auth.set_password(uow, user("IND", Role.PARTY_ADMIN), LOGIN_USER, PASSWORD)


def build_sqlite(directory: Path) -> World:
    world = World("sqlite", sqlite_file=directory / "template.db")
    engine = make_engine(f"sqlite:///{world.sqlite_file}")
    upgrade(engine)
    populate(engine, world)
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    return world


def build_postgres(server: str) -> World:
    name = f"tpl_{uuid.uuid4().hex}"
    world = World("postgresql", pg_server=server, pg_template=name)
    _admin_sql(server, f'CREATE DATABASE "{name}"')
    engine = make_engine(_db_url(server, name))
    upgrade(engine)
    populate(engine, world)
    engine.dispose()
    return world


def drop_postgres(world: World) -> None:
    assert world.pg_server
    assert world.pg_template
    _admin_sql(world.pg_server, f'DROP DATABASE IF EXISTS "{world.pg_template}" WITH (FORCE)')


def _db_url(server: str, name: str) -> str:
    return server.rsplit("/", 1)[0] + "/" + name


def _admin_sql(server: str, sql: str) -> None:
    admin = make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


@contextmanager
def copy_of(world: World, directory: Path) -> Iterator[Engine]:
    """A copy of the template database, for one test to change."""
    if world.backend == "sqlite":
        assert world.sqlite_file is not None
        target = directory / f"copy-{uuid.uuid4().hex}.db"
        shutil.copyfile(world.sqlite_file, target)
        engine = make_engine(f"sqlite:///{target}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    assert world.pg_server
    assert world.pg_template
    name = f"t_{uuid.uuid4().hex}"
    _admin_sql(world.pg_server, f'CREATE DATABASE "{name}" TEMPLATE "{world.pg_template}"')
    engine = make_engine(_db_url(world.pg_server, name))
    try:
        yield engine
    finally:
        engine.dispose()
        _admin_sql(world.pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


#: the passphrase the matrix's nodes encrypt party signing keys under
KEY_PASSPHRASE = "matrix passphrase: Severomorsk"


def client(engine: Engine, *, passphrase: str | None = KEY_PASSPHRASE) -> TestClient:
    """A client of the API over `engine` (without `passphrase`: a node that cannot sign)."""
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(
        database_url=url,
        cookie_secure=False,
        key_passphrase=None if passphrase is None else SecretStr(passphrase),
    )
    return TestClient(create_app(settings))


def bearer(token: str, **extra: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {token}", **extra}
