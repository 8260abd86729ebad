"""Dump/load of every serialisable condition, including AutoGen-written specs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muster.base import OrTerminationCondition, TerminationCondition
from muster.conditions import (
    ExternalTermination,
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
from muster.core import ComponentModel
from muster.core.exceptions import ComponentLoadError
from muster.messages import TextMessage

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)

conditions: st.SearchStrategy[TerminationCondition] = st.one_of(
    st.builds(StopMessageTermination),
    st.builds(ExternalTermination),
    st.builds(MaxMessageTermination, st.integers(0, 100), st.booleans()),
    st.builds(TextMentionTermination, names, st.none() | st.lists(names, max_size=3)),
    st.builds(TextMessageTermination, st.none() | names),
    st.builds(SourceMatchTermination, st.lists(names, max_size=3)),
    st.builds(HandoffTermination, names),
    st.builds(FunctionCallTermination, names),
    st.builds(TimeoutTermination, st.floats(0.001, 1e6)),
    st.builds(
        TokenUsageTermination,
        st.integers(1, 10**6),
        st.none() | st.integers(1, 10**6),
        st.none() | st.integers(1, 10**6),
    ),
)


@given(conditions)
def test_dump_load_round_trip(condition: TerminationCondition) -> None:
    spec = condition.dump_component()
    assert spec.provider == f"muster.conditions.{type(condition).__name__}"
    assert spec.component_type == "termination"
    reloaded = TerminationCondition.load_component(spec.model_dump(mode="json"))
    assert type(reloaded) is type(condition)
    assert reloaded.dump_component() == spec


@given(st.lists(conditions, min_size=2, max_size=3))
def test_composites_round_trip(parts: list[TerminationCondition]) -> None:
    combined = parts[0]
    for part in parts[1:]:
        combined = combined | part
    spec = combined.dump_component()
    reloaded = TerminationCondition.load_component(spec)
    assert isinstance(reloaded, OrTerminationCondition)
    assert reloaded.dump_component() == spec


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("MaxMessageTermination", {"max_messages": 3, "include_agent_event": False}),
        ("TextMentionTermination", {"text": "TERMINATE"}),
        ("TokenUsageTermination", {"max_total_token": 5}),
        ("TextMessageTermination", {}),
        ("StopMessageTermination", {}),
        ("HandoffTermination", {"target": "user"}),
        ("TimeoutTermination", {"timeout_seconds": 2.5}),
        ("ExternalTermination", {}),
        ("SourceMatchTermination", {"sources": ["a", "b"]}),
        ("FunctionCallTermination", {"function_name": "done"}),
    ],
)
def test_autogen_specs_load_and_dump_the_same_config(name: str, config: dict[str, Any]) -> None:
    autogen_spec = {
        "provider": f"autogen_agentchat.conditions.{name}",
        "component_type": "termination",
        "version": 1,
        "component_version": 1,
        "config": config,
    }
    condition = TerminationCondition.load_component(autogen_spec)
    assert type(condition).__name__ == name
    assert condition.dump_component().config == config


async def test_text_mention_sources_survive_a_round_trip() -> None:
    condition = TerminationCondition.load_component(
        TextMentionTermination("go", sources=["b"]).dump_component()
    )
    assert await condition([TextMessage(content="go", source="a")]) is None
    assert await condition([TextMessage(content="go", source="b")]) is not None


def test_invalid_config_names_the_field() -> None:
    spec = ComponentModel(provider="muster.conditions.MaxMessageTermination", config={"max_messages": "many"})
    with pytest.raises(ComponentLoadError, match="max_messages"):
        TerminationCondition.load_component(spec)
