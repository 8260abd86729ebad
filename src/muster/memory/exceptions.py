"""Errors raised by memories.

Hierarchy::

    MusterError                 (muster.core.exceptions)
    └── MemoryStateError        (ValueError) a saved state does not fit the memory loading it;
                                ``field`` names the offending field, nothing was loaded

Agents report a memory's bad state as ``muster.base.exceptions.StateError``, its field
prefixed with where the memory's state sits in the agent's (``memory_states[0].type``).
This package sits below ``muster.base`` in the layer order, so it cannot raise that
error itself; ``MemoryStateError`` carries the same ``detail`` and ``field``.
"""

from __future__ import annotations

from muster.core.exceptions import MusterError

__all__ = ["MemoryStateError"]


class MemoryStateError(MusterError, ValueError):
    """A saved state could not be loaded into this memory; the memory was left as it was.

    A ``ValueError``, like pydantic's ``ValidationError``, which is what a bad state
    raised before.

    Attributes:
        detail: What is wrong.
        field: Where, as a path into the state (``"memory_contents[2].mime_type"``);
            ``None`` when the state as a whole is at fault.
    """

    def __init__(self, detail: str, field: str | None = None) -> None:
        self.detail = detail
        self.field = field
        super().__init__(f"{field}: {detail}" if field else detail)

    def __reduce__(self) -> tuple[type[MemoryStateError], tuple[str, str | None]]:
        # Exception pickles ``args`` (the built message) by default, which would lose ``field``.
        return type(self), (self.detail, self.field)
