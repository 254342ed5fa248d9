"""Locust users for bench/api_load.py: order creation or balance reads against `relos serve`.

Read from the environment (set by bench/api_load.py): BENCH_TOKEN (a bearer token of IND's
ordering officer, scopes read and write) and BENCH_SCENARIO (``writes`` or ``reads``).
Each write is a new order drafted with its own Idempotency-Key, as a client would send it.
"""

from __future__ import annotations

import os
import uuid
from typing import ClassVar

from locust import FastHttpUser, constant, task

TOKEN = os.environ.get("BENCH_TOKEN", "")
SCENARIO = os.environ.get("BENCH_SCENARIO", "writes")

ORDER = {
    "agreement": "RELOS",
    "supplying": "RUS",
    "facility": "RUVVO",
    "unit": "INS-TABAR",
    "method": "cash",
    "use": "port_call",
    "required_by": "2026-12-20",
    "lines": [
        {"item": "RU-WATER-M3", "quantity": "250"},
        {"item": "RU-RATION-CD", "quantity": "900"},
    ],
    "data": {
        "point_of_contact": "Supply officer, INS Tabar (F44)",
        "delivery_location": "Vladivostok, berth 3",
        "purpose": "port call (load test)",
    },
}


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
