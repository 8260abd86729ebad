"""Memory: knowledge an agent adds to its model context before each call (AutoGen: ``autogen_core.memory``).

:class:`Memory` is the contract (``add``, ``query``, ``update_context``...);
:class:`ListMemory` the simple built-in store that shows the model every item.
"""

from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports

if TYPE_CHECKING:
    from ._base_memory import Memory, MemoryQueryResult, UpdateContextResult
    from ._content import MemoryContent, MemoryMimeType
    from ._list_memory import ListMemory, ListMemoryConfig, ListMemoryState
    from .exceptions import MemoryStateError

__all__ = [
    "ListMemory",
    "ListMemoryConfig",
    "ListMemoryState",
    "Memory",
    "MemoryContent",
    "MemoryMimeType",
    "MemoryQueryResult",
    "MemoryStateError",
    "UpdateContextResult",
]

_EXPORTS = {
    "Memory": "._base_memory",
    "MemoryContent": "._content",
    "MemoryMimeType": "._content",
    "MemoryQueryResult": "._base_memory",
    "UpdateContextResult": "._base_memory",
    "ListMemory": "._list_memory",
    "ListMemoryConfig": "._list_memory",
    "ListMemoryState": "._list_memory",
    "MemoryStateError": ".exceptions",
}
"""Public name -> sub-module that defines it; imported on first access (see ``muster.core.internal``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
