"""SocietyOfMindAgent: inner team run, summary prompt, memory of earlier requests, state."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any

import pytest

from muster.agents import AssistantAgent, SocietyOfMindAgent
from muster.base import Response, TaskResult, Team
from muster.base.exceptions import StateError
from muster.core import CancellationToken
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    ModelClientStreamingChunkEvent,
    TextMessage,
    ThoughtEvent,
)
from muster.model_context import BufferedChatCompletionContext
from muster.models import ModelFamily, ModelInfo, SystemMessage, UserMessage
from muster.models.replay import ReplayChatCompletionClient
from muster.state import SocietyOfMindAgentState


class ScriptedTeam(Team):
    """A team whose run yields fixed messages and records what it was given."""

    def __init__(self, output: Sequence[BaseAgentEvent | BaseChatMessage]) -> None:
        self.output = list(output)
        self.tasks: list[Any] = []
        self.resets = 0
        self.loaded: list[Mapping[str, Any]] = []

    @property
    def name(self) -> str:
        return "inner"

    @property
    def description(self) -> str:
        return "scripted"

    async def run(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> TaskResult:
        result = None
        async for item in self.run_stream(task=task, output_task_messages=output_task_messages):
            if isinstance(item, TaskResult):
                result = item
        assert result is not None
        return result

    async def run_stream(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | TaskResult, None]:
        assert output_task_messages is False  # the agent must not see its own task echoed back
        self.tasks.append(task)
        for item in self.output:
            yield item
        yield TaskResult(
            messages=[m for m in self.output if not isinstance(m, ModelClientStreamingChunkEvent)]
        )

    async def reset(self) -> None:
        self.resets += 1

    async def pause(self) -> None:
        pass

    async def resume(self) -> None:
        pass

    async def save_state(self) -> Mapping[str, Any]:
        return {"type": "TeamState", "agent_states": {"writer": {"n": 1}}}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.loaded.append(state)


INNER = [
    ModelClientStreamingChunkEvent(content="Dra", source="writer"),
    TextMessage(content="Draft: a poem", source="writer"),
    ThoughtEvent(content="checking rhyme", source="editor"),
    TextMessage(content="APPROVE", source="editor"),
]


async def test_runs_the_team_then_summarises_its_chat_messages() -> None:
    team = ScriptedTeam(INNER)
    client = ReplayChatCompletionClient(["Here is the poem."])
    agent = SocietyOfMindAgent("som", team=team, model_client=client)

    streamed = [
        item
        async for item in agent.on_messages_stream(
            [TextMessage(content="Write a poem", source="user")], CancellationToken()
        )
    ]

    assert streamed[:-1] == INNER  # inner messages are streamed for observers, chunks included
    response = streamed[-1]
    assert isinstance(response, Response)
    assert response.inner_messages == []
    assert isinstance(response.chat_message, TextMessage)
    assert (response.chat_message.source, response.chat_message.content) == ("som", "Here is the poem.")
    assert response.chat_message.models_usage is not None

    # First request: no earlier context, the task goes to the team as given.
    assert [m.content for m in team.tasks[0]] == ["Write a poem"]
    # The model saw instruction, the inner chat messages (no events, no chunks), response prompt,
    # framed as user turns because the model does not declare multiple system messages.
    prompt = client.create_calls[0]["messages"]
    assert prompt == [
        UserMessage(content=SocietyOfMindAgent.DEFAULT_INSTRUCTION, source="user"),
        UserMessage(content="Draft: a poem", source="writer"),
        UserMessage(content="APPROVE", source="editor"),
        UserMessage(content=SocietyOfMindAgent.DEFAULT_RESPONSE_PROMPT, source="user"),
    ]
    assert team.resets == 1


async def test_custom_framing_as_system_messages_when_the_model_allows() -> None:
    info = ModelInfo(
        vision=False,
        function_calling=False,
        json_output=False,
        family=ModelFamily.UNKNOWN,
        structured_output=False,
        multiple_system_messages=True,
    )
    client = ReplayChatCompletionClient(["ok"], model_info=info)
    agent = SocietyOfMindAgent(
        "som",
        team=ScriptedTeam(INNER),
        model_client=client,
        instruction="Transcript:",
        response_prompt="Answer.",
    )
    await agent.run(task="go")
    prompt = client.create_calls[0]["messages"]
    assert prompt[0] == SystemMessage(content="Transcript:")
    assert prompt[-1] == SystemMessage(content="Answer.")


async def test_silent_team_gives_no_response_without_calling_the_model() -> None:
    client = ReplayChatCompletionClient([])
    agent = SocietyOfMindAgent("som", team=ScriptedTeam([]), model_client=client)
    result = await agent.run(task="anything")
    final = result.messages[-1]
    assert isinstance(final, TextMessage)
    assert final.content == "No response."
    assert client.create_calls == []


async def test_earlier_requests_reach_the_team_as_handoff_context() -> None:
    team = ScriptedTeam(INNER)
    agent = SocietyOfMindAgent(
        "som", team=team, model_client=ReplayChatCompletionClient(["one", "two", "three"])
    )
    await agent.on_messages([TextMessage(content="first", source="user")], CancellationToken())
    await agent.on_messages([TextMessage(content="second", source="user")], CancellationToken())

    second_task = team.tasks[1]
    assert isinstance(second_task[0], HandoffMessage)
    assert second_task[0].source == "som"
    assert second_task[0].context == [UserMessage(content="first", source="user")]
    assert [m.content for m in second_task[1:]] == ["second"]

    # A handoff received by the agent contributes its carried context too.
    carried = HandoffMessage(
        content="over to you", source="boss", target="som", context=[UserMessage(content="memo", source="x")]
    )
    await agent.on_messages([carried], CancellationToken())
    assert await agent.model_context.get_messages() == [
        UserMessage(content="first", source="user"),
        UserMessage(content="second", source="user"),
        UserMessage(content="memo", source="x"),
        UserMessage(content="over to you", source="boss"),
    ]

    await agent.on_reset(CancellationToken())
    assert await agent.model_context.get_messages() == []
    assert team.resets == 4


async def test_continuing_without_new_messages_runs_the_team_with_no_task() -> None:
    team = ScriptedTeam(INNER)
    agent = SocietyOfMindAgent("som", team=team, model_client=ReplayChatCompletionClient(["x"]))
    await agent.on_messages([], CancellationToken())
    assert team.tasks == [None]


async def test_bounded_model_context_limits_what_is_replayed() -> None:
    team = ScriptedTeam(INNER)
    agent = SocietyOfMindAgent(
        "som",
        team=team,
        model_client=ReplayChatCompletionClient(["a", "b", "c"]),
        model_context=BufferedChatCompletionContext(buffer_size=1),
    )
    for text in ("one", "two", "three"):
        await agent.on_messages([TextMessage(content=text, source="user")], CancellationToken())
    handoff = team.tasks[2][0]
    assert isinstance(handoff, HandoffMessage)
    assert handoff.context == [UserMessage(content="two", source="user")]


async def test_tool_call_answer_is_rejected() -> None:
    from muster.core import FunctionCall
    from muster.models import CreateResult, RequestUsage

    calls = CreateResult(
        finish_reason="function_calls",
        content=[FunctionCall(id="1", name="f", arguments="{}")],
        usage=RequestUsage(prompt_tokens=1, completion_tokens=1),
        cached=False,
    )
    agent = SocietyOfMindAgent(
        "som", team=ScriptedTeam(INNER), model_client=ReplayChatCompletionClient([calls])
    )
    with pytest.raises(TypeError, match="must answer with text"):
        await agent.run(task="go")


async def test_state_is_the_inner_team_state() -> None:
    team = ScriptedTeam(INNER)
    agent = SocietyOfMindAgent("som", team=team, model_client=ReplayChatCompletionClient([]))
    state = await agent.save_state()
    assert state["type"] == "SocietyOfMindAgentState"
    assert state["inner_team_state"] == {"type": "TeamState", "agent_states": {"writer": {"n": 1}}}
    await agent.load_state(SocietyOfMindAgentState(inner_team_state={"x": 1}).model_dump())
    assert team.loaded == [{"x": 1}]


def test_defaults_match_autogen() -> None:
    agent = SocietyOfMindAgent("som", team=ScriptedTeam([]), model_client=ReplayChatCompletionClient([]))
    assert agent.description == "An agent that uses an inner team of agents to generate responses."
    assert agent.produced_message_types == (TextMessage,)
    assert SocietyOfMindAgent.DEFAULT_INSTRUCTION.startswith("Earlier you were asked to fulfill a request.")
    assert SocietyOfMindAgent.DEFAULT_RESPONSE_PROMPT.startswith("Output a standalone response")


async def test_with_a_real_inner_team_inside_an_outer_team() -> None:
    from muster.conditions import TextMentionTermination
    from muster.teams import RoundRobinGroupChat

    writer = AssistantAgent("writer", model_client=ReplayChatCompletionClient(["draft 1", "draft 2"]))
    editor = AssistantAgent("editor", model_client=ReplayChatCompletionClient(["fix it", "APPROVE"]))
    inner = RoundRobinGroupChat([writer, editor], termination_condition=TextMentionTermination("APPROVE"))
    summariser = ReplayChatCompletionClient(["the final story"])
    som = SocietyOfMindAgent("society", team=inner, model_client=summariser)
    translator = AssistantAgent("translator", model_client=ReplayChatCompletionClient(["la historia"]))
    outer = RoundRobinGroupChat([som, translator], max_turns=2)

    result = await outer.run(task="Write a story")

    chat = [(m.source, m.to_text()) for m in result.messages if isinstance(m, BaseChatMessage)]
    assert chat == [
        ("user", "Write a story"),
        ("writer", "draft 1"),
        ("editor", "fix it"),
        ("writer", "draft 2"),
        ("editor", "APPROVE"),
        ("society", "the final story"),
        ("translator", "la historia"),
    ]
    # The summary prompt held the inner discussion between the two framing messages.
    prompt = [m.content for m in summariser.create_calls[0]["messages"]]
    assert prompt[1:5] == ["draft 1", "fix it", "draft 2", "APPROVE"]
    # The translator, an outer participant, saw the society's answer but not its inner talk.
    translator_prompt = [m.content for m in await translator.model_context.get_messages()]
    assert "the final story" in translator_prompt and "fix it" not in translator_prompt


async def test_dump_and_load_round_trip() -> None:
    from muster.conditions import MaxMessageTermination
    from muster.teams import RoundRobinGroupChat

    inner = RoundRobinGroupChat(
        [AssistantAgent("a", model_client=ReplayChatCompletionClient(["x"]))],
        termination_condition=MaxMessageTermination(2),
    )
    agent = SocietyOfMindAgent(
        "som",
        team=inner,
        model_client=ReplayChatCompletionClient(["summary"]),
        description="d",
        instruction="i",
        response_prompt="r",
        model_context=BufferedChatCompletionContext(buffer_size=3),
    )
    spec = agent.dump_component()
    assert spec.provider == "muster.agents.SocietyOfMindAgent"
    assert (spec.config["instruction"], spec.config["response_prompt"]) == ("i", "r")
    loaded = SocietyOfMindAgent.load_component(spec.model_dump(mode="json"))
    assert loaded.dump_component() == spec
    assert isinstance(loaded.model_context, BufferedChatCompletionContext)
    result = await loaded.run(task="go")
    assert result.messages[-1].to_text() == "summary"


class StatefulTeam(ScriptedTeam):
    """A scripted team with a real state that refuses states not tagged TeamState."""

    def __init__(self, output: Sequence[BaseAgentEvent | BaseChatMessage]) -> None:
        super().__init__(output)
        self.state: Mapping[str, Any] = {"type": "TeamState", "agent_states": {}}

    async def save_state(self) -> Mapping[str, Any]:
        return self.state

    async def load_state(self, state: Mapping[str, Any]) -> None:
        if state.get("type") != "TeamState":
            raise StateError(f"expected 'TeamState', got {state.get('type')!r}", "type")
        self.state = state


async def test_a_resumed_agent_gives_its_team_the_same_earlier_requests() -> None:
    agent = SocietyOfMindAgent(
        "som", team=ScriptedTeam(INNER), model_client=ReplayChatCompletionClient(["one"])
    )
    await agent.run(task="Write a poem")
    state = json.loads(json.dumps(await agent.save_state()))

    team = ScriptedTeam(INNER)
    resumed = SocietyOfMindAgent("som", team=team, model_client=ReplayChatCompletionClient(["two"]))
    await resumed.load_state(state)
    await resumed.run(task="Shorter")
    handoff = team.tasks[0][0]
    assert isinstance(handoff, HandoffMessage)
    assert handoff.context == [UserMessage(content="Write a poem", source="user")]


async def test_an_autogen_state_without_context_loads_the_team_only() -> None:
    team = StatefulTeam(INNER)
    agent = SocietyOfMindAgent("som", team=team, model_client=ReplayChatCompletionClient(["one"]))
    await agent.run(task="Write a poem")
    await agent.load_state(
        {
            "type": "SocietyOfMindAgentState",
            "inner_team_state": {"type": "TeamState", "agent_states": {"w": {}}},
        }
    )
    assert team.state == {"type": "TeamState", "agent_states": {"w": {}}}
    assert len(await agent.model_context.get_messages()) == 1


def good_state() -> dict[str, Any]:
    return {
        "type": "SocietyOfMindAgentState",
        "version": "1.0.0",
        "inner_team_state": {"type": "TeamState", "agent_states": {"w": {"n": 2}}},
        "llm_context": {"messages": [{"content": "Other", "source": "user", "type": "UserMessage"}]},
    }


SOM_BAD_EDITS: list[tuple[Callable[[dict[str, Any]], None], str]] = [
    (lambda s: s.update(type="TeamState"), r"^type: expected 'SocietyOfMindAgentState', got 'TeamState'$"),
    (lambda s: s.update(version="2"), r"^version: unsupported version '2'"),
    (lambda s: s.update(inner_team_state=[]), r"^inner_team_state: Input should be a valid dictionary"),
    (
        lambda s: s["inner_team_state"].update(type="X"),
        r"^inner_team_state\.type: expected 'TeamState', got 'X'$",
    ),
    (lambda s: s.update(llm_context="none"), r"^llm_context: Input should be a valid dictionary"),
    (
        lambda s: s["llm_context"]["messages"][0].pop("source"),
        r"^llm_context\.messages\[0\]\.UserMessage\.source",
    ),
]


@pytest.mark.parametrize(("edit", "message"), SOM_BAD_EDITS)
async def test_a_bad_state_names_the_field_and_changes_neither_team_nor_context(
    edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    team = StatefulTeam(INNER)
    agent = SocietyOfMindAgent("som", team=team, model_client=ReplayChatCompletionClient(["one"]))
    await agent.run(task="Write a poem")
    before = await agent.save_state()
    state = good_state()
    edit(state)
    with pytest.raises(StateError, match=message):
        await agent.load_state(state)
    assert await agent.save_state() == before
