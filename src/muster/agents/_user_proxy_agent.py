"""UserProxyAgent: a human in the conversation, through an input function."""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ClassVar, Self, cast

from pydantic import BaseModel, ConfigDict

from muster.base import Response
from muster.core import CancellationToken, Component
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    TextMessage,
    UserInputRequestedEvent,
)

from ._base_chat_agent import BaseChatAgent
from .exceptions import UserInputError

__all__ = ["AsyncInputFunc", "InputFuncType", "SyncInputFunc", "UserProxyAgent", "UserProxyAgentConfig"]

SyncInputFunc = Callable[[str], str]
"""``input``-like: takes the prompt, returns the answer (run in a worker thread)."""
AsyncInputFunc = Callable[[str, CancellationToken | None], Awaitable[str]]
"""Takes the prompt and the run's cancellation token, returns the answer."""
InputFuncType = SyncInputFunc | AsyncInputFunc


async def cancellable_input(prompt: str, cancellation_token: CancellationToken | None) -> str:
    """``input()`` in a worker thread, so the event loop keeps running while the human types.

    Cancelling the token abandons the wait (the thread itself cannot be interrupted and
    finishes when the user presses enter).
    """
    future: asyncio.Future[str] = asyncio.ensure_future(asyncio.to_thread(input, prompt))
    if cancellation_token is not None:
        cancellation_token.link_future(future)
    return await future


class UserProxyAgentConfig(BaseModel):
    """Spec of a UserProxyAgent; the input function cannot be serialised and is not kept."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    name: str
    description: str = "A human user"
    input_func: str | None = None


_request_id: ContextVar[str] = ContextVar("muster_user_input_request_id")


class UserProxyAgent(BaseChatAgent, Component[UserProxyAgentConfig]):
    """Stands for a human: each turn announces a UserInputRequestedEvent, then asks for input.

    The answer becomes a TextMessage, or, when the agent's turn began with a handoff
    addressed to it, a HandoffMessage back to the agent that handed off (so a Swarm
    returns control to it).

    Args:
        name: The agent's name.
        description: What the human's role is.
        input_func: ``input``-like sync function (run in a thread) or
            ``async (prompt, cancellation_token) -> str``; defaults to ``input()``.

    Raises:
        UserInputError: from ``on_messages``: the input function failed (a
            ``RuntimeError``, as in AutoGen; the original error is the ``__cause__``).
    """

    component_config_schema = UserProxyAgentConfig
    component_provider_override = "muster.agents.UserProxyAgent"

    class InputRequestContext:
        """Tells an input function which UserInputRequestedEvent it is answering.

        Consoles and UIs see the event in the stream; the input function, running in the
        same context, reads :meth:`request_id` to wait for that UI before prompting.
        """

        _INPUT_REQUEST_CONTEXT_VAR: ClassVar[ContextVar[str]] = _request_id

        def __init__(self) -> None:
            raise RuntimeError("InputRequestContext is a namespace and cannot be instantiated.")

        @classmethod
        @contextmanager
        def populate_context(cls, ctx: str) -> Iterator[None]:
            """Make ``ctx`` the current request id for the duration of the block."""
            token = cls._INPUT_REQUEST_CONTEXT_VAR.set(ctx)
            try:
                yield
            finally:
                cls._INPUT_REQUEST_CONTEXT_VAR.reset(token)

        @classmethod
        def request_id(cls) -> str:
            """The id of the input request being answered.

            Raises:
                RuntimeError: called outside a UserProxyAgent's input function.
            """
            try:
                return cls._INPUT_REQUEST_CONTEXT_VAR.get()
            except LookupError as exc:
                raise RuntimeError(
                    "InputRequestContext.request_id() must be called within the input callback of a UserProxyAgent."
                ) from exc

    def __init__(
        self, name: str, *, description: str = "A human user", input_func: InputFuncType | None = None
    ) -> None:
        super().__init__(name=name, description=description)
        self.input_func: InputFuncType = input_func or cancellable_input
        self._is_async = inspect.iscoroutinefunction(self.input_func)

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """Text, or a handoff back when the turn started with a handoff."""
        return (TextMessage, HandoffMessage)

    def _latest_handoff(self, messages: Sequence[BaseChatMessage]) -> HandoffMessage | None:
        if messages and isinstance(messages[-1], HandoffMessage):
            if messages[-1].target != self.name:
                raise UserInputError(
                    self.name,
                    RuntimeError(f"Handoff message target does not match agent name: {messages[-1].source}"),
                )
            return messages[-1]
        return None

    async def _get_input(self, prompt: str, cancellation_token: CancellationToken) -> str:
        try:
            if self._is_async:
                return await cast(AsyncInputFunc, self.input_func)(prompt, cancellation_token)
            sync_func = cast(SyncInputFunc, self.input_func)
            # A human takes seconds; a thread keeps the rest of the team responsive meanwhile.
            return await asyncio.get_running_loop().run_in_executor(None, sync_func, prompt)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise UserInputError(self.name, exc) from exc

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        """Ask the human and return the answer."""
        async for item in self.on_messages_stream(messages, cancellation_token):
            if isinstance(item, Response):
                return item
        raise AssertionError("The stream should have returned the final result.")

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """Yield a UserInputRequestedEvent, wait for the input, yield the Response."""
        handoff = self._latest_handoff(messages)
        prompt = (
            f"Handoff received from {handoff.source}. Enter your response: "
            if handoff
            else "Enter your response: "
        )
        request_id = str(uuid.uuid4())
        yield UserInputRequestedEvent(request_id=request_id, source=self.name)
        with UserProxyAgent.InputRequestContext.populate_context(request_id):
            user_input = await self._get_input(prompt, cancellation_token)
        if handoff is not None:
            yield Response(
                chat_message=HandoffMessage(content=user_input, target=handoff.source, source=self.name)
            )
        else:
            yield Response(chat_message=TextMessage(content=user_input, source=self.name))

    async def on_reset(self, cancellation_token: CancellationToken | None = None) -> None:
        """Nothing to forget: the human remembers."""

    def _to_config(self) -> UserProxyAgentConfig:
        return UserProxyAgentConfig(name=self.name, description=self.description, input_func=None)

    @classmethod
    def _from_config(cls, config: UserProxyAgentConfig) -> Self:
        return cls(name=config.name, description=config.description, input_func=None)
