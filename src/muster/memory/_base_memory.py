"""The memory contract: stores an agent consults to enrich its model context."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from muster.core import CancellationToken, ComponentBase
from muster.model_context import ChatCompletionContext

from ._content import ContentType, MemoryContent, MemoryMimeType
from .exceptions import MemoryStateError

__all__ = [
    "ContentType",
    "Memory",
    "MemoryContent",
    "MemoryMimeType",
    "MemoryQueryResult",
    "UpdateContextResult",
    "parse_memory_state",
]

MEMORY_STATE_VERSION = "1.0.0"
"""The format version memories save their state with."""

StateT = TypeVar("StateT", bound=BaseModel)


class MemoryQueryResult(BaseModel):
    """What a :meth:`Memory.query` found."""

    model_config = ConfigDict(defer_build=True)

    results: list[MemoryContent]


class UpdateContextResult(BaseModel):
    """What :meth:`Memory.update_context` added to the model context."""

    model_config = ConfigDict(defer_build=True)

    memories: MemoryQueryResult


class Memory(ABC, ComponentBase[BaseModel]):
    """A store of knowledge an agent injects into its model context before calling the model.

    Implementations choose both storage (a list, a database, a vector index) and
    retrieval (everything, keyword or vector search); :meth:`update_context` decides what
    the model sees. The agent reports what was injected as a memory-query event.
    """

    component_type = "memory"

    @abstractmethod
    async def update_context(self, model_context: ChatCompletionContext) -> UpdateContextResult:
        """Add relevant memories to ``model_context`` and report which ones.

        Args:
            model_context: The agent's context; implementations usually read its latest
                messages to decide what is relevant, then append to it.
        """

    @abstractmethod
    async def query(
        self, query: str | MemoryContent, cancellation_token: CancellationToken | None = None, **kwargs: Any
    ) -> MemoryQueryResult:
        """Return the stored items relevant to ``query``.

        Args:
            query: Text or an item to match against.
            cancellation_token: Cancelling it aborts a slow lookup.
            **kwargs: Implementation-specific options (a result limit, a score threshold).
        """

    @abstractmethod
    async def add(self, content: MemoryContent, cancellation_token: CancellationToken | None = None) -> None:
        """Store ``content``."""

    @abstractmethod
    async def clear(self) -> None:
        """Remove every stored item."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections or files the memory holds."""

    async def save_state(self) -> Mapping[str, Any]:
        """A JSON-ready snapshot of what the memory holds, with ``type`` and ``version``.

        An agent saves its memories' states with its own, so a run resumed in a fresh
        process recalls the same things. This default, right for memories whose items live
        outside the process (a database, a vector store), holds only the tag
        ``"<ClassName>State"``; a memory that keeps items in the process must override it
        and :meth:`load_state`, as :class:`~muster.memory.ListMemory` does.
        """
        return {"type": self._default_state_type(), "version": MEMORY_STATE_VERSION}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore a snapshot made by :meth:`save_state`; the default restores nothing.

        Raises:
            MemoryStateError: the state does not fit this memory; nothing was changed.
        """
        self._prepare_state(state)()

    def _prepare_state(self, state: Mapping[str, Any]) -> Callable[[], None]:
        """Check ``state`` completely and return the step that applies it, which cannot fail.

        Built-in memories implement this rather than :meth:`load_state`, so that an agent
        can check all of its state before changing any part.

        Raises:
            MemoryStateError: ``state`` does not fit this memory.
        """
        _check_envelope(state, self._default_state_type())
        return lambda: None

    def _default_state_type(self) -> str:
        return f"{type(self).__name__}State"


def _check_envelope(state: object, expected_type: str) -> Mapping[str, Any]:
    if not isinstance(state, Mapping):
        raise MemoryStateError(f"expected a mapping, got {type(state).__name__}")
    if "type" not in state:
        raise MemoryStateError(f"missing, expected {expected_type!r}", "type")
    if state["type"] != expected_type:
        raise MemoryStateError(f"expected {expected_type!r}, got {state['type']!r}", "type")
    version = state.get("version", MEMORY_STATE_VERSION)
    if version != MEMORY_STATE_VERSION:
        raise MemoryStateError(
            f"unsupported version {version!r}, expected {MEMORY_STATE_VERSION!r}", "version"
        )
    return state


def parse_memory_state(model: type[StateT], state: object) -> StateT:
    """Check a memory's saved state against ``model`` (its ``type`` default is the expected tag).

    The tag and version are checked exactly; the fields in the usual (lax) mode, since
    :class:`MemoryContent` reads bytes and images back from their JSON forms.

    Raises:
        MemoryStateError: naming the first field that does not fit.
    """
    checked = _check_envelope(state, str(model.model_fields["type"].default))
    try:
        return model.model_validate({**checked, "version": MEMORY_STATE_VERSION})
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in errors[0]["loc"]).lstrip(".")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise MemoryStateError(errors[0]["msg"] + more, field or None) from exc
