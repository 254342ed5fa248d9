"""`relos serve` in its own process on a real loopback socket, for the end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import _free_port

RELOS = Path(sys.executable).parent / "relos"


@contextmanager
def relos_serve(
    database_url: str, *options: str, up_within: float = 60, log: Path | None = None
) -> Iterator[str]:
    """`relos serve` on a free loopback port over `database_url`, once it answers; its base
    URL. What it prints goes to `log` (a file: a pipe nobody reads would fill and stop the
    server), by default a temporary one. The server is stopped when the block ends."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        out_path = log or Path(tmp) / "serve.log"
        with out_path.open("wb") as out:
            proc = subprocess.Popen(
                [str(RELOS), "serve", "--host", "127.0.0.1", "--port", str(port), *options],
                env={**os.environ, "RELOS_DATABASE_URL": database_url},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + up_within
            while True:
                try:
                    if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    said = out_path.read_text(errors="replace")
                    pytest.fail(f"relos serve {' '.join(options)} did not come up: {said}")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)
