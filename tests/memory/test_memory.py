"""ListMemory behaviour, MemoryContent serialisation and memory specs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muster.core import ComponentModel, Image
from muster.memory import (
    ListMemory,
    Memory,
    MemoryContent,
    MemoryMimeType,
    MemoryQueryResult,
    UpdateContextResult,
)
from muster.model_context import BufferedChatCompletionContext, UnboundedChatCompletionContext
from muster.models import SystemMessage, UserMessage

PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def text(value: str) -> MemoryContent:
    return MemoryContent(content=value, mime_type=MemoryMimeType.TEXT)


async def test_update_context_appends_one_numbered_system_message() -> None:
    memory = ListMemory(name="prefs")
    await memory.add(text("User prefers metric units"))
    await memory.add(MemoryContent(content={"city": "Oslo"}, mime_type=MemoryMimeType.JSON))
    context = UnboundedChatCompletionContext(
        initial_messages=[UserMessage(content="weather?", source="user")]
    )
    result = await memory.update_context(context)
    messages = await context.get_messages()
    assert messages[-1] == SystemMessage(
        content="\nRelevant memory content (in chronological order):\n"
        "1. User prefers metric units\n"
        "2. {'city': 'Oslo'}\n"
    )
    assert len(messages) == 2
    assert isinstance(result, UpdateContextResult)
    assert result.memories.results == memory.content


async def test_empty_memory_leaves_the_context_alone() -> None:
    context = BufferedChatCompletionContext(buffer_size=3)
    result = await ListMemory().update_context(context)
    assert result.memories.results == []
    assert await context.get_messages() == []


async def test_query_returns_everything_in_order_and_clear_empties() -> None:
    memory = ListMemory()
    assert memory.name == "default_list_memory"
    for word in ("a", "b", "c"):
        await memory.add(text(word))
    result = await memory.query("anything")
    assert isinstance(result, MemoryQueryResult)
    assert [item.content for item in result.results] == ["a", "b", "c"]
    await memory.clear()
    assert (await memory.query()).results == []
    await memory.close()


async def test_query_results_do_not_alias_the_store() -> None:
    memory = ListMemory(memory_contents=[text("kept")])
    (await memory.query()).results.clear()
    assert len(memory.content) == 1


def test_content_can_be_replaced_directly() -> None:
    memory = ListMemory()
    memory.content = [text("new")]
    assert memory.content == [text("new")]


def test_mime_type_compares_equal_to_its_string() -> None:
    assert MemoryContent(content="x", mime_type="text/plain").mime_type == MemoryMimeType.TEXT
    assert MemoryContent(content="x", mime_type=MemoryMimeType.MARKDOWN).mime_type == "text/markdown"
    assert MemoryContent(content="x", mime_type="text/csv").mime_type == "text/csv"


@pytest.mark.parametrize(
    "item",
    [
        text("plain"),
        MemoryContent(
            content="# Title", mime_type="text/markdown", metadata={"source": "wiki", "score": 0.5}
        ),
        MemoryContent(content={"nested": {"list": [1, 2]}}, mime_type=MemoryMimeType.JSON),
        MemoryContent(content=b"\x00\xffbinary", mime_type=MemoryMimeType.BINARY),
        MemoryContent(content=Image.from_base64(PNG_1PX), mime_type="image/png"),
        MemoryContent(content={"data": "not an image"}, mime_type=MemoryMimeType.JSON),
        MemoryContent(content="custom", mime_type="application/x-custom"),
    ],
    ids=["text", "markdown-metadata", "json", "bytes", "image", "dict-with-data-key", "custom-mime"],
)
def test_memory_content_survives_a_json_round_trip(item: MemoryContent) -> None:
    dumped = item.model_dump_json()
    again = MemoryContent.model_validate(json.loads(dumped))
    assert again == item
    assert type(again.content) is type(item.content)


async def test_list_memory_spec_round_trips_through_json() -> None:
    memory = ListMemory(
        name="facts",
        memory_contents=[text("one"), MemoryContent(content=b"\x01\x02", mime_type=MemoryMimeType.BINARY)],
    )
    spec = memory.dump_component()
    assert spec.provider == "muster.memory.ListMemory"
    assert spec.component_type == "memory"
    reloaded = Memory.load_component(json.loads(spec.model_dump_json()))
    assert isinstance(reloaded, ListMemory)
    assert reloaded.name == "facts"
    assert reloaded.content == memory.content


def test_autogen_spec_loads() -> None:
    spec = ComponentModel(
        provider="autogen_core.memory.ListMemory",
        component_type="memory",
        config={"name": "m", "memory_contents": [{"content": "hello", "mime_type": "text/plain"}]},
    )
    memory = ListMemory.load_component(spec)
    assert memory.content == [text("hello")]


json_values: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)

contents = st.one_of(
    st.builds(
        MemoryContent,
        content=st.text(max_size=20),
        mime_type=st.sampled_from(["text/plain", "text/markdown"]),
    ),
    st.builds(MemoryContent, content=st.binary(max_size=20), mime_type=st.just(MemoryMimeType.BINARY)),
    st.builds(
        MemoryContent,
        content=st.dictionaries(st.text(max_size=5), json_values, max_size=3),
        mime_type=st.just(MemoryMimeType.JSON),
        metadata=st.none() | st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    ),
)


@given(st.lists(contents, max_size=5))
def test_any_list_memory_spec_round_trips(items: list[MemoryContent]) -> None:
    spec = ListMemory(name="h", memory_contents=items).dump_component()
    reloaded = ListMemory.load_component(json.loads(spec.model_dump_json()))
    assert reloaded.content == items
