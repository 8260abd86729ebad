"""How to reach an MCP server: a local process over stdio, or a URL (SSE, streamable HTTP)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["McpServerParams", "SseServerParams", "StdioServerParams", "StreamableHttpServerParams"]


class StdioServerParams(BaseModel):
    """Start the server as a child process and talk to it over stdin/stdout.

    Only start servers you trust: the command runs with your permissions.
    """

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    type: Literal["StdioServerParams"] = "StdioServerParams"
    command: str
    """The executable."""
    args: list[str] = Field(default_factory=list)
    """Its command-line arguments."""
    env: dict[str, str] | None = None
    """Extra environment variables, over the SDK's safe default environment."""
    cwd: str | Path | None = None
    """Working directory of the process."""
    encoding: str = "utf-8"
    """Text encoding of the messages."""
    encoding_error_handler: Literal["strict", "ignore", "replace"] = "strict"
    """What to do with undecodable bytes."""
    read_timeout_seconds: float = 5
    """How long to wait for each answer before the request fails with a timeout."""


class SseServerParams(BaseModel):
    """Reach a server over the (older) HTTP+SSE transport."""

    model_config = ConfigDict(defer_build=True)

    type: Literal["SseServerParams"] = "SseServerParams"
    url: str
    """The SSE endpoint."""
    headers: dict[str, Any] | None = None
    """Headers sent with every request (authentication...)."""
    timeout: float = 5
    """Seconds for connecting and ordinary HTTP operations."""
    sse_read_timeout: float = 60 * 5
    """Seconds to wait for each answer."""


class StreamableHttpServerParams(BaseModel):
    """Reach a server over the streamable HTTP transport."""

    model_config = ConfigDict(defer_build=True)

    type: Literal["StreamableHttpServerParams"] = "StreamableHttpServerParams"
    url: str
    """The MCP endpoint (``http://host:port/mcp``)."""
    headers: dict[str, Any] | None = None
    """Headers sent with every request (authentication...)."""
    timeout: float = 30.0
    """Seconds for connecting and ordinary HTTP operations."""
    sse_read_timeout: float = 300.0
    """Seconds to wait for each answer."""
    terminate_on_close: bool = True
    """End the server-side session when the client closes."""


McpServerParams = Annotated[
    StdioServerParams | SseServerParams | StreamableHttpServerParams, Field(discriminator="type")
]
"""Any of the three, told apart by ``type`` in specs."""


def describe(params: StdioServerParams | SseServerParams | StreamableHttpServerParams) -> str:
    """A short name of the server for error messages."""
    if isinstance(params, StdioServerParams):
        return " ".join([params.command, *params.args])
    return params.url
