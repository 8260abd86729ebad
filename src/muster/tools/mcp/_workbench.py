"""McpWorkbench: all the tools, resources and prompts of one MCP server over one session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import mcp.types as mcp_types
from pydantic import BaseModel, ConfigDict, Field

from muster.core import CancellationToken, Component, trace_tool_span
from muster.core.internal import ParametersSchema, ToolSchema
from muster.models import ChatCompletionClient

from .._result import TextResultContent, ToolResult
from .._workbench import ToolOverride, Workbench
from ..exceptions import ToolOverrideConflictError
from ._actor import McpActorArgs, McpSessionActor
from ._config import McpServerParams
from ._content import to_result_parts
from .exceptions import McpConnectionError, McpError

__all__ = ["McpWorkbench", "McpWorkbenchConfig", "McpWorkbenchState"]


class McpWorkbenchConfig(BaseModel):
    """Spec of an :class:`McpWorkbench`."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    server_params: McpServerParams
    tool_overrides: dict[str, ToolOverride] = Field(default_factory=dict)


class McpWorkbenchState(BaseModel):
    """Saved state of an :class:`McpWorkbench` (the server keeps its own)."""

    model_config = ConfigDict(defer_build=True)

    type: str = "McpWorkBenchState"


class McpWorkbench(Workbench, Component[McpWorkbenchConfig]):
    """The tools of an MCP server, with its resources and prompts, behind one session.

    The session is opened by :meth:`start` (or the first call) and kept until
    :meth:`stop`; use the workbench as an async context manager, or pass it to an
    ``AssistantAgent(workbench=...)``. A tool call that fails for any reason (the tool's
    own error, the server hanging past its read timeout, the server crashing) comes back
    as ``ToolResult(is_error=True)`` saying what happened, so the agent's run goes on; after
    a crash the next request starts the server again. Listing tools, resources or prompts
    raises the typed errors of :mod:`muster.tools.mcp.exceptions` instead.

    Args:
        server_params: How to reach the server.
        tool_overrides: New names and/or descriptions, keyed by the server's tool names.
        model_client: Answers the server's sampling requests.

    Raises:
        ToolOverrideConflictError: two tools would be exposed under one name.
    """

    component_provider_override = "muster.tools.mcp.McpWorkbench"
    component_config_schema = McpWorkbenchConfig

    def __init__(
        self,
        server_params: McpServerParams,
        tool_overrides: dict[str, ToolOverride] | None = None,
        model_client: ChatCompletionClient | None = None,
    ) -> None:
        self._server_params = server_params
        self._tool_overrides = dict(tool_overrides or {})
        self._model_client = model_client
        self._override_to_original: dict[str, str] = {}
        for original, override in self._tool_overrides.items():
            if override.name and override.name != original:
                if override.name in self._override_to_original:
                    raise ToolOverrideConflictError(
                        override.name, [self._override_to_original[override.name], original]
                    )
                self._override_to_original[override.name] = original
        self._actor: McpSessionActor | None = None

    @property
    def server_params(self) -> McpServerParams:
        """How the server is reached."""
        return self._server_params

    @property
    def initialize_result(self) -> mcp_types.InitializeResult | None:
        """The server's answer to ``initialize``, once started."""
        return self._actor.initialize_result if self._actor is not None else None

    async def start(self) -> None:
        """Open the session (starting a stdio server's process).

        Raises:
            McpConnectionError: the server could not be started or reached.
            McpTimeoutError: it did not answer ``initialize`` in time.
        """
        if self._actor is not None and self._actor.alive:
            return
        await self._drop_actor()
        actor = McpSessionActor(self._server_params, model_client=self._model_client)
        try:
            await actor.initialize()
        except BaseException:
            await actor.close()
            raise
        self._actor = actor

    async def stop(self) -> None:
        """Close the session (and stop a stdio server's process)."""
        await self._drop_actor()

    async def reset(self) -> None:
        """Nothing to reset on the client side: the server keeps its own state."""

    async def save_state(self) -> Mapping[str, Any]:
        """The (empty) client-side state."""
        return McpWorkbenchState().model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Nothing to restore on the client side."""

    async def _drop_actor(self) -> None:
        actor, self._actor = self._actor, None
        if actor is not None:
            await actor.close()

    async def _request(self, type: str, args: McpActorArgs | None = None) -> Any:
        # Started on first use: a workbench loaded from a spec has not been started.
        if self._actor is None or not self._actor.alive:
            await self.start()
        assert self._actor is not None
        try:
            return await (await self._actor.call(type, args))
        except McpConnectionError:
            await self._drop_actor()  # the next request starts the server again
            raise

    async def list_tools(self) -> list[ToolSchema]:
        """The server's tools, with overrides applied, in the server's own schemas."""
        listing: mcp_types.ListToolsResult = await self._request("list_tools")
        schemas: list[ToolSchema] = []
        for tool in listing.tools:
            override = self._tool_overrides.get(tool.name)
            name = override.name if override is not None and override.name else tool.name
            description = tool.description or ""
            if override is not None and override.description is not None:
                description = override.description
            parameters = ParametersSchema(
                type="object",
                properties=tool.input_schema.get("properties", {}),
                required=list(tool.input_schema.get("required", [])),
                additionalProperties=bool(tool.input_schema.get("additionalProperties", False)),
            )
            schemas.append(ToolSchema(name=name, description=description, parameters=parameters))
        return schemas

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> ToolResult:
        """Call a tool by its (possibly overridden) name; failures come back as error results."""
        token = cancellation_token or CancellationToken()
        original = self._override_to_original.get(name, name)
        with trace_tool_span(tool_name=name, tool_call_id=call_id):
            try:
                if self._actor is None or not self._actor.alive:
                    await self.start()
                assert self._actor is not None
                future = await self._actor.call(
                    "call_tool", {"name": original, "kargs": dict(arguments or {})}
                )
                result = await token.link_future(future)
            except McpError as exc:
                if isinstance(exc, McpConnectionError):
                    await self._drop_actor()
                return ToolResult(name=name, result=[TextResultContent(content=str(exc))], is_error=True)
            except Exception as exc:  # reported to the model, which can recover
                return ToolResult(
                    name=name,
                    result=[TextResultContent(content=f"{type(exc).__name__}: {exc}")],
                    is_error=True,
                )
        if not isinstance(result, mcp_types.CallToolResult):
            text = f"unexpected result from the server: {type(result).__name__}"
            return ToolResult(name=name, result=[TextResultContent(content=text)], is_error=True)
        return ToolResult(name=name, result=to_result_parts(result.content), is_error=bool(result.is_error))

    async def list_prompts(self) -> mcp_types.ListPromptsResult:
        """The server's prompts."""
        result: mcp_types.ListPromptsResult = await self._request("list_prompts")
        return result

    async def get_prompt(
        self, name: str, arguments: dict[str, str] | None = None
    ) -> mcp_types.GetPromptResult:
        """One prompt, filled in with ``arguments``."""
        result: mcp_types.GetPromptResult = await self._request(
            "get_prompt", {"name": name, "kargs": {"arguments": arguments}}
        )
        return result

    async def list_resources(self) -> mcp_types.ListResourcesResult:
        """The server's resources."""
        result: mcp_types.ListResourcesResult = await self._request("list_resources")
        return result

    async def list_resource_templates(self) -> mcp_types.ListResourceTemplatesResult:
        """The server's resource templates."""
        result: mcp_types.ListResourceTemplatesResult = await self._request("list_resource_templates")
        return result

    async def read_resource(self, uri: str) -> mcp_types.ReadResourceResult:
        """The contents of one resource."""
        result: mcp_types.ReadResourceResult = await self._request("read_resource", {"kargs": {"uri": uri}})
        return result

    def _to_config(self) -> McpWorkbenchConfig:
        return McpWorkbenchConfig(server_params=self._server_params, tool_overrides=self._tool_overrides)

    @classmethod
    def _from_config(cls, config: McpWorkbenchConfig) -> Self:
        return cls(server_params=config.server_params, tool_overrides=config.tool_overrides)
