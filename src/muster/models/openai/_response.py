"""Reading chat-completions responses, whole or streamed, into :class:`CreateResult`."""

from __future__ import annotations

import re
from typing import Any

from muster.core import FunctionCall
from muster.models._provider_call import BilledUsage, malformed
from muster.models._types import (
    ChatCompletionTokenLogprob,
    CreateResult,
    FinishReasons,
    RequestUsage,
    TopLogprob,
)

__all__ = ["OpenAIStreamParser", "parse_completion", "split_think_tags"]

_FINISH_REASONS: dict[str | None, FinishReasons] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "function_calls",
    "function_call": "function_calls",
    "content_filter": "content_filter",
}
_THINK = re.compile(r"^\s*<think>(.*?)</think>\s*", re.DOTALL)


def split_think_tags(text: str) -> tuple[str | None, str]:
    """Split ``<think>...</think>`` reasoning (R1-style models) off the start of ``text``."""
    match = _THINK.match(text)
    if match is None:
        return None, text
    return match.group(1).strip(), text[match.end() :]


def _optional_attr(obj: Any, name: str) -> Any:
    """``getattr(obj, name, None)`` for a field the SDK does not declare (``reasoning_content``).

    On the SDK's pydantic models a missing attribute is found missing only after pydantic's
    ``__getattr__`` raises and ``getattr`` catches an AttributeError, which costs more than
    the rest of reading a response; undeclared fields a server sends live in the model's
    extras, so look there. Anything else (a newer SDK declaring the field, a plain object)
    takes the ordinary path.
    """
    extras = getattr(obj, "__pydantic_extra__", None)
    if isinstance(extras, dict):  # a pydantic model that keeps undeclared fields
        fields = obj.__dict__
        return fields[name] if name in fields else extras.get(name)
    return getattr(obj, name, None)


def _billed(usage: Any, model: str | None) -> BilledUsage:
    prompt = int(getattr(usage, "prompt_tokens", 0) or 0) if usage is not None else 0
    completion = int(getattr(usage, "completion_tokens", 0) or 0) if usage is not None else 0
    details = getattr(usage, "prompt_tokens_details", None) if usage is not None else None
    cached = int(getattr(details, "cached_tokens", 0) or 0) if details is not None else 0
    return BilledUsage(
        usage=RequestUsage(prompt_tokens=prompt, completion_tokens=completion),
        billed_input_tokens=max(0, prompt - cached),
        cached_prompt_tokens=cached,
        model=model,
    )


def _logprobs(choice: Any) -> list[ChatCompletionTokenLogprob] | None:
    logprobs = getattr(choice, "logprobs", None)
    content = getattr(logprobs, "content", None) if logprobs is not None else None
    if not content:
        return None
    return [
        ChatCompletionTokenLogprob(
            token=item.token,
            logprob=item.logprob,
            top_logprobs=[TopLogprob(logprob=t.logprob, bytes=t.bytes) for t in (item.top_logprobs or [])],
            bytes=item.bytes,
        )
        for item in content
    ]


def _result(
    text: str | None,
    calls: list[FunctionCall],
    reasoning: str | None,
    finish: str | None,
    *,
    think_tags: bool,
) -> tuple[str | list[FunctionCall], str | None, FinishReasons]:
    thought = reasoning or None
    if calls:
        # Text alongside tool calls is the model thinking aloud before acting.
        if text:
            thought = f"{thought}\n{text}" if thought else text
        return calls, thought, "function_calls"
    content = text or ""
    if think_tags:
        tagged, content = split_think_tags(content)
        thought = thought or tagged
    return content, thought, _FINISH_REASONS.get(finish, "unknown")


def parse_completion(
    response: Any, *, provider: str, think_tags: bool = False
) -> tuple[CreateResult, BilledUsage]:
    """A non-streamed ``ChatCompletion`` as a result plus its billing."""
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise malformed(provider, "no choices in the completion")
    choice = choices[0]
    message = getattr(choice, "message", None)
    if message is None:
        raise malformed(provider, "the choice has no message")
    calls = [
        FunctionCall(id=call.id, name=call.function.name, arguments=call.function.arguments or "")
        for call in (getattr(message, "tool_calls", None) or [])
    ]
    content, thought, finish = _result(
        message.content,
        calls,
        _optional_attr(message, "reasoning_content"),
        choice.finish_reason,
        think_tags=think_tags,
    )
    billed = _billed(getattr(response, "usage", None), getattr(response, "model", None))
    result = CreateResult(
        finish_reason=finish,
        content=content,
        usage=billed.usage,
        cached=False,
        logprobs=_logprobs(choice),
        thought=thought,
    )
    return result, billed


class _PartialCall:
    __slots__ = ("arguments", "id", "name")

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.arguments: list[str] = []


class OpenAIStreamParser:
    """Assembles ``ChatCompletionChunk`` events: text is passed on, tool calls accumulated."""

    def __init__(self, *, provider: str, think_tags: bool = False) -> None:
        self._provider = provider
        self._think_tags = think_tags
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, _PartialCall] = {}
        self._finish: str | None = None
        self._usage: Any = None
        self._model: str | None = None
        self._logprobs: list[ChatCompletionTokenLogprob] = []

    def feed(self, chunk: Any) -> list[str]:
        """Record one chunk; return its text delta (if any) for the caller."""
        if getattr(chunk, "usage", None) is not None:
            self._usage = chunk.usage
        self._model = getattr(chunk, "model", None) or self._model
        choices = getattr(chunk, "choices", None)
        if not choices:
            return []
        choice = choices[0]
        if choice.finish_reason is not None:
            self._finish = choice.finish_reason
        logprobs = _logprobs(choice)
        if logprobs:
            self._logprobs.extend(logprobs)
        delta = choice.delta
        if delta is None:
            return []
        reasoning = _optional_attr(delta, "reasoning_content")
        if reasoning:
            self._reasoning.append(reasoning)
        for call in delta.tool_calls or []:
            partial = self._calls.setdefault(call.index, _PartialCall())
            if call.id:
                partial.id = call.id
            if call.function is not None:
                if call.function.name:
                    partial.name += call.function.name
                if call.function.arguments:
                    partial.arguments.append(call.function.arguments)
        if delta.content:
            self._text.append(delta.content)
            return [delta.content]
        return []

    def finish(self) -> tuple[CreateResult, BilledUsage]:
        """The assembled result; tool calls in the order the model indexed them."""
        if self._finish is None and not self._text and not self._calls:
            raise malformed(self._provider, "the stream ended before any choice arrived")
        calls = [
            FunctionCall(id=p.id, name=p.name, arguments="".join(p.arguments))
            for _, p in sorted(self._calls.items())
        ]
        content, thought, finish = _result(
            "".join(self._text),
            calls,
            "".join(self._reasoning) or None,
            self._finish,
            think_tags=self._think_tags,
        )
        billed = _billed(self._usage, self._model)
        result = CreateResult(
            finish_reason=finish,
            content=content,
            usage=billed.usage,
            cached=False,
            logprobs=self._logprobs or None,
            thought=thought,
        )
        return result, billed
