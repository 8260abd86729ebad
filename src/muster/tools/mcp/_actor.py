"""McpSessionActor: one long-lived MCP session, owned by a task of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Self, TypedDict

import mcp.types as mcp_types
from mcp import ClientSession
from mcp.client.session import ClientRequestContext
from pydantic import BaseModel, ConfigDict

from muster.core import Component, ComponentBase
from muster.models import AssistantMessage, ChatCompletionClient, LLMMessage, SystemMessage, UserMessage

from ._config import McpServerParams, describe
from ._session import STARTUP_TIMEOUT, ServerParams, mcp_request, open_session, read_timeout, translate_error
from .exceptions import McpConnectionError

__all__ = ["McpActorArgs", "McpSessionActor", "McpSessionActorConfig"]

McpFuture = asyncio.Future[Any]
"""What :meth:`McpSessionActor.call` returns: await it for the SDK's result."""

_NO_ARGS = frozenset({"list_tools", "list_prompts", "list_resources", "list_resource_templates"})
_METHODS = {
    "list_tools": "tools/list",
    "list_prompts": "prompts/list",
    "list_resources": "resources/list",
    "list_resource_templates": "resources/templates/list",
    "call_tool": "tools/call",
    "read_resource": "resources/read",
    "get_prompt": "prompts/get",
}


class McpActorArgs(TypedDict, total=False):
    """Arguments of :meth:`McpSessionActor.call`: a tool or prompt ``name`` and keyword ``kargs``."""

    name: str
    kargs: Mapping[str, Any]


