"""Shared fixtures: a throwaway PostgreSQL server per session, and a freshly migrated database per
test on SQLite and on PostgreSQL (``engine``), with its SQL unit of work (``uow``).

The PostgreSQL server is Debian's (``apt-get install postgresql``; ``make test`` installs it): its
binaries live under ``/usr/lib/postgresql/<version>/bin``. As root they run as the ``postgres``
user (PostgreSQL refuses to run as root). initdb runs once per session; every test gets its own
``CREATE DATABASE``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from relos.storage.engine import make_engine, upgrade
from relos.storage.unit_of_work import SqlUnitOfWork

PG_USER = "relos"
_PG_STARTED: list[float] = []  # seconds initdb + start took, shown in the terminal summary


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for seconds in _PG_STARTED:
        terminalreporter.write_line(f"throwaway PostgreSQL: initdb + start took {seconds:.2f} s")


def _pg_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not found:
        pytest.fail(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb). "
            "`make test` installs them; or run `apt-get install -y postgresql`.",
            pytrace=False,
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(
            f"{what} failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout}\n{done.stderr}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of the ``postgres`` database on a PostgreSQL server started for this session."""
    bindir = _pg_bin()
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="relos-pg-"))
    if os.geteuid() == 0:
        shutil.chown(tmp, user="postgres")
    data, log = tmp / "data", tmp / "log"
    _run(
        [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", PG_USER, "--no-sync"],
        "initdb",
    )
    port = _free_port()
    options = f"-k {tmp} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
    options += " -c synchronous_commit=off -c full_page_writes=off"
    pg_ctl = str(bindir / "pg_ctl")
    try:
        _run(
            [pg_ctl, "-D", str(data), "-l", str(log), "-w", "start", "-o", options], "pg_ctl start"
        )
        _PG_STARTED.append(time.perf_counter() - started)
        yield f"postgresql+psycopg://{PG_USER}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex}"
    admin = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server_url.rsplit("/", 1)[0] + "/" + name
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A freshly migrated, empty database: a SQLite file, or a new database on the session
    server."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'relos.db'}")
        upgrade(eng)
        try:
            yield eng
        finally:
            eng.dispose()
        return
    server: str = request.getfixturevalue("postgres_url")
    with postgres_database(server) as url:
        eng = make_engine(url)
        upgrade(eng)
        try:
            yield eng
        finally:
            eng.dispose()


@pytest.fixture
def uow(engine: Engine) -> SqlUnitOfWork:
    return SqlUnitOfWork(engine)
