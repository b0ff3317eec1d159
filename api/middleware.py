"""ASGI middleware, run before any route: the rate limit, the Host check, the body size cap.

They run as middleware, not as route dependencies, so that requests refused before routing
(400, 404, 413, a bad Host) count against the rate limit like any other.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from api.ratelimit import RateLimiter, retry_after_header

# Liveness stays open to every client and every Host: it tells nothing and probes need it.
OPEN_PATHS = frozenset({"/health"})


class RateLimit:
    """429 with ``Retry-After`` once a client (its address) used up its allowance.

    Every HTTP request but ``/health`` takes a token, whatever becomes of it later.

    Args:
        app: the wrapped ASGI application.
        limiter: the per-client token buckets.
    """

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            client = scope.get("client")
            wait = self.limiter.acquire(client[0] if client else "unknown")
            if wait > 0:
                retry = retry_after_header(wait)
                refusal = error_response(
                    429, f"too many requests; retry in {retry} s", headers={"Retry-After": retry}
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


class HostCheck:
    """400 unless the ``Host`` header names an allowed host (the port is not compared).

    A page on another site can make a browser send requests here under its own host name
    (DNS rebinding); checking the name keeps such requests out when no API key does.

    Args:
        app: the wrapped ASGI application.
        allowed: host names or addresses, compared without case; ``*`` allows any.
    """

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = {name.strip().lower().strip("[]") for name in allowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS and "*" not in self.allowed:
            host = _host_name(scope)
            if host is not None and host not in self.allowed:
                detail = "this Host is not served; add it to QA_ALLOWED_HOSTS (or set QA_API_KEY)"
                await error_response(400, detail)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _host_name(scope: Scope) -> str | None:
    """The Host header without its port, lower case, IPv6 without brackets; None if absent."""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = str(value.decode("latin-1")).strip().lower()
            if host.startswith("["):
                return host[1:].partition("]")[0]
            return host.rpartition(":")[0] if host.count(":") == 1 else host
    return None


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413.

    The declared ``Content-Length`` is checked first; the body is then read (at most
    ``max_bytes`` of it, so a client that lies or streams chunks cannot get more through)
    and replayed to the application.

    Args:
        app: the wrapped ASGI application.
        max_bytes: the largest body accepted.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1:
            await error_response(400, "invalid Content-Length header")(scope, receive, send)
            return
        if declared is not None and declared > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body: bytes = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(body)
            more = bool(message.get("more_body", False))
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is too large (the limit is {self.max_bytes} bytes)"
        await error_response(413, detail)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    """The declared length; None when absent, -1 when malformed."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() else -1
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the buffered body once, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
