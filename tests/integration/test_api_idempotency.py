"""Idempotent writes over HTTP on SQLite and PostgreSQL: a retried request returns the first
response and acts once, even when the two copies race; a key reused for another request is 409."""

from __future__ import annotations

import threading

import httpx
import pytest
from sqlalchemy import Engine

from relos.storage import tables as t
from relos.storage.auth_tables import idempotency_keys
from tests.integration.api_client import Api, make_api, order_body
from tests.integration.builders import snapshot


@pytest.fixture
def api(engine: Engine) -> Api:
    return make_api(engine)


def test_a_retried_write_returns_the_first_response_and_acts_once(api: Api) -> None:
    first = api.write("in_order", "/orders", order_body(), key="draft-1")
    assert first.status_code == 201
    again = api.write("in_order", "/orders", order_body(), key="draft-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert api.count(t.orders) == 1
    assert api.count(t.signatures) == 0
    # an order action replays too: one signature, one receipt
    n = first.json()["number"]
    etag = first.headers["ETag"]
    for _ in range(2):
        r = api.write("in_order", f"/orders/{n}/submit", key="submit-1", if_match=etag)
        assert r.status_code == 200
    assert api.count(t.signatures) == 1


def test_the_same_key_is_a_different_write_for_another_user(api: Api) -> None:
    assert api.write("in_order", "/orders", order_body(), key="k").status_code == 201
    assert api.write("in_planner", "/orders", order_body(), key="k").status_code == 201
    assert api.count(t.orders) == 2


def test_the_same_key_with_another_body_is_409_and_writes_nothing(api: Api) -> None:
    assert api.write("in_order", "/orders", order_body(), key="draft-1").status_code == 201
    before = snapshot(api.engine)
    other = order_body(method="eve")
    r = api.write("in_order", "/orders", other, key="draft-1")
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == "Idempotency-Key"
    r = api.write("in_order", "/units", {"code": "X1", "name": "x", "party": "IND"}, key="draft-1")
    assert r.status_code == 409  # another path is another request
    assert snapshot(api.engine) == before


def test_a_write_without_idempotency_key_is_428_and_writes_nothing(api: Api) -> None:
    before = snapshot(api.engine)
    r = api.client.post("/orders", json=order_body(), headers=api.headers("in_order"))
    assert r.status_code == 428
    assert r.json()["field"] == "Idempotency-Key"
    assert r.json()["rule"] == "precondition_required"
    assert snapshot(api.engine) == before


def test_a_refused_write_stores_no_response_so_a_retry_with_the_key_can_succeed(api: Api) -> None:
    bad = order_body(unit="ADM-GORSHKOV")  # a Russian unit cannot be on an Indian order
    r = api.write("in_order", "/orders", bad, key="k1")
    assert r.status_code == 403
    assert api.count(idempotency_keys) == 0
    assert api.count(t.orders) == 0
    assert api.write("in_order", "/orders", order_body(), key="k1").status_code == 201
    assert api.count(t.orders) == 1


def test_two_concurrent_requests_with_one_key_make_exactly_one_order(api: Api) -> None:
    workers = 4
    barrier = threading.Barrier(workers)
    responses: list[httpx.Response] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def post() -> None:
        barrier.wait()
        try:
            r = api.write("in_order", "/orders", order_body(), key="race")
        except BaseException as e:  # collected and reported below
            with lock:
                errors.append(e)
            return
        with lock:
            responses.append(r)

    threads = [threading.Thread(target=post) for _ in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert [r.status_code for r in responses] == [201] * workers, [r.text for r in responses]
    assert len({r.json()["number"] for r in responses}) == 1
    assert api.count(t.orders) == 1
    assert api.count(idempotency_keys) == 1


def test_two_concurrent_actions_with_one_etag_make_one_change_and_a_412(api: Api) -> None:
    n = api.write("in_order", "/orders", order_body()).json()["number"]
    etag = api.get("in_order", f"/orders/{n}").headers["ETag"]
    workers = 3
    barrier = threading.Barrier(workers)
    codes: list[int] = []
    lock = threading.Lock()

    def cancel(i: int) -> None:
        barrier.wait()
        r = api.write("in_order", f"/orders/{n}/cancel", {"reason": f"r{i}"}, if_match=etag)
        with lock:
            codes.append(r.status_code)

    threads = [threading.Thread(target=cancel, args=(i,)) for i in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(codes) == [200] + [412] * (workers - 1)
    assert api.count(t.signatures) == 1
