"""A deterministic chat-completion client that replays scripted replies (AutoGen: ``autogen_ext.models.replay``).

Tests, demos and benchmarks drive agents with it instead of a real model: every call
returns the next scripted reply, so a run is reproducible and costs nothing. It is on
the hot path of our benchmarks, so calls avoid copies and build log records only when
the event logger would emit them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import BaseModel

from muster.core import EVENT_LOGGER_NAME, CancellationToken, Component
from muster.core.instrumentation import open_span
from muster.core.internal import LazyClassAttribute, construct_trusted, lazy_exports

from ._model_client import ChatCompletionClient
from ._types import CreateResult, ModelFamily, ModelInfo, RequestUsage, validate_model_info

if TYPE_CHECKING:
    from muster.core.instrumentation import Span
    from muster.core.internal import Tool, ToolSchema

    from ._llm_message import LLMMessage
    from ._replay_config import ReplayChatCompletionClientConfig
    from ._replay_errors import ReplayExhaustedError

__all__ = [
    "ReplayChatCompletionClient",
    "ReplayChatCompletionClientConfig",
    "ReplayExhaustedError",
]

logger = logging.getLogger(EVENT_LOGGER_NAME)

_DEFAULT_CONTEXT_WINDOW = 10_000
"""Token budget ``remaining_tokens`` reports against (AutoGen's replay uses the same)."""


class _LLMCallRecord:
    """A structured record of one model call, rendered to JSON only if a handler formats it.

    Handlers that want the data read the attributes; ``str()`` gives a JSON line.
    """

    __slots__ = ("completion_tokens", "messages", "prompt_tokens", "response")

    def __init__(
        self,
        messages: Sequence[LLMMessage],
        response: CreateResult,
        prompt_tokens: int,
        completion_tokens: int,
    ) -> None:
        self.messages = messages
        self.response = response
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data."""
        return {
            "type": "LLMCall",
            "client": "ReplayChatCompletionClient",
            "messages": [message.model_dump(mode="json") for message in self.messages],
            "response": self.response.model_dump(mode="json"),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }

    def __str__(self) -> str:
        import json  # only here: a plain run never prints its call log (start-up, docs/performance.md)

        return json.dumps(self.to_dict())


_WORD_COUNT_CACHE_SIZE = 4096
"""Distinct texts whose word counts a client remembers before starting afresh."""


class _WordCounter:
    """Counts whitespace-separated words in message texts, remembering recent texts.

    Words are counted as AutoGen's replay counts them, so usage numbers asserted by
    ported tests match; non-text contents count as zero. An agent resends its whole
    history on every call, so counting is O(history) per call; remembering each text's
    count (str hashes are cached by Python) keeps long benchmark runs from re-splitting
    the same strings. The cache is bounded and simply cleared when full.
    """

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def text(self, text: str) -> int:
        """Words in one text."""
        count = self._counts.get(text)
        if count is None:
            if len(self._counts) >= _WORD_COUNT_CACHE_SIZE:
                self._counts.clear()
            count = self._counts[text] = len(text.split())
        return count

    def messages(self, messages: Sequence[LLMMessage]) -> int:
        """Words in the string contents of ``messages``."""
        total = 0
        for message in messages:
            content = message.content
            if isinstance(content, str):
                total += self.text(content)
        return total


class _UsageCounters:
    """Token totals since construction or the last reset: all calls, and non-cached calls."""

    __slots__ = ("actual_completion", "actual_prompt", "total_completion", "total_prompt")

    def __init__(self) -> None:
        self.total_prompt = self.total_completion = self.actual_prompt = self.actual_completion = 0


# The config model lives in its own module, loaded by the first dump or load of a spec; the
# error in another, loaded when a script runs out (it needs muster's exceptions, whose 15
# classes a run that succeeds never uses).
_EXPORTS = {
    "ReplayChatCompletionClientConfig": "muster.models._replay_config",
    "ReplayExhaustedError": "muster.models._replay_errors",
}
if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


class ReplayChatCompletionClient(ChatCompletionClient, Component["ReplayChatCompletionClientConfig"]):
    """A model client that returns scripted replies, one per call, in order.

    A reply is either a string, turned into a ``"stop"`` :class:`CreateResult`, or a
    ready-made :class:`CreateResult` (tool calls, a thought, a custom finish reason),
    returned as is. Prompt tokens are counted as whitespace-separated words of the
    messages' text; a string reply's completion tokens likewise, a ``CreateResult``'s
    are taken from its own ``usage``.

    Two choices differ from AutoGen's replay client, on purpose: string replies are
    ``cached=False`` (nothing came from a cache; :meth:`set_cached_bool_value` flips
    it), and :meth:`actual_usage` accumulates over non-cached calls, as the
    :class:`ChatCompletionClient` contract says, instead of reporting the last call.
    ``create_stream`` calls are recorded in :attr:`create_calls` as well.

    Args:
        chat_completions: The replies to replay.
        model_info: Capabilities to advertise. Defaults to no vision, no function
            calling, no JSON output, family ``"unknown"``, so agents that need tool
            calling or structured output must be given a ``model_info`` saying so.

    Raises:
        ReplayExhaustedError: (a ``ValueError``) a call was made after the last reply.
    """

    component_type = "replay_chat_completion_client"
    component_provider_override = "muster.models.replay.ReplayChatCompletionClient"
    if TYPE_CHECKING:
        component_config_schema = ReplayChatCompletionClientConfig
    else:  # defined when first read, by a dump or a load (start-up, docs/performance.md)
        component_config_schema = LazyClassAttribute(
            "muster.models._replay_config", "ReplayChatCompletionClientConfig"
        )

    def __init__(
        self, chat_completions: Sequence[str | CreateResult], model_info: ModelInfo | None = None
    ) -> None:
        self.chat_completions: list[str | CreateResult] = list(chat_completions)
        self.provided_message_count = len(self.chat_completions)
        if model_info is not None:
            validate_model_info(model_info)
            self._model_info = model_info
        else:
            self._model_info = ModelInfo(
                vision=False,
                function_calling=False,
                json_output=False,
                family=ModelFamily.UNKNOWN,
                structured_output=False,
            )
        self._total_available_tokens = _DEFAULT_CONTEXT_WINDOW
        self._current_index = 0
        self._cached = False
        # Usage as plain counters, and the call log and word counter made by the first call:
        # tests and services build many clients that answer few calls, or none.
        self._usage = _UsageCounters()
        self._calls: list[dict[str, Any]] | None = None
        self._word_counter: _WordCounter | None = None

    @property
    def create_calls(self) -> list[dict[str, Any]]:
        """The arguments of every ``create``/``create_stream`` call, oldest first.

        Each entry has ``messages``, ``tools``, ``tool_choice``, ``json_output``,
        ``extra_create_args`` and ``cancellation_token``; tests assert on them to check
        what an agent actually sent to the model.
        """
        calls = self._calls
        if calls is None:
            calls = self._calls = []
        return calls

    @property
    def _words(self) -> _WordCounter:
        counter = self._word_counter
        if counter is None:
            counter = self._word_counter = _WordCounter()
        return counter

    def set_cached_bool_value(self, value: bool) -> None:
        """Set the ``cached`` flag of the results built from string replies.

        Cached results count towards :meth:`total_usage` but not :meth:`actual_usage`.
        """
        self._cached = value

    def reset(self) -> None:
        """Rewind to the first reply and zero the usage counters (``create_calls`` is kept)."""
        self._current_index = 0
        self._usage = _UsageCounters()

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """Return the next scripted reply.

        Raises:
            asyncio.CancelledError: ``cancellation_token`` is already cancelled; the
                reply is not consumed.
            ReplayExhaustedError: no replies are left.
        """
        span = open_span("model_call", "ReplayChatCompletionClient")
        try:
            reply = self._next_reply(
                messages, tools, tool_choice, json_output, extra_create_args, cancellation_token
            )
            words = self._words
            prompt_tokens = words.messages(messages)
            if isinstance(reply, str):
                completion_tokens = words.text(reply)
                result = self._result_from_text(reply, prompt_tokens, completion_tokens)
            else:
                result = reply
                completion_tokens = reply.usage.completion_tokens
            self._finish_call(messages, result, prompt_tokens, completion_tokens)
        except BaseException as exc:
            if span is not None:
                span.close(exc)
            raise
        if span is not None:
            _describe(span, result, prompt_tokens, completion_tokens, streamed=False)
            span.close()
        return result

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Stream the next scripted reply.

        A string reply is streamed word by word, each word but the last followed by one
        space, then the final :class:`CreateResult`; a ``CreateResult`` reply is yielded
        alone. Cancelling the token between chunks stops the stream with
        ``asyncio.CancelledError``; the reply then still counts as consumed.
        """
        span = open_span("model_call", "ReplayChatCompletionClient")
        try:
            reply = self._next_reply(
                messages, tools, tool_choice, json_output, extra_create_args, cancellation_token
            )
            if isinstance(reply, str):
                words = reply.split()
                last = len(words) - 1
                for i, word in enumerate(words):
                    if cancellation_token is not None and cancellation_token.is_cancelled():
                        raise asyncio.CancelledError("replay stream cancelled")
                    yield word + " " if i < last else word
                prompt_tokens = self._words.messages(messages)
                completion_tokens = len(words)
                result = self._result_from_text(reply, prompt_tokens, completion_tokens)
            else:
                result = reply
                prompt_tokens = self._words.messages(messages)
                completion_tokens = reply.usage.completion_tokens
            self._finish_call(messages, result, prompt_tokens, completion_tokens)
        except BaseException as exc:
            if span is not None:
                span.close(exc)
            raise
        if span is not None:
            _describe(span, result, prompt_tokens, completion_tokens, streamed=True)
            span.close()
        yield result

    def _next_reply(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: Tool | Literal["auto", "required", "none"],
        json_output: bool | type[BaseModel] | None,
        extra_create_args: Mapping[str, Any],
        cancellation_token: CancellationToken | None,
    ) -> str | CreateResult:
        """Check the call may proceed, record it and consume the next reply."""
        if cancellation_token is not None and cancellation_token.is_cancelled():
            raise asyncio.CancelledError("replay call cancelled")
        if tool_choice != "auto":
            logger.warning("tool_choice parameter specified but is ignored in replay mode")
        if self._current_index >= len(self.chat_completions):
            from ._replay_errors import ReplayExhaustedError

            raise ReplayExhaustedError(self.provided_message_count)
        reply = self.chat_completions[self._current_index]
        self._current_index += 1
        self.create_calls.append(
            {
                "messages": messages,
                "tools": tools,
                "tool_choice": tool_choice,
                "json_output": json_output,
                "extra_create_args": extra_create_args,
                "cancellation_token": cancellation_token,
            }
        )
        return reply

    def _result_from_text(self, text: str, prompt_tokens: int, completion_tokens: int) -> CreateResult:
        # The result gets its own usage object so that callers mutating it cannot skew ours.
        return construct_trusted(
            CreateResult,
            finish_reason="stop",
            content=str(text),  # a str subclass would have been converted by validation
            usage=RequestUsage(prompt_tokens, completion_tokens),
            cached=bool(self._cached),
        )

    def _finish_call(
        self, messages: Sequence[LLMMessage], result: CreateResult, prompt_tokens: int, completion_tokens: int
    ) -> None:
        usage = self._usage
        usage.total_prompt += prompt_tokens
        usage.total_completion += completion_tokens
        if not result.cached:
            usage.actual_prompt += prompt_tokens
            usage.actual_completion += completion_tokens
        if logger.isEnabledFor(logging.INFO):
            logger.info(_LLMCallRecord(messages, result, prompt_tokens, completion_tokens))

    async def close(self) -> None:
        """Nothing to release: the client holds no connections."""

    def actual_usage(self) -> RequestUsage:
        """Tokens of every call whose result was not marked ``cached``, since the last reset."""
        return RequestUsage(self._usage.actual_prompt, self._usage.actual_completion)

    def total_usage(self) -> RequestUsage:
        """Tokens of every call since construction or the last :meth:`reset`."""
        return RequestUsage(self._usage.total_prompt, self._usage.total_completion)

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        """Whitespace-separated words in the messages' text (tool schemas are not counted)."""
        return self._words.messages(messages)

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        """What is left of a 10,000-token budget after the usage so far (never negative).

        Like AutoGen's replay client it ignores ``messages``: the budget shrinks with use.
        """
        used = self._usage.total_prompt + self._usage.total_completion
        return max(0, self._total_available_tokens - used)

    @property
    def model_info(self) -> ModelInfo:
        """The capabilities given at construction, or the plain-text default."""
        return self._model_info

    def _to_config(self) -> ReplayChatCompletionClientConfig:
        from ._replay_config import ReplayChatCompletionClientConfig

        return ReplayChatCompletionClientConfig(
            chat_completions=list(self.chat_completions), model_info=self._model_info
        )

    @classmethod
    def _from_config(cls, config: ReplayChatCompletionClientConfig) -> Self:
        return cls(chat_completions=config.chat_completions, model_info=config.model_info)


def _describe(
    span: Span, result: CreateResult, prompt_tokens: int, completion_tokens: int, *, streamed: bool
) -> None:
    """Put a replayed call's usage and answer on its span (only when a recorder is active)."""
    content = result.content
    answer = content if isinstance(content, str) else ", ".join(call.name for call in content)
    span.set(provider="replay", model="replay", streamed=streamed, attempts=1, cached=result.cached)
    span.set(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
    span.set(finish_reason=result.finish_reason, response=answer)
