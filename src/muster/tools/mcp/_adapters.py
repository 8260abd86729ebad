"""The adapter for each transport; they differ only in their server params and spec."""

from __future__ import annotations

from typing import Any, Self

import mcp.types as mcp_types
from pydantic import BaseModel, ConfigDict

from muster.core import Component

from ._base import McpToolAdapter
from ._config import SseServerParams, StdioServerParams, StreamableHttpServerParams

__all__ = [
    "SseMcpToolAdapter",
    "SseMcpToolAdapterConfig",
    "StdioMcpToolAdapter",
    "StdioMcpToolAdapterConfig",
    "StreamableHttpMcpToolAdapter",
    "StreamableHttpMcpToolAdapterConfig",
]


class _AdapterConfig(BaseModel):
    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    tool: dict[str, Any]
    """The tool as the server listed it (name, description, input schema)."""


class StdioMcpToolAdapterConfig(_AdapterConfig):
    """Spec of a :class:`StdioMcpToolAdapter`."""

    server_params: StdioServerParams


class SseMcpToolAdapterConfig(_AdapterConfig):
    """Spec of an :class:`SseMcpToolAdapter`."""

    server_params: SseServerParams


class StreamableHttpMcpToolAdapterConfig(_AdapterConfig):
    """Spec of a :class:`StreamableHttpMcpToolAdapter`."""

    server_params: StreamableHttpServerParams


def _tool_dump(tool: mcp_types.Tool) -> dict[str, Any]:
    return tool.model_dump(mode="json", by_alias=True, exclude_none=True)


class StdioMcpToolAdapter(McpToolAdapter[StdioServerParams], Component[StdioMcpToolAdapterConfig]):
    """An MCP tool of a server started as a child process (see :class:`McpToolAdapter`)."""

    component_config_schema = StdioMcpToolAdapterConfig
    component_provider_override = "muster.tools.mcp.StdioMcpToolAdapter"

    def _to_config(self) -> StdioMcpToolAdapterConfig:
        return StdioMcpToolAdapterConfig(server_params=self._server_params, tool=_tool_dump(self._tool))

    @classmethod
    def _from_config(cls, config: StdioMcpToolAdapterConfig) -> Self:
        return cls(server_params=config.server_params, tool=mcp_types.Tool.model_validate(config.tool))


class SseMcpToolAdapter(McpToolAdapter[SseServerParams], Component[SseMcpToolAdapterConfig]):
    """An MCP tool of a server reached over HTTP+SSE (see :class:`McpToolAdapter`)."""

    component_config_schema = SseMcpToolAdapterConfig
    component_provider_override = "muster.tools.mcp.SseMcpToolAdapter"

    def _to_config(self) -> SseMcpToolAdapterConfig:
        return SseMcpToolAdapterConfig(server_params=self._server_params, tool=_tool_dump(self._tool))

    @classmethod
    def _from_config(cls, config: SseMcpToolAdapterConfig) -> Self:
        return cls(server_params=config.server_params, tool=mcp_types.Tool.model_validate(config.tool))


class StreamableHttpMcpToolAdapter(
    McpToolAdapter[StreamableHttpServerParams], Component[StreamableHttpMcpToolAdapterConfig]
):
    """An MCP tool of a server reached over streamable HTTP (see :class:`McpToolAdapter`)."""

    component_config_schema = StreamableHttpMcpToolAdapterConfig
    component_provider_override = "muster.tools.mcp.StreamableHttpMcpToolAdapter"

    def _to_config(self) -> StreamableHttpMcpToolAdapterConfig:
        return StreamableHttpMcpToolAdapterConfig(
            server_params=self._server_params, tool=_tool_dump(self._tool)
        )

    @classmethod
    def _from_config(cls, config: StreamableHttpMcpToolAdapterConfig) -> Self:
        return cls(server_params=config.server_params, tool=mcp_types.Tool.model_validate(config.tool))
