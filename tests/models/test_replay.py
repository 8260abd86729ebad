"""Behaviour of the scripted replay client that tests and benchmarks drive agents with."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muster.core import EVENT_LOGGER_NAME, CancellationToken, ComponentModel, FunctionCall
from muster.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    ModelInfo,
    RequestUsage,
    SystemMessage,
    UserMessage,
)
from muster.models.replay import ReplayChatCompletionClient, ReplayExhaustedError

MESSAGES = [SystemMessage(content="be brief"), UserMessage(content="what is two plus two", source="user")]
TOOL_RESULT = CreateResult(
    finish_reason="function_calls",
    content=[FunctionCall(id="call-1", name="add", arguments='{"a": 2, "b": 2}')],
    usage=RequestUsage(prompt_tokens=99, completion_tokens=7),
    cached=False,
    thought="I should add",
)
FULL_INFO = ModelInfo(
    vision=True, function_calling=True, json_output=True, family="gpt-4o", structured_output=True
)


async def test_create_replays_strings_in_order_as_stop_results() -> None:
    client = ReplayChatCompletionClient(["four", "five six"])
    first = await client.create(MESSAGES)
    second = await client.create(MESSAGES)
    assert (first.content, second.content) == ("four", "five six")
    assert first.finish_reason == "stop"
    assert first.cached is False
    # prompt: "be brief" (2) + "what is two plus two" (5)
    assert first.usage == RequestUsage(prompt_tokens=7, completion_tokens=1)
    assert second.usage == RequestUsage(prompt_tokens=7, completion_tokens=2)


async def test_running_past_the_end_raises_a_value_error_naming_the_count() -> None:
    client = ReplayChatCompletionClient(["only"])
    await client.create(MESSAGES)
    with pytest.raises(ValueError, match="No more mock responses available") as info:
        await client.create(MESSAGES)
    assert isinstance(info.value, ReplayExhaustedError)
    assert info.value.provided == 1
    with pytest.raises(ReplayExhaustedError):
        async for _ in client.create_stream(MESSAGES):
            pass


async def test_create_result_items_are_returned_with_tool_calls_intact() -> None:
    client = ReplayChatCompletionClient([TOOL_RESULT, "done"], model_info=FULL_INFO)
    result = await client.create(MESSAGES)
    assert result is TOOL_RESULT
    assert isinstance(result.content, list)
    assert result.content[0].name == "add"
    # completion tokens come from the item, prompt tokens from the messages
    assert client.total_usage() == RequestUsage(prompt_tokens=7, completion_tokens=7)


async def test_structured_json_content_is_replayed_verbatim() -> None:
    payload = json.dumps({"answer": 4, "reason": "arithmetic"})
    client = ReplayChatCompletionClient([payload])
    result = await client.create(MESSAGES, json_output=True)
    assert isinstance(result.content, str)
    assert json.loads(result.content) == {"answer": 4, "reason": "arithmetic"}
    assert client.create_calls[0]["json_output"] is True


async def test_stream_yields_words_then_the_final_result() -> None:
    client = ReplayChatCompletionClient(["Hello  there,\nworld"])
    chunks = [chunk async for chunk in client.create_stream(MESSAGES)]
    assert chunks[:-1] == ["Hello ", "there, ", "world"]
    final = chunks[-1]
    assert isinstance(final, CreateResult)
    assert final.content == "Hello  there,\nworld"
    assert final.usage.completion_tokens == 3


async def test_stream_of_a_create_result_yields_only_the_result() -> None:
    client = ReplayChatCompletionClient([TOOL_RESULT])
    chunks = [chunk async for chunk in client.create_stream(MESSAGES)]
    assert chunks == [TOOL_RESULT]


async def test_usage_accumulates_and_cached_results_are_excluded_from_actual_usage() -> None:
    client = ReplayChatCompletionClient(["a b", "c", "d e f"])
    await client.create(MESSAGES)
    client.set_cached_bool_value(True)
    cached = await client.create(MESSAGES)
    assert cached.cached is True
    client.set_cached_bool_value(False)
    async for _ in client.create_stream(MESSAGES):
        pass
    assert client.total_usage() == RequestUsage(prompt_tokens=21, completion_tokens=6)
    assert client.actual_usage() == RequestUsage(prompt_tokens=14, completion_tokens=5)
    assert client.remaining_tokens(MESSAGES) == 10_000 - 27


async def test_reset_rewinds_and_zeroes_usage_but_keeps_call_log() -> None:
    client = ReplayChatCompletionClient(["one", "two"])
    await client.create(MESSAGES)
    await client.create(MESSAGES)
    client.reset()
    assert client.total_usage() == RequestUsage(0, 0)
    assert client.actual_usage() == RequestUsage(0, 0)
    assert (await client.create(MESSAGES)).content == "one"
    assert len(client.create_calls) == 3


async def test_returned_usage_cannot_corrupt_the_counters() -> None:
    client = ReplayChatCompletionClient(["x y"])
    result = await client.create(MESSAGES)
    result.usage.completion_tokens = 1000
    client.total_usage().prompt_tokens = 1000
    assert client.total_usage() == RequestUsage(prompt_tokens=7, completion_tokens=2)


async def test_create_calls_record_what_was_sent() -> None:
    client = ReplayChatCompletionClient(["ok"])
    token = CancellationToken()
    await client.create(MESSAGES, extra_create_args={"temperature": 0}, cancellation_token=token)
    (call,) = client.create_calls
    assert call["messages"] == MESSAGES
    assert call["extra_create_args"] == {"temperature": 0}
    assert call["cancellation_token"] is token
    assert call["tools"] == []
    assert call["tool_choice"] == "auto"


async def test_a_cancelled_token_stops_create_without_consuming_a_reply() -> None:
    client = ReplayChatCompletionClient(["first"])
    token = CancellationToken()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await client.create(MESSAGES, cancellation_token=token)
    assert (await client.create(MESSAGES)).content == "first"


async def test_cancelling_mid_stream_stops_the_stream() -> None:
    client = ReplayChatCompletionClient(["one two three four"])
    token = CancellationToken()
    seen: list[str | CreateResult] = []
    with pytest.raises(asyncio.CancelledError):
        async for chunk in client.create_stream(MESSAGES, cancellation_token=token):
            seen.append(chunk)
            token.cancel()
    assert seen == ["one "]


def test_token_counting_counts_words_of_text_contents_only() -> None:
    client = ReplayChatCompletionClient([])
    messages = [
        *MESSAGES,
        AssistantMessage(content=[FunctionCall(id="1", name="f", arguments="{}")], source="bot"),
        FunctionExecutionResultMessage(content=[FunctionExecutionResult(content="4", name="f", call_id="1")]),
        AssistantMessage(content="it is four", source="bot"),
    ]
    assert client.count_tokens(messages) == 10


def test_default_model_info_is_a_plain_text_model() -> None:
    info = ReplayChatCompletionClient([]).model_info
    assert info == {
        "vision": False,
        "function_calling": False,
        "json_output": False,
        "family": "unknown",
        "structured_output": False,
    }
    assert ReplayChatCompletionClient([], model_info=FULL_INFO).model_info == FULL_INFO


def test_incomplete_model_info_is_rejected() -> None:
    with pytest.raises(ValueError, match="family"):
        ReplayChatCompletionClient([], model_info={"vision": False})  # type: ignore[typeddict-item]


def test_component_spec_round_trips_through_json() -> None:
    client = ReplayChatCompletionClient(["plain", TOOL_RESULT], model_info=FULL_INFO)
    spec = client.dump_component()
    assert spec.provider == "muster.models.replay.ReplayChatCompletionClient"
    assert spec.component_type == "replay_chat_completion_client"
    reloaded = ChatCompletionClient.load_component(json.loads(spec.model_dump_json()))
    assert isinstance(reloaded, ReplayChatCompletionClient)
    assert reloaded.chat_completions == ["plain", TOOL_RESULT]
    assert reloaded.model_info == FULL_INFO


def test_autogen_provider_path_loads() -> None:
    spec = ComponentModel(
        provider="autogen_ext.models.replay.ReplayChatCompletionClient",
        component_type="replay_chat_completion_client",
        config={"chat_completions": ["hi"]},
    )
    client = ReplayChatCompletionClient.load_component(spec)
    assert client.chat_completions == ["hi"]


async def test_call_record_is_logged_only_when_info_is_enabled(caplog: pytest.LogCaptureFixture) -> None:
    client = ReplayChatCompletionClient(["quiet", "loud reply"])
    with caplog.at_level(logging.WARNING, logger=EVENT_LOGGER_NAME):
        await client.create(MESSAGES)
    assert caplog.records == []
    with caplog.at_level(logging.INFO, logger=EVENT_LOGGER_NAME):
        await client.create(MESSAGES)
    (record,) = caplog.records
    data = json.loads(record.getMessage())
    assert data["type"] == "LLMCall"
    assert data["response"]["content"] == "loud reply"
    assert (data["prompt_tokens"], data["completion_tokens"]) == (7, 2)
    assert data["messages"][1]["content"] == "what is two plus two"


@given(st.lists(st.text(max_size=40), max_size=5))
def test_stream_chunks_join_to_the_words_of_each_reply(replies: list[str]) -> None:
    async def run() -> None:
        client = ReplayChatCompletionClient(replies)
        for reply in replies:
            chunks = [c async for c in client.create_stream(MESSAGES)]
            *text, final = chunks
            assert isinstance(final, CreateResult) and final.content == reply
            assert "".join(str(c) for c in text) == " ".join(reply.split())
            assert final.usage.completion_tokens == len(text)

    asyncio.run(run())


@given(
    st.lists(
        st.text(max_size=30) | st.builds(lambda n: TOOL_RESULT.model_copy(update={"thought": n}), st.text()),
        max_size=4,
    )
)
def test_config_round_trip_preserves_any_script(script: list[str | CreateResult]) -> None:
    spec = ReplayChatCompletionClient(script).dump_component()
    reloaded = ReplayChatCompletionClient.load_component(json.loads(spec.model_dump_json()))
    assert reloaded.chat_completions == script


async def test_word_counts_stay_right_when_the_count_cache_overflows(monkeypatch: pytest.MonkeyPatch) -> None:
    import muster.models.replay as replay_module

    monkeypatch.setattr(replay_module, "_WORD_COUNT_CACHE_SIZE", 2)
    client = ReplayChatCompletionClient(["r"] * 5)
    history: list[UserMessage] = []
    for i in range(5):
        history.append(UserMessage(content=" ".join(["w"] * (i + 1)), source="user"))
        result = await client.create(history)
        assert result.usage.prompt_tokens == sum(range(1, i + 2))
    assert client.count_tokens(history) == 15
