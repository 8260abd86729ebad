"""Opening an MCP client session over the transport the server params name, and its errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable
from typing import Any, TypeVar

import mcp.types as mcp_types
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.session import SamplingFnT
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from ._config import SseServerParams, StdioServerParams, StreamableHttpServerParams, describe
from .exceptions import McpConnectionError, McpError, McpServerError, McpTimeoutError

__all__ = [
    "STARTUP_TIMEOUT",
    "create_mcp_server_session",
    "mcp_request",
    "open_session",
    "read_timeout",
    "translate_error",
]

STARTUP_TIMEOUT = 30.0
"""Seconds a server gets to start and answer ``initialize`` when its read timeout is shorter.

Starting a process (``npx`` fetching a package, an interpreter importing its SDK) is not
a slow answer; the read timeout then applies to every request after the handshake.
"""

ServerParams = StdioServerParams | SseServerParams | StreamableHttpServerParams
_T = TypeVar("_T")


def read_timeout(server_params: ServerParams) -> float:
    """Seconds the session waits for each answer."""
    if isinstance(server_params, StdioServerParams):
        return server_params.read_timeout_seconds
    return server_params.sse_read_timeout


@contextlib.asynccontextmanager
async def create_mcp_server_session(
    server_params: ServerParams, sampling_callback: SamplingFnT | None = None
) -> AsyncGenerator[ClientSession, None]:
    """Open a client session with the server; the caller still calls ``initialize()``.

    The session must be closed by the task that opened it (the SDK's transports use
    task-bound cancel scopes); :class:`~muster.tools.mcp.McpSessionActor` does that for
    long-lived sessions.

    Raises:
        McpConnectionError: the process could not be started, or the URL not reached.
    """
    async with open_session(server_params, sampling_callback, read_timeout(server_params)) as session:
        yield session


@contextlib.asynccontextmanager
async def open_session(
    server_params: ServerParams, sampling_callback: SamplingFnT | None, session_read_timeout: float | None
) -> AsyncGenerator[ClientSession, None]:
    """:func:`create_mcp_server_session` with the session's own default read timeout chosen.

    ``None`` leaves requests without a default, for callers that time each request
    themselves (the actor gives ``initialize`` longer than later requests).
    """
    try:
        async with contextlib.AsyncExitStack() as stack:
            try:
                session = await _open(stack, server_params, sampling_callback, session_read_timeout)
            except OSError as exc:
                raise McpConnectionError(describe(server_params), f"{type(exc).__name__}: {exc}") from exc
            yield session
    except BaseExceptionGroup as group:
        # The transports' task groups wrap whatever the caller raised inside the session;
        # hand a lone error back as itself so ``except McpToolCallError`` still works.
        leaf = _lone_exception(group)
        if leaf is None:
            raise
        raise leaf from None


def _lone_exception(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    while len(group.exceptions) == 1:
        inner = group.exceptions[0]
        if not isinstance(inner, BaseExceptionGroup):
            return inner
        group = inner
    return None


async def _open(
    stack: contextlib.AsyncExitStack,
    server_params: ServerParams,
    sampling_callback: SamplingFnT | None,
    session_read_timeout: float | None,
) -> ClientSession:
    if isinstance(server_params, StdioServerParams):
        sdk_params = StdioServerParameters(
            command=server_params.command,
            args=server_params.args,
            env=server_params.env,
            cwd=server_params.cwd,
            encoding=server_params.encoding,
            encoding_error_handler=server_params.encoding_error_handler,
        )
        read, write = await stack.enter_async_context(stdio_client(sdk_params))
    elif isinstance(server_params, SseServerParams):
        read, write = await stack.enter_async_context(
            sse_client(
                server_params.url,
                headers=server_params.headers,
                timeout=server_params.timeout,
                sse_read_timeout=server_params.sse_read_timeout,
            )
        )
    else:
        http_client = await stack.enter_async_context(_http_client(server_params))
        read, write = await stack.enter_async_context(
            streamable_http_client(
                server_params.url,
                http_client=http_client,
                terminate_on_close=server_params.terminate_on_close,
            )
        )
    return await stack.enter_async_context(
        ClientSession(
            read, write, read_timeout_seconds=session_read_timeout, sampling_callback=sampling_callback
        )
    )


def _http_client(params: StreamableHttpServerParams) -> Any:
    # httpx2 is the HTTP client the mcp SDK itself depends on (not httpx).
    import httpx2

    return httpx2.AsyncClient(
        headers={k: str(v) for k, v in (params.headers or {}).items()},
        timeout=httpx2.Timeout(params.timeout, read=params.sse_read_timeout),
    )


def translate_error(
    exc: BaseException, server_params: ServerParams, request: str, tool_name: str | None = None
) -> McpError:
    """The typed error for whatever the SDK or the transport raised."""
    server = describe(server_params)
    if isinstance(exc, McpError):
        return exc
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return translate_error(exc.exceptions[0], server_params, request, tool_name)
    if isinstance(exc, MCPError):
        if exc.code == mcp_types.REQUEST_TIMEOUT:
            return McpTimeoutError(server, request, read_timeout(server_params), tool_name)
        if exc.code == mcp_types.CONNECTION_CLOSED:
            return McpConnectionError(server, exc.message or "connection closed", tool_name)
        return McpServerError(server, exc.code, exc.message, tool_name)
    if isinstance(exc, TimeoutError):
        return McpTimeoutError(server, request, read_timeout(server_params), tool_name)
    if isinstance(exc, OSError | EOFError):
        return McpConnectionError(server, f"{type(exc).__name__}: {exc}", tool_name)
    return McpConnectionError(server, f"{type(exc).__name__}: {exc}", tool_name)


async def mcp_request(
    call: Awaitable[_T],
    server_params: ServerParams,
    request: str,
    tool_name: str | None = None,
    wait: float | None = None,
) -> _T:
    """Await one SDK request, raising the typed error instead of the SDK's.

    Args:
        wait: Seconds to wait; ``None`` relies on the session's own read timeout.
    """
    try:
        async with asyncio.timeout(wait):
            return await call
    except TimeoutError as exc:
        raise McpTimeoutError(describe(server_params), request, wait, tool_name) from exc
    except Exception as exc:
        raise translate_error(exc, server_params, request, tool_name) from exc
