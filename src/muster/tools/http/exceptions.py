"""Errors raised by :class:`~muster.tools.http.HttpTool` calls.

Hierarchy::

    MusterError                          (muster.core.exceptions)
    └── ToolError                        (muster.tools.exceptions)
        └── HttpToolError                an HTTP tool call failed
            ├── HttpToolConnectionError  (ConnectionError) the endpoint could not be reached
            ├── HttpToolTimeoutError     (TimeoutError) no answer within the tool's timeout
            ├── HttpToolStatusError      an error status, with ``raise_for_status=True`` only
            └── HttpToolResponseError    (ValueError) ``return_type="json"`` but the body is not JSON

An agent reports each of them to the model as a failed tool call, and the run goes on.
"""

from __future__ import annotations

from ..exceptions import ToolError

__all__ = [
    "HttpToolConnectionError",
    "HttpToolError",
    "HttpToolResponseError",
    "HttpToolStatusError",
    "HttpToolTimeoutError",
]


class HttpToolError(ToolError):
    """An HTTP tool call failed.

    Attributes:
        url: The URL requested.
    """

    def __init__(self, message: str, tool_name: str, url: str) -> None:
        super().__init__(message, tool_name)
        self.url = url


class HttpToolConnectionError(HttpToolError, ConnectionError):
    """The endpoint could not be reached (refused, reset, DNS)."""

    def __init__(self, tool_name: str, url: str, reason: str) -> None:
        self.reason = reason
        """What the HTTP client reported."""
        super().__init__(f"Tool {tool_name!r} could not reach {url}: {reason}", tool_name, url)


class HttpToolTimeoutError(HttpToolError, TimeoutError):
    """No answer within the tool's ``timeout``."""

    def __init__(self, tool_name: str, url: str, timeout: float) -> None:
        self.timeout = timeout
        """The limit, in seconds."""
        super().__init__(f"Tool {tool_name!r} got no answer from {url} within {timeout} s", tool_name, url)


class HttpToolStatusError(HttpToolError):
    """The endpoint answered with an error status (raised only with ``raise_for_status=True``)."""

    def __init__(self, tool_name: str, url: str, status_code: int, body: str) -> None:
        self.status_code = status_code
        """The HTTP status."""
        self.body = body
        """The response body, as text."""
        super().__init__(f"Tool {tool_name!r}: {url} answered {status_code}: {body[:500]}", tool_name, url)


class HttpToolResponseError(HttpToolError, ValueError):
    """``return_type="json"`` but the body is not JSON."""

    def __init__(self, tool_name: str, url: str, body: str) -> None:
        self.body = body
        """The response body, as text."""
        super().__init__(f"Tool {tool_name!r}: {url} did not answer JSON: {body[:200]!r}", tool_name, url)
