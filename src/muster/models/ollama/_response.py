"""Reading Ollama's chat responses, whole or streamed, into :class:`CreateResult`."""

from __future__ import annotations

import json
import re
from typing import Any

from muster.core import FunctionCall
from muster.models import CreateResult, FinishReasons, RequestUsage
from muster.models._provider_call import BilledUsage, malformed

__all__ = ["OllamaStreamParser", "parse_chat"]

_THINK = re.compile(r"^\s*<think>(.*?)</think>\s*", re.DOTALL)


def split_think_tags(text: str) -> tuple[str | None, str]:
    """R1-style models served without ``think`` write their reasoning in ``<think>`` tags."""
    match = _THINK.match(text)
    if match is None:
        return None, text
    return match.group(1).strip() or None, text[match.end() :]


def _usage(response: Any) -> BilledUsage:
    usage = RequestUsage(
        prompt_tokens=int(getattr(response, "prompt_eval_count", None) or 0),
        completion_tokens=int(getattr(response, "eval_count", None) or 0),
    )
    return BilledUsage(
        usage=usage, billed_input_tokens=usage.prompt_tokens, model=getattr(response, "model", None)
    )


def _calls(tool_calls: Any, first_index: int) -> list[FunctionCall]:
    # Ollama gives calls no ids; number them so results can be matched to calls.
    calls: list[FunctionCall] = []
    for offset, call in enumerate(tool_calls or []):
        arguments = call.function.arguments
        text = arguments if isinstance(arguments, str) else json.dumps(dict(arguments or {}))
        calls.append(FunctionCall(id=f"call_{first_index + offset}", name=call.function.name, arguments=text))
    return calls


def _result(
    content: str, thinking: str | None, calls: list[FunctionCall], done_reason: Any, think_tags: bool
) -> CreateResult:
    thought = thinking or None
    if think_tags and not thought:
        thought, content = split_think_tags(content)
    if calls:
        if content:
            thought = "\n".join(t for t in (thought, content) if t)
        return CreateResult(
            finish_reason="function_calls",
            content=calls,
            usage=RequestUsage(0, 0),
            cached=False,
            thought=thought,
        )
    finish: FinishReasons = "length" if done_reason == "length" else "stop"
    return CreateResult(
        finish_reason=finish, content=content, usage=RequestUsage(0, 0), cached=False, thought=thought
    )


def parse_chat(response: Any, *, think_tags: bool = False) -> tuple[CreateResult, BilledUsage]:
    """A complete (non-streamed) chat response."""
    message = response.message
    billed = _usage(response)
    result = _result(
        message.content or "", getattr(message, "thinking", None), _calls(message.tool_calls, 0),
        response.done_reason, think_tags,
    )  # fmt: skip
    return result.model_copy(update={"usage": billed.usage}), billed


class OllamaStreamParser:
    """Collects a streamed chat: text chunks pass through, tool calls and usage come at the end."""

    def __init__(self, *, think_tags: bool = False) -> None:
        self._think_tags = think_tags
        self._text: list[str] = []
        self._thinking: list[str] = []
        self._calls: list[FunctionCall] = []
        self._last: Any = None

    def feed(self, part: Any) -> list[str]:
        """One NDJSON line of the stream."""
        self._last = part
        message = part.message
        if getattr(message, "thinking", None):
            self._thinking.append(message.thinking)
        if message.tool_calls:
            self._calls.extend(_calls(message.tool_calls, len(self._calls)))
        if message.content:
            self._text.append(message.content)
            return [message.content]
        return []

    def finish(self) -> tuple[CreateResult, BilledUsage]:
        """The result once the last line (``done: true``) has arrived."""
        if self._last is None or not getattr(self._last, "done", False):
            raise malformed("ollama", "the stream ended before its final 'done' line")
        billed = _usage(self._last)
        result = _result(
            "".join(self._text),
            "".join(self._thinking),
            self._calls,
            self._last.done_reason,
            self._think_tags,
        )
        return result.model_copy(update={"usage": billed.usage}), billed
