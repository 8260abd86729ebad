"""The base of every model context, and the unbounded context every agent starts with.

:class:`ChatCompletionContext` is the message store an agent sends its model from;
:class:`UnboundedChatCompletionContext` is that store showing the model everything, the
default of every agent given no context. They share a module (it used to be two) because
every agent loads both, and a module costs a process about 0.3 ms to find and load
(docs/performance.md, "Start-up").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self

from pydantic import BaseModel

from muster.core import Component, ComponentBase
from muster.core.internal import LazyClassAttribute

if TYPE_CHECKING:
    from muster.models import LLMMessage

    from ._unbounded_config import UnboundedChatCompletionContextConfig

__all__ = ["ChatCompletionContext", "UnboundedChatCompletionContext", "drop_leading_tool_results"]


class ChatCompletionContext(ABC, ComponentBase[BaseModel]):
    """Stores the LLM messages of a conversation and chooses which to show the model.

    Subclasses keep every message added and differ only in :meth:`get_messages`, the
    view they return (all, the last ``n``, head and tail, a token budget), so saving and
    restoring state is shared here. Override :meth:`get_messages` to filter or rewrite
    messages (for instance to drop reasoning text a model does not need back).

    Args:
        initial_messages: Messages the context starts with; kept in the component
            spec so a loaded context starts the same way.
    """

    component_type = "chat_completion_context"

    def __init__(self, initial_messages: Sequence[LLMMessage] | None = None) -> None:
        self._messages: list[LLMMessage] = list(initial_messages) if initial_messages is not None else []
        self._initial_messages: list[LLMMessage] | None = (
            list(initial_messages) if initial_messages is not None else None
        )
        # (message, its JSON dump) for the stored messages, so that saving state at every
        # turn of a long run dumps each message once, not once per save. Created by the
        # first save: most contexts are never saved, and an agent keeps one each.
        self._dump_cache: list[tuple[LLMMessage, dict[str, Any]]] | None = None

    @property
    def initial_messages(self) -> list[LLMMessage] | None:
        """The messages given at construction, or ``None``."""
        return self._initial_messages

    async def add_message(self, message: LLMMessage) -> None:
        """Append ``message`` to the conversation."""
        self._messages.append(message)

    @abstractmethod
    async def get_messages(self) -> list[LLMMessage]:
        """The messages to send the model, oldest first.

        Returns a new list each call, so callers may change it freely.
        """

    async def clear(self) -> None:
        """Forget every message, including the initial ones."""
        self._messages = []

    async def save_state(self) -> Mapping[str, Any]:
        """All stored messages as JSON-ready data (images as base64).

        Each message is dumped once and remembered (the cache is trusted while its last
        entry is still the message at that position), so a durable run that saves every
        turn pays for the new messages only. Treat the result as read-only.
        """
        messages, cache = self._messages, self._dump_cache
        if cache is None:
            cache = self._dump_cache = []
        if len(cache) > len(messages) or (cache and messages[len(cache) - 1] is not cache[-1][0]):
            cache.clear()
        for message in messages[len(cache) :]:
            cache.append((message, message.model_dump(mode="json")))
        return {"messages": [dumped for _, dumped in cache]}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Replace the stored messages with those of a :meth:`save_state` result."""
        from ._state import ChatCompletionContextState  # only a load needs it

        self._messages = ChatCompletionContextState.model_validate(state).messages


def drop_leading_tool_results(messages: list[LLMMessage]) -> list[LLMMessage]:
    """Drop a tool-result message left at the front of a cut-down view.

    Providers reject tool results whose tool call is not in the prompt, and cutting a
    conversation from the front can separate the two.
    """
    from muster.models import FunctionExecutionResultMessage  # (the contexts that cut load it)

    if messages and isinstance(messages[0], FunctionExecutionResultMessage):
        return messages[1:]
    return messages


class UnboundedChatCompletionContext(
    ChatCompletionContext, Component["UnboundedChatCompletionContextConfig"]
):
    """Keeps and returns every message: the default when no context is given to an agent."""

    if TYPE_CHECKING:
        component_config_schema = UnboundedChatCompletionContextConfig
    else:  # defined when first read, by a dump or a load (start-up, docs/performance.md)
        component_config_schema = LazyClassAttribute(
            "muster.model_context._unbounded_config", "UnboundedChatCompletionContextConfig"
        )
    component_provider_override = "muster.model_context.UnboundedChatCompletionContext"

    async def get_messages(self) -> list[LLMMessage]:
        """Every stored message."""
        return list(self._messages)

    def _to_config(self) -> UnboundedChatCompletionContextConfig:
        from ._unbounded_config import UnboundedChatCompletionContextConfig

        return UnboundedChatCompletionContextConfig(initial_messages=self._initial_messages)

    @classmethod
    def _from_config(cls, config: UnboundedChatCompletionContextConfig) -> Self:
        return cls(initial_messages=config.initial_messages)
