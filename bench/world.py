"""What the benchmark sections share: a prepared database, a throwaway PostgreSQL, and running
the real `relos` command with its wall time and peak memory.

A prepared database holds the demo's reference data (parties, agreements, facilities, units,
price lists from src/relos/demo/relos.yaml) and the demo's users of every role, and no orders:
what a node looks like before its first import.
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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
RELOS = str(BIN / "relos")
PYTHON = str(BIN / "python")


def upgrade(url: str) -> None:
    """Migrate `url` to this code's schema (a database kept from an earlier run)."""
    from relos.config import Settings
    from relos.services import database

    database.upgrade(Settings(database_url=url))


def prepare(url: str) -> None:
    """Migrate `url` and load the demo's reference data and users (no orders)."""
    from relos.config import Settings
    from relos.domain.users import Role
    from relos.services import catalogue, database, people
    from relos.services.demo import USERS, reference_document

    settings = Settings(database_url=url)
    database.upgrade(settings)
    uow = database.unit_of_work(settings)
    with uow:
        catalogue.load(uow, reference_document())
        for party, roles in USERS.items():
            admin = roles[Role.PARTY_ADMIN]
            people.add_user(uow, None, admin, party, Role.PARTY_ADMIN.value)
            for role, name in roles.items():
                if role is not Role.PARTY_ADMIN:
                    people.add_user(uow, admin, name, party, role.value)
        uow.commit()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class Run:
    """One finished command: exit code, wall seconds, peak resident memory, what it printed."""

    code: int
    seconds: float
    peak_mb: float
    out: str
    err: str
    #: the peak, over the run, of the resident memory of the command and every process under it
    #: summed (polled VmRSS; pages a forked worker shares with its parent count twice)
    tree_peak_mb: float = 0.0


def _high_water_kb(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), 0 once it is gone.

    Not wait4's ru_maxrss: on Linux that keeps the high-water mark of the process before its
    exec, i.e. of the harness that forked it, so every child would seem at least as big."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    """The process and every process under it (Linux: /proc/PID/task/TID/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            pass
    return out


def tree_rss_kb(pid: int) -> int:
    """The resident memory of a process and every process under it, summed."""
    return sum(_status_kb(p, "VmRSS:") for p in _descendants(pid))


def run(
    cmd: list[str],
    url: str | None = None,
    timeout: float | None = None,
    env_extra: dict[str, str] | None = None,
) -> Run:
    """Run a command: exit code, wall time and its own peak resident memory (polled VmHWM)."""
    env = dict(os.environ)
    if url is not None:
        env["RELOS_DATABASE_URL"] = url
    env.update(env_extra or {})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        deadline = None if timeout is None else t0 + timeout
        peak_kb = tree_kb = 0
        while True:
            peak_kb = max(peak_kb, _high_water_kb(p.pid))
            tree_kb = max(tree_kb, tree_rss_kb(p.pid))
            pid, status, _usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                p.kill()
                pid, status, _usage = os.wait4(p.pid, 0)
                break
            time.sleep(0.005)
        seconds = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            p.returncode,
            seconds,
            peak_kb / 1024,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            tree_kb / 1024,
        )


def relos(
    args: list[str], url: str, timeout: float | None = None, env_extra: dict[str, str] | None = None
) -> Run:
    return run([RELOS, *args], url, timeout, env_extra)


def has_command(*words: str) -> bool:
    """Whether `relos WORDS --help` exists on this branch."""
    return run([RELOS, *words, "--help"]).code == 0


def apt_install(commands: dict[str, str]) -> list[str]:
    """Install with apt-get the Debian packages whose command (value) is missing (key: package);
    returns what could not be had, each with the reason. The package lists are fetched again
    only when the first attempt fails (they may be missing or stale on a fresh machine)."""
    missing = [package for package, cmd in commands.items() if not shutil.which(cmd)]
    if not missing:
        return []
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    install = ["apt-get", "install", "-y", "-qq", *missing]
    done = subprocess.run(install, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=env)
        done = subprocess.run(install, capture_output=True, text=True, env=env)
    return [
        f"{package}: apt-get install failed: {done.stderr.strip()[-200:]}"
        for package in missing
        if not shutil.which(commands[package])
    ]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def postgresql_version() -> str | None:
    b = _pg_bin()
    if b is None:
        return None
    done = subprocess.run([str(b / "postgres"), "--version"], capture_output=True, text=True)
    return done.stdout.strip() or None


@contextmanager
def postgresql() -> Iterator[str]:
    """A throwaway PostgreSQL server on loopback (as tests/conftest.py starts one); its URL."""
    bindir = _pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    tmp = Path(tempfile.mkdtemp(prefix="relos-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(tmp, user="postgres")
    data, log = tmp / "data", tmp / "log"
    subprocess.run(
        _as_server_user(
            [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "relos", "--no-sync"]
        ),
        capture_output=True,
        check=True,
    )
    port = free_port()
    options = f"-k {tmp} -p {port} -c listen_addresses=127.0.0.1 -c max_connections=200"
    pg_ctl = str(bindir / "pg_ctl")
    subprocess.run(
        _as_server_user([pg_ctl, "-D", str(data), "-l", str(log), "-w", "start", "-o", options]),
        capture_output=True,
        check=True,
    )
    try:
        yield f"postgresql+psycopg://relos@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(tmp, ignore_errors=True)


def new_database(server_url: str) -> str:
    """A new, empty database on the server; its URL."""
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:12]}"
    dsn = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name
