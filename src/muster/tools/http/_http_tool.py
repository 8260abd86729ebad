"""HttpTool: one HTTP endpoint as a tool, its arguments described by a JSON schema."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Literal, Self
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field

from muster.core import CancellationToken, Component

from .._json_schema_tool import JsonSchemaTool
from .exceptions import (
    HttpToolConnectionError,
    HttpToolResponseError,
    HttpToolStatusError,
    HttpToolTimeoutError,
)

__all__ = ["HttpTool", "HttpToolConfig"]

DEFAULT_TIMEOUT = 5.0

_PATH_PARAM = re.compile(r"{([^{}]+)}")
_QUERY_METHODS = frozenset({"GET", "DELETE"})


class HttpToolConfig(BaseModel):
    """Spec of an :class:`HttpTool` (AutoGen's field names and defaults)."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    name: str
    """The tool name."""
    description: str | None = None
    """What the model is told the tool does."""
    scheme: Literal["http", "https"] = "http"
    """``http`` or ``https``."""
    host: str
    """Host name or address."""
    port: int
    """TCP port."""
    path: str = Field(default="/")
    """Request path; ``{name}`` placeholders are filled from the arguments of that name."""
    method: Literal["GET", "POST", "PUT", "DELETE", "PATCH"] | None = "POST"
    """GET and DELETE send the other arguments as query parameters, the rest as a JSON body."""
    headers: dict[str, Any] | None = None
    """Headers sent with every request."""
    json_schema: dict[str, Any]
    """JSON schema of the arguments; path placeholders must be string properties in it."""
    return_type: Literal["text", "json"] | None = "text"
    """Return the body as text, or parsed from JSON."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds to wait for the endpoint."""
    raise_for_status: bool = False
    """muster addition, off by default as in AutoGen: an error status raises instead of
    returning the body."""


class HttpTool(JsonSchemaTool, Component[HttpToolConfig]):
    """Call an HTTP endpoint when the model calls the tool.

    As in AutoGen, the body is returned whatever the status (the model reads the error
    page and can react); set ``raise_for_status=True`` to have an error status raise
    :class:`~muster.tools.http.exceptions.HttpToolStatusError` instead. Connection
    failures and timeouts raise typed errors, which an agent reports to the model as a
    failed call, and cancelling the token aborts the request.

    Args:
        name: The tool name.
        host: Host name or address.
        port: TCP port.
        json_schema: JSON schema of the arguments (an object schema).
        headers: Headers sent with every request.
        description: What the model is told the tool does.
        path: Request path, with ``{name}`` placeholders filled from the arguments.
        scheme: ``http`` or ``https``.
        method: The HTTP method; GET and DELETE send arguments as query parameters, the
            others as a JSON body.
        return_type: ``"text"`` for the body as text, ``"json"`` to parse it.
        timeout: Seconds to wait for the endpoint.
        raise_for_status: Raise on a 4xx/5xx status instead of returning the body.

    Raises:
        ValueError: a path placeholder is not a property of ``json_schema``.
    """

    component_type = "tool"
    component_config_schema = HttpToolConfig
    component_provider_override = "muster.tools.http.HttpTool"

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        json_schema: dict[str, Any],
        headers: dict[str, Any] | None = None,
        description: str = "HTTP tool",
        path: str = "/",
        scheme: Literal["http", "https"] = "http",
        method: Literal["GET", "POST", "PUT", "DELETE", "PATCH"] = "POST",
        return_type: Literal["text", "json"] = "text",
        timeout: float = DEFAULT_TIMEOUT,
        raise_for_status: bool = False,
    ) -> None:
        self.server_params = HttpToolConfig(
            name=name,
            description=description,
            scheme=scheme,
            host=host,
            port=port,
            path=path,
            method=method,
            headers=headers,
            json_schema=json_schema,
            return_type=return_type,
            timeout=timeout,
            raise_for_status=raise_for_status,
        )
        self._path_params = set(_PATH_PARAM.findall(path))
        unknown = sorted(self._path_params - set(json_schema.get("properties", {})))
        if unknown:
            raise ValueError(
                f"HttpTool {name!r}: path placeholders {unknown} are not properties of json_schema"
            )
        super().__init__(json_schema, name, description)

    def _url(self, arguments: dict[str, Any]) -> str:
        params = self.server_params
        path = _PATH_PARAM.sub(lambda m: quote(str(arguments.pop(m.group(1), "")), safe=""), params.path)
        return str(httpx.URL(scheme=params.scheme, host=params.host, port=params.port, path=path))

    async def run(self, args: BaseModel, cancellation_token: CancellationToken) -> Any:
        """Send the request and return the body as text or parsed JSON.

        Raises:
            HttpToolConnectionError: the endpoint could not be reached.
            HttpToolTimeoutError: no answer within ``timeout``.
            HttpToolStatusError: an error status, when ``raise_for_status`` is set.
            HttpToolResponseError: ``return_type="json"`` and the body is not JSON.
        """
        params = self.server_params
        arguments = self.arguments_of(args)
        url = self._url(arguments)
        method = params.method or "POST"
        body: dict[str, Any] = {"params": arguments} if method in _QUERY_METHODS else {"json": arguments}
        async with httpx.AsyncClient(timeout=params.timeout) as client:
            request = asyncio.ensure_future(client.request(method, url, headers=params.headers, **body))
            try:
                response = await cancellation_token.link_future(request)
            except httpx.TimeoutException as exc:
                raise HttpToolTimeoutError(self.name, url, params.timeout) from exc
            except httpx.TransportError as exc:
                raise HttpToolConnectionError(self.name, url, str(exc) or type(exc).__name__) from exc
        if params.raise_for_status and response.status_code >= 400:
            raise HttpToolStatusError(self.name, url, response.status_code, response.text)
        if params.return_type == "json":
            try:
                return response.json()
            except json.JSONDecodeError as exc:
                raise HttpToolResponseError(self.name, url, response.text) from exc
        return response.text

    def _to_config(self) -> HttpToolConfig:
        return self.server_params.model_copy()

    @classmethod
    def _from_config(cls, config: HttpToolConfig) -> Self:
        return cls(
            name=config.name,
            host=config.host,
            port=config.port,
            json_schema=config.json_schema,
            headers=config.headers,
            description=config.description or "HTTP tool",
            path=config.path,
            scheme=config.scheme,
            method=config.method or "POST",
            return_type=config.return_type or "text",
            timeout=config.timeout,
            raise_for_status=config.raise_for_status,
        )
