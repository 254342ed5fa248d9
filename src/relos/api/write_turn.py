"""A worker process acts on one write request at a time; the others wait their turn on its event
loop, their bodies received.

Writers take turns anyway: SQLite has one writer at a time, and relos makes PostgreSQL's writers
take turns too (decision 59). A second write inside the same worker gained nothing but a thread
that waits for the turn while the threads that can run contend for the interpreter: every
SQLite call releases the GIL, and with many runnable threads each release became a hand-over
between threads. Measured (decision 90): two workers and 20 connections drafting orders did 672
writes/s at 2.19 ms of server CPU each, and 1,218 writes/s at 1.37 ms with 2 connections; with
this turn, 20 connections do as well as 2.

A write request's body is received before it takes the turn, so a slow client holds no other
request up; the turn is given back when the response starts (the work is done by then). Reads
(GET, HEAD, OPTIONS) never wait here, nor do the few routes whose bodies are streamed in
(a counterpart's statement), which take their writer's turn only to record their result.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relos.api import errors
from relos.domain.errors import Busy

#: methods that do not write: they never wait for the turn
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriteTurn:
    """One write request of this process is acted on at a time (ASGI middleware); one kept
    waiting longer than `wait_s` is answered 503 `busy`, untouched, as a writer kept out
    of the database that long is.

    `streamed` names the (method, path) pairs whose bodies are read as a stream, not received
    whole first: they bypass the turn. A body larger than `max_body` is not buffered here
    either: the request is passed on as it comes, for the application to refuse."""

    def __init__(
        self,
        app: ASGIApp,
        max_body: int,
        wait_s: float,
        streamed: Collection[tuple[str, str]] = (),
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.wait_s = wait_s
        self.streamed = frozenset(streamed)
        #: the turns of each event loop (one per worker process; a test client may run several)
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "")
        if (
            scope["type"] != "http"
            or method in READING_METHODS
            or (method, scope["path"]) in self.streamed
        ):
            await self.app(scope, receive, send)
            return
        received, whole = await self._receive_body(receive)
        replay = _Replay(received, receive)
        if not whole:
            await self.app(scope, replay, send)
            return
        loop = asyncio.get_running_loop()
        turns = self._turns.get(loop)
        if turns is None:
            turns = self._turns[loop] = asyncio.Lock()
        try:
            await asyncio.wait_for(turns.acquire(), self.wait_s)
        except TimeoutError:  # as a writer kept out of the database past its wait
            await errors.relos_problem(Busy(self.wait_s))(scope, replay, send)
            return
        held = True

        async def send_and_give_back(message: Message) -> None:
            nonlocal held
            if held and message["type"] == "http.response.start":
                held = False
                turns.release()
            await send(message)

        try:
            await self.app(scope, replay, send_and_give_back)
        finally:
            if held:
                turns.release()

    async def _receive_body(self, receive: Receive) -> tuple[list[Message], bool]:
        """The request's messages up to its last body part; whether that was all of it (not
        over `max_body`, not disconnected)."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages, False
            size += len(message.get("body", b""))
            if size > self.max_body:
                return messages, False
            if not message.get("more_body", False):
                return messages, True


class _Replay:
    """A `receive` that gives the messages already received, then the client's own."""

    def __init__(self, messages: list[Message], receive: Receive) -> None:
        self._messages = messages
        self._receive = receive

    async def __call__(self) -> Message:
        if self._messages:
            return self._messages.pop(0)
        return await self._receive()
