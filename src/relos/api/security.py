"""Who is calling: an API token (``Authorization: Bearer relos_…``) or a browser session cookie
with a CSRF token on every write. Login attempts are rate-limited per user name and client."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from relos.api.deps import Uow, settings
from relos.api.schemas import problems
from relos.domain.errors import PermissionDenied, TooManyAttempts, Unauthenticated
from relos.services import auth
from relos.services.auth import Principal

SESSION_COOKIE = "relos_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer = HTTPBearer(auto_error=False, description="An API token: relos_<id>_<secret>")
cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="Browser session; writes need the X-CSRF-Token header",
)


#: failed logins allowed per (user name, client) in LOGIN_WINDOW seconds, for the whole server
LOGIN_ATTEMPTS = 5
LOGIN_WINDOW = 300.0


class LoginLimiter:
    """At most `attempts` failed logins per (user name, client) within `window` seconds."""

    def __init__(self, attempts: int = LOGIN_ATTEMPTS, window: float = LOGIN_WINDOW) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: tuple[str, str]) -> None:
        with self._lock:
            recent = self._recent(key)
            if len(recent) >= self.attempts:
                raise TooManyAttempts(max(1, int(recent[0] + self.window - time.monotonic())))

    def failed(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._recent(key).append(time.monotonic())

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] < time.monotonic() - self.window:
            q.popleft()
        return q


def principal(
    request: Request,
    uow: Uow,
    token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    session_id: Annotated[str | None, Depends(cookie)],
) -> Principal:
    if token is not None:
        return auth.token_principal(uow, token.credentials)
    if session_id:
        caller = auth.session_principal(uow, session_id)
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or sent != caller.csrf_token:
                raise PermissionDenied(
                    caller.user.name, request.method, f"missing or wrong {CSRF_HEADER} header"
                )
        return caller
    raise Unauthenticated("log in, or send an API token as 'Authorization: Bearer …'")


async def writer(caller: Annotated[Principal, Depends(principal)]) -> Principal:
    """A check without I/O, run on the event loop (``async``): no worker thread for it."""
    auth.require_write(caller, "write")
    return caller


Caller = Annotated[Principal, Depends(principal)]
Writer = Annotated[Principal, Depends(writer)]

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    name: str
    party: str
    role: str
    via: str
    csrf_token: str | None = None


@router.post("/login", response_model=Me, responses=problems(401, 413, 422, 429))
def login(body: LoginIn, request: Request, response: Response, uow: Uow) -> Me:
    """Log in with a user name and password: sets the session cookie, returns the CSRF token."""
    limiter: LoginLimiter = request.app.state.login_limiter
    key = (body.name, request.client.host if request.client else "")
    limiter.check(key)
    try:
        user, session_id, session = auth.login(uow, body.name, body.password)
    except Unauthenticated:
        limiter.failed(key)
        raise
    limiter.succeeded(key)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        httponly=True,
        samesite="strict",
        secure=settings(request).cookie_secure,
        max_age=int(auth.SESSION_LIFETIME.total_seconds()),
    )
    return Me(
        name=user.name,
        party=user.party,
        role=user.role.value,
        via="session",
        csrf_token=session.csrf_token,
    )


@router.post("/logout", status_code=204, responses=problems(401, 403))
def logout(caller: Caller, request: Request, response: Response, uow: Uow) -> None:
    """End the browser session."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        auth.logout(uow, session_id)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/me", response_model=Me, responses=problems(401))
def me(caller: Caller) -> Me:
    """Who you are, as the server sees you."""
    return Me(
        name=caller.user.name,
        party=caller.user.party,
        role=caller.user.role.value,
        via=caller.via,
        csrf_token=caller.csrf_token,
    )
