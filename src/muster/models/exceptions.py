"""Errors raised by model clients.

Hierarchy::

    MusterError                          (muster.core.exceptions)
    └── ModelError                       anything a model client raises on purpose
        ├── ModelConfigurationError      (ValueError) the client was set up wrongly
        │                                (unknown model without model_info, missing key...)
        └── ModelAPIError                a provider call failed, after any retries
            ├── RateLimitError           HTTP 429: the provider's limits were hit
            ├── ModelTimeoutError        no (complete) answer within the timeout
            ├── ModelConnectionError     the connection failed or dropped
            ├── ModelServerError         HTTP 5xx
            ├── ModelAuthenticationError HTTP 401/403
            ├── ModelBadRequestError     HTTP 400/404/422...: the request itself is wrong
            └── ModelResponseError       the provider answered with a body we cannot read

Provider SDK exceptions never escape a muster client: they are translated into these,
so callers handle one family whatever the provider. The data (status code, body,
request id, the provider's Retry-After) lives in attributes; the message is built from it.
"""

from __future__ import annotations

from typing import Any

from muster.core.exceptions import MusterError

__all__ = [
    "ModelAPIError",
    "ModelAuthenticationError",
    "ModelBadRequestError",
    "ModelConfigurationError",
    "ModelConnectionError",
    "ModelError",
    "ModelResponseError",
    "ModelServerError",
    "ModelTimeoutError",
    "RateLimitError",
]


class ModelError(MusterError):
    """Root of the errors model clients raise."""


class ModelConfigurationError(ModelError, ValueError):
    """A client was configured in a way that cannot work (caught at construction)."""


class ModelAPIError(ModelError):
    """A call to a model provider failed for good (retries, if allowed, are spent).

    Attributes:
        provider: ``"openai"``, ``"azure"``, ``"anthropic"``...
        status_code: The HTTP status, or ``None`` when no response arrived.
        body: The decoded error body (JSON object or text) the provider sent, if any.
        request_id: The provider's request id, to quote to its support.
        retry_after: Seconds the provider asked us to wait, if it said.
        attempts: How many requests were sent before giving up.
        detail: A short description of what went wrong.
    """

    def __init__(
        self,
        detail: str,
        *,
        provider: str,
        status_code: int | None = None,
        body: Any = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        self.detail = detail
        self.provider = provider
        self.status_code = status_code
        self.body = body
        self.request_id = request_id
        self.retry_after = retry_after
        self.attempts = attempts
        super().__init__(self._message())

    def _message(self) -> str:
        status = f" (HTTP {self.status_code})" if self.status_code is not None else ""
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        rid = f" [request id {self.request_id}]" if self.request_id else ""
        return f"{self.provider} request failed{status}{tries}: {self.detail}{rid}"

    def with_attempts(self, attempts: int) -> ModelAPIError:
        """Record how many requests were made and rebuild the message to say so."""
        self.attempts = attempts
        self.args = (self._message(),)
        return self

    @property
    def retryable(self) -> bool:
        """Whether sending the same request again may succeed."""
        return False


class _TransientError(ModelAPIError):
    """Failures worth retrying; not exported: callers catch the concrete classes."""

    @property
    def retryable(self) -> bool:
        return True


class RateLimitError(_TransientError):
    """HTTP 429: too many requests or tokens; ``retry_after`` says when to try again."""


class ModelTimeoutError(_TransientError):
    """The provider did not answer (or stopped streaming) within the timeout."""


class ModelConnectionError(_TransientError):
    """The connection could not be opened or was lost."""


class ModelServerError(_TransientError):
    """HTTP 5xx (or 408/409): the provider failed; usually transient."""


class ModelAuthenticationError(ModelAPIError):
    """HTTP 401/403: the key is missing, wrong, or lacks access to the model."""


class ModelBadRequestError(ModelAPIError):
    """A 4xx other than 401/403/408/409/429: resending the same request cannot help."""


class ModelResponseError(ModelAPIError):
    """The provider answered, but with a body that is not what its API promises."""
