"""Memory: knowledge an agent adds to its model context before each call (AutoGen: ``autogen_core.memory``).

:class:`Memory` is the contract (``add``, ``query``, ``update_context``...);
:class:`ListMemory` the simple built-in store that shows the model every item.
"""

from ._base_memory import Memory, MemoryContent, MemoryMimeType, MemoryQueryResult, UpdateContextResult
from ._list_memory import ListMemory, ListMemoryConfig

__all__ = [
    "ListMemory",
    "ListMemoryConfig",
    "Memory",
    "MemoryContent",
    "MemoryMimeType",
    "MemoryQueryResult",
    "UpdateContextResult",
]
