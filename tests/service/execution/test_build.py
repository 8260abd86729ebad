"""How a stored spec becomes a run's team: recorded clients, service proxies, retries, agents alone."""

from __future__ import annotations

from typing import Any

import pytest
from model_server import openai_agent
from service_kit import replay_agent

from muster.agents import UserProxyAgent
from muster.core import ComponentLoader
from muster.service.exceptions import InvalidSpecError
from muster.service.execution._context import BuildContext
from muster.service.execution.build import build_team, check_spec, prepare_spec, release_team
from muster.service.execution.human import HumanInput, ServiceUserProxyAgent
from muster.service.execution.recording import RecordingClient
from muster.teams import RoundRobinGroupChat


def _team(*participants: Any) -> dict[str, Any]:
    return RoundRobinGroupChat(list(participants), max_turns=2).dump_component().model_dump()


def test_every_model_client_is_wrapped_once_and_retries_default_to_the_setting() -> None:
    spec = _team(
        ComponentLoader.load_component(openai_agent("alice", "http://127.0.0.1:9/v1")),
        ComponentLoader.load_component(replay_agent("bob", ["x"])),
    )
    prepared = prepare_spec(spec, retry_attempts=7)
    clients = [p["config"]["model_client"] for p in prepared["config"]["participants"]]
    assert [c["provider"] for c in clients] == [RecordingClient.component_provider_override] * 2
    scopes = [c["config"]["store"]["config"]["scope"] for c in clients]
    assert scopes == [
        "config.participants.0.config.model_client",
        "config.participants.1.config.model_client",
    ]
    # The spec said max_retries 0 for alice: kept; the replay client takes none.
    assert clients[0]["config"]["client"]["config"]["max_retries"] == 0
    assert "max_retries" not in clients[1]["config"]["client"]["config"]
    unset = openai_agent("carol", "http://127.0.0.1:9/v1")
    del unset["config"]["model_client"]["config"]["max_retries"]
    wrapped = prepare_spec(unset, retry_attempts=7)["config"]["model_client"]
    assert wrapped["config"]["client"]["config"]["max_retries"] == 7
    assert spec["config"]["participants"][0]["config"]["model_client"]["provider"].endswith(
        "OpenAIChatCompletionClient"
    )


async def test_user_proxies_take_their_input_from_the_run_and_agents_run_alone() -> None:
    spec = _team(ComponentLoader.load_component(replay_agent("alice", ["x"])), UserProxyAgent("user"))
    context = BuildContext(store=None, run_id="r", human=HumanInput("yes", lambda agent: None))
    team = build_team(spec, context, retry_attempts=None)
    assert isinstance(team.participants[1], ServiceUserProxyAgent)
    assert len(context.clients) == 1
    await release_team(team, context)
    alone = build_team(replay_agent("solo", ["x"]), context, retry_attempts=None)
    assert isinstance(alone, RoundRobinGroupChat) and [p.name for p in alone.participants] == ["solo"]
    await release_team(alone, context)


async def test_specs_that_cannot_run_are_refused_naming_the_component() -> None:
    with pytest.raises(InvalidSpecError) as refused:
        await check_spec({"provider": "muster.core.InMemoryStore", "config": {}})
    assert refused.value.field == "component"
    with pytest.raises(InvalidSpecError):
        await check_spec({"provider": "no.such.Thing", "config": {}})
    with pytest.raises(Exception, match="built by the service"):
        ComponentLoader.load_component(
            {"provider": "muster.service.execution.recording.RecordedResponses", "config": {"scope": "x"}}
        )
