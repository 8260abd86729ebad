"""A memory that keeps items in a list and shows the model all of them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from muster.core import CancellationToken, Component
from muster.model_context import ChatCompletionContext
from muster.models import SystemMessage

from ._base_memory import Memory, MemoryContent, MemoryQueryResult, UpdateContextResult, parse_memory_state

__all__ = ["ListMemory", "ListMemoryConfig", "ListMemoryState"]

_DEFAULT_NAME = "default_list_memory"


class ListMemoryConfig(BaseModel):
    """Declarative config of :class:`ListMemory`."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    name: str | None = None
    """Identifier of the memory; ``None`` means ``"default_list_memory"``."""
    memory_contents: list[MemoryContent] = Field(default_factory=list)
    """The stored items, oldest first."""


class ListMemoryState(BaseModel):
    """The saved state of a :class:`ListMemory`: its items (the name belongs to the spec)."""

    model_config = ConfigDict(defer_build=True)

    type: str = Field(default="ListMemoryState")
    version: str = Field(default="1.0.0")
    memory_contents: list[MemoryContent] = Field(default_factory=list)
    """The stored items, oldest first, in their JSON form (bytes and images as base64)."""


class ListMemory(Memory, Component[ListMemoryConfig]):
    """Keeps items in insertion order and gives the model every one of them.

    Suited to small, always-relevant facts (user preferences, house rules). Before each
    model call :meth:`update_context` appends one :class:`SystemMessage` numbering the
    items in order. :attr:`content` can be read and replaced directly, so an
    application can edit the memory between runs.

    Args:
        name: Identifier of this memory.
        memory_contents: Items to start with; the list is used as is, not copied.
    """

    component_type = "memory"
    component_provider_override = "muster.memory.ListMemory"
    component_config_schema = ListMemoryConfig

    def __init__(self, name: str | None = None, memory_contents: list[MemoryContent] | None = None) -> None:
        self._name = name or _DEFAULT_NAME
        self._contents: list[MemoryContent] = memory_contents if memory_contents is not None else []

    @property
    def name(self) -> str:
        """Identifier of this memory."""
        return self._name

    @property
    def content(self) -> list[MemoryContent]:
        """The stored items, oldest first (the live list)."""
        return self._contents

    @content.setter
    def content(self, value: list[MemoryContent]) -> None:
        self._contents = value

    async def update_context(self, model_context: ChatCompletionContext) -> UpdateContextResult:
        """Append a system message listing every item; add nothing when the memory is empty."""
        if not self._contents:
            return UpdateContextResult(memories=MemoryQueryResult(results=[]))
        # The exact wording is AutoGen's, so prompts (and replayed transcripts) match.
        lines = "\n".join(f"{i}. {str(item.content)}" for i, item in enumerate(self._contents, 1))
        text = f"\nRelevant memory content (in chronological order):\n{lines}\n"
        await model_context.add_message(SystemMessage(content=text))
        return UpdateContextResult(memories=MemoryQueryResult(results=list(self._contents)))

    async def query(
        self,
        query: str | MemoryContent = "",
        cancellation_token: CancellationToken | None = None,
        **kwargs: Any,
    ) -> MemoryQueryResult:
        """Every stored item: a list memory does no relevance filtering, so ``query`` is unused."""
        return MemoryQueryResult(results=list(self._contents))

    async def add(self, content: MemoryContent, cancellation_token: CancellationToken | None = None) -> None:
        """Append ``content``."""
        self._contents.append(content)

    async def clear(self) -> None:
        """Remove every item."""
        self._contents = []

    async def close(self) -> None:
        """Nothing to release."""

    async def save_state(self) -> Mapping[str, Any]:
        """The items, oldest first, as a JSON-ready :class:`ListMemoryState`.

        The spec holds the items given at construction; this holds the ones added since,
        which a resumed agent must recall too.
        """
        return ListMemoryState(memory_contents=self._contents).model_dump(mode="json")

    def _prepare_state(self, state: Mapping[str, Any]) -> Callable[[], None]:
        saved = parse_memory_state(ListMemoryState, state)

        def restore() -> None:
            self._contents = saved.memory_contents

        return restore

    def _to_config(self) -> ListMemoryConfig:
        return ListMemoryConfig(name=self._name, memory_contents=list(self._contents))

    @classmethod
    def _from_config(cls, config: ListMemoryConfig) -> Self:
        return cls(name=config.name, memory_contents=config.memory_contents)
