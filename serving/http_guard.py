"""ASGI guards in front of the verification API: a request body limit (413) and bounded concurrency (503 at once)."""

from __future__ import annotations

import asyncio
import json

EXEMPT_PATHS = frozenset({"/metrics", "/healthz", "/livez", "/readyz", "/docs.json", "/docs", "/"})


async def _answer(send, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413 before the API sees them.

    A declared ``Content-Length`` over the limit is refused without reading; otherwise the
    body is read (at most ``max_bytes + 1`` bytes) and replayed to the application.
    """

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or ())
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await _answer(send, 413, f"request body of {int(declared)} bytes exceeds the limit of {self.max_bytes}")
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message]), send)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await _answer(send, 413, f"request body exceeds the limit of {self.max_bytes} bytes")
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, _replay([{"type": "http.request", "body": b"".join(chunks), "more_body": False}], receive), send)


def _replay(messages, then=None):
    queue = list(messages)

    async def receive():
        if queue:
            return queue.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


class ConcurrencyLimit:
    """At most ``max_in_flight`` API requests per worker; the next ones get 503 with ``Retry-After`` at once.

    BentoML 1.4.40's own ``traffic.max_concurrency`` answers 429; this guard keeps the
    documented overload contract (503, retry later) and leaves health and metrics exempt.
    """

    def __init__(self, app, max_in_flight: int, retry_after_s: int = 1) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.retry_after = str(retry_after_s).encode()
        self._in_flight = 0
        self._lock = asyncio.Lock()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            return await self.app(scope, receive, send)
        async with self._lock:
            if self._in_flight >= self.max_in_flight:
                full = True
            else:
                full = False
                self._in_flight += 1
        if full:
            return await _answer(send, 503, f"server busy: {self.max_in_flight} requests in flight, retry later",
                                 ((b"retry-after", self.retry_after),))
        try:
            await self.app(scope, receive, send)
        finally:
            async with self._lock:
                self._in_flight -= 1
