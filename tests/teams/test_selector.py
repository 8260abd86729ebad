"""SelectorGroupChat: model selection, re-prompting and fallback, functions, usage, state, specs."""

from __future__ import annotations

import pytest
from _teams_testkit import ScriptedAgent, sources

from muster.conditions import MaxMessageTermination
from muster.messages import SelectSpeakerEvent, TextMessage
from muster.models import SystemMessage, UserMessage
from muster.models.replay import ReplayChatCompletionClient
from muster.teams import SelectorGroupChat
from muster.teams._group_chat._selector_group_chat import SelectorGroupChatManager
from muster.teams.exceptions import ParticipantError


def _agents() -> list[ScriptedAgent]:
    return [
        ScriptedAgent("alice", description="Plans the work."),
        ScriptedAgent("bob", description="Writes\n the   code."),
        ScriptedAgent("carol", description="Reviews."),
    ]


def _prompt(call: dict[str, object]) -> str:
    messages = call["messages"]
    assert isinstance(messages, list)
    first = messages[0]
    assert isinstance(first, UserMessage | SystemMessage)
    assert isinstance(first.content, str)
    return first.content


async def test_the_model_names_each_next_speaker() -> None:
    model = ReplayChatCompletionClient(["bob", "I pick carol.", "alice"])
    team = SelectorGroupChat(_agents(), model, termination_condition=MaxMessageTermination(4))
    result = await team.run(task="build it")
    assert sources(result.messages) == ["user", "bob", "carol", "alice"]
    assert len(model.create_calls) == 3


async def test_the_prompt_lists_roles_candidates_and_the_history() -> None:
    model = ReplayChatCompletionClient(["bob", "carol"])
    team = SelectorGroupChat(_agents(), model, termination_condition=MaxMessageTermination(3))
    await team.run(task="build it")
    first, second = (_prompt(c) for c in model.create_calls)
    # A non-OpenAI model gets the prompt as a user turn.
    assert isinstance(model.create_calls[0]["messages"][0], UserMessage)
    assert "alice: Plans the work.\nbob: Writes the code.\ncarol: Reviews." in first
    assert "['alice', 'bob', 'carol']" in first
    assert "user: build it\n\n" in first
    # bob spoke, so bob is no longer a candidate, and his message is in the history.
    assert "['alice', 'carol']" in second
    assert "user: build it\n\n\nbob: bob:0\n\n" in second


async def test_an_invalid_answer_is_re_prompted_with_feedback() -> None:
    model = ReplayChatCompletionClient(["nobody", "alice and bob", "bob"])
    team = SelectorGroupChat(_agents(), model, termination_condition=MaxMessageTermination(2))
    result = await team.run(task="go")
    assert sources(result.messages) == ["user", "bob"]
    last_call = model.create_calls[-1]["messages"]
    feedback = [m.content for m in last_call if isinstance(m, UserMessage)][1:]
    assert "No valid name" in feedback[0]
    assert "exactly one name" in feedback[1]


async def test_after_max_attempts_the_first_candidate_speaks_when_there_is_no_previous_speaker() -> None:
    model = ReplayChatCompletionClient(["?", "??"])
    team = SelectorGroupChat(
        _agents(), model, max_selector_attempts=2, termination_condition=MaxMessageTermination(2)
    )
    result = await team.run(task="go")
    assert sources(result.messages) == ["user", "alice"]
    assert len(model.create_calls) == 2


async def test_after_max_attempts_the_previous_speaker_speaks_again() -> None:
    # Second selection: "bob" is refused (he just spoke), then nothing valid: bob again.
    model = ReplayChatCompletionClient(["bob", "bob", "none", "nobody"])
    team = SelectorGroupChat(_agents(), model, termination_condition=MaxMessageTermination(3))
    result = await team.run(task="go")
    assert sources(result.messages) == ["user", "bob", "bob"]
    assert len(model.create_calls) == 4
    refused = [m.content for m in model.create_calls[-1]["messages"] if isinstance(m, UserMessage)][1]
    assert "bob cannot speak now" in refused


async def test_repeated_speaker_can_be_allowed() -> None:
    model = ReplayChatCompletionClient(["bob", "bob"])
    team = SelectorGroupChat(
        _agents(), model, allow_repeated_speaker=True, termination_condition=MaxMessageTermination(3)
    )
    result = await team.run(task="go")
    assert sources(result.messages) == ["user", "bob", "bob"]
    assert len(model.create_calls) == 2


async def test_selector_func_decides_and_none_defers_to_the_model() -> None:
    model = ReplayChatCompletionClient(["carol"])

    def pick(thread: object) -> str | None:
        assert isinstance(thread, list)
        return "bob" if len(thread) == 1 else None

    team = SelectorGroupChat(
        _agents(), model, selector_func=pick, termination_condition=MaxMessageTermination(3)
    )
    result = await team.run(task="go")
    assert sources(result.messages) == ["user", "bob", "carol"]
    assert len(model.create_calls) == 1


