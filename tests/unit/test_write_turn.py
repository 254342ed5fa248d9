"""A worker acts on one write request at a time (api/write_turn.py): the rules, on a recording
ASGI application driven by hand in one event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from relos.api.write_turn import WriteTurn

Event = tuple[str, str]


class Recorder:
    """An application that notes when each request enters and starts its response, reads its
    body whole, and answers once the test releases it."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.bodies: dict[str, bytes] = {}
        self.release: dict[str, asyncio.Event] = {}

    def gate(self, name: str) -> asyncio.Event:
        return self.release.setdefault(name, asyncio.Event())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path"].strip("/")
        self.events.append(("enter", name))
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.bodies[name] = body
        await self.gate(name).wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        self.events.append(("started", name))
        await send({"type": "http.response.body", "body": b"ok"})


def scope(method: str, name: str) -> Scope:
    return {"type": "http", "method": method, "path": f"/{name}", "headers": []}


def client(parts: list[bytes], pause: asyncio.Event | None = None) -> Receive:
    """A client sending its body in `parts`, waiting on `pause` before the last one."""
    queue = list(parts)

    async def receive() -> Message:
        if len(queue) == 1 and pause is not None:
            await pause.wait()
        part = queue.pop(0)
        return {"type": "http.request", "body": part, "more_body": bool(queue)}

    return receive


async def sink(message: Message) -> None:
    return None


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


def test_a_second_write_waits_until_the_first_has_its_response() -> None:
    async def scenario() -> None:
        app = Recorder()
        turn = WriteTurn(app, max_body=1024, wait_s=5)
        first = asyncio.create_task(turn(scope("POST", "a"), client([b"{}"]), sink))
        second = asyncio.create_task(turn(scope("POST", "b"), client([b"{}"]), sink))
        await settle()
        assert app.events == [("enter", "a")]
        app.gate("a").set()
        await first
        await settle()
        assert app.events == [("enter", "a"), ("started", "a"), ("enter", "b")]
        app.gate("b").set()
        await second

    run(scenario)


def test_reads_never_wait_for_a_write() -> None:
    async def scenario() -> None:
        app = Recorder()
        turn = WriteTurn(app, max_body=1024, wait_s=5)
        write = asyncio.create_task(turn(scope("POST", "w"), client([b"{}"]), sink))
        read = asyncio.create_task(turn(scope("GET", "r"), client([b""]), sink))
        await settle()
        assert sorted(app.events) == [("enter", "r"), ("enter", "w")]
        app.gate("r").set()
        await read
        assert ("started", "r") in app.events
        app.gate("w").set()
        await write

    run(scenario)


def test_a_write_whose_body_is_still_coming_holds_no_other_write_up() -> None:
    async def scenario() -> None:
        app = Recorder()
        turn = WriteTurn(app, max_body=1024, wait_s=5)
        slow_client = asyncio.Event()
        slow = asyncio.create_task(
            turn(scope("POST", "slow"), client([b'{"a":', b"1}"], slow_client), sink)
        )
        await settle()
        quick = asyncio.create_task(turn(scope("POST", "quick"), client([b"{}"]), sink))
        await settle()
        assert app.events == [("enter", "quick")]
        app.gate("quick").set()
        await quick
        slow_client.set()
        app.gate("slow").set()
        await slow
        # the application read the body the middleware received, whole and once
        assert app.bodies == {"quick": b"{}", "slow": b'{"a":1}'}

    run(scenario)


def test_a_body_over_the_limit_and_a_streamed_route_take_no_turn() -> None:
    async def scenario() -> None:
        app = Recorder()
        turn = WriteTurn(app, max_body=4, wait_s=5, streamed={("POST", "statement")})
        held = asyncio.create_task(turn(scope("POST", "held"), client([b"{}"]), sink))
        big = asyncio.create_task(turn(scope("POST", "big"), client([b"123", b"456"]), sink))
        streamed = asyncio.create_task(
            turn(scope("POST", "statement"), client([b"line 1", b"line 2"]), sink)
        )
        await settle()
        assert sorted(app.events) == [("enter", "big"), ("enter", "held"), ("enter", "statement")]
        for name in ("big", "statement", "held"):
            app.gate(name).set()
        await asyncio.gather(held, big, streamed)
        assert app.bodies["big"] == b"123456"
        assert app.bodies["statement"] == b"line 1line 2"

    run(scenario)


def test_a_write_that_fails_gives_its_turn_back() -> None:
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("the application failed")

    async def scenario() -> None:
        turn = WriteTurn(failing, max_body=1024, wait_s=5)
        for _ in range(3):  # with the turn kept, the second would wait for ever
            with pytest.raises(RuntimeError, match="the application failed"):
                await asyncio.wait_for(turn(scope("POST", "x"), client([b"{}"]), sink), 1)

    run(scenario)


def test_writes_of_two_event_loops_take_turns_each_in_their_own() -> None:
    app = Recorder()
    turn = WriteTurn(app, max_body=1024, wait_s=5)

    async def two_writes(first: str, second: str) -> None:
        tasks = [
            asyncio.create_task(turn(scope("POST", name), client([b"{}"]), sink))
            for name in (first, second)
        ]
        await settle()  # the second waits: the loop's turn now has a waiter
        app.gate(first).set()
        app.gate(second).set()
        await asyncio.gather(*tasks)

    asyncio.run(two_writes("a", "b"))
    # a turn bound to the first loop would refuse to be waited for in this one
    asyncio.run(two_writes("c", "d"))
    assert [e for e in app.events if e[0] == "started"] == [
        ("started", n) for n in ("a", "b", "c", "d")
    ]


def test_a_write_kept_waiting_past_the_writers_wait_is_told_busy_and_not_acted_on() -> None:
    async def scenario() -> None:
        app = Recorder()
        turn = WriteTurn(app, max_body=1024, wait_s=0.05)
        sent: list[Message] = []

        async def collect(message: Message) -> None:
            sent.append(message)

        holder = asyncio.create_task(turn(scope("POST", "holder"), client([b"{}"]), sink))
        await settle()
        await asyncio.wait_for(turn(scope("POST", "late"), client([b"{}"]), collect), 5)
        assert app.events == [("enter", "holder")]
        assert sent[0]["status"] == 503
        assert b'"rule":"busy"' in sent[1]["body"]
        app.gate("holder").set()
        await holder
        # the turn is whole again: the next write goes in at once
        app.gate("next").set()
        await turn(scope("POST", "next"), client([b"{}"]), sink)
        assert app.events[-1] == ("started", "next")

    run(scenario)
