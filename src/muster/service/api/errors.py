"""Every error leaves the API as ``application/problem+json`` (RFC 9457), never as a stack trace.

One handler per kind, all building the same body: ``{"type", "title", "status", "detail",
"field"}``. ``ServiceError`` subclasses carry their own status, title and field; a request
that fails validation names the first offending field (``task``, ``metadata``,
``body`` for JSON that does not parse) and lists every problem under ``errors``; an
unknown route or method is a plain 404/405 problem; anything unexpected is a 500 whose
detail says nothing but that, while the traceback goes to the server's log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..exceptions import AuthenticationError, OverloadedError, ServiceError

__all__ = ["PROBLEM_JSON", "install_error_handlers", "problem"]

logger = logging.getLogger("muster.service.api")

PROBLEM_JSON = "application/problem+json"

_TYPE_BASE = "https://muster.dev/problems/"


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    slug = title.lower().replace(" ", "-")
    body: dict[str, Any] = {
        "type": _TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "field": field,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_of(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        kind, parts = parts[0], parts[1:]
        if kind == "body" and parts and parts[0].isdigit():
            return "body"  # a JSON decode error points at a character offset, not a field
        return ".".join(parts) or kind
    return ".".join(parts) or "body"


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    headers: dict[str, str] = {}
    if isinstance(exc, OverloadedError):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    return problem(exc.status, exc.title, exc.detail, field=exc.field, headers=headers or None)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_of(error.get("loc", ())), "message": str(error.get("msg", "invalid"))}
        for error in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    return problem(422, "Invalid request", first["message"], field=first["field"], errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    title = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized"}.get(exc.status_code, "Error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem(exc.status_code, title, detail, headers=dict(exc.headers) if exc.headers else None)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "Internal error", "the server failed to handle the request; see its log")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
