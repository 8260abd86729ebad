"""mcp_server_tools: every tool of an MCP server as a ready-made adapter."""

from __future__ import annotations

from mcp import ClientSession

from ._adapters import SseMcpToolAdapter, StdioMcpToolAdapter, StreamableHttpMcpToolAdapter
from ._config import McpServerParams, SseServerParams, StdioServerParams
from ._session import create_mcp_server_session, mcp_request

__all__ = ["mcp_server_tools"]


async def mcp_server_tools(
    server_params: McpServerParams, session: ClientSession | None = None
) -> list[StdioMcpToolAdapter | SseMcpToolAdapter | StreamableHttpMcpToolAdapter]:
    """List the server's tools and wrap each in the adapter for its transport.

    Pass ``session`` (open and initialised) to have the adapters call over it; without
    one, the tools are listed over a short-lived session and each later call opens its
    own. :class:`~muster.tools.mcp.McpWorkbench` keeps one session for all calls instead.

    Raises:
        McpConnectionError, McpTimeoutError, McpServerError: the server could not be listed.
    """
    if session is None:
        async with create_mcp_server_session(server_params) as temporary:
            await mcp_request(temporary.initialize(), server_params, "initialize")
            listing = await mcp_request(temporary.list_tools(), server_params, "tools/list")
    else:
        listing = await mcp_request(session.list_tools(), server_params, "tools/list")
    if isinstance(server_params, StdioServerParams):
        return [StdioMcpToolAdapter(server_params, tool, session) for tool in listing.tools]
    if isinstance(server_params, SseServerParams):
        return [SseMcpToolAdapter(server_params, tool, session) for tool in listing.tools]
    return [StreamableHttpMcpToolAdapter(server_params, tool, session) for tool in listing.tools]
