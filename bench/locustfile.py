"""Locust users for bench/api_load.py: order creation or balance reads against `relos serve`.

Read from the environment (set by bench/api_load.py): BENCH_TOKEN (a bearer token of IND's
ordering officer, scopes read and write), BENCH_SCENARIO (``writes`` or ``reads``) and
BENCH_ORDER (the order each write drafts, JSON).
Each write is a new order drafted with its own Idempotency-Key, as a client would send it.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import ClassVar

from locust import FastHttpUser, constant, task

TOKEN = os.environ.get("BENCH_TOKEN", "")
SCENARIO = os.environ.get("BENCH_SCENARIO", "writes")

ORDER = json.loads(os.environ.get("BENCH_ORDER", "{}"))


class Client(FastHttpUser):
    wait_time = constant(0)
    headers: ClassVar[dict[str, str]] = {"Authorization": f"Bearer {TOKEN}"}

    @task
    def work(self) -> None:
        if SCENARIO == "writes":
            with self.client.post(
                "/orders",
                json=ORDER,
                headers={**self.headers, "Idempotency-Key": str(uuid.uuid4())},
                name="POST /orders",
                catch_response=True,
            ) as r:
                if r.status_code != 201:
                    r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
        else:
            with self.client.get(
                "/ledger/balances",
                headers=self.headers,
                name="GET /ledger/balances",
                catch_response=True,
            ) as r:
                if r.status_code != 200:
                    r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