class McpSessionActorConfig(BaseModel):
    """Spec of an :class:`McpSessionActor`."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    server_params: McpServerParams


class McpSessionActor(ComponentBase[BaseModel], Component[McpSessionActorConfig]):
    """Keeps one MCP session open in its own task and runs requests on it.

    The SDK's transports hold task-bound cancel scopes, so the task that opens a session
    must be the one that closes it; the actor's task does both, while requests are sent
    from the callers' tasks and may run concurrently. Each request waits at most the
    server params' read timeout; ``initialize`` waits at least 30 s, so a server's
    start-up is not mistaken for a hang. When the server exits or the
    connection drops, pending and later requests fail with
    :class:`~muster.tools.mcp.exceptions.McpConnectionError` and :attr:`alive` turns
    false; start a new actor to reconnect (the workbench does).

    Args:
        server_params: How to reach the server.
        model_client: Answers the server's sampling requests (``sampling/createMessage``);
            without one they are refused.
    """

    component_type = "mcp_session_actor"
    component_config_schema = McpSessionActorConfig
    component_provider_override = "muster.tools.mcp.McpSessionActor"

    def __init__(
        self, server_params: McpServerParams, model_client: ChatCompletionClient | None = None
    ) -> None:
        self.server_params: ServerParams = server_params
        self._model_client = model_client
        self.name = "mcp_session_actor"
        self.description = "MCP session actor"
        self._session: ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._shutdown = asyncio.Event()
        self._failure: BaseException | None = None
        self._initialize_result: mcp_types.InitializeResult | None = None

    @property
    def initialize_result(self) -> mcp_types.InitializeResult | None:
        """The server's answer to ``initialize`` (name, version, capabilities)."""
        return self._initialize_result

    @property
    def alive(self) -> bool:
        """Whether the session is open and the connection has not failed."""
        return self._session is not None and self._failure is None and not self._shutdown.is_set()

    async def initialize(self) -> None:
        """Start the server session and wait until it is initialised.

        Raises:
            McpConnectionError: the server could not be started or reached.
            McpTimeoutError: it did not answer ``initialize`` in time.
        """
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"mcp-session {describe(self.server_params)}")
        await self._ready.wait()
        if self._failure is not None:
            raise translate_error(self._failure, self.server_params, "initialize")

    async def _run(self) -> None:
        callback = self._sampling_callback if self._model_client is not None else None
        try:
            async with open_session(self.server_params, callback, None) as session:
                startup = max(read_timeout(self.server_params), STARTUP_TIMEOUT)
                self._initialize_result = await mcp_request(
                    session.initialize(), self.server_params, "initialize", wait=startup
                )
                self._session = session
                self._ready.set()
                await self._shutdown.wait()
        except BaseException as exc:  # the task's outcome is reported to callers, never lost
            self._failure = exc
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self._session = None
            self._ready.set()

    async def call(self, type: str, args: McpActorArgs | None = None) -> McpFuture:
        """Send one request; await the returned future for its result.

        ``type`` is one of ``list_tools``, ``list_prompts``, ``list_resources``,
        ``list_resource_templates``, ``call_tool`` (``name``, ``kargs`` = arguments),
        ``read_resource`` (``kargs={"uri": ...}``), ``get_prompt`` (``name``,
        ``kargs={"arguments": ...}``) or ``shutdown``.

        Raises:
            ValueError: unknown ``type`` or missing arguments.
            McpConnectionError: the session is not running (never started, closed or failed).
        """
        if type == "shutdown":
            await self.close()
            done: McpFuture = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        if type not in _METHODS:
            raise ValueError(
                f"Unknown MCP actor command {type!r}; expected one of {sorted(_METHODS)} or 'shutdown'"
            )
        session = self._session
        if session is None or not self.alive:
            reason = f"the session {'failed: ' + repr(self._failure) if self._failure else 'is not running'}"
            raise McpConnectionError(describe(self.server_params), reason)
        args = args or {}
        name = args.get("name")
        kargs = dict(args.get("kargs") or {})
        make_request = self._request_factory(session, type, name, kargs)
        timeout = read_timeout(self.server_params)

        async def run() -> Any:
            # The SDK coroutine is created here, so a call cancelled before it starts
            # leaves no never-awaited coroutine behind.
            return await mcp_request(make_request(), self.server_params, _METHODS[type], name, timeout)

        return asyncio.ensure_future(run())

    @staticmethod
    def _request_factory(
        session: ClientSession, type: str, name: str | None, kargs: dict[str, Any]
    ) -> Callable[[], Awaitable[Any]]:
        if type in _NO_ARGS:
            method: Callable[[], Awaitable[Any]] = getattr(session, type)
            return method
        if type == "read_resource":
            if "uri" not in kargs:
                raise ValueError("read_resource needs kargs={'uri': ...}")
            uri = str(kargs["uri"])
            return lambda: session.read_resource(uri)
        if name is None:
            raise ValueError(f"{type} needs a name")
        if type == "get_prompt":
            arguments = kargs.get("arguments")
            return lambda: session.get_prompt(name, arguments)
        return lambda: session.call_tool(name, kargs)

    async def close(self) -> None:
        """End the session (and stop a stdio server's process)."""
        self._shutdown.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _sampling_callback(
        self, context: ClientRequestContext, params: mcp_types.CreateMessageRequestParams
    ) -> mcp_types.CreateMessageResult | mcp_types.ErrorData:
        # Only set as the session's callback when a model client was given.
        assert self._model_client is not None
        messages: list[LLMMessage] = []
        if params.system_prompt:
            messages.append(SystemMessage(content=params.system_prompt))
        for message in params.messages:
            blocks = message.content if isinstance(message.content, list) else [message.content]
            text = "\n".join(b.text for b in blocks if isinstance(b, mcp_types.TextContent))
            if message.role == "user":
                messages.append(UserMessage(content=text, source="mcp_server"))
            else:
                messages.append(AssistantMessage(content=text, source="mcp_server"))
        try:
            result = await self._model_client.create(messages)
        except Exception as exc:  # the server gets the failure as its answer
            return mcp_types.ErrorData(code=mcp_types.INTERNAL_ERROR, message=f"sampling failed: {exc}")
        content = result.content if isinstance(result.content, str) else str(result.content)
        return mcp_types.CreateMessageResult(
            role="assistant",
            content=mcp_types.TextContent(type="text", text=content),
            model=self._model_client.model_info.get("family", "unknown"),
            stop_reason="endTurn",
        )

    def _to_config(self) -> McpSessionActorConfig:
        return McpSessionActorConfig(server_params=self.server_params)

    @classmethod
    def _from_config(cls, config: McpSessionActorConfig) -> Self:
        return cls(server_params=config.server_params)
