"""The one Settings object. Nothing else in relos reads the environment."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def default_database_url() -> str:
    path = Path(user_data_dir("relos", appauthor=False)) / "relos.db"
    return f"sqlite:///{path}"


class Settings(BaseSettings):
    """Read from RELOS_* environment variables (RELOS_DATABASE_URL, RELOS_USER,
    RELOS_KEY_PASSPHRASE, ...)."""

    model_config = SettingsConfigDict(env_prefix="RELOS_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    user: str | None = None
    echo_sql: bool = False
    #: mark the session cookie Secure (served over TLS, directly or behind a proxy)
    cookie_secure: bool = True
    #: the passphrase the node's private signing keys are encrypted under; needed to create a
    #: key and to sign a statement, not to read or import public keys (docs/settlement.md)
    key_passphrase: SecretStr | None = None
    #: the largest statement `POST /reconciliation/runs` takes (other bodies: 1 MiB); it is
    #: spooled to a temporary file and read streamed, so this bounds disk, not memory
    statement_max_bytes: int = 4 << 30
    #: how many worker processes serve the API (`relos serve --workers` sets it for them); each
    #: counts failed logins on its own, so each allows its share of the attempts
    serve_workers: int = Field(default=1, ge=1)
    #: how many requests' database work a worker of `relos serve` runs at once, each on a
    #: thread of its own (`--threads` sets it for the workers); the others wait their turn on
    #: the worker's event loop. The database's pools keep one connection more than this
    serve_threads: int = Field(default=4, ge=1, le=64)
    #: how many processes build the batches of `relos import orders` while it checks the file
    #: (`--workers` overrides it); 1 builds them in the command's own process
    import_workers: int = Field(default_factory=available_cores, ge=1)
    #: where the import keeps its checked batches until they are written (about 4x the CSV;
    #: deleted when the import ends); unset: the system's temporary directory (TMPDIR)
    import_spill_dir: Path | None = None

    def passphrase(self) -> str | None:
        """The key passphrase in clear, for the services that encrypt or sign (empty: none)."""
        if self.key_passphrase is None:
            return None
        return self.key_passphrase.get_secret_value() or None