async def test_an_invalid_selector_func_answer_fails_the_run_clearly() -> None:
    team = SelectorGroupChat(
        _agents(), ReplayChatCompletionClient([]), selector_func=lambda thread: "mallory"
    )
    with pytest.raises(RuntimeError, match="mallory"):
        await team.run(task="go")


async def test_candidate_func_narrows_the_choice_and_one_candidate_needs_no_model() -> None:
    model = ReplayChatCompletionClient(["carol"])

    async def candidates(thread: object) -> list[str]:
        assert isinstance(thread, list)
        return ["bob"] if len(thread) == 1 else ["alice", "carol"]

    team = SelectorGroupChat(
        _agents(), model, candidate_func=candidates, termination_condition=MaxMessageTermination(3)
    )
    result = await team.run(task="go")
    assert sources(result.messages) == ["user", "bob", "carol"]
    assert len(model.create_calls) == 1
    assert "['alice', 'carol']" in _prompt(model.create_calls[0])


async def test_team_events_carry_the_selector_model_usage() -> None:
    model = ReplayChatCompletionClient(["nobody here", "bob"])
    team = SelectorGroupChat(
        _agents(), model, emit_team_events=True, termination_condition=MaxMessageTermination(2)
    )
    result = await team.run(task="go")
    events = [m for m in result.messages if isinstance(m, SelectSpeakerEvent)]
    assert [e.content for e in events] == [["bob"]]
    usage = events[0].models_usage
    assert usage is not None
    # Two calls: completion tokens are the words of both replies (2 + 1).
    assert usage.completion_tokens == 3
    assert usage.prompt_tokens > 0


async def test_state_round_trip_keeps_the_previous_speaker_and_history() -> None:
    model = ReplayChatCompletionClient(["bob"])
    team = SelectorGroupChat(_agents(), model, termination_condition=MaxMessageTermination(2))
    await team.run(task="go")
    state = await team.save_state()
    assert state["agent_states"]["SelectorGroupChatManager"]["previous_speaker"] == "bob"

    model2 = ReplayChatCompletionClient(["alice"])
    fresh = SelectorGroupChat(_agents(), model2, termination_condition=MaxMessageTermination(1))
    await fresh.load_state(state)
    result = await fresh.run()
    assert sources(result.messages) == ["alice"]
    prompt = _prompt(model2.create_calls[0])
    assert "user: go\n\n\nbob: bob:0\n\n" in prompt
    assert "['alice', 'carol']" in prompt


async def test_reset_forgets_history_and_previous_speaker() -> None:
    model = ReplayChatCompletionClient(["bob", "bob"])
    team = SelectorGroupChat(_agents(), model, termination_condition=MaxMessageTermination(2))
    await team.run(task="first")
    await team.reset()
    result = await team.run(task="second")
    assert sources(result.messages) == ["user", "bob"]
    prompt = _prompt(model.create_calls[1])
    assert "first" not in prompt and "['alice', 'bob', 'carol']" in prompt


async def test_a_participant_failure_names_it() -> None:
    from _teams_testkit import FailingAgent

    team = SelectorGroupChat(
        [ScriptedAgent("alice"), FailingAgent("bob", fail_on=[0])], ReplayChatCompletionClient(["bob"])
    )
    with pytest.raises(ParticipantError) as info:
        await team.run(task="go")
    assert info.value.agent_name == "bob"


def test_the_constructor_needs_two_participants_and_a_positive_attempt_budget() -> None:
    with pytest.raises(ValueError):
        SelectorGroupChat([ScriptedAgent("a")], ReplayChatCompletionClient([]))
    with pytest.raises(ValueError):
        SelectorGroupChat(_agents(), ReplayChatCompletionClient([]), max_selector_attempts=0)


def test_mentions_respect_word_boundaries_and_underscore_spellings() -> None:
    manager = object.__new__(SelectorGroupChatManager)
    from muster.teams._group_chat._selector_group_chat import _mention_pattern

    manager._mention_patterns = {n: _mention_pattern(n) for n in ("data_analyst", "bob", "bobby")}
    assert manager._mentions("data analyst, please") == ["data_analyst"]
    assert manager._mentions(r"**data\_analyst**") == ["data_analyst"]
    assert manager._mentions("bobby") == ["bobby"]
    assert manager._mentions("Bob") == []


async def test_history_is_rendered_once_per_message() -> None:
    """The selector's per-turn cost must not grow with re-rendering the thread."""
    renders = 0

    class CountingMessage(TextMessage):
        def to_model_message(self) -> UserMessage:
            nonlocal renders
            renders += 1
            return super().to_model_message()

    model = ReplayChatCompletionClient(["bob", "alice"] * 10)
    team = SelectorGroupChat(
        [ScriptedAgent("alice"), ScriptedAgent("bob")],
        model,
        termination_condition=MaxMessageTermination(21),
        custom_message_types=[CountingMessage],
        allow_repeated_speaker=True,
    )
    await team.run(task=CountingMessage(content="go", source="user"))
    assert renders == 1
