"""Helpers shared by the service tests: serve an app on loopback, read SSE, build specs, poll.

Test folders are not packages (``--import-mode=importlib``); the conftests of
``tests/service/*`` put this folder on ``sys.path``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import uvicorn
from deploy.drill.processes import free_port as drill_free_port

# One SSE reader for the tests and the drill: the drill's (``deploy.drill``, run from the root).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from deploy.drill.clients import SseEvent, read_sse  # noqa: E402

__all__ = [
    "SseEvent",
    "free_port",
    "new_run",
    "read_sse",
    "replay_agent",
    "serve_app",
    "wait_until",
]


def free_port() -> int:
    """A TCP port free on loopback right now, outside the ephemeral range (see the drill's)."""
    return drill_free_port()


@contextlib.asynccontextmanager
async def serve_app(app: Any) -> AsyncIterator[str]:
    """Run ``app`` on a real uvicorn server on loopback (lifespan included); yields its URL."""
    # A bounded graceful shutdown: a connection a test left open must not hold the teardown.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, lifespan="on", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # the startup failed: raise its error
            raise RuntimeError("the server stopped before it started")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def wait_until(
    check: Callable[[], Awaitable[Any]],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "condition",
) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)


def replay_agent(name: str, replies: list[Any], **kwargs: Any) -> dict[str, Any]:
    """An AssistantAgent spec answering with ``replies`` in order (a replay model)."""
    from muster.agents import AssistantAgent
    from muster.models.replay import ReplayChatCompletionClient

    client = ReplayChatCompletionClient(chat_completions=replies)
    return AssistantAgent(name, model_client=client, **kwargs).dump_component().model_dump()


async def new_run(store: Any, name: str, spec: dict[str, Any], task: str = "go") -> Any:
    """A pending run of ``spec`` (stored as ``name``) on a new thread, its task a user's text."""
    from muster.service.models import Strategy

    record = await store.put_spec(name, spec)
    thread = await store.create_thread()
    task_messages = [{"type": "TextMessage", "source": "user", "content": task}]
    return await store.create_run(thread.id, record, task_messages, Strategy.REJECT)
