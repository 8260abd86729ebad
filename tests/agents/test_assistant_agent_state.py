"""AssistantAgent's saved state: its memories travel with it, and a bad state changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import pytest

from muster.agents import AssistantAgent
from muster.base.exceptions import StateError
from muster.core import CancellationToken
from muster.memory import ListMemory, MemoryContent, MemoryMimeType
from muster.models import CreateResult
from muster.models.replay import ReplayChatCompletionClient
from muster.state import AssistantAgentState

Replay = Callable[[Sequence[str | CreateResult]], ReplayChatCompletionClient]


def fact(text: str) -> MemoryContent:
    return MemoryContent(content=text, mime_type=MemoryMimeType.TEXT)


def json_copy(state: Mapping[str, Any]) -> Any:
    """The state as read back from a checkpoint file: proves it is plain JSON."""
    return json.loads(json.dumps(state))


def client_of(agent: AssistantAgent) -> ReplayChatCompletionClient:
    # The agent exposes no model client; the prompt it sent is what is being compared.
    return cast(ReplayChatCompletionClient, agent._model_client)


async def test_a_resumed_agent_recalls_memories_added_after_its_spec(replay: Replay) -> None:
    memory = ListMemory(name="prefs", memory_contents=[fact("User lives in Oslo")])
    agent = AssistantAgent("helper", replay(["Noted.", "12 degrees"]), memory=[memory])
    spec = agent.dump_component()  # written once, when the run was created
    await memory.add(fact("User prefers metric units"))
    await agent.run(task="Remember: metric, please.")
    state = json_copy(await agent.save_state())

    # A fresh process: the agent is rebuilt from the spec, then given the checkpoint.
    resumed = AssistantAgent.load_component(spec)
    await resumed.load_state(state)
    resumed_memory = resumed._memory[0] if resumed._memory else None  # the spec built it: no other handle
    assert isinstance(resumed_memory, ListMemory)
    assert resumed_memory.content == memory.content

    await agent.run(task="Temperature?")
    await resumed.run(task="Temperature?")
    assert client_of(resumed).create_calls[-1]["messages"] == client_of(agent).create_calls[-1]["messages"]


async def test_without_memories_the_state_is_exactly_autogens(replay: Replay) -> None:
    agent = AssistantAgent("plain", replay(["hi"]))
    await agent.run(task="hello")
    state = await agent.save_state()
    assert set(state) == {"type", "version", "llm_context"}
    assert dict(state) == AssistantAgentState(llm_context=state["llm_context"]).model_dump(
        exclude={"memory_states"}
    )


async def test_an_autogen_state_loads_and_leaves_the_memories_alone(replay: Replay) -> None:
    memory = ListMemory(memory_contents=[fact("kept")])
    agent = AssistantAgent("helper", replay([]), memory=[memory])
    autogen_state = {  # AutoGen 0.7 writes no memory_states; older states lack a version too
        "type": "AssistantAgentState",
        "llm_context": {"messages": [{"content": "hi", "source": "user", "type": "UserMessage"}]},
    }
    await agent.load_state(autogen_state)
    assert [m.content for m in await agent.model_context.get_messages()] == ["hi"]
    assert memory.content == [fact("kept")]


async def agent_with_history(replay: Replay) -> AssistantAgent:
    agent = AssistantAgent(
        "helper",
        replay(["first answer"]),
        memory=[ListMemory(memory_contents=[fact("one")]), ListMemory(memory_contents=[fact("two")])],
    )
    await agent.run(task="first question")
    return agent


async def other_state(replay: Replay) -> dict[str, Any]:
    """A valid state that differs from ``agent_with_history``'s everywhere."""
    other = AssistantAgent(
        "helper",
        replay(["other answer"]),
        memory=[ListMemory(memory_contents=[fact("uno")]), ListMemory(memory_contents=[fact("dos")])],
    )
    await other.run(task="other question")
    return cast(dict[str, Any], json_copy(await other.save_state()))


