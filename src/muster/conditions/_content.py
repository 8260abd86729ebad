"""Conditions that fire on what a message is or says: its type, text or sender."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from pydantic import BaseModel, ConfigDict

from muster.core import Component
from muster.core.internal import construct_trusted
from muster.messages import BaseAgentEvent, BaseChatMessage, StopMessage, TextMessage
from muster.state import (
    SourceMatchTerminationState,
    StopMessageTerminationState,
    TextMentionTerminationState,
    TextMessageTerminationState,
)

from ._latched import LatchedTermination

__all__ = [
    "SourceMatchTermination",
    "SourceMatchTerminationConfig",
    "StopMessageTermination",
    "StopMessageTerminationConfig",
    "TextMentionTermination",
    "TextMentionTerminationConfig",
    "TextMessageTermination",
    "TextMessageTerminationConfig",
]


class StopMessageTerminationConfig(BaseModel):
    """Spec of :class:`StopMessageTermination` (it has no settings)."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)


class StopMessageTermination(LatchedTermination, Component[StopMessageTerminationConfig]):
    """Stops when any participant sends a :class:`~muster.messages.StopMessage`."""

    component_config_schema = StopMessageTerminationConfig
    component_type = "termination"
    component_provider_override = "muster.conditions.StopMessageTermination"
    _state_model = StopMessageTerminationState

    async def _check(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if any(isinstance(m, StopMessage) for m in messages):
            return construct_trusted(
                StopMessage, content="Stop message received", source="StopMessageTermination"
            )
        return None

    def _to_config(self) -> StopMessageTerminationConfig:
        return StopMessageTerminationConfig()

    @classmethod
    def _from_config(cls, config: StopMessageTerminationConfig) -> Self:
        return cls()


class TextMentionTerminationConfig(BaseModel):
    """Spec of :class:`TextMentionTermination`."""

    model_config = ConfigDict(defer_build=True)

    text: str
    """The substring that stops the run."""
    sources: list[str] | None = None
    """Only messages from these senders count. AutoGen drops this when dumping; muster keeps
    it (absent when ``None``, so AutoGen specs load unchanged)."""


class TextMentionTermination(LatchedTermination, Component[TextMentionTerminationConfig]):
    """Stops when a message's text contains ``text``.

    Events count too (a streamed chunk or thought mentioning the text stops the run), which
    is what lets a team stop on a keyword the model produced mid-turn.

    Args:
        text: The substring to look for in each message's ``to_text()``.
        sources: If given, only messages from these senders are checked.
    """

    component_config_schema = TextMentionTerminationConfig
    component_type = "termination"
    component_provider_override = "muster.conditions.TextMentionTermination"
    _state_model = TextMentionTerminationState

    def __init__(self, text: str, sources: Sequence[str] | None = None) -> None:
        super().__init__()
        self._text = text
        self._sources = list(sources) if sources is not None else None

    async def _check(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        for message in messages:
            if self._sources is not None and message.source not in self._sources:
                continue
            if self._text in message.to_text():
                return construct_trusted(
                    StopMessage, content=f"Text '{self._text}' mentioned", source="TextMentionTermination"
                )
        return None

    def _to_config(self) -> TextMentionTerminationConfig:
        return TextMentionTerminationConfig(text=self._text, sources=self._sources)

    @classmethod
    def _from_config(cls, config: TextMentionTerminationConfig) -> Self:
        return cls(text=config.text, sources=config.sources)


class TextMessageTerminationConfig(BaseModel):
    """Spec of :class:`TextMessageTermination`."""

    model_config = ConfigDict(defer_build=True)

    source: str | None = None
    """Only a TextMessage from this sender stops the run; ``None`` means any sender."""


class TextMessageTermination(LatchedTermination, Component[TextMessageTerminationConfig]):
    """Stops on the first :class:`~muster.messages.TextMessage` (optionally from one sender).

    Useful when agents mostly call tools and a plain text reply means "I am done".

    Args:
        source: The sender to match; ``None`` matches any sender.
    """

    component_config_schema = TextMessageTerminationConfig
    component_type = "termination"
    component_provider_override = "muster.conditions.TextMessageTermination"
    _state_model = TextMessageTerminationState

    def __init__(self, source: str | None = None) -> None:
        super().__init__()
        self._source = source

    async def _check(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        for message in messages:
            if isinstance(message, TextMessage) and self._source in (None, message.source):
                return construct_trusted(
                    StopMessage,
                    content=f"Text message received from '{message.source}'",
                    source="TextMessageTermination",
                )
        return None

    def _to_config(self) -> TextMessageTerminationConfig:
        return TextMessageTerminationConfig(source=self._source)

    @classmethod
    def _from_config(cls, config: TextMessageTerminationConfig) -> Self:
        return cls(source=config.source)


class SourceMatchTerminationConfig(BaseModel):
    """Spec of :class:`SourceMatchTermination`."""

    model_config = ConfigDict(defer_build=True)

    sources: list[str]
    """Senders whose first message stops the run."""


class SourceMatchTermination(LatchedTermination, Component[SourceMatchTerminationConfig]):
    """Stops as soon as one of ``sources`` has produced any message or event.

    Args:
        sources: The sender names that end the run.
    """

    component_config_schema = SourceMatchTerminationConfig
    component_type = "termination"
    component_provider_override = "muster.conditions.SourceMatchTermination"
    _state_model = SourceMatchTerminationState

    def __init__(self, sources: Sequence[str]) -> None:
        super().__init__()
        self._sources = list(sources)

    async def _check(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        for message in messages:
            if message.source in self._sources:
                return construct_trusted(
                    StopMessage, content=f"'{message.source}' answered", source="SourceMatchTermination"
                )
        return None

    def _to_config(self) -> SourceMatchTerminationConfig:
        return SourceMatchTerminationConfig(sources=self._sources)

    @classmethod
    def _from_config(cls, config: SourceMatchTerminationConfig) -> Self:
        return cls(sources=config.sources)
