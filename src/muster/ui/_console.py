"""Console: render a run's stream on stdout as it happens (AutoGen: ``autogen_agentchat.ui.Console``)."""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TypeVar, cast

from muster.agents import UserProxyAgent
from muster.base import Response, TaskResult
from muster.core import CancellationToken
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    ModelClientStreamingChunkEvent,
    MultiModalMessage,
    UserInputRequestedEvent,
)
from muster.models import RequestUsage

__all__ = ["Console", "UserInputManager"]

SyncInputFunc = Callable[[str], str]
AsyncInputFunc = Callable[[str, CancellationToken | None], Awaitable[str]]
InputFuncType = SyncInputFunc | AsyncInputFunc

T = TypeVar("T", bound=TaskResult | Response)

_RULE = "-" * 10


class UserInputManager:
    """Holds a UserProxyAgent's prompt back until the console has shown everything before it.

    Without it, ``input()`` could print its prompt while earlier messages are still being
    written. Pass :meth:`get_wrapped_callback` as the agent's ``input_func`` and the
    manager to :func:`Console`; the console releases each request when it renders the
    matching UserInputRequestedEvent.

    Args:
        callback: The real input function, sync or async.
    """

    def __init__(self, callback: InputFuncType) -> None:
        self.input_events: dict[str, asyncio.Event] = {}
        self.callback = callback

    def _event(self, request_id: str) -> asyncio.Event:
        event = self.input_events.get(request_id)
        if event is None:
            event = self.input_events[request_id] = asyncio.Event()
        return event

    def get_wrapped_callback(self) -> AsyncInputFunc:
        """An input function that waits for the console, then calls the real one."""

        async def wrapped(prompt: str, cancellation_token: CancellationToken | None) -> str:
            request_id = UserProxyAgent.InputRequestContext.request_id()
            await self._event(request_id).wait()
            del self.input_events[request_id]
            if inspect.iscoroutinefunction(self.callback):
                return await cast(AsyncInputFunc, self.callback)(prompt, cancellation_token)
            sync_func = cast(SyncInputFunc, self.callback)
            return await asyncio.get_running_loop().run_in_executor(None, sync_func, prompt)

        return wrapped

    def notify_event_received(self, request_id: str) -> None:
        """The console rendered the request: let the input function proceed."""
        self._event(request_id).set()


def _write(text: str, end: str = "\n") -> None:
    # Plain print + flush: cheap, and chunks appear immediately even when stdout is a pipe.
    print(text, end=end, flush=True)


def _usage_line(usage: RequestUsage) -> str:
    return f"[Prompt tokens: {usage.prompt_tokens}, Completion tokens: {usage.completion_tokens}]"


def _render(message: BaseAgentEvent | BaseChatMessage, iterm: bool) -> str:
    if isinstance(message, MultiModalMessage):
        return message.to_text(iterm=iterm)
    return message.to_text()


class _Printer:
    """What the console remembers while rendering: usage totals, timing, an open chunk line."""

    def __init__(self, *, iterm: bool, output_stats: bool) -> None:
        self.iterm = iterm
        self.output_stats = output_stats
        self.start = time.time()
        self.total = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self.streaming = False

    def _count(self, usage: RequestUsage) -> None:
        self.total.prompt_tokens += usage.prompt_tokens
        self.total.completion_tokens += usage.completion_tokens

    def _totals(self) -> str:
        return (
            f"Total prompt tokens: {self.total.prompt_tokens}\n"
            f"Total completion tokens: {self.total.completion_tokens}\n"
            f"Duration: {time.time() - self.start:.2f} seconds\n"
        )

    def task_result(self, result: TaskResult) -> None:
        if self.output_stats:
            _write(
                f"{_RULE} Summary {_RULE}\n"
                f"Number of messages: {len(result.messages)}\n"
                f"Finish reason: {result.stop_reason}\n" + self._totals(),
                end="",
            )

    def response(self, response: Response) -> None:
        chat = response.chat_message
        output = f"{_RULE} {chat.source} {_RULE}\n{_render(chat, self.iterm)}\n"
        if chat.models_usage:
            if self.output_stats:
                output += _usage_line(chat.models_usage) + "\n"
            self._count(chat.models_usage)
        _write(output, end="")
        if self.output_stats:
            inner = len(response.inner_messages or ())
            _write(f"{_RULE} Summary {_RULE}\nNumber of inner messages: {inner}\n" + self._totals(), end="")

    def message(self, message: BaseAgentEvent | BaseChatMessage) -> None:
        if not self.streaming:
            _write(f"{_RULE} {type(message).__name__} ({message.source}) {_RULE}")
        if isinstance(message, ModelClientStreamingChunkEvent):
            _write(message.to_text(), end="")
            self.streaming = True
            return
        if self.streaming:
            # The chunks already showed this message's text: just end their line.
            self.streaming = False
            _write("")
        else:
            _write(_render(message, self.iterm))
        if message.models_usage:
            if self.output_stats:
                _write(_usage_line(message.models_usage))
            self._count(message.models_usage)


async def Console(  # noqa: N802 - AutoGen's public name is a function spelled like a class
    stream: AsyncGenerator[BaseAgentEvent | BaseChatMessage | T, None],
    *,
    no_inline_images: bool = False,
    output_stats: bool = False,
    user_input_manager: UserInputManager | None = None,
) -> T:
    """Print every message of ``stream`` as it arrives and return its final TaskResult or Response.

    Each message gets a ``---------- <Type> (<source>) ----------`` header and its text.
    Streaming chunks are printed inline as they come, under one header, and the complete
    message that follows them is not printed again. Output matches AutoGen's Console.

    Args:
        stream: From ``run_stream`` (ends with a TaskResult) or ``on_messages_stream``
            (ends with a Response).
        no_inline_images: Do not draw images inline even in iTerm2.
        output_stats: Also print token usage per message and a summary at the end.
        user_input_manager: Releases UserProxyAgent prompts in step with the output.

    Raises:
        ValueError: the stream ended without a TaskResult or Response.
    """
    printer = _Printer(
        iterm=os.getenv("TERM_PROGRAM") == "iTerm.app" and sys.stdout.isatty() and not no_inline_images,
        output_stats=output_stats,
    )
    last: T | None = None
    async for message in stream:
        if isinstance(message, TaskResult):
            printer.task_result(message)
            last = cast(T, message)
        elif isinstance(message, Response):
            printer.response(message)
            last = cast(T, message)
        elif isinstance(message, UserInputRequestedEvent):
            if user_input_manager is not None:
                user_input_manager.notify_event_received(message.request_id)
        else:
            printer.message(message)
    if last is None:
        raise ValueError("No TaskResult or Response was processed.")
    return last
