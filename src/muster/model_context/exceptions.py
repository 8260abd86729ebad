"""Errors raised by model contexts.

Hierarchy::

    MusterError                        (muster.core.exceptions)
    └── ModelContextError              anything a model context raises on purpose
        └── InvalidContextSizeError    (ValueError) a size or token limit is not positive
"""

from __future__ import annotations

from muster.core.exceptions import MusterError

__all__ = ["InvalidContextSizeError", "ModelContextError"]


class ModelContextError(MusterError):
    """Root of the errors model contexts raise."""


class InvalidContextSizeError(ModelContextError, ValueError):
    """A context was given a size that would keep no messages.

    A ``ValueError`` so code written against AutoGen, which raises a plain one, still
    catches it.

    Attributes:
        parameter: The constructor argument at fault (``"buffer_size"``...).
        value: The value it was given.
    """

    def __init__(self, parameter: str, value: int) -> None:
        self.parameter = parameter
        self.value = value
        super().__init__(f"{parameter} must be greater than 0, got {value}")
