"""Errors of the MCP tools (:mod:`muster.tools.mcp`).

Hierarchy::

    MusterError                          (muster.core.exceptions)
    └── ToolError                        (muster.tools.exceptions)
        └── McpError                     an MCP server could not serve a request
            ├── McpConnectionError       (ConnectionError) could not start or reach it, or it went away
            ├── McpTimeoutError          (TimeoutError) no answer within the read timeout
            ├── McpServerError           it answered a request with a JSON-RPC error
            ├── McpToolCallError         a tool reported a failure (``isError``)
            └── McpToolNotFoundError     (LookupError) the server has no tool by that name

:class:`~muster.tools.mcp.McpWorkbench` turns every failure of a tool *call* into a
``ToolResult(is_error=True)`` that the model reads, so a server that crashes or hangs
does not end the run; the next call after a crash starts the server again. Listing tools,
resources or prompts, and the tool adapters, raise these errors to the caller.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..exceptions import ToolError

__all__ = [
    "McpConnectionError",
    "McpError",
    "McpServerError",
    "McpTimeoutError",
    "McpToolCallError",
    "McpToolNotFoundError",
]


class McpError(ToolError):
    """An MCP server could not serve a request.

    Attributes:
        server: The server, as its command line or URL.
    """

    def __init__(self, message: str, server: str, tool_name: str | None = None) -> None:
        super().__init__(message, tool_name)
        self.server = server


class McpConnectionError(McpError, ConnectionError):
    """The server could not be started or reached, or the connection closed (it crashed)."""

    def __init__(self, server: str, reason: str, tool_name: str | None = None) -> None:
        self.reason = reason
        """What went wrong, as reported by the transport."""
        super().__init__(f"MCP server {server!r} is not available: {reason}", server, tool_name)


class McpTimeoutError(McpError, TimeoutError):
    """The server did not answer within the read timeout."""

    def __init__(
        self, server: str, request: str, timeout: float | None, tool_name: str | None = None
    ) -> None:
        self.request = request
        """The MCP method that went unanswered (``tools/call``...)."""
        self.timeout = timeout
        """The limit, in seconds, when known."""
        limit = f" within {timeout} s" if timeout is not None else ""
        super().__init__(f"MCP server {server!r} did not answer {request}{limit}", server, tool_name)


class McpServerError(McpError):
    """The server answered with a JSON-RPC error."""

    def __init__(self, server: str, code: int, detail: str, tool_name: str | None = None) -> None:
        self.code = code
        """The JSON-RPC error code."""
        self.detail = detail
        """The server's message."""
        super().__init__(f"MCP server {server!r} returned error {code}: {detail}", server, tool_name)


class McpToolCallError(McpError):
    """A tool ran and reported a failure (its result had ``isError`` set)."""

    def __init__(self, server: str, tool_name: str, text: str) -> None:
        self.text = text
        """The tool's own account of the failure."""
        super().__init__(f"MCP tool {tool_name!r} failed: {text}", server, tool_name)


class McpToolNotFoundError(McpError, LookupError):
    """The server has no tool by the requested name."""

    def __init__(self, server: str, tool_name: str, available: Sequence[str]) -> None:
        self.available = list(available)
        """The tools the server does have."""
        listing = ", ".join(self.available) or "none"
        super().__init__(
            f"MCP server {server!r} has no tool {tool_name!r}; it has: {listing}", server, tool_name
        )

    def __str__(self) -> str:
        return str(self.args[0])
