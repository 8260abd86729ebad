"""The app's two ASGI middlewares: request observation (log line, metrics, request id) and the body limit.

Both are pure ASGI (no ``BaseHTTPMiddleware``), so a streamed response (SSE) passes
through untouched.

- :class:`RequestObserver`: one access log line per request (``logs.log_request``), the
  seed's request metrics (``autogen_requests_total`` and friends, labelled by route
  template, never the raw path), and an ``X-Request-ID`` (the client's, or a new one),
  bound to every record logged while the request is handled.
- :class:`BodyLimitMiddleware`: bodies over ``security.max_body_bytes`` get 413 before any
  route reads them: a declared ``Content-Length`` over the limit at once, a chunked body as
  soon as it passes the limit (a body that fits is replayed to the app).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..logs import log_context, log_request
from .errors import problem

__all__ = ["BodyLimitMiddleware", "RequestObserver"]


class RequestObserver:
    """Log and count every HTTP request (see the module docstring).

    Args:
        app: The wrapped app.
        metrics: The app's ``ServiceMetrics``, or ``None`` (logging only).
    """

    def __init__(self, app: ASGIApp, metrics: Any = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if 0 < len(given) <= 128 else uuid.uuid4().hex
        status = 500  # what the client gets if the app fails before answering
        started = time.perf_counter()

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            with log_context(request_id=request_id):
                await self.app(scope, receive, observed_send)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "(unmatched)"
            log_request(scope["method"], template, status, seconds * 1000, request_id=request_id)
            if self.metrics is not None:
                self.metrics.observe_request(scope["method"], template, status, seconds)


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``limit`` bytes with a 413 problem."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.limit
            except ValueError:
                too_big = False
            if too_big:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if headers.get(b"transfer-encoding", b"").lower() != b"chunked":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response: Any = problem(
            413, "Payload too large", f"the request body is over {self.limit} bytes", field="body"
        )
        await response(scope, receive, send)
