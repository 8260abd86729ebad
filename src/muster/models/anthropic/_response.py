"""Reading Anthropic Messages API responses, whole or streamed, into :class:`CreateResult`."""

from __future__ import annotations

import json
import re
from typing import Any

from muster.core import FunctionCall
from muster.models._provider_call import BilledUsage, malformed
from muster.models._types import CreateResult, FinishReasons, RequestUsage

__all__ = ["AnthropicStreamParser", "parse_message", "strip_json_fence"]

_STOP_REASONS: dict[str | None, FinishReasons] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "function_calls",
    "refusal": "content_filter",
}
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n?```\s*$", re.DOTALL)


def strip_json_fence(text: str) -> str:
    """Drop a Markdown code fence Claude sometimes wraps around requested JSON."""
    match = _FENCE.match(text)
    return match.group(1) if match else text


def _billed(usage: Any, model: str | None, output_tokens: int | None = None) -> BilledUsage:
    def count(name: str) -> int:
        return int(getattr(usage, name, 0) or 0) if usage is not None else 0

    input_tokens = count("input_tokens")
    output = count("output_tokens") if output_tokens is None else output_tokens
    return BilledUsage(
        usage=RequestUsage(prompt_tokens=input_tokens, completion_tokens=output),
        billed_input_tokens=input_tokens,
        cached_prompt_tokens=count("cache_read_input_tokens"),
        cache_creation_tokens=count("cache_creation_input_tokens"),
        model=model,
    )


def _result(
    texts: list[str],
    calls: list[FunctionCall],
    thinking: list[str],
    stop_reason: str | None,
    usage: RequestUsage,
    *,
    json_requested: bool,
) -> CreateResult:
    text = "".join(texts)
    thought = "".join(thinking) or None
    if calls:
        if text:
            thought = f"{thought}\n{text}" if thought else text
        return CreateResult(
            finish_reason="function_calls", content=calls, usage=usage, cached=False, thought=thought
        )
    if json_requested:
        text = strip_json_fence(text)
    return CreateResult(
        finish_reason=_STOP_REASONS.get(stop_reason, "unknown"),
        content=text,
        usage=usage,
        cached=False,
        thought=thought,
    )


def parse_message(response: Any, *, provider: str, json_requested: bool) -> tuple[CreateResult, BilledUsage]:
    """A non-streamed ``Message`` as a result plus its billing."""
    blocks = getattr(response, "content", None)
    if not isinstance(blocks, list):
        raise malformed(provider, "the message has no content list")
    texts: list[str] = []
    thinking: list[str] = []
    calls: list[FunctionCall] = []
    for block in blocks:
        kind = getattr(block, "type", None)
        if kind == "text":
            texts.append(block.text)
        elif kind == "tool_use":
            calls.append(FunctionCall(id=block.id, name=block.name, arguments=json.dumps(block.input)))
        elif kind == "thinking":
            thinking.append(block.thinking)
    billed = _billed(getattr(response, "usage", None), getattr(response, "model", None))
    result = _result(
        texts,
        calls,
        thinking,
        getattr(response, "stop_reason", None),
        billed.usage,
        json_requested=json_requested,
    )
    return result, billed


class AnthropicStreamParser:
    """Assembles Messages API stream events: text passed on, tool input JSON accumulated."""

    def __init__(self, *, provider: str, json_requested: bool) -> None:
        self._provider = provider
        self._json_requested = json_requested
        self._texts: list[str] = []
        self._thinking: list[str] = []
        self._tools: dict[int, tuple[str, str, list[str]]] = {}
        self._start_usage: Any = None
        self._output_tokens: int | None = None
        self._stop_reason: str | None = None
        self._model: str | None = None
        self._started = False

    def feed(self, event: Any) -> list[str]:
        """Record one event; return its text delta (if any) for the caller."""
        kind = getattr(event, "type", None)
        if kind == "message_start":
            self._started = True
            self._start_usage = event.message.usage
            self._model = event.message.model
        elif kind == "content_block_start":
            block = event.content_block
            if block.type == "tool_use":
                self._tools[event.index] = (block.id, block.name, [])
        elif kind == "content_block_delta":
            return self._delta(event.index, event.delta)
        elif kind == "message_delta":
            self._stop_reason = event.delta.stop_reason or self._stop_reason
            if event.usage is not None and event.usage.output_tokens is not None:
                self._output_tokens = event.usage.output_tokens
        return []

    def _delta(self, index: int, delta: Any) -> list[str]:
        kind = delta.type
        if kind == "text_delta":
            self._texts.append(delta.text)
            return [delta.text] if delta.text else []
        if kind == "input_json_delta" and index in self._tools:
            self._tools[index][2].append(delta.partial_json)
        elif kind == "thinking_delta":
            self._thinking.append(delta.thinking)
        return []

    def finish(self) -> tuple[CreateResult, BilledUsage]:
        """The assembled result once ``message_stop`` has arrived."""
        if not self._started:
            raise malformed(self._provider, "the stream ended before message_start")
        calls = []
        for _, (call_id, name, parts) in sorted(self._tools.items()):
            arguments = "".join(parts) or "{}"
            calls.append(FunctionCall(id=call_id, name=name, arguments=arguments))
        billed = _billed(self._start_usage, self._model, self._output_tokens)
        result = _result(
            self._texts,
            calls,
            self._thinking,
            self._stop_reason,
            billed.usage,
            json_requested=self._json_requested,
        )
        return result, billed
