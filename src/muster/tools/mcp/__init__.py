"""Tools from MCP servers (AutoGen: ``autogen_ext.tools.mcp``), on the official ``mcp`` SDK 2.x.

Needs the ``mcp`` extra (``pip install 'muster[mcp]'``). :class:`McpWorkbench` gives an
agent every tool of a server over one session, with its resources and prompts;
:func:`mcp_server_tools` wraps each tool as a standalone adapter. Only connect to servers
you trust: a stdio server is a process started with your permissions.
"""

from ._actor import McpSessionActor
from ._adapters import SseMcpToolAdapter, StdioMcpToolAdapter, StreamableHttpMcpToolAdapter
from ._base import McpToolAdapter
from ._config import McpServerParams, SseServerParams, StdioServerParams, StreamableHttpServerParams
from ._factory import mcp_server_tools
from ._session import create_mcp_server_session
from ._workbench import McpWorkbench

__all__ = [
    "McpServerParams",
    "McpSessionActor",
    "McpToolAdapter",
    "McpWorkbench",
    "SseMcpToolAdapter",
    "SseServerParams",
    "StdioMcpToolAdapter",
    "StdioServerParams",
    "StreamableHttpMcpToolAdapter",
    "StreamableHttpServerParams",
    "create_mcp_server_session",
    "mcp_server_tools",
]
