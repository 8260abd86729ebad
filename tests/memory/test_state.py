"""Memories' saved state: ListMemory's items survive a JSON round trip; bad states change nothing."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from muster.core import CancellationToken, Image
from muster.memory import (
    ListMemory,
    Memory,
    MemoryContent,
    MemoryMimeType,
    MemoryQueryResult,
    MemoryStateError,
    UpdateContextResult,
)
from muster.model_context import ChatCompletionContext

PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

ITEMS = [
    MemoryContent(
        content="User prefers metric units", mime_type=MemoryMimeType.TEXT, metadata={"src": "chat"}
    ),
    MemoryContent(content={"city": "Oslo"}, mime_type=MemoryMimeType.JSON),
    MemoryContent(content=b"\x00\xff", mime_type=MemoryMimeType.BINARY),
    MemoryContent(content=Image.from_base64(PNG_1PX), mime_type="image/png"),
]


async def test_list_memory_state_holds_items_added_after_the_spec() -> None:
    memory = ListMemory(name="prefs", memory_contents=[ITEMS[0]])
    spec = memory.dump_component()
    for item in ITEMS[1:]:
        await memory.add(item)
    state = json.loads(json.dumps(await memory.save_state()))
    assert (state["type"], state["version"]) == ("ListMemoryState", "1.0.0")

    fresh = ListMemory.load_component(spec)
    assert fresh.content == [ITEMS[0]]
    await fresh.load_state(state)
    assert fresh.content == ITEMS
    assert fresh.name == "prefs"


async def test_a_state_without_version_loads() -> None:
    memory = ListMemory()
    await memory.load_state(
        {"type": "ListMemoryState", "memory_contents": [{"content": "x", "mime_type": "text/plain"}]}
    )
    assert [item.content for item in memory.content] == ["x"]


def good_state() -> dict[str, Any]:
    return {
        "type": "ListMemoryState",
        "version": "1.0.0",
        "memory_contents": [
            {"content": "a", "mime_type": "text/plain"},
            {"content": "b", "mime_type": "text/plain"},
        ],
    }


BAD = [
    (
        {**good_state(), "type": "ListMemoryConfig"},
        r"^type: expected 'ListMemoryState', got 'ListMemoryConfig'$",
    ),
    ({k: v for k, v in good_state().items() if k != "type"}, r"^type: missing"),
    ({**good_state(), "version": "2.0.0"}, r"^version: unsupported version '2.0.0'"),
    (
        {**good_state(), "memory_contents": [{"content": "a"}]},
        r"^memory_contents\[0\]\.mime_type: Field required$",
    ),
    ({**good_state(), "memory_contents": "a"}, r"^memory_contents: Input should be a valid list$"),
    ([], r"^expected a mapping, got list$"),
]


@pytest.mark.parametrize(("state", "message"), BAD)
async def test_a_bad_state_names_the_field_and_keeps_the_items(state: Any, message: str) -> None:
    memory = ListMemory(memory_contents=[ITEMS[0]])
    with pytest.raises(MemoryStateError, match=message) as caught:
        await memory.load_state(state)
    assert isinstance(caught.value, ValueError)
    assert memory.content == [ITEMS[0]]


class RemoteMemory(Memory):
    """A user's memory whose items live elsewhere: it does not override the state methods."""

    async def update_context(self, model_context: ChatCompletionContext) -> UpdateContextResult:
        return UpdateContextResult(memories=MemoryQueryResult(results=[]))

    async def query(
        self, query: str | MemoryContent, cancellation_token: CancellationToken | None = None, **kwargs: Any
    ) -> MemoryQueryResult:
        return MemoryQueryResult(results=[])

    async def add(self, content: MemoryContent, cancellation_token: CancellationToken | None = None) -> None:
        pass

    async def clear(self) -> None:
        pass

    async def close(self) -> None:
        pass


async def test_a_memory_without_overrides_saves_its_tag_and_loads_nothing() -> None:
    memory = RemoteMemory()
    state = await memory.save_state()
    assert state == {"type": "RemoteMemoryState", "version": "1.0.0"}
    await memory.load_state(state)
    with pytest.raises(MemoryStateError, match=r"^type: expected 'RemoteMemoryState'"):
        await memory.load_state(good_state())


def test_memory_state_error_keeps_its_field_through_pickle() -> None:
    error = pickle.loads(pickle.dumps(MemoryStateError("Field required", "memory_contents[0].mime_type")))
    assert (error.detail, error.field) == ("Field required", "memory_contents[0].mime_type")
    assert str(error) == "memory_contents[0].mime_type: Field required"
