"""A real HTTP server on loopback that speaks the OpenAI, Anthropic and Ollama wire formats.

Provider clients are tested against it end to end, through the real SDKs and a real
socket, so nothing patches the SDKs. Tests script it: queue the replies it should give
(JSON, SSE streams, errors with headers, malformed bodies, slow or stalled replies),
then assert on the requests it recorded.

Usage (see ``tests/models/conftest.py`` for the ``fake_llm`` fixture)::

    fake_llm.queue(openai_completion("hi"))
    client = OpenAIChatCompletionClient(model="gpt-4o", api_key="k", base_url=fake_llm.openai_url)
    ...
    assert fake_llm.requests[0].json["model"] == "gpt-4o"

Other test directories reuse it by putting ``tests/models`` on ``sys.path`` in their
own conftest (test directories are not packages under ``--import-mode=importlib``)::

    sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
    from fake_llm_server import FakeLLMServer  # then start()/stop() it in a fixture
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

__all__ = [
    "ErrorReply",
    "FakeLLMServer",
    "JSONReply",
    "NDJSONReply",
    "RawReply",
    "RecordedRequest",
    "Reply",
    "SSEReply",
    "anthropic_message",
    "anthropic_stream",
    "ollama_chat",
    "ollama_stream",
    "openai_completion",
    "openai_stream",
    "openai_tool_call",
]


# ----------------------------------------------------------------------------- replies


@dataclass
class Reply:
    """Base of scripted replies: ``delay`` seconds pass before the answer starts."""

    delay: float = 0.0
    hold: bool = False
    """Hold the request open (never answer) until the client disconnects."""


@dataclass
class JSONReply(Reply):
    """A JSON body."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ErrorReply(Reply):
    """An error status with an optional JSON body and headers (``Retry-After``...)."""

    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RawReply(Reply):
    """Raw bytes, for malformed bodies."""

    content: bytes = b""
    status: int = 200
    content_type: str = "application/json"


@dataclass
class SSEReply(Reply):
    """A server-sent-events stream.

    Each event is ``(event_name_or_None, data)``; ``data`` is JSON-encoded unless it is
    a string (``"[DONE]"``). After ``stall_after`` events the stream goes silent until
    the client disconnects; ``fail_after`` events it aborts the connection instead.
    """

    events: list[tuple[str | None, Any]] = field(default_factory=list)
    interval: float = 0.0
    stall_after: int | None = None
    fail_after: int | None = None


@dataclass
class NDJSONReply(Reply):
    """A newline-delimited JSON stream (Ollama's streamed answers), one object a line."""

    lines: list[Any] = field(default_factory=list)


# ----------------------------------------------------------------------------- requests


@dataclass
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    received_at: float


class _AbortStream(Exception):
    pass


