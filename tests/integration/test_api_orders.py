"""Orders over HTTP with API tokens, on SQLite and PostgreSQL: the whole life of an order, each
step by the role and party the design gives it; what each party sees; optimistic concurrency."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from relos.storage import tables as t
from relos.storage.audit_tables import audit_log
from tests.integration.api_client import Api, make_api, order_body
from tests.integration.builders import snapshot

PROBLEM = "application/problem+json"


@pytest.fixture
def api(engine: Engine) -> Api:
    return make_api(engine)


def drafted(api: Api, **changes: object) -> str:
    r = api.write("in_order", "/orders", order_body(**changes))
    assert r.status_code == 201, r.text
    number: str = r.json()["number"]
    return number


def test_order_lives_from_draft_to_closed_over_http_each_step_by_its_role(api: Api) -> None:
    n = drafted(api)
    steps = [
        ("in_order", "submit", None, "submitted"),
        ("ru_accept", "accept", None, "accepted"),
        (
            "in_receive",
            "receive",
            {"lines": [{"line": 1, "quantity": "150"}]},
            "partially_received",
        ),
        ("in_receive", "receive", {}, "received"),
        ("ru_finance", "invoice", {}, "invoiced"),
    ]
    for user, action, body, state in steps:
        r = api.act(user, n, action, body)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == state
        assert r.headers["ETag"] == f'W/"{n}-{r.json()["version"]}"'
    total = Decimal("400") * Decimal("65000.00") + Decimal("100.4") * Decimal("150.25")
    order = api.get("in_finance", f"/orders/{n}").json()
    assert Decimal(order["value"]["number"]) == total
    assert order["value"]["commodity"] == "RUB"
    assert isinstance(order["lines"][0]["unit_price"], str)

    r = api.act("in_finance", n, "settle", {"amount": str(total), "note": "оплачено / भुगतान"})
    assert r.json()["state"] == "settled"
    r = api.act("ru_finance", n, "close")
    assert r.json()["state"] == "closed"
    assert [s["action"] for s in r.json()["signatures"]] == [
        "submit", "accept", "receive", "receive", "invoice", "settle", "close"
    ]  # fmt: skip
    assert r.json()["settlements"][0]["note"] == "оплачено / भुगतान"

    # each party reads its own book only
    ind = api.get("in_finance", "/ledger/balances").json()
    rus = api.get("ru_finance", "/ledger/balances").json()
    assert {b["book"] for b in ind} == {"IND"}
    assert {b["book"] for b in rus} == {"RUS"}
    assert {e["book"] for e in api.get("in_finance", "/ledger/entries").json()} == {"IND"}


def test_a_step_is_refused_to_the_wrong_role_or_party_and_writes_nothing(api: Api) -> None:
    n = drafted(api)
    assert api.act("in_order", n, "submit").status_code == 200
    before = snapshot(api.engine)
    for user, action in [
        ("in_accept", "accept"),  # the requester's accepting officer: wrong side
        ("ru_order", "accept"),  # the supplier's ordering officer: wrong role
        ("ru_finance", "close"),
    ]:
        r = api.act(user, n, action)
        assert r.status_code in (403, 409), (user, action, r.text)
        assert r.headers["content-type"] == PROBLEM
    r = api.act("in_accept", n, "accept")
    assert r.json()["rule"] == "permission_denied"
    assert snapshot(api.engine) == before


def test_a_requesters_draft_is_invisible_to_the_supplier_and_a_third_party_sees_nothing(
    api: Api,
) -> None:
    n = drafted(api)
    assert api.get("in_order", f"/orders/{n}").status_code == 200
    for user in ("ru_accept", "us_order"):
        r = api.get(user, f"/orders/{n}")
        assert r.status_code == 404
        assert r.headers["content-type"] == PROBLEM
        assert api.get(user, "/orders").json()["total"] == 0
    # acting on an unseen order is 404 too, not 403 or 409: its existence is not revealed
    r = api.write("ru_accept", f"/orders/{n}/accept", if_match=f'W/"{n}-0"')
    assert r.status_code == 404
    assert api.act("in_order", n, "submit").status_code == 200
    assert api.get("ru_accept", f"/orders/{n}").status_code == 200
    assert api.get("us_order", f"/orders/{n}").status_code == 404
    # the third party sees no agreement, no counterpart party, no facility, no unit
    assert api.get("us_order", "/agreements").json() == []
    assert [p["code"] for p in api.get("us_order", "/parties").json()] == ["USA"]
    assert api.get("us_order", "/facilities").json() == []
    assert api.get("us_order", "/agreements/RELOS").status_code == 404
    assert api.get("us_order", "/facilities/RUSMR").status_code == 404
    assert api.get("us_order", "/ledger/balances").json() == []
    # the supplier now sees the requester's unit on that order, and the states report counts it
    assert api.get("ru_accept", "/units/INS-TABAR").status_code == 200
    assert api.get("ru_accept", "/reports/states").json()["submitted"] == 1
    assert api.get("us_order", "/reports/states").json()["submitted"] == 0


def test_users_are_listed_and_managed_by_their_own_party_only(api: Api) -> None:
    names = {u["name"] for u in api.get("in_order", "/users").json()}
    assert "in_order" in names
    assert not any(n.startswith("ru_") for n in names)
    assert api.get("in_admin", "/users/ru_order").status_code == 404
    assert api.write("in_admin", "/users/ru_order/disable").status_code == 404
    r = api.write("in_admin", "/users", {"name": "अर्जुन", "role": "auditor"})
    assert r.status_code == 201, r.text
    assert r.json() == {"name": "अर्जुन", "party": "IND", "role": "auditor", "active": True}
    assert api.write("in_order", "/users", {"name": "x", "role": "auditor"}).status_code == 403
    r = api.write("in_admin", "/tokens", {"name": "ci", "scopes": ["read"], "user": "in_order"})
    assert r.status_code == 201
    assert r.json()["token"].startswith("relos_")
    tid = r.json()["id"]
    assert api.write("ru_admin", f"/tokens/{tid}", method="DELETE").status_code == 404
    r = api.write("in_order", f"/tokens/{tid}", method="DELETE")
    assert r.status_code == 200
    assert r.json()["revoked_at"] is not None


def test_agreements_are_written_by_an_admin_of_a_party_to_them(api: Api) -> None:
    body = {
        "code": "LEMOA",
        "title": "Logistics Exchange Memorandum of Agreement",
        "parties": ["IND", "USA"],
        "signed_on": "2016-08-29",
        "steps": [{"party": "IND", "step": "cabinet approval", "on": "2016-08-01"}],
    }
    assert api.write("ru_admin", "/agreements", body).status_code == 403
    assert api.write("in_order", "/agreements", body).status_code == 403
    r = api.write("in_admin", "/agreements", body)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "in_force"
    assert r.json()["history"][0] == {"on": "2016-08-01", "event": "IND: cabinet approval"}
    assert api.get("us_order", "/agreements/LEMOA").status_code == 200
    assert api.get("ru_admin", "/agreements/LEMOA").status_code == 404
    step = {"party": "USA", "step": "DoD signs", "on": "2016-08-29"}
    assert api.write("in_admin", "/agreements/LEMOA/steps", step).status_code == 403
    r = api.write("us_admin", "/agreements/LEMOA/steps", step)
    assert r.status_code == 200, r.text
    assert api.write("ru_admin", "/agreements/LEMOA/steps", step).status_code == 404


def test_stale_if_match_is_412_missing_is_428_and_neither_acts(api: Api) -> None:
    n = drafted(api)
    stale = api.get("in_order", f"/orders/{n}").headers["ETag"]
    assert api.write("in_order", f"/orders/{n}/cancel", {"reason": "x"}, if_match=stale).is_success
    n2 = drafted(api)
    etag = api.get("in_order", f"/orders/{n2}").headers["ETag"]
    assert api.write("in_order", f"/orders/{n2}/submit", if_match=etag).status_code == 200
    before = snapshot(api.engine)
    r = api.write("in_order", f"/orders/{n2}/cancel", {"reason": "again"}, if_match=etag)
    assert r.status_code == 412
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["field"] == "If-Match"
    r = api.write("in_order", f"/orders/{n2}/cancel", {"reason": "again"})
    assert r.status_code == 428
    assert r.json()["field"] == "If-Match"
    r = api.write("in_order", f"/orders/{n2}/cancel", {"reason": "x"}, if_match=f'W/"{n}-2"')
    assert r.status_code == 412  # the ETag of another order
    assert snapshot(api.engine) == before


def test_list_filters_sorts_pages_and_exports_the_same_orders_as_csv(api: Api) -> None:
    numbers = [drafted(api) for _ in range(5)]
    drafted(api, method="eve")
    r = api.get("in_order", "/orders", params={"method": "cash", "limit": 2, "offset": 1})
    page = r.json()
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [o["number"] for o in page["items"]] == numbers[1:3]
    r = api.get("in_order", "/orders", params={"sort": "number", "direction": "desc"})
    assert [o["number"] for o in r.json()["items"]][1:] == numbers[::-1]
    assert api.get("in_order", "/orders", params={"limit": 501}).status_code == 422
    assert api.get("in_order", "/orders", params={"sort": "value"}).status_code == 422
    r = api.get("in_order", "/orders.csv", params={"method": "cash"})
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["number"] for row in rows] == numbers
    assert {row["state"] for row in rows} == {"draft"}
    assert api.count(t.orders) == 6


def test_an_audit_record_names_the_http_request_that_made_the_change(api: Api) -> None:
    """The X-Request-ID a response carries (the client's, or one the server gave it) is the
    request id of the audit records of that request's changes: a log line or a client's
    trace leads to the records."""
    given = api.client.post(
        "/orders",
        json=order_body(),
        headers=api.headers("in_order", **{"Idempotency-Key": "k-1", "X-Request-ID": "trace-42"}),
    )
    fresh = api.write("in_order", "/orders", order_body())
    assert given.status_code == fresh.status_code == 201
    with api.engine.connect() as conn:
        ids = dict(
            conn.execute(
                select(audit_log.c.entity_key, audit_log.c.request_id).where(
                    audit_log.c.action == "order.draft"
                )
            ).all()
        )
    assert ids == {
        given.json()["number"]: "trace-42",
        fresh.json()["number"]: fresh.headers["X-Request-ID"],
    }
