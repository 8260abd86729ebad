"""The MCP server the MCP tests start: the SDK's MCPServer (FastMCP in mcp 1.x).

Run as a script it serves over stdio (``python mcp_test_server.py``); the tests serve
``build()``'s streamable HTTP app from a loopback uvicorn server in-process.
"""

from __future__ import annotations

import os

import anyio
from mcp.server.mcpserver import MCPServer

PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
)


def build() -> MCPServer:
    server = MCPServer("muster-test")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.tool()
    def greet(name: str, punctuation: str = "!") -> str:
        """Greet someone by name."""
        return f"Hello, {name}{punctuation}"

    @server.tool()
    def fail(reason: str) -> str:
        """Always fails."""
        raise ValueError(reason)

    @server.tool()
    async def hang() -> str:
        """Never answers."""
        await anyio.sleep_forever()
        return "unreachable"

    @server.tool()
    def crash() -> str:
        """Ends the server process at once."""
        os._exit(3)

    @server.resource("notes://today", mime_type="text/plain")
    def today() -> str:
        """Today's note."""
        return "buy milk"

    @server.prompt()
    def review(topic: str) -> str:
        """Ask for a review of a topic."""
        return f"Please review {topic}."

    return server


if __name__ == "__main__":
    build().run("stdio")
