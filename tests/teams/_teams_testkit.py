"""Deterministic participants for team tests: scripted, failing and slow agents."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from muster.agents import BaseChatAgent
from muster.base import Response
from muster.core import CancellationToken
from muster.messages import BaseChatMessage, HandoffMessage, StopMessage, TextMessage


class ScriptedAgent(BaseChatAgent):
    """Answers ``"<name>:<n>"`` on its n-th turn (or the scripted reply) and records what it saw.

    Its state (turn count and every message text it received) is saved and loaded, so
    resumed runs can be compared with uninterrupted ones.
    """

    def __init__(
        self, name: str, replies: Sequence[str] | None = None, description: str | None = None
    ) -> None:
        super().__init__(name, description or f"Agent {name}")
        self.replies = list(replies) if replies is not None else None
        self.turns = 0
        self.seen: list[str] = []
        self.resets = 0
        self.paused = 0
        self.resumed = 0

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        self.seen.extend(f"{m.source}>{m.to_text()}" for m in messages)
        if self.replies is not None:
            content = self.replies[self.turns % len(self.replies)]
        else:
            content = f"{self.name}:{self.turns}"
        self.turns += 1
        return Response(chat_message=TextMessage(content=content, source=self.name))

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        self.turns = 0
        self.seen.clear()
        self.resets += 1

    async def on_pause(self, cancellation_token: CancellationToken) -> None:
        self.paused += 1

    async def on_resume(self, cancellation_token: CancellationToken) -> None:
        self.resumed += 1

    async def save_state(self) -> Mapping[str, Any]:
        return {"turns": self.turns, "seen": list(self.seen)}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.turns = int(state["turns"])
        self.seen = list(state["seen"])


class FailingAgent(ScriptedAgent):
    """Raises ``ValueError`` on the turns listed in ``fail_on`` (0-based), answers otherwise."""

    def __init__(self, name: str, fail_on: Sequence[int]) -> None:
        super().__init__(name)
        self.fail_on = set(fail_on)
        self.attempts = 0

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        attempt = self.attempts
        self.attempts += 1
        if attempt in self.fail_on:
            raise ValueError(f"boom on attempt {attempt}")
        return await super().on_messages(messages, cancellation_token)


class BlockingAgent(ScriptedAgent):
    """Signals ``started`` and waits on the cancellation token (or ``release``) before answering."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        self.started.set()
        waiter = asyncio.ensure_future(self.release.wait())
        cancellation_token.link_future(waiter)
        await waiter
        return await super().on_messages(messages, cancellation_token)


class StoppingAgent(ScriptedAgent):
    """Answers with a StopMessage."""

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (StopMessage,)

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        self.turns += 1
        return Response(chat_message=StopMessage(content="stop", source=self.name))


class HandoffAgent(ScriptedAgent):
    """Hands off to the next target in ``targets`` on each turn (a plain text reply when ``None``)."""

    def __init__(self, name: str, targets: Sequence[str | None]) -> None:
        super().__init__(name)
        self.targets = list(targets)

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (HandoffMessage, TextMessage)

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        self.seen.extend(f"{m.source}>{m.to_text()}" for m in messages)
        target = self.targets[self.turns % len(self.targets)]
        self.turns += 1
        if target is None:
            return Response(
                chat_message=TextMessage(content=f"{self.name}:{self.turns - 1}", source=self.name)
            )
        return Response(chat_message=HandoffMessage(content=f"to {target}", target=target, source=self.name))


def sources(messages: Sequence[Any]) -> list[str]:
    """The ``source`` of each message, in order."""
    return [m.source for m in messages]
