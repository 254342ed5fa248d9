"""The one Settings object. Nothing else in relos reads the environment."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    path = Path(user_data_dir("relos", appauthor=False)) / "relos.db"
    return f"sqlite:///{path}"


class Settings(BaseSettings):
    """Read from RELOS_* environment variables (RELOS_DATABASE_URL, RELOS_USER)."""

    model_config = SettingsConfigDict(env_prefix="RELOS_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    user: str | None = None
    echo_sql: bool = False
    #: mark the session cookie Secure (served over TLS, directly or behind a proxy)
    cookie_secure: bool = True
