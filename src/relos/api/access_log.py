"""The server's access log: one line per request, with its X-Request-ID, which the audit records
of the request's changes carry too (`deps.request_id`), so a line leads to its records.

`relos serve` writes it in place of uvicorn's own access log, on standard output as uvicorn did:

    INFO:     127.0.0.1:50412 - "POST /orders HTTP/1.1" 201 3.1 ms 6f1c0e…

client address and port, request line, status, time to the response's last byte, request id.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

LOGGER = logging.getLogger("relos.access")


def line(scope: MutableMapping[str, Any], status: int, seconds: float, request_id: str) -> None:
    """Log one request (when the access log is on: `relos serve` turns it on)."""
    if not LOGGER.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    path = scope.get("raw_path") or scope["path"].encode()
    if scope.get("query_string"):
        path += b"?" + scope["query_string"]
    LOGGER.info(
        '%s - "%s %s HTTP/%s" %d %.1f ms %s',
        f"{client[0]}:{client[1]}" if client else "-",
        scope["method"],
        path.decode("latin-1"),
        scope.get("http_version", "1.1"),
        status,
        seconds * 1000,
        request_id,
    )


def logging_config() -> dict[str, Any]:
    """uvicorn's logging configuration with this log beside its own (uvicorn's access log is
    turned off: `access_log=False`)."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {
        **LOGGING_CONFIG,
        "handlers": {
            **LOGGING_CONFIG["handlers"],
            "relos_access": {
                "formatter": "default",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            **LOGGING_CONFIG["loggers"],
            LOGGER.name: {"handlers": ["relos_access"], "level": "INFO", "propagate": False},
        },
    }
    return config