BAD_EDITS: list[tuple[Callable[[dict[str, Any]], None], str]] = [
    (lambda s: s.update(type="SocietyOfMindAgentState"), r"^type: expected 'AssistantAgentState', got"),
    (lambda s: s.update(version="0.9"), r"^version: unsupported version '0.9'"),
    (lambda s: s.update(llm_context=[]), r"^llm_context: Input should be a valid dictionary"),
    (
        lambda s: s["llm_context"]["messages"][0].update(type="Nope"),
        r"^llm_context\.messages\[0\]: Input tag 'Nope'",
    ),
    (lambda s: s.update(memory_states={}), r"^memory_states: Input should be a valid list"),
    (lambda s: s["memory_states"].pop(), r"^memory_states: expected 2 states, one per memory, got 1$"),
    (
        lambda s: s["memory_states"][1].update(type="BaseState"),
        r"^memory_states\[1\]\.type: expected 'ListMemoryState'",
    ),
    (
        lambda s: s["memory_states"][0].update(version="9"),
        r"^memory_states\[0\]\.version: unsupported version '9'",
    ),
    (
        lambda s: s["memory_states"][1]["memory_contents"][0].pop("mime_type"),
        r"^memory_states\[1\]\.memory_contents\[0\]\.mime_type: Field required$",
    ),
]


@pytest.mark.parametrize(("edit", "message"), BAD_EDITS)
async def test_a_bad_state_names_the_field_and_changes_nothing(
    replay: Replay, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    agent = await agent_with_history(replay)
    before = await agent.save_state()
    state = await other_state(replay)
    edit(state)
    with pytest.raises(StateError, match=message):
        await agent.load_state(state)
    assert await agent.save_state() == before


class JournalMemory(ListMemory):
    """A user's memory with its own state methods, refusing an over-long journal."""

    async def save_state(self) -> Mapping[str, Any]:
        return {"type": "Journal", "entries": [str(item.content) for item in self.content]}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.content = [fact(entry) for entry in state["entries"]]
        if len(self.content) > 2:
            raise ValueError("journal too long")


async def test_a_failing_custom_memory_rolls_the_context_back(replay: Replay) -> None:
    journal = JournalMemory(memory_contents=[fact("a")])
    agent = AssistantAgent("helper", replay(["first answer"]), memory=[journal])
    await agent.run(task="first question")
    before = await agent.save_state()
    state = json_copy(before)
    state["llm_context"]["messages"] = []
    state["memory_states"][0]["entries"] = ["x", "y", "z"]
    with pytest.raises(StateError, match=r"^memory_states\[0\]: ValueError: journal too long$"):
        await agent.load_state(state)
    assert await agent.save_state() == before


async def test_reset_then_load_restores_a_saved_conversation(replay: Replay) -> None:
    agent = await agent_with_history(replay)
    state = json_copy(await agent.save_state())
    await agent.on_reset(CancellationToken())
    await agent.load_state(state)
    assert json_copy(await agent.save_state()) == state


class AuditedMemory(ListMemory):
    """A user's memory that overrides load_state (to audit loads) and leaves the checks to ListMemory."""

    def __init__(self, memory_contents: list[MemoryContent]) -> None:
        super().__init__(memory_contents=memory_contents)
        self.loads = 0

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.loads += 1
        await super().load_state(state)


async def test_a_custom_memory_error_keeps_its_field_under_the_memory_slot(replay: Replay) -> None:
    agent = AssistantAgent("helper", replay([]), memory=[AuditedMemory(memory_contents=[fact("a")])])
    before = await agent.save_state()
    state = json_copy(before)
    state["memory_states"][0]["memory_contents"][0]["mime_type"] = 5
    with pytest.raises(StateError, match=r"^memory_states\[0\]\.memory_contents\[0\]\.mime_type\b"):
        await agent.load_state(state)
    assert await agent.save_state() == before
