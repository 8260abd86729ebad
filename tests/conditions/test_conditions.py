"""Each built-in condition: what fires it, its exact stop message, the latch and reset."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from muster.base import TerminatedException, TerminationCondition
from muster.conditions import (
    ExternalTermination,
    FunctionalTermination,
    FunctionCallTermination,
    HandoffTermination,
    MaxMessageTermination,
    SourceMatchTermination,
    StopMessageTermination,
    TextMentionTermination,
    TextMessageTermination,
    TimeoutTermination,
    TokenUsageTermination,
)
from muster.core import FunctionCall
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    StopMessage,
    TextMessage,
    ThoughtEvent,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
)
from muster.models import FunctionExecutionResult, RequestUsage


def text(content: str, source: str = "agent", usage: RequestUsage | None = None) -> TextMessage:
    return TextMessage(content=content, source=source, models_usage=usage)


async def assert_latched(
    condition: TerminationCondition, batch: Sequence[BaseAgentEvent | BaseChatMessage]
) -> None:
    """After firing: terminated, a second call raises, reset re-arms it."""
    assert condition.terminated
    with pytest.raises(TerminatedException):
        await condition(batch)
    await condition.reset()
    assert not condition.terminated


async def test_stop_message_termination() -> None:
    condition = StopMessageTermination()
    assert await condition([text("hello")]) is None
    stop = await condition([text("a"), StopMessage(content="bye", source="agent")])
    assert stop is not None
    assert (stop.content, stop.source) == ("Stop message received", "StopMessageTermination")
    await assert_latched(condition, [])
    assert await condition([text("again")]) is None


async def test_max_message_counts_chat_messages_across_batches() -> None:
    condition = MaxMessageTermination(3)
    assert await condition([text("1")]) is None
    assert await condition([ThoughtEvent(content="hmm", source="agent")]) is None
    assert not condition.terminated
    stop = await condition([text("2"), text("3"), text("4")])
    assert stop is not None
    assert stop.content == "Maximum number of messages 3 reached, current message count: 4"
    assert stop.source == "MaxMessageTermination"
    await assert_latched(condition, [text("x")])
    assert await condition([text("1")]) is None


async def test_max_message_can_count_events() -> None:
    condition = MaxMessageTermination(2, include_agent_event=True)
    stop = await condition([text("1"), ThoughtEvent(content="hmm", source="agent")])
    assert stop is not None
    assert stop.content.endswith("current message count: 2")


async def test_max_message_zero_is_terminated_from_the_start() -> None:
    condition = MaxMessageTermination(0)
    assert condition.terminated
    with pytest.raises(TerminatedException):
        await condition([])


async def test_text_mention_checks_events_and_sources() -> None:
    condition = TextMentionTermination("TERMINATE", sources=["critic"])
    assert await condition([text("TERMINATE", source="writer")]) is None
    assert await condition([text("not yet", source="critic")]) is None
    stop = await condition([ThoughtEvent(content="I will TERMINATE now", source="critic")])
    assert stop is not None
    assert (stop.content, stop.source) == ("Text 'TERMINATE' mentioned", "TextMentionTermination")
    await assert_latched(condition, [])


async def test_text_mention_without_sources_matches_anyone() -> None:
    condition = TextMentionTermination("done")
    stop = await condition([text("we are done here", source="whoever")])
    assert stop is not None


async def test_text_message_termination_any_source_and_filtered() -> None:
    any_source = TextMessageTermination()
    assert (
        await any_source([ThoughtEvent(content="x", source="a"), StopMessage(content="s", source="a")])
        is None
    )
    stop = await any_source([text("hi", source="a")])
    assert stop is not None
    assert (stop.content, stop.source) == ("Text message received from 'a'", "TextMessageTermination")

    only_b = TextMessageTermination(source="b")
    assert await only_b([text("hi", source="a")]) is None
    stop = await only_b([text("hi", source="a"), text("yo", source="b")])
    assert stop is not None
    assert stop.content == "Text message received from 'b'"


async def test_source_match_termination() -> None:
    condition = SourceMatchTermination(["critic", "judge"])
    assert await condition([]) is None
    assert await condition([text("x", source="writer")]) is None
    stop = await condition([ThoughtEvent(content="...", source="judge")])
    assert stop is not None
    assert (stop.content, stop.source) == ("'judge' answered", "SourceMatchTermination")
    await assert_latched(condition, [])


async def test_token_usage_termination_each_limit() -> None:
    with pytest.raises(ValueError, match="At least one of"):
        TokenUsageTermination()

    total = TokenUsageTermination(max_total_token=10)
    assert (
        await total([text("a", usage=RequestUsage(prompt_tokens=3, completion_tokens=2)), text("b")]) is None
    )
    stop = await total([text("c", usage=RequestUsage(prompt_tokens=4, completion_tokens=1))])
    assert stop is not None
    assert stop.content == (
        "Token usage limit reached, total token count: 10, prompt token count: 7, completion token count: 3."
    )
    assert stop.source == "TokenUsageTermination"
    await assert_latched(total, [])
    assert await total([text("c", usage=RequestUsage(prompt_tokens=4, completion_tokens=1))]) is None

    prompt = TokenUsageTermination(max_prompt_token=5)
    assert await prompt([text("a", usage=RequestUsage(prompt_tokens=5, completion_tokens=0))]) is not None

    completion = TokenUsageTermination(max_completion_token=5)
    assert await completion([text("a", usage=RequestUsage(prompt_tokens=100, completion_tokens=4))]) is None
    assert await completion([text("a", usage=RequestUsage(prompt_tokens=0, completion_tokens=1))]) is not None


async def test_handoff_termination_matches_target_only() -> None:
    condition = HandoffTermination("user")
    assert await condition([HandoffMessage(target="other", content="x", source="a")]) is None
    stop = await condition([HandoffMessage(target="user", content="over to you", source="planner")])
    assert stop is not None
    assert (stop.content, stop.source) == ("Handoff to user from planner detected.", "HandoffTermination")
    await assert_latched(condition, [])


async def test_function_call_termination_needs_an_execution_not_a_request() -> None:
    condition = FunctionCallTermination("approve")
    request = ToolCallRequestEvent(content=[FunctionCall(id="1", name="approve", arguments="{}")], source="a")
    assert await condition([request]) is None
    other = ToolCallExecutionEvent(
        content=[FunctionExecutionResult(content="ok", name="lookup", call_id="0")], source="a"
    )
    assert await condition([other]) is None
    done = ToolCallExecutionEvent(
        content=[
            FunctionExecutionResult(content="ok", name="lookup", call_id="0"),
            FunctionExecutionResult(content="ok", name="approve", call_id="1"),
        ],
        source="a",
    )
    stop = await condition([done])
    assert stop is not None
    assert (stop.content, stop.source) == ("Function 'approve' was executed.", "FunctionCallTermination")
    await assert_latched(condition, [])


async def test_external_termination_fires_on_next_check_after_set() -> None:
    condition = ExternalTermination()
    assert await condition([text("x")]) is None
    condition.set()
    assert not condition.terminated  # set() only requests; the next check fires
    stop = await condition([])
    assert stop is not None
    assert (stop.content, stop.source) == ("External termination requested", "ExternalTermination")
    await assert_latched(condition, [])
    assert await condition([]) is None  # reset also clears the request


async def test_timeout_termination_uses_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr("muster.conditions._limits.time.monotonic", lambda: now[0])
    condition = TimeoutTermination(5)
    now[0] += 4.9
    assert await condition([]) is None
    now[0] += 0.1
    stop = await condition([])
    assert stop is not None
    assert (stop.content, stop.source) == ("Timeout of 5 seconds reached", "TimeoutTermination")
    await assert_latched(condition, [])
    assert await condition([]) is None  # reset restarted the clock
    now[0] += 5
    assert await condition([]) is not None


@pytest.mark.parametrize("is_async", [False, True])
async def test_functional_termination_sync_and_async(is_async: bool) -> None:
    seen: list[int] = []

    def predicate(messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> bool:
        seen.append(len(messages))
        return any(isinstance(m, TextMessage) and m.content == "stop" for m in messages)

    async def async_predicate(messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> bool:
        await asyncio.sleep(0)
        return predicate(messages)

    condition = FunctionalTermination(async_predicate if is_async else predicate)
    assert await condition([text("go"), text("on")]) is None
    stop = await condition([text("stop")])
    assert stop is not None
    assert (stop.content, stop.source) == ("Functional termination condition met", "FunctionalTermination")
    assert seen == [2, 1]
    await assert_latched(condition, [])


async def test_functional_termination_fires_only_on_literal_true() -> None:
    condition = FunctionalTermination(lambda messages: messages)  # type: ignore[arg-type,return-value]
    assert await condition([text("truthy but not True")]) is None


def test_functional_termination_cannot_be_dumped() -> None:
    with pytest.raises(NotImplementedError):
        FunctionalTermination(lambda messages: True).dump_component()
