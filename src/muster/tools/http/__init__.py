"""Call an HTTP endpoint as a tool (AutoGen: ``autogen_ext.tools.http``).

Needs the ``http`` extra (``pip install 'muster[http]'``), which brings httpx.
"""

from ._http_tool import HttpTool, HttpToolConfig

__all__ = ["HttpTool", "HttpToolConfig"]
