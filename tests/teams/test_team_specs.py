"""Declarative specs of every team, AutoGen spec translation, and TeamTool."""

from __future__ import annotations

from typing import Any

from muster.agents import AssistantAgent
from muster.base import TaskResult, Team
from muster.conditions import MaxMessageTermination, TextMentionTermination
from muster.core import CancellationToken, ComponentModel
from muster.models import ModelInfo
from muster.models.replay import ReplayChatCompletionClient
from muster.teams import RoundRobinGroupChat, SelectorGroupChat, Swarm
from muster.teams._team_tool import TeamTool
from muster.tools import TeamTool as PublicTeamTool
from muster.tools._task_runner_tool import TaskRunnerToolArgs

_TOOLS = ModelInfo(
    vision=False, function_calling=True, json_output=False, family="unknown", structured_output=False
)


def _assistant(name: str, replies: list[str]) -> AssistantAgent:
    return AssistantAgent(name, model_client=ReplayChatCompletionClient(replies), description=f"{name} agent")


def _round_trip(team: Team) -> tuple[ComponentModel, Team]:
    spec = team.dump_component()
    loaded = Team.load_component(ComponentModel.model_validate(spec.model_dump(mode="json")))
    return spec, loaded


async def test_round_robin_spec_round_trips_and_runs() -> None:
    team = RoundRobinGroupChat(
        [_assistant("a", ["hi"]), _assistant("b", ["done TERMINATE"])],
        name="pair",
        description="Two agents.",
        termination_condition=TextMentionTermination("TERMINATE") | MaxMessageTermination(10),
        max_turns=7,
        emit_team_events=True,
    )
    spec, loaded = _round_trip(team)
    assert spec.provider == "muster.teams.RoundRobinGroupChat"
    assert spec.component_type == "team"
    assert spec.config["max_turns"] == 7 and spec.config["emit_team_events"] is True
    assert isinstance(loaded, RoundRobinGroupChat)
    assert loaded.dump_component() == spec
    result = await loaded.run(task="go")
    assert [m.source for m in result.messages if m.type == "TextMessage"] == ["user", "a", "b"]


async def test_selector_spec_round_trips_with_its_model_and_prompt() -> None:
    team = SelectorGroupChat(
        [_assistant("a", ["hi"]), _assistant("b", ["yo"])],
        ReplayChatCompletionClient(["b"]),
        selector_prompt="Pick from {participants} given {roles}: {history}",
        allow_repeated_speaker=True,
        max_selector_attempts=5,
        termination_condition=MaxMessageTermination(2),
    )
    spec, loaded = _round_trip(team)
    assert spec.config["selector_prompt"] == "Pick from {participants} given {roles}: {history}"
    assert spec.config["allow_repeated_speaker"] is True and spec.config["max_selector_attempts"] == 5
    assert spec.config["model_client"]["provider"] == "muster.models.replay.ReplayChatCompletionClient"
    assert isinstance(loaded, SelectorGroupChat)
    result = await loaded.run(task="go")
    assert [m.source for m in result.messages] == ["user", "b"]


async def test_swarm_spec_round_trips() -> None:
    team = Swarm(
        [
            AssistantAgent(
                "a", model_client=ReplayChatCompletionClient(["hi"], model_info=_TOOLS), handoffs=["b"]
            )
        ],
        termination_condition=MaxMessageTermination(2),
    )
    spec, loaded = _round_trip(team)
    assert spec.provider == "muster.teams.Swarm"
    assert isinstance(loaded, Swarm) and loaded.dump_component() == spec


def test_autogen_specs_load() -> None:
    spec: dict[str, Any] = (
        RoundRobinGroupChat([_assistant("a", ["hi"])], termination_condition=MaxMessageTermination(3))
        .dump_component()
        .model_dump(mode="json")
    )
    spec["provider"] = "autogen_agentchat.teams.RoundRobinGroupChat"
    spec["config"]["participants"][0]["provider"] = "autogen_agentchat.agents.AssistantAgent"
    loaded = RoundRobinGroupChat.load_component(spec)
    assert isinstance(loaded, RoundRobinGroupChat)


def test_nested_team_specs_load_as_teams() -> None:
    inner = RoundRobinGroupChat(
        [_assistant("x", ["1"])], name="inner", termination_condition=MaxMessageTermination(2)
    )
    outer = RoundRobinGroupChat(
        [_assistant("o", ["2"]), inner], termination_condition=MaxMessageTermination(4)
    )
    _, loaded = _round_trip(outer)
    assert isinstance(loaded, RoundRobinGroupChat)
    assert isinstance(loaded.participants[1], RoundRobinGroupChat)


async def test_team_tool_runs_the_team_and_renders_its_messages() -> None:
    team = RoundRobinGroupChat(
        [_assistant("a", ["first", "fourth"]), _assistant("b", ["second", "third"])],
        termination_condition=MaxMessageTermination(3),
    )
    tool = TeamTool(team, name="pair", description="A pair of agents.")
    assert PublicTeamTool is TeamTool
    result = await tool.run_json({"task": "go"}, CancellationToken())
    assert isinstance(result, TaskResult)
    assert tool.return_value_as_string(result) == "a: first\n\nb: second"
    assert tool.schema["name"] == "pair"

    last = TeamTool(team, "pair", "A pair of agents.", return_value_as_last_message=True)
    result = await last.run(TaskRunnerToolArgs(task="more"), CancellationToken())
    # The team continued its conversation: a ("fourth"), then b ("third") spoke.
    assert [m.to_text() for m in result.messages] == ["more", "fourth", "third"]
    assert last.return_value_as_string(result) == "third"


async def test_team_tool_spec_round_trips() -> None:
    team = RoundRobinGroupChat([_assistant("a", ["ok"])], termination_condition=MaxMessageTermination(2))
    tool = TeamTool(team, "solo", "One agent.", return_value_as_last_message=True)
    spec = tool.dump_component()
    assert spec.provider == "muster.tools.TeamTool"
    loaded = TeamTool.load_component(spec)
    assert isinstance(loaded, TeamTool) and isinstance(loaded.team, RoundRobinGroupChat)
    assert loaded.dump_component() == spec
