"""Views, state and specs of the model contexts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muster.core import ComponentModel, FunctionCall, Image
from muster.model_context import (
    BufferedChatCompletionContext,
    ChatCompletionContext,
    ChatCompletionContextState,
    HeadAndTailChatCompletionContext,
    TokenLimitedChatCompletionContext,
    UnboundedChatCompletionContext,
)
from muster.model_context.exceptions import InvalidContextSizeError, ModelContextError
from muster.models import (
    AssistantMessage,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)
from muster.models.replay import ReplayChatCompletionClient

PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def user(text: str) -> UserMessage:
    return UserMessage(content=text, source="user")


CALL = AssistantMessage(content=[FunctionCall(id="c1", name="lookup", arguments="{}")], source="bot")
RESULT = FunctionExecutionResultMessage(
    content=[FunctionExecutionResult(content="42", name="lookup", call_id="c1")]
)


async def fill(context: ChatCompletionContext, messages: list[LLMMessage]) -> None:
    for message in messages:
        await context.add_message(message)


async def test_unbounded_returns_everything_as_a_fresh_list() -> None:
    context = UnboundedChatCompletionContext(initial_messages=[SystemMessage(content="sys")])
    await context.add_message(user("hi"))
    view = await context.get_messages()
    assert view == [SystemMessage(content="sys"), user("hi")]
    view.clear()
    assert len(await context.get_messages()) == 2


async def test_buffered_keeps_the_last_n() -> None:
    context = BufferedChatCompletionContext(buffer_size=2)
    await fill(context, [user("a"), user("b"), user("c")])
    assert await context.get_messages() == [user("b"), user("c")]


async def test_buffered_drops_an_orphaned_tool_result() -> None:
    context = BufferedChatCompletionContext(buffer_size=2)
    await fill(context, [user("q"), CALL, RESULT, AssistantMessage(content="42", source="bot")])
    assert await context.get_messages() == [AssistantMessage(content="42", source="bot")]


@pytest.mark.parametrize(
    ("factory", "parameter"),
    [
        (lambda: BufferedChatCompletionContext(buffer_size=0), "buffer_size"),
        (lambda: HeadAndTailChatCompletionContext(head_size=0, tail_size=1), "head_size"),
        (lambda: HeadAndTailChatCompletionContext(head_size=1, tail_size=-2), "tail_size"),
        (
            lambda: TokenLimitedChatCompletionContext(ReplayChatCompletionClient([]), token_limit=0),
            "token_limit",
        ),
    ],
)
def test_non_positive_sizes_are_rejected(factory: Any, parameter: str) -> None:
    with pytest.raises(ValueError, match=f"{parameter} must be greater than 0") as info:
        factory()
    assert isinstance(info.value, InvalidContextSizeError)
    assert isinstance(info.value, ModelContextError)
    assert info.value.parameter == parameter


async def test_head_and_tail_returns_all_when_nothing_is_skipped() -> None:
    context = HeadAndTailChatCompletionContext(head_size=2, tail_size=2)
    messages: list[LLMMessage] = [user(str(i)) for i in range(4)]
    await fill(context, messages)
    assert await context.get_messages() == messages


async def test_head_and_tail_marks_the_skipped_middle() -> None:
    context = HeadAndTailChatCompletionContext(head_size=1, tail_size=2)
    await fill(context, [user(str(i)) for i in range(6)])
    assert await context.get_messages() == [
        user("0"),
        UserMessage(content="Skipped 3 messages.", source="System"),
        user("4"),
        user("5"),
    ]


async def test_head_and_tail_never_splits_tool_calls_from_results() -> None:
    context = HeadAndTailChatCompletionContext(head_size=2, tail_size=2)
    answer = AssistantMessage(content="42", source="bot")
    await fill(context, [user("q"), CALL, RESULT, user("more"), CALL, RESULT, answer])
    # The head would end on a tool call and the tail start on a tool result: both go.
    assert await context.get_messages() == [
        user("q"),
        UserMessage(content="Skipped 3 messages.", source="System"),
        answer,
    ]


async def test_token_limited_drops_from_the_middle_until_it_fits() -> None:
    client = ReplayChatCompletionClient([])
    context = TokenLimitedChatCompletionContext(client, token_limit=6)
    await fill(context, [user("one two"), user("three four"), user("five six"), user("seven eight")])
    # 8 words: drop index 2 ("five six"), then 6 words fit.
    assert await context.get_messages() == [user("one two"), user("three four"), user("seven eight")]


async def test_token_limited_without_a_limit_uses_remaining_tokens() -> None:
    client = ReplayChatCompletionClient(["word " * 10_000])
    await client.create([user("x")])  # exhausts the replay client's 10,000-token budget
    context = TokenLimitedChatCompletionContext(client)
    await fill(context, [user("a"), user("b")])
    assert client.remaining_tokens([]) == 0
    assert await context.get_messages() == [user("a"), user("b")]


async def test_token_limited_drops_a_leading_tool_result() -> None:
    context = TokenLimitedChatCompletionContext(ReplayChatCompletionClient([]), token_limit=1)
    await fill(context, [RESULT, user("hello")])
    assert await context.get_messages() == [user("hello")]


async def test_clear_forgets_initial_messages_too() -> None:
    context = BufferedChatCompletionContext(buffer_size=5, initial_messages=[SystemMessage(content="s")])
    await context.clear()
    assert await context.get_messages() == []
    assert context.initial_messages == [SystemMessage(content="s")]


async def test_state_round_trips_through_json_including_images_and_tool_calls() -> None:
    context = UnboundedChatCompletionContext()
    picture = UserMessage(content=["look", Image.from_base64(PNG_1PX)], source="user")
    messages: list[LLMMessage] = [SystemMessage(content="s"), picture, CALL, RESULT]
    await fill(context, messages)
    state = json.loads(json.dumps(await context.save_state()))
    restored = BufferedChatCompletionContext(buffer_size=10)
    await restored.load_state(state)
    assert await restored.get_messages() == messages
    assert ChatCompletionContextState.model_validate(state).messages == messages


@pytest.mark.parametrize(
    "context",
    [
        UnboundedChatCompletionContext(initial_messages=[SystemMessage(content="hello")]),
        BufferedChatCompletionContext(buffer_size=3, initial_messages=[user("hi")]),
        HeadAndTailChatCompletionContext(head_size=2, tail_size=3),
        TokenLimitedChatCompletionContext(
            ReplayChatCompletionClient(["ok"]),
            token_limit=100,
            tool_schema=[{"name": "lookup", "description": "find things"}],
            initial_messages=[CALL, RESULT],
        ),
    ],
    ids=lambda c: type(c).__name__,
)
def test_component_specs_round_trip_through_json(context: ChatCompletionContext) -> None:
    spec = context.dump_component()
    name = type(context).__name__
    assert spec.provider == f"muster.model_context.{name}"
    assert spec.component_type == "chat_completion_context"
    reloaded = ChatCompletionContext.load_component(json.loads(spec.model_dump_json()))
    assert type(reloaded) is type(context)
    assert reloaded.dump_component() == spec
    assert reloaded.initial_messages == context.initial_messages


def test_token_limited_spec_embeds_the_model_client() -> None:
    context = TokenLimitedChatCompletionContext(ReplayChatCompletionClient(["ok"]), token_limit=50)
    config = context.dump_component().config
    assert config["model_client"]["provider"] == "muster.models.replay.ReplayChatCompletionClient"
    assert config["model_client"]["config"]["chat_completions"] == ["ok"]
    reloaded = TokenLimitedChatCompletionContext.load_component(context.dump_component())
    assert isinstance(reloaded.model_client, ReplayChatCompletionClient)
    assert reloaded.token_limit == 50


def test_autogen_specs_load() -> None:
    spec = ComponentModel(
        provider="autogen_core.model_context.BufferedChatCompletionContext",
        component_type="chat_completion_context",
        config={"buffer_size": 4},
    )
    context = ChatCompletionContext.load_component(spec)
    assert isinstance(context, BufferedChatCompletionContext)
    assert context.buffer_size == 4


message_strategy = st.one_of(
    st.builds(user, st.text(alphabet="ab ", max_size=12)),
    st.just(CALL),
    st.just(RESULT),
    st.builds(lambda t: AssistantMessage(content=t, source="bot"), st.text(alphabet="xy ", max_size=12)),
)


@given(st.lists(message_strategy, max_size=12), st.integers(1, 6))
async def test_buffered_view_is_a_suffix_within_the_size(messages: list[LLMMessage], size: int) -> None:
    context = BufferedChatCompletionContext(buffer_size=size)
    await fill(context, messages)
    view = await context.get_messages()
    window = messages[-size:]
    # One orphaned tool result is dropped; consecutive result messages do not occur in
    # real chats (parallel results share one message), so only the first is checked.
    expected = window[1:] if window and isinstance(window[0], FunctionExecutionResultMessage) else window
    assert view == expected
    assert len(view) <= size


@given(st.lists(message_strategy, max_size=12), st.integers(1, 20))
async def test_token_limited_view_fits_and_keeps_order(messages: list[LLMMessage], limit: int) -> None:
    client = ReplayChatCompletionClient([])
    context = TokenLimitedChatCompletionContext(client, token_limit=limit)
    await fill(context, messages)
    view = await context.get_messages()
    assert client.count_tokens(view) <= limit
    remaining = iter(messages)
    assert all(any(m is kept for m in remaining) for kept in view)  # a subsequence


@given(st.lists(message_strategy, max_size=12))
async def test_state_round_trip_is_lossless(messages: list[LLMMessage]) -> None:
    context = UnboundedChatCompletionContext()
    await fill(context, messages)
    other = UnboundedChatCompletionContext()
    await other.load_state(json.loads(json.dumps(await context.save_state())))
    assert await other.get_messages() == messages
