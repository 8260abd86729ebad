"""Saved-state models: AutoGen's field names, defaults and type tags, muster's additions, JSON round trips."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muster.messages import TextMessage
from muster.state import (
    AndTerminationConditionState,
    AssistantAgentState,
    BaseGroupChatManagerState,
    BaseState,
    ChatAgentContainerState,
    ExternalTerminationState,
    FiredConditionState,
    FunctionalTerminationState,
    FunctionCallTerminationState,
    HandoffTerminationState,
    MagenticOneOrchestratorState,
    MaxMessageTerminationState,
    OrTerminationConditionState,
    RoundRobinManagerState,
    SelectorManagerState,
    SocietyOfMindAgentState,
    SourceMatchTerminationState,
    StopMessageTerminationState,
    SwarmManagerState,
    TeamState,
    TextMentionTerminationState,
    TextMessageTerminationState,
    TimeoutTerminationState,
    TokenUsageTerminationState,
)

EXPECTED_DEFAULTS = {
    BaseState: {"type": "BaseState", "version": "1.0.0"},
    AssistantAgentState: {"type": "AssistantAgentState", "version": "1.0.0", "llm_context": {"messages": []}},
    TeamState: {"type": "TeamState", "version": "1.0.0", "agent_states": {}},
    BaseGroupChatManagerState: {
        "type": "BaseGroupChatManagerState",
        "version": "1.0.0",
        "message_thread": [],
        "current_turn": 0,
    },
    ChatAgentContainerState: {
        "type": "ChatAgentContainerState",
        "version": "1.0.0",
        "agent_state": {},
        "message_buffer": [],
    },
    RoundRobinManagerState: {
        "type": "RoundRobinManagerState",
        "version": "1.0.0",
        "message_thread": [],
        "current_turn": 0,
        "next_speaker_index": 0,
    },
    SelectorManagerState: {
        "type": "SelectorManagerState",
        "version": "1.0.0",
        "message_thread": [],
        "current_turn": 0,
        "previous_speaker": None,
    },
    SwarmManagerState: {
        "type": "SwarmManagerState",
        "version": "1.0.0",
        "message_thread": [],
        "current_turn": 0,
        "current_speaker": "",
    },
    MagenticOneOrchestratorState: {
        "type": "MagenticOneOrchestratorState",
        "version": "1.0.0",
        "message_thread": [],
        "current_turn": 0,
        "task": "",
        "facts": "",
        "plan": "",
        "n_rounds": 0,
        "n_stalls": 0,
    },
    SocietyOfMindAgentState: {"type": "SocietyOfMindAgentState", "version": "1.0.0", "inner_team_state": {}},
}


# Fields muster adds to every manager state for exact resumes; AutoGen's loaders ignore them
# and a state without them (AutoGen's) loads with these defaults.
MANAGER_EXTRAS = {"turn_index": 0, "run_status": "idle", "next_speakers": [], "termination_state": None}
MUSTER_ADDITIONS: dict[type[BaseState], dict[str, object]] = {
    AssistantAgentState: {"memory_states": None},
    SocietyOfMindAgentState: {"llm_context": None},
}
"""Optional fields muster adds for durable runs; ``None`` means "not saved" (AutoGen's states)."""


@pytest.mark.parametrize("cls", list(EXPECTED_DEFAULTS))
def test_defaults(cls: type[BaseState]) -> None:
    extras = MANAGER_EXTRAS if issubclass(cls, BaseGroupChatManagerState) else MUSTER_ADDITIONS.get(cls, {})
    assert cls().model_dump() == {**EXPECTED_DEFAULTS[cls], **extras}


@pytest.mark.parametrize("cls", list(EXPECTED_DEFAULTS))
def test_autogen_dumps_load_with_the_additions_unset(cls: type[BaseState]) -> None:
    assert cls.model_validate(EXPECTED_DEFAULTS[cls]) == cls()


CONDITION_STATE_DEFAULTS: dict[type[BaseState], dict[str, object]] = {
    AndTerminationConditionState: {"conditions": [], "stop_messages": []},
    OrTerminationConditionState: {"conditions": []},
    MaxMessageTerminationState: {"count": 0},
    TokenUsageTerminationState: {"prompt_tokens": 0, "completion_tokens": 0},
    FiredConditionState: {"terminated": False},
    TimeoutTerminationState: {"terminated": False, "elapsed_seconds": 0.0},
    ExternalTerminationState: {"terminated": False, "requested": False},
    StopMessageTerminationState: {"terminated": False},
    TextMentionTerminationState: {"terminated": False},
    TextMessageTerminationState: {"terminated": False},
    SourceMatchTerminationState: {"terminated": False},
    HandoffTerminationState: {"terminated": False},
    FunctionCallTerminationState: {"terminated": False},
    FunctionalTerminationState: {"terminated": False},
}


@pytest.mark.parametrize("cls", list(CONDITION_STATE_DEFAULTS))
def test_condition_states_are_tagged_with_their_own_name(cls: type[BaseState]) -> None:
    expected = {"type": cls.__name__, "version": "1.0.0", **CONDITION_STATE_DEFAULTS[cls]}
    assert cls().model_dump(mode="json") == expected


def test_defaults_are_not_shared_between_instances() -> None:
    first, second = AssistantAgentState(), AssistantAgentState()
    first.llm_context["messages"].append({"x": 1})  # type: ignore[index]
    assert second.llm_context == {"messages": []}


def test_manager_state_holds_dumped_messages() -> None:
    message = TextMessage(content="hi", source="user")
    state = RoundRobinManagerState(message_thread=[message.dump()], current_turn=3, next_speaker_index=1)
    restored = RoundRobinManagerState.model_validate_json(state.model_dump_json())
    assert TextMessage.load(restored.message_thread[0]) == message
    assert isinstance(restored, BaseGroupChatManagerState)


@given(
    turn=st.integers(min_value=0, max_value=10_000),
    speaker=st.one_of(st.none(), st.text(max_size=20)),
    buffer=st.lists(st.dictionaries(st.text(max_size=5), st.integers(), max_size=3), max_size=4),
)
def test_json_round_trip(turn: int, speaker: str | None, buffer: list[dict[str, int]]) -> None:
    selector = SelectorManagerState(current_turn=turn, previous_speaker=speaker)
    assert SelectorManagerState.model_validate(json.loads(selector.model_dump_json())) == selector
    container = ChatAgentContainerState(message_buffer=buffer, agent_state={"inner": {"a": 1}})
    assert ChatAgentContainerState.model_validate(json.loads(container.model_dump_json())) == container
    team = TeamState(agent_states={"c": container.model_dump()})
    assert TeamState.model_validate_json(team.model_dump_json()) == team
