"""ASGI guards: 413 for large bodies (declared or streamed), 503 at once past the concurrency bound."""

from __future__ import annotations

import asyncio

import httpx

from serving.http_guard import BodyLimit, ConcurrencyLimit


async def echo_app(scope, receive, send):
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    if scope["path"] == "/slow":
        await asyncio.sleep(0.3)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": str(len(body)).encode()})


def _client(app):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def test_body_limit():
    async def go():
        async with _client(BodyLimit(echo_app, max_bytes=1000)) as c:
            ok = await c.post("/verify", content=b"x" * 1000)
            big = await c.post("/verify", content=b"x" * 1001)

            async def chunks():
                for _ in range(5):
                    yield b"x" * 300

            streamed = await c.post("/verify", content=chunks())
            exempt = await c.post("/metrics", content=b"x" * 5000)
        return ok, big, streamed, exempt

    ok, big, streamed, exempt = asyncio.run(go())
    assert ok.status_code == 200 and ok.text == "1000"
    assert big.status_code == 413 and "limit" in big.json()["error"]
    assert streamed.status_code == 413
    assert exempt.status_code == 200


def test_concurrency_limit_answers_503_at_once_and_recovers():
    async def go():
        guard = ConcurrencyLimit(echo_app, max_in_flight=2)
        async with _client(guard) as c:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            results = await asyncio.gather(*(c.post("/slow", content=b"") for _ in range(8)))
            codes = sorted(r.status_code for r in results)
            quick = [r for r in results if r.status_code == 503]
            after = await c.post("/slow", content=b"")
            health = await c.get("/readyz")
            return codes, quick, after, loop.time() - t0, health

    codes, quick, after, elapsed, health = asyncio.run(go())
    assert codes == [200, 200] + [503] * 6
    assert all(r.headers["retry-after"] == "1" and "busy" in r.json()["error"] for r in quick)
    assert after.status_code == 200 and elapsed < 3.0
    assert health.status_code == 200
