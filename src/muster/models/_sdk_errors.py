"""Translate provider SDK and HTTP-library exceptions into :mod:`muster.models.exceptions`.

The OpenAI and Anthropic SDKs share one generated shape (``APIStatusError`` with
``status_code``/``body``/``response``, ``APITimeoutError``, ``APIConnectionError``), so
one translator serves both; each provider passes its SDK module. Errors raised while a
stream is being read come straight from the HTTP library (the SDK does not wrap them),
so those are recognised too, from whichever of ``httpx2``/``httpx`` is already loaded.
"""

from __future__ import annotations

import json
import sys
from types import ModuleType
from typing import Any

from ._retry import parse_retry_after
from .exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelBadRequestError,
    ModelConnectionError,
    ModelResponseError,
    ModelServerError,
    ModelTimeoutError,
    RateLimitError,
)

__all__ = ["translate_error", "translate_ollama_error"]


def _status_class(status: int) -> type[ModelAPIError]:
    if status == 429:
        return RateLimitError
    if status in (401, 403):
        return ModelAuthenticationError
    if status >= 500 or status in (408, 409):
        return ModelServerError
    return ModelBadRequestError


def _detail_from_body(body: Any, fallback: str) -> str:
    # Both providers nest the human message under "error" -> "message".
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
    if isinstance(body, str) and body:
        return body[:500]
    return fallback


def _raw_body(response: Any, sdk_body: Any) -> Any:
    # The SDKs unwrap the "error" member into ``exc.body``; callers get what was sent.
    if response is None:
        return sdk_body
    try:
        return response.json()
    except Exception:  # not JSON, or a streamed body that is gone
        pass
    try:
        return response.text or sdk_body
    except Exception:
        return sdk_body


def _http_library_error(exc: BaseException, provider: str) -> ModelAPIError | None:
    for name in ("httpx2", "httpx"):
        module = sys.modules.get(name)
        if module is None:
            continue
        if isinstance(exc, module.TimeoutException):
            return ModelTimeoutError(
                f"timed out reading the response ({type(exc).__name__})", provider=provider
            )
        if isinstance(exc, module.TransportError):
            return ModelConnectionError(
                f"connection failed: {type(exc).__name__}: {exc}".rstrip(": "), provider=provider
            )
    return None


def translate_error(exc: BaseException, *, provider: str, sdk: ModuleType) -> ModelAPIError | None:
    """The muster error for ``exc``, or ``None`` if it is not a provider/transport failure.

    Args:
        exc: What the SDK (or the HTTP library beneath it) raised.
        provider: Name recorded on the error.
        sdk: The provider SDK module (``openai`` or ``anthropic``).
    """
    if isinstance(exc, ModelAPIError):
        return exc
    if isinstance(exc, sdk.APIStatusError):
        response = exc.response
        headers = response.headers if response is not None else None
        body = _raw_body(response, exc.body)
        status = int(exc.status_code)
        cls = _status_class(status)
        request_id = getattr(exc, "request_id", None)
        if request_id is None and headers is not None:
            request_id = headers.get("x-request-id") or headers.get("request-id")
        error = cls(
            _detail_from_body(body, str(exc)),
            provider=provider,
            status_code=status,
            body=body,
            request_id=request_id,
            retry_after=parse_retry_after(headers),
        )
        return error
    if isinstance(exc, sdk.APITimeoutError):
        return ModelTimeoutError("request timed out", provider=provider)
    if isinstance(exc, sdk.APIResponseValidationError):
        return ModelResponseError(f"malformed response: {exc}", provider=provider, body=exc.body)
    if isinstance(exc, sdk.APIConnectionError):
        cause = exc.__cause__
        detail = f"connection failed: {type(cause).__name__}" if cause is not None else "connection failed"
        return ModelConnectionError(detail, provider=provider)
    if isinstance(exc, json.JSONDecodeError):
        return ModelResponseError(f"response is not valid JSON: {exc}", provider=provider, body=exc.doc[:500])
    return _http_library_error(exc, provider)


def translate_ollama_error(exc: BaseException, *, provider: str) -> ModelAPIError | None:
    """The muster error for what the ``ollama`` client raised, or ``None`` if not a provider failure.

    The ollama client has its own shape: ``ollama.ResponseError`` (``error``,
    ``status_code``, -1 for an error inside a stream) and a builtin ``ConnectionError``
    when the server cannot be reached; timeouts and dropped streams come from httpx.
    """
    if isinstance(exc, ModelAPIError):
        return exc
    ollama = sys.modules.get("ollama")
    if ollama is not None and isinstance(exc, ollama.ResponseError):
        status = int(exc.status_code)
        if status < 0:
            return ModelServerError(f"error in the stream: {exc.error}", provider=provider, body=exc.error)
        return _status_class(status)(str(exc.error), provider=provider, status_code=status, body=exc.error)
    http_error = _http_library_error(exc, provider)
    if http_error is not None:
        return http_error
    if isinstance(exc, ConnectionError):
        return ModelConnectionError(f"connection failed: {exc}", provider=provider)
    return None
