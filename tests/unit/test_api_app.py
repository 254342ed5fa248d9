"""The application's own middleware and per-process state, without a database."""

from __future__ import annotations

from fastapi.testclient import TestClient

from relos.api.app import MAX_BODY, create_app
from relos.api.security import LOGIN_ATTEMPTS
from relos.config import Settings

SETTINGS = Settings(database_url="sqlite:///:memory:")


def test_every_response_carries_the_clients_request_id_or_a_new_one() -> None:
    client = TestClient(create_app(SETTINGS))
    given = client.get("/openapi.json", headers={"X-Request-ID": "trace-42"})
    assert given.status_code == 200
    assert given.headers["X-Request-ID"] == "trace-42"
    fresh = client.get("/openapi.json")
    assert len(fresh.headers["X-Request-ID"]) == 32
    # not a terminal's escape sequence into the log and the audit trail: a new id instead
    odd = client.get("/openapi.json", headers={"X-Request-ID": "\x1b[31mred"})
    assert len(odd.headers["X-Request-ID"]) == 32
    assert (
        client.get("/openapi.json", headers={"X-Request-ID": "x" * 80}).headers["X-Request-ID"]
        == "x" * 64
    )


def test_a_body_over_the_limit_is_refused_before_it_is_read_and_still_carries_the_id() -> None:
    client = TestClient(create_app(SETTINGS))
    r = client.post(
        "/orders",
        content=b"x",
        headers={"Content-Length": str(MAX_BODY + 1), "X-Request-ID": "big"},
    )
    assert r.status_code == 413
    assert r.json()["rule"] == "payload_too_large"
    assert r.headers["X-Request-ID"] == "big"


def test_each_worker_allows_its_share_of_failed_logins_so_the_server_allows_no_more() -> None:
    one = create_app(SETTINGS).state.login_limiter
    two = create_app(SETTINGS.model_copy(update={"serve_workers": 2})).state.login_limiter
    assert one.attempts == LOGIN_ATTEMPTS
    assert 2 * two.attempts <= LOGIN_ATTEMPTS
    assert two.attempts >= 1


def test_every_route_is_the_applications_own_so_a_request_is_matched_once() -> None:
    """Decision 64: no included router between a request and its route (matched lazily, per
    route, on every request); every path of every router is still served."""
    from fastapi.routing import APIRoute
    from starlette.routing import Route

    from relos.api import security
    from relos.api.routes import ROUTERS

    app = create_app(SETTINGS)
    own = app.router.routes
    assert all(isinstance(r, (APIRoute, Route)) for r in own), [type(r) for r in own]
    served = {(r.path, frozenset(r.methods or ())) for r in own if isinstance(r, APIRoute)}
    for router in (security.router, *ROUTERS):
        for r in router.routes:
            assert isinstance(r, APIRoute)
            assert (r.path, frozenset(r.methods or ())) in served
    client = TestClient(app)
    assert client.get("/orders").status_code == 401  # routed, then refused without a token
    assert client.get("/no-such-path").status_code == 404


def test_a_worker_works_on_at_most_its_threads_of_requests_at_once() -> None:
    """Decision 91: FastAPI's threads are capped at `serve_threads` when the worker starts."""
    import anyio.to_thread

    async def threads() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    for cap in (1, 3):
        with TestClient(create_app(SETTINGS.model_copy(update={"serve_threads": cap}))) as c:
            assert c.portal is not None
            assert c.portal.call(threads) == cap
            assert c.get("/openapi.json").status_code == 200