class FakeLLMServer:
    """Uvicorn + Starlette on 127.0.0.1 in a background thread, answering scripted replies."""

    def __init__(self) -> None:
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self.disconnects = 0
        """Requests the client abandoned while the server was still answering."""
        self._stop = threading.Event()
        app = Starlette(
            routes=[Route("/{path:path}", self._handle, methods=["POST", "GET", "PUT", "DELETE", "PATCH"])]
        )
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            ws="none",
            http="h11",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="fake-llm-server", daemon=True)

    # -- lifecycle

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self) -> FakeLLMServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake LLM server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def reset(self) -> None:
        """Forget queued replies and recorded requests (between tests)."""
        with self._lock:
            self._replies.clear()
            self.requests.clear()
            self.in_flight = 0
            self.peak_in_flight = 0
            self.disconnects = 0

    # -- addresses

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_url(self) -> str:
        """``base_url`` for OpenAI-compatible clients."""
        return f"{self.url}/v1"

    @property
    def anthropic_url(self) -> str:
        """``base_url`` for the Anthropic client."""
        return self.url

    # -- scripting

    def queue(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, in order."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def pending_replies(self) -> int:
        with self._lock:
            return len(self._replies)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        """Block (call via ``asyncio.to_thread``) until ``count`` requests have arrived."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.requests) >= count, timeout)

    def wait_for_disconnects(self, count: int, timeout: float = 5.0) -> bool:
        """Block until the server has seen ``count`` client disconnects."""
        with self._changed:
            return self._changed.wait_for(lambda: self.disconnects >= count, timeout)

    # -- serving

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self._changed:
            self.requests.append(
                RecordedRequest(
                    method=request.method,
                    path=request.url.path,
                    query=dict(request.query_params),
                    headers={k.lower(): v for k, v in request.headers.items()},
                    json=body,
                    received_at=time.monotonic(),
                )
            )
            reply = self._replies.popleft() if self._replies else None
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            self._changed.notify_all()
        streaming = False
        try:
            if reply is None:
                return JSONResponse({"error": {"message": "fake server: no reply queued"}}, status_code=500)
            if reply.delay:
                await asyncio.sleep(reply.delay)
            if reply.hold:
                await self._wait_for_disconnect(request)
                return Response(status_code=499)
            if isinstance(reply, SSEReply):
                streaming = True
                return StreamingResponse(
                    self._sse(reply, request),
                    media_type="text/event-stream",
                    headers={"x-request-id": "req_sse"},
                )
            if isinstance(reply, NDJSONReply):
                streaming = True
                return StreamingResponse(self._ndjson(reply), media_type="application/x-ndjson")
            if isinstance(reply, JSONReply):
                headers = {"x-request-id": "req_fake", **reply.headers}
                return JSONResponse(reply.body, status_code=reply.status, headers=headers)
            if isinstance(reply, ErrorReply):
                headers = {"x-request-id": "req_error", **reply.headers}
                body = (
                    reply.body
                    if reply.body is not None
                    else {"error": {"message": f"scripted {reply.status}"}}
                )
                return JSONResponse(body, status_code=reply.status, headers=headers)
            if isinstance(reply, RawReply):
                return Response(reply.content, status_code=reply.status, media_type=reply.content_type)
            raise TypeError(f"unknown reply {reply!r}")
        finally:
            if not streaming:
                self._done()

    def _done(self) -> None:
        with self._changed:
            self.in_flight -= 1
            self._changed.notify_all()

    def _disconnected(self) -> None:
        with self._changed:
            self.disconnects += 1
            self._changed.notify_all()

    async def _wait_for_disconnect(self, request: Request) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not self._stop.is_set():
            if await request.is_disconnected():
                self._disconnected()
                return
            await asyncio.sleep(0.01)

    async def _ndjson(self, reply: NDJSONReply) -> AsyncIterator[bytes]:
        try:
            for line in reply.lines:
                yield (json.dumps(line) + "\n").encode()
        finally:
            self._done()

    async def _sse(self, reply: SSEReply, request: Request) -> AsyncIterator[bytes]:
        try:
            for index, (name, data) in enumerate(reply.events):
                if reply.stall_after is not None and index >= reply.stall_after:
                    await self._wait_for_disconnect(request)
                    return
                if reply.fail_after is not None and index >= reply.fail_after:
                    raise _AbortStream("scripted stream failure")
                if index and reply.interval:
                    await asyncio.sleep(reply.interval)
                payload = data if isinstance(data, str) else json.dumps(data)
                prefix = f"event: {name}\n" if name else ""
                yield f"{prefix}data: {payload}\n\n".encode()
        except asyncio.CancelledError:
            self._disconnected()
            raise
        finally:
            self._done()


# ----------------------------------------------------------------------------- OpenAI payloads


def openai_tool_call(call_id: str, name: str, arguments: Any) -> dict[str, Any]:
    """One ``tool_calls`` entry; ``arguments`` is JSON-encoded unless already text."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}


def openai_completion(
    content: str | None = None,
    *,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str | None = None,
    prompt_tokens: int = 10,
    completion_tokens: int = 5,
    cached_tokens: int = 0,
    model: str = "gpt-4o-2024-08-06",
    reasoning_content: str | None = None,
    delay: float = 0.0,
) -> JSONReply:
    """A chat.completion JSON reply."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    if reasoning_content is not None:
        message["reasoning_content"] = reasoning_content
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if cached_tokens:
        usage["prompt_tokens_details"] = {"cached_tokens": cached_tokens}
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop"),
                "logprobs": None,
            }
        ],
        "usage": usage,
    }
    return JSONReply(body=body, delay=delay)


def _chunk(delta: dict[str, Any], finish_reason: str | None = None, model: str = "gpt-4o") -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def openai_stream(
    chunks: list[str] = (),  # type: ignore[assignment]
    *,
    tool_calls: list[dict[str, Any]] | None = None,
    prompt_tokens: int = 10,
    completion_tokens: int = 5,
    include_usage: bool = True,
    model: str = "gpt-4o",
    **reply: Any,
) -> SSEReply:
    """A streamed chat completion: a role chunk, text deltas, tool-call deltas, usage, [DONE]."""
    events: list[tuple[str | None, Any]] = [(None, _chunk({"role": "assistant", "content": ""}, model=model))]
    events += [(None, _chunk({"content": text}, model=model)) for text in chunks]
    for index, call in enumerate(tool_calls or []):
        args = call["function"]["arguments"]
        half = len(args) // 2
        head = {"index": index, "id": call["id"], "type": "function"}
        head["function"] = {"name": call["function"]["name"], "arguments": args[:half]}
        events.append((None, _chunk({"tool_calls": [head]}, model=model)))
        events.append(
            (None, _chunk({"tool_calls": [{"index": index, "function": {"arguments": args[half:]}}]}))
        )
    events.append((None, _chunk({}, "tool_calls" if tool_calls else "stop", model=model)))
    if include_usage:
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        events.append((None, {**_chunk({}, model=model), "choices": [], "usage": usage}))
    events.append((None, "[DONE]"))
    return SSEReply(events=events, **reply)


# ----------------------------------------------------------------------------- Anthropic payloads


def anthropic_message(
    content: list[dict[str, Any]] | str,
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 10,
    output_tokens: int = 5,
    cache_creation_input_tokens: int = 0,
    cache_read_input_tokens: int = 0,
    model: str = "claude-3-5-sonnet-20241022",
    delay: float = 0.0,
) -> JSONReply:
    """A Messages API reply; ``content`` text becomes one text block."""
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    body = {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": cache_creation_input_tokens,
            "cache_read_input_tokens": cache_read_input_tokens,
        },
    }
    return JSONReply(body=body, delay=delay, headers={"request-id": "req_anthropic"})


def anthropic_stream(
    texts: list[str] = (),  # type: ignore[assignment]
    *,
    tool_use: list[tuple[str, str, Any]] | None = None,
    thinking: str | None = None,
    stop_reason: str = "end_turn",
    input_tokens: int = 10,
    output_tokens: int = 5,
    cache_read_input_tokens: int = 0,
    cache_creation_input_tokens: int = 0,
    model: str = "claude-3-5-sonnet-20241022",
    **reply: Any,
) -> SSEReply:
    """A Messages API event stream; ``tool_use`` items are ``(id, name, input)``."""
    start_usage = {
        "input_tokens": input_tokens,
        "output_tokens": 1,
        "cache_creation_input_tokens": cache_creation_input_tokens,
        "cache_read_input_tokens": cache_read_input_tokens,
    }
    message = {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    events: list[tuple[str | None, Any]] = [("message_start", {"type": "message_start", "message": message})]
    index = 0
    if thinking is not None:
        events.append(
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "thinking", "thinking": ""},
                },
            )
        )
        events.append(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "thinking_delta", "thinking": thinking},
                },
            )
        )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    if texts:
        events.append(
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
            )
        )
        for text in texts:
            delta = {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "text_delta", "text": text},
            }
            events.append(("content_block_delta", delta))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    for call_id, name, arguments in tool_use or []:
        block = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
        events.append(
            ("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})
        )
        text = json.dumps(arguments)
        for part in (text[: len(text) // 2], text[len(text) // 2 :]):
            delta = {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "input_json_delta", "partial_json": part},
            }
            events.append(("content_block_delta", delta))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return SSEReply(events=events, **reply)


# ----------------------------------------------------------------------------- Ollama payloads


def _ollama_message(
    content: str, tool_calls: list[tuple[str, Any]] | None, thinking: str | None
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [{"function": {"name": n, "arguments": a}} for n, a in tool_calls]
    if thinking is not None:
        message["thinking"] = thinking
    return message


def ollama_chat(
    content: str = "",
    *,
    tool_calls: list[tuple[str, Any]] | None = None,
    thinking: str | None = None,
    prompt_eval_count: int = 10,
    eval_count: int = 5,
    done_reason: str = "stop",
    model: str = "llama3.2",
) -> JSONReply:
    """A complete ``/api/chat`` answer; ``tool_calls`` items are ``(name, arguments dict)``."""
    body = {
        "model": model,
        "created_at": "2026-01-01T00:00:00Z",
        "message": _ollama_message(content, tool_calls, thinking),
        "done": True,
        "done_reason": done_reason,
        "total_duration": 1000,
        "prompt_eval_count": prompt_eval_count,
        "eval_count": eval_count,
    }
    return JSONReply(body=body)


def ollama_stream(
    chunks: list[str] = (),  # type: ignore[assignment]
    *,
    tool_calls: list[tuple[str, Any]] | None = None,
    prompt_eval_count: int = 10,
    eval_count: int = 5,
    model: str = "llama3.2",
) -> NDJSONReply:
    """A streamed ``/api/chat`` answer: a line per chunk, tool calls, then the ``done`` line."""
    lines: list[Any] = [
        {"model": model, "created_at": "2026-01-01T00:00:00Z", "message": _ollama_message(text, None, None),
         "done": False}
        for text in chunks
    ]  # fmt: skip
    if tool_calls:
        lines.append(
            {"model": model, "created_at": "2026-01-01T00:00:00Z",
             "message": _ollama_message("", tool_calls, None), "done": False}
        )  # fmt: skip
    lines.append(
        {"model": model, "created_at": "2026-01-01T00:00:00Z", "message": _ollama_message("", None, None),
         "done": True, "done_reason": "stop", "prompt_eval_count": prompt_eval_count, "eval_count": eval_count}
    )  # fmt: skip
    return NDJSONReply(lines=lines)


def iter_sse_data(reply: SSEReply) -> Iterator[Any]:
    """The data payloads of a scripted stream (for assertions)."""
    for _, data in reply.events:
        yield data
