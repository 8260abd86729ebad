"""Errors raised by the operational helpers (pool, batching, monitoring).

Hierarchy::

    MusterError                          (muster.core.exceptions)
    └── OpsError                         root of the ops errors
        ├── PoolClosedError              the client pool was closed; no client can be had
        ├── ForeignClientError           (ValueError) a client returned that the pool did not lend
        ├── BatchProcessorClosedError    a message was submitted after close()
        └── BatchAbortedError            the batch collector stopped before running a message

A message's own failure (the agent raising) is not wrapped: the caller of
``process_message`` gets the agent's exception itself.
"""

from __future__ import annotations

from muster.core.exceptions import MusterError

__all__ = [
    "BatchAbortedError",
    "BatchProcessorClosedError",
    "ForeignClientError",
    "OpsError",
    "PoolClosedError",
]


class OpsError(MusterError):
    """An error from the operational helpers."""


class PoolClosedError(OpsError):
    """The :class:`~muster.ops.ModelClientPool` is closed."""

    def __init__(self) -> None:
        super().__init__("the model client pool is closed")


class ForeignClientError(OpsError, ValueError):
    """A client was returned to a pool that did not lend it, or returned twice."""

    def __init__(self, client_type: str) -> None:
        self.client_type = client_type
        """Type name of the rejected client."""
        super().__init__(
            f"this {client_type} is not on loan from the pool (returned twice, or never borrowed)"
        )


class BatchProcessorClosedError(OpsError):
    """A message was submitted to a closed :class:`~muster.ops.BatchProcessor`."""

    def __init__(self) -> None:
        super().__init__("the batch processor is closed")


class BatchAbortedError(OpsError):
    """The batch collector stopped (cancelled or crashed) before this message completed.

    The message may or may not have reached its agent; ``cause`` says why it stopped.
    """

    def __init__(self, cause: BaseException | None) -> None:
        self.cause = cause
        """What stopped the collector (``CancelledError`` when it was cancelled)."""
        reason = "it was cancelled" if cause is None else f"{type(cause).__name__}: {cause}"
        super().__init__(f"the batch collector stopped before the message completed ({reason})")
