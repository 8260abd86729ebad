"""A wrapper that shows its agent only chosen messages, per sender."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict

from muster.base import Response
from muster.base.internal import parse_state
from muster.core import CancellationToken, Component, ComponentModel
from muster.messages import BaseAgentEvent, BaseChatMessage
from muster.state import BaseState

from ._base_chat_agent import BaseChatAgent

__all__ = ["MessageFilterAgent", "MessageFilterAgentConfig", "MessageFilterConfig", "PerSourceFilter"]

_BARE_STATE_KEYS = {"type", "version"}
"""All an AutoGen MessageFilterAgent's state holds."""


class PerSourceFilter(BaseModel):
    """Which of one sender's messages get through."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    source: str
    """The sender (``"user"`` for the task) whose messages this rule selects."""
    position: Literal["first", "last"] | None = None
    """Keep the first or the last ``count`` messages; ``None`` keeps them all."""
    count: int | None = None
    """How many to keep from ``position``; ``None`` (or 0) keeps them all."""


class MessageFilterConfig(BaseModel):
    """The rules of a :class:`MessageFilterAgent`; senders without a rule are dropped."""

    model_config = ConfigDict(defer_build=True)

    per_source: list[PerSourceFilter]


class MessageFilterAgentConfig(BaseModel):
    """Spec of a :class:`MessageFilterAgent`."""

    model_config = ConfigDict(defer_build=True)

    name: str
    wrapped_agent: ComponentModel
    filter: MessageFilterConfig


class MessageFilterAgent(BaseChatAgent, Component[MessageFilterAgentConfig]):
    """Passes the wrapped agent only the messages its filter selects.

    Teams hand each agent every message since its last turn; in loops (GraphFlow) that
    grows and repeats. Wrapping an agent with, say, "the first message from ``user`` and
    the last one from ``reviewer``" keeps its prompt short and on point. Rules are applied
    in order and their selections concatenated, so the order of ``per_source`` is the order
    the wrapped agent sees. The answer is the wrapped agent's own (its name as source).

    Args:
        name: The wrapper's name; usually the wrapped agent's name, so graph edges and
            message sources agree.
        wrapped_agent: The agent that does the work.
        filter: Which messages get through.
    """

    component_config_schema = MessageFilterAgentConfig
    component_type = "agent"
    component_provider_override = "muster.agents.MessageFilterAgent"

    def __init__(self, name: str, wrapped_agent: BaseChatAgent, filter: MessageFilterConfig) -> None:
        super().__init__(name=name, description=f"{wrapped_agent.description} (with message filtering)")
        self._wrapped_agent = wrapped_agent
        self._filter = filter

    @property
    def wrapped_agent(self) -> BaseChatAgent:
        """The agent receiving the filtered messages."""
        return self._wrapped_agent

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return self._wrapped_agent.produced_message_types

    def _apply_filter(self, messages: Sequence[BaseChatMessage]) -> list[BaseChatMessage]:
        selected: list[BaseChatMessage] = []
        for rule in self._filter.per_source:
            matching = [m for m in messages if m.source == rule.source]
            if rule.count:
                if rule.position == "first":
                    matching = matching[: rule.count]
                elif rule.position == "last":
                    matching = matching[-rule.count :]
            selected.extend(matching)
        return selected

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        return await self._wrapped_agent.on_messages(self._apply_filter(messages), cancellation_token)

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        async for item in self._wrapped_agent.on_messages_stream(
            self._apply_filter(messages), cancellation_token
        ):
            yield item

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        await self._wrapped_agent.on_reset(cancellation_token)

    async def on_pause(self, cancellation_token: CancellationToken) -> None:
        await self._wrapped_agent.on_pause(cancellation_token)

    async def on_resume(self, cancellation_token: CancellationToken) -> None:
        await self._wrapped_agent.on_resume(cancellation_token)

    async def save_state(self) -> Mapping[str, Any]:
        """The wrapped agent's state: the filter itself holds none, but a team saving this
        participant must not lose what the agent inside remembers."""
        return await self._wrapped_agent.save_state()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore the wrapped agent's state saved by :meth:`save_state`.

        AutoGen's MessageFilterAgent saves a bare ``BaseState`` (only ``type`` and
        ``version``: its wrapped agent's state is lost there); such a state is accepted and
        leaves the wrapped agent as it is, since it has nothing to restore from it.

        Raises:
            StateError: the state does not fit the wrapped agent, which is unchanged.
        """
        if isinstance(state, Mapping) and state.get("type") == "BaseState" and set(state) <= _BARE_STATE_KEYS:
            parse_state(BaseState, state)
            return
        await self._wrapped_agent.load_state(state)

    async def close(self) -> None:
        await self._wrapped_agent.close()

    def _to_config(self) -> MessageFilterAgentConfig:
        return MessageFilterAgentConfig(
            name=self.name, wrapped_agent=self._wrapped_agent.dump_component(), filter=self._filter
        )

    @classmethod
    def _from_config(cls, config: MessageFilterAgentConfig) -> Self:
        return cls(
            name=config.name,
            wrapped_agent=BaseChatAgent.load_component(config.wrapped_agent),
            filter=config.filter,
        )
