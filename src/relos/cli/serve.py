"""`relos serve`: the HTTP API under uvicorn, on loopback unless TLS or a proxy protects it."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from relos.cli import render
from relos.cli.options import settings
from relos.domain.errors import RuleViolation, ValidationError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_safe_bind(host: str, tls: bool, behind_proxy: bool) -> None:
    """Passwords and tokens must not cross a network in clear."""
    if not is_loopback(host) and not tls and not behind_proxy:
        raise RuleViolation(
            "insecure_bind",
            "host",
            host,
            "refusing to serve beyond loopback without TLS: give --tls-cert and --tls-key, or "
            "--behind-proxy when a proxy terminates TLS",
        )


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate for TLS.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key for TLS.")] = None,
    behind_proxy: Annotated[
        bool, typer.Option(help="A reverse proxy terminates TLS (trust its X-Forwarded-*).")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes (uvicorn); one per core for throughput. SQLite writers of "
            "all workers take turns; failed logins are limited for the whole server.",
        ),
    ] = 1,
    threads: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Requests a worker works on at once, each on a thread (the others wait their "
            "turn); a worker acts on one write at a time whatever this is.",
        ),
    ] = 4,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    if (tls_cert is None) != (tls_key is None):
        raise ValidationError(
            "tls_key" if tls_key is None else "tls_cert", "", "give both --tls-cert and --tls-key"
        )
    tls = tls_cert is not None
    require_safe_bind(host, tls, behind_proxy)
    for path in (tls_cert, tls_key):
        if path is not None and not path.is_file():
            raise ValidationError("tls", str(path), "no such file")
    import uvicorn

    from relos.api import access_log
    from relos.api.app import create_app

    config = settings().model_copy(
        update={
            "cookie_secure": tls or behind_proxy,
            "serve_workers": workers,
            "serve_threads": threads,
        }
    )
    scheme = "https" if tls else "http"
    render.ok(f"serving {scheme}://{host}:{port}/docs ({workers} worker{'s' * (workers > 1)})")
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "ssl_certfile": str(tls_cert) if tls_cert else None,
        "ssl_keyfile": str(tls_key) if tls_key else None,
        "proxy_headers": behind_proxy,
        "forwarded_allow_ips": "*" if behind_proxy else None,
        "log_level": "info",
        # relos's own access log, with each request's id (api/access_log.py), not uvicorn's
        "access_log": False,
        "log_config": access_log.logging_config(),
    }
    if workers == 1:
        uvicorn.run(create_app(config), **common)
        return
    # Worker processes are started afresh (spawned): what this command decided reaches them
    # through their environment, which `Settings` (config.py) reads there.
    os.environ["RELOS_COOKIE_SECURE"] = "true" if config.cookie_secure else "false"
    os.environ["RELOS_SERVE_WORKERS"] = str(workers)
    os.environ["RELOS_SERVE_THREADS"] = str(threads)
    uvicorn.run(
        "relos.api.app:create_app_from_environment",
        factory=True,
        workers=workers,
        # a worker answers the supervisor's health check once it has imported relos, which
        # takes seconds on a busy machine: uvicorn's 5 s would kill and restart it forever
        timeout_worker_healthcheck=60,
        **common,
    )
