"""McpToolAdapter: one tool of an MCP server as a muster tool."""

from __future__ import annotations

import asyncio
from abc import ABC
from typing import Any, Generic, Self, TypeVar

import mcp.types as mcp_types
from mcp import ClientSession
from pydantic import BaseModel

from muster.core import CancellationToken

from .._json_schema_tool import JsonSchemaTool
from ._config import SseServerParams, StdioServerParams, StreamableHttpServerParams, describe
from ._content import content_as_string, to_result_parts
from ._session import create_mcp_server_session, mcp_request
from .exceptions import McpToolCallError, McpToolNotFoundError

__all__ = ["McpToolAdapter"]

TServerParams = TypeVar("TServerParams", StdioServerParams, SseServerParams, StreamableHttpServerParams)


class McpToolAdapter(JsonSchemaTool, ABC, Generic[TServerParams]):
    """One MCP tool, presented to the model with the server's own input schema.

    With a ``session`` the calls go over it (the caller keeps it open); without one each
    call opens a session of its own, which for a stdio server means a process per call.
    A result the tool marks as an error raises
    :class:`~muster.tools.mcp.exceptions.McpToolCallError`, which an agent reports to
    the model as a failed call.

    Args:
        server_params: How to reach the server.
        tool: The tool as the server lists it.
        session: An open, initialised session to reuse.
    """

    component_type = "tool"

    def __init__(
        self, server_params: TServerParams, tool: mcp_types.Tool, session: ClientSession | None = None
    ) -> None:
        self._server_params: TServerParams = server_params
        self._tool = tool
        self._session = session
        super().__init__(tool.input_schema, tool.name, tool.description or "", return_type=list)

    @property
    def server_params(self) -> TServerParams:
        """How the server is reached."""
        return self._server_params

    async def run(self, args: BaseModel, cancellation_token: CancellationToken) -> list[Any]:
        """Call the tool; returns the server's content blocks.

        Raises:
            McpToolCallError: the tool reported a failure.
            McpConnectionError, McpTimeoutError, McpServerError: the server could not
                answer (see :mod:`muster.tools.mcp.exceptions`).
        """
        arguments = self.arguments_of(args)
        if self._session is not None:
            return await self._call(self._session, arguments, cancellation_token)
        async with create_mcp_server_session(self._server_params) as session:
            await mcp_request(session.initialize(), self._server_params, "initialize", self.name)
            return await self._call(session, arguments, cancellation_token)

    async def _call(
        self, session: ClientSession, arguments: dict[str, Any], cancellation_token: CancellationToken
    ) -> list[Any]:
        request = asyncio.ensure_future(
            mcp_request(
                session.call_tool(self._tool.name, arguments), self._server_params, "tools/call", self.name
            )
        )
        result = await cancellation_token.link_future(request)
        if not isinstance(result, mcp_types.CallToolResult):
            raise McpToolCallError(describe(self._server_params), self.name, f"unexpected result {result!r}")
        blocks = list(result.content)
        if result.is_error:
            text = "\n".join(p.content for p in to_result_parts(blocks) if isinstance(p.content, str))
            raise McpToolCallError(describe(self._server_params), self.name, text)
        return blocks

    def return_value_as_string(self, value: Any) -> str:
        """The content blocks as a JSON list (AutoGen's rendering)."""
        if isinstance(value, list):
            return content_as_string(value)
        return super().return_value_as_string(value)

    @classmethod
    async def from_server_params(cls, server_params: TServerParams, tool_name: str) -> Self:
        """Connect, find ``tool_name`` among the server's tools and wrap it.

        Raises:
            McpToolNotFoundError: the server has no such tool.
        """
        async with create_mcp_server_session(server_params) as session:
            await mcp_request(session.initialize(), server_params, "initialize")
            listing = await mcp_request(session.list_tools(), server_params, "tools/list")
        for tool in listing.tools:
            if tool.name == tool_name:
                return cls(server_params=server_params, tool=tool)
        raise McpToolNotFoundError(describe(server_params), tool_name, [t.name for t in listing.tools])
