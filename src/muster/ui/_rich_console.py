"""RichConsole: a run's stream as panels in the terminal (AutoGen: ``autogen_ext.ui.RichConsole``).

Needs the ``rich`` extra (``pip install 'muster[rich]'``). Same contract as
:func:`~muster.ui.Console`: it consumes ``run_stream`` / ``on_messages_stream`` and
returns the final TaskResult or Response; only the drawing differs.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from typing import TypeVar, cast

from rich.console import Console as _RichTerminal
from rich.panel import Panel
from rich.text import Text

from muster.base import Response, TaskResult
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    ModelClientStreamingChunkEvent,
    MultiModalMessage,
    UserInputRequestedEvent,
)
from muster.models import RequestUsage

from ._console import UserInputManager

__all__ = ["RichConsole"]

T = TypeVar("T", bound=TaskResult | Response)

_USER_COLOR = "bright_green"
_AGENT_COLORS = ("bright_blue", "magenta", "cyan", "yellow", "bright_red", "green")


class _Panels:
    """Draws one panel per message, colours stable per source, and the optional summary."""

    def __init__(self, terminal: _RichTerminal, output_stats: bool) -> None:
        self.terminal = terminal
        self.output_stats = output_stats
        self.colors: dict[str, str] = {"user": _USER_COLOR}
        self.total = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self.start = time.time()
        self.streaming = False

    def _color(self, source: str) -> str:
        if source not in self.colors:
            self.colors[source] = _AGENT_COLORS[(len(self.colors) - 1) % len(_AGENT_COLORS)]
        return self.colors[source]

    def _text(self, message: BaseAgentEvent | BaseChatMessage) -> str:
        if isinstance(message, MultiModalMessage):
            return message.to_text(iterm=False)
        return message.to_text()

    def panel(self, message: BaseAgentEvent | BaseChatMessage) -> None:
        if isinstance(message, ModelClientStreamingChunkEvent):
            self.terminal.print(Text(message.to_text()), end="")
            self.streaming = True
            return
        if self.streaming:
            self.terminal.print()  # the chunks showed the text already; end their line
            self.streaming = False
        is_chat = isinstance(message, BaseChatMessage)
        title = message.source if is_chat else f"{type(message).__name__} ({message.source})"
        body = self._text(message)
        if message.models_usage is not None:
            self.total.prompt_tokens += message.models_usage.prompt_tokens
            self.total.completion_tokens += message.models_usage.completion_tokens
            if self.output_stats:
                usage = message.models_usage
                body += (
                    f"\n[Prompt tokens: {usage.prompt_tokens}, Completion tokens: {usage.completion_tokens}]"
                )
        style = self._color(message.source) if is_chat else "dim"
        self.terminal.print(Panel(Text(body), title=title, title_align="left", border_style=style))

    def summary(self, lines: list[str]) -> None:
        if not self.output_stats:
            return
        lines += [
            f"Total prompt tokens: {self.total.prompt_tokens}",
            f"Total completion tokens: {self.total.completion_tokens}",
            f"Duration: {time.time() - self.start:.2f} seconds",
        ]
        self.terminal.print(
            Panel(Text("\n".join(lines)), title="Summary", title_align="left", border_style="white")
        )


async def RichConsole(  # noqa: N802 - AutoGen's public name is a function spelled like a class
    stream: AsyncGenerator[BaseAgentEvent | BaseChatMessage | T, None],
    *,
    no_inline_images: bool = False,
    output_stats: bool = False,
    user_input_manager: UserInputManager | None = None,
    console: _RichTerminal | None = None,
) -> T:
    """Draw every message of ``stream`` in a panel as it arrives; return the final result.

    Args:
        stream: From ``run_stream`` (ends with a TaskResult) or ``on_messages_stream``
            (ends with a Response).
        no_inline_images: Accepted for AutoGen compatibility; images are always drawn as
            ``<image>`` placeholders.
        output_stats: Also show token usage per message and a summary panel at the end.
        user_input_manager: Releases UserProxyAgent prompts in step with the output.
        console: The ``rich`` console to draw on (muster addition); a new one on stdout
            by default.

    Raises:
        ValueError: the stream ended without a TaskResult or Response.
    """
    panels = _Panels(console or _RichTerminal(), output_stats)
    last: T | None = None
    async for message in stream:
        if isinstance(message, TaskResult):
            panels.summary(
                [f"Number of messages: {len(message.messages)}", f"Finish reason: {message.stop_reason}"]
            )
            last = cast(T, message)
        elif isinstance(message, Response):
            panels.panel(message.chat_message)
            panels.summary([f"Number of inner messages: {len(message.inner_messages or ())}"])
            last = cast(T, message)
        elif isinstance(message, UserInputRequestedEvent):
            if user_input_manager is not None:
                user_input_manager.notify_event_received(message.request_id)
        else:
            panels.panel(message)
    if last is None:
        raise ValueError("No TaskResult or Response was processed.")
    return last
