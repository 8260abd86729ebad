"""MagenticOneGroupChat driven by a replayed orchestrator model: ledgers, stalls, re-planning, answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from _teams_testkit import ScriptedAgent, sources

from muster.agents import AssistantAgent
from muster.conditions import TextMentionTermination
from muster.messages import BaseChatMessage, SelectSpeakerEvent, TextMessage
from muster.models import ModelFamily, ModelInfo, UserMessage
from muster.models.replay import ReplayChatCompletionClient
from muster.teams import MagenticOneGroupChat, RoundRobinGroupChat
from muster.teams._magentic_one import (
    FINAL_ANSWER_PROMPT,
    MAX_LEDGER_ATTEMPTS,
    LedgerEntry,
    LedgerError,
    parse_progress_ledger,
)
from muster.teams.exceptions import GroupChatRuntimeError

ORCH = "MagenticOneOrchestrator"


def ledger(
    speaker: str = "A",
    instruction: str = "please act",
    *,
    satisfied: bool = False,
    in_loop: bool = False,
    progress: bool = True,
    reason: str = "because",
) -> str:
    def entry(answer: Any) -> dict[str, Any]:
        return {"reason": reason, "answer": answer}

    return json.dumps(
        {
            "is_request_satisfied": entry(satisfied),
            "is_in_loop": entry(in_loop),
            "is_progress_being_made": entry(progress),
            "next_speaker": entry(speaker),
            "instruction_or_question": entry(instruction),
        }
    )


def texts(result_messages: Any, source: str) -> list[str]:
    return [m.to_text() for m in result_messages if isinstance(m, BaseChatMessage) and m.source == source]


def prompt_texts(call: dict[str, Any]) -> list[str]:
    return [str(m.content) for m in call["messages"]]


async def test_plans_instructs_each_speaker_and_answers() -> None:
    a, b = ScriptedAgent("A", ["found it"]), ScriptedAgent("B", ["checked it"])
    client = ReplayChatCompletionClient(
        [
            "FACTS: none given",
            "PLAN: A finds, B checks",
            ledger("A", "find the thing"),
            ledger("B", "check the thing"),
            ledger(satisfied=True, reason="A found it and B checked it"),
            "The thing is found.",
        ]
    )
    team = MagenticOneGroupChat([a, b], model_client=client)
    result = await team.run(task="Find the thing")

    assert sources(result.messages) == ["user", ORCH, ORCH, "A", ORCH, "B", ORCH]
    task_ledger, *instructions, final = texts(result.messages, ORCH)
    assert "Find the thing" in task_ledger and "FACTS: none given" in task_ledger
    assert "PLAN: A finds, B checks" in task_ledger and "A: Agent A" in task_ledger
    assert instructions == ["find the thing", "check the thing"]
    assert final == "The thing is found."
    assert result.stop_reason == "A found it and B checked it"

    # Participants see the task ledger and the instructions, not the raw task.
    assert a.seen == [f"{ORCH}>{task_ledger}", f"{ORCH}>find the thing"]
    assert b.seen[-2:] == ["A>found it", f"{ORCH}>check the thing"]

    calls = client.create_calls
    assert "Find the thing" in prompt_texts(calls[0])[0]  # the fact-sheet request names the task
    assert prompt_texts(calls[1])[1] == "FACTS: none given"  # the plan request follows the facts
    assert "A: Agent A\nB: Agent B" in prompt_texts(calls[1])[2]
    progress_prompt = prompt_texts(calls[2])[-1]
    assert "A, B" in progress_prompt and '"next_speaker"' in progress_prompt
    assert calls[2]["json_output"] is None  # this model declares no JSON support
    final_prompt = prompt_texts(calls[5])[-1]
    assert final_prompt == FINAL_ANSWER_PROMPT.replace("{task}", "Find the thing")


async def test_unusable_ledgers_are_sent_back_with_the_problem() -> None:
    a = ScriptedAgent("A")
    client = ReplayChatCompletionClient(
        [
            "facts",
            "plan",
            "Sure! Here is my answer.",
            "```python\nprint(1)\n```",
            ledger("Z"),
            "```json\n" + ledger("A", "go") + "\n```",
            ledger(satisfied=True),
            "done",
        ]
    )
    result = await MagenticOneGroupChat([a, ScriptedAgent("B")], model_client=client).run(task="t")
    assert texts(result.messages, ORCH)[1] == "go"
    retry = prompt_texts(client.create_calls[5])
    assert retry[-6] == "Sure! Here is my answer."
    assert "not valid JSON" in retry[-5]
    assert "expected a JSON block, found a 'python' block" in retry[-3]
    assert "next_speaker 'Z' is not one of A, B" in retry[-1]


async def test_a_model_that_never_produces_a_ledger_fails_the_run() -> None:
    client = ReplayChatCompletionClient(["facts", "plan", *(["nope"] * MAX_LEDGER_ATTEMPTS)])
    team = MagenticOneGroupChat([ScriptedAgent("A"), ScriptedAgent("B")], model_client=client)
    with pytest.raises(GroupChatRuntimeError) as info:
        await team.run(task="t")
    assert info.value.error_type == "LedgerError"
    assert f"after {MAX_LEDGER_ATTEMPTS} attempts" in info.value.detail


async def test_stalls_trigger_new_facts_a_new_plan_and_a_fresh_start() -> None:
    a = ScriptedAgent("A", ["stuck"])
    client = ReplayChatCompletionClient(
        [
            "facts v1",
            "plan v1",
            ledger("A", "try 1", progress=False),  # stall 1
            ledger("A", "try 2", progress=True),  # progress: back to 0
            ledger("A", "try 3", in_loop=True),  # stall 1
            ledger("A", "try 4", progress=False),  # stall 2 -> re-plan
            "facts v2",
            "plan v2",
            ledger("A", "fresh try"),
            ledger(satisfied=True, reason="solved"),
            "answer",
        ]
    )
    team = MagenticOneGroupChat([a, ScriptedAgent("B")], model_client=client, max_stalls=2)
    result = await team.run(task="hard task")

    orchestrator_says = texts(result.messages, ORCH)
    assert orchestrator_says[1:4] == ["try 1", "try 2", "try 3"]
    second_ledger = orchestrator_says[4]
    assert "facts v2" in second_ledger and "plan v2" in second_ledger and "hard task" in second_ledger
    assert orchestrator_says[5:] == ["fresh try", "answer"]
    assert result.stop_reason == "solved"
    assert texts(result.messages, "A") == ["stuck"] * 4  # try 1-3 and the fresh try; "try 4" never went out
    assert a.resets == 2  # once when first planning, once when re-planning
    assert a.seen[0].startswith(f"{ORCH}>") and "facts v2" in a.seen[0]  # A forgot the first attempt

    update_facts = prompt_texts(client.create_calls[6])
    assert "facts v1" in update_facts[-1] and "hard task" in update_facts[-1]
    assert "stuck" in update_facts  # the re-plan sees what happened
    assert prompt_texts(client.create_calls[7])[-2] == "facts v2"


async def test_max_turns_ends_with_a_final_answer() -> None:
    client = ReplayChatCompletionClient(["f", "p", ledger("A", "one"), ledger("B", "two"), "best effort"])
    team = MagenticOneGroupChat([ScriptedAgent("A"), ScriptedAgent("B")], model_client=client, max_turns=2)
    result = await team.run(task="t")
    assert sources(result.messages) == ["user", ORCH, ORCH, "A", ORCH, "B", ORCH]
    assert texts(result.messages, ORCH)[-1] == "best effort"
    assert result.stop_reason == "Max rounds reached."


async def test_termination_condition_stops_without_a_final_answer_and_run_continues() -> None:
    a = ScriptedAgent("A", ["working", "DONE"])
    client = ReplayChatCompletionClient(
        ["f", "p", ledger("A", "go"), ledger("A", "again"), ledger(satisfied=True, reason="ok"), "final"]
    )
    team = MagenticOneGroupChat(
        [a, ScriptedAgent("B")], model_client=client, termination_condition=TextMentionTermination("DONE")
    )
    first = await team.run(task="t")
    assert first.stop_reason == "Text 'DONE' mentioned"
    assert texts(first.messages, "A") == ["working", "DONE"]
    assert len(client.create_calls) == 4

    second = await team.run()  # continue the same task: no re-planning
    assert sources(second.messages) == [ORCH]
    assert second.stop_reason == "ok"
    assert texts(second.messages, ORCH) == ["final"]


async def test_a_single_participant_is_always_the_next_speaker() -> None:
    client = ReplayChatCompletionClient(["f", "p", ledger("whoever", "go"), ledger(satisfied=True), "x"])
    result = await MagenticOneGroupChat([ScriptedAgent("solo")], model_client=client).run(task="t")
    assert "solo" in sources(result.messages)


async def test_models_with_json_support_are_asked_natively() -> None:
    def info(**flags: bool) -> ModelInfo:
        base = {"vision": False, "function_calling": False, "json_output": False, "structured_output": False}
        base.update(flags)
        return ModelInfo(family=ModelFamily.UNKNOWN, **base)  # type: ignore[typeddict-item]

    for flags, expected in (({"structured_output": True}, LedgerEntry), ({"json_output": True}, True)):
        client = ReplayChatCompletionClient(["f", "p", ledger(satisfied=True), "x"], model_info=info(**flags))
        await MagenticOneGroupChat([ScriptedAgent("A")], model_client=client).run(task="t")
        assert client.create_calls[2]["json_output"] is expected
        assert client.create_calls[0]["json_output"] is None


async def test_team_events_report_each_selection() -> None:
    client = ReplayChatCompletionClient(["f", "p", ledger("B", "go"), ledger(satisfied=True), "x"])
    team = MagenticOneGroupChat(
        [ScriptedAgent("A"), ScriptedAgent("B")], model_client=client, emit_team_events=True
    )
    result = await team.run(task="t")
    events = [m for m in result.messages if isinstance(m, SelectSpeakerEvent)]
    assert [e.content for e in events] == [["B"]]


async def test_state_round_trip_continues_the_task() -> None:
    script = ["f", "p", ledger("A", "step"), ledger(satisfied=True, reason="complete"), "final"]
    a = ScriptedAgent("A", ["DONE"])
    team = MagenticOneGroupChat(
        [a, ScriptedAgent("B")],
        model_client=ReplayChatCompletionClient(script),
        termination_condition=TextMentionTermination("DONE"),
    )
    await team.run(task="the task")
    state = await team.save_state()
    orchestrator = state["agent_states"][ORCH]
    assert orchestrator["type"] == "MagenticOneOrchestratorState"
    assert (orchestrator["task"], orchestrator["facts"], orchestrator["plan"]) == ("the task", "f", "p")
    assert orchestrator["n_rounds"] == 1 and orchestrator["n_stalls"] == 0
    assert [m["source"] for m in orchestrator["message_thread"]] == [ORCH, ORCH, "A"]

    # A fresh team and model pick up right after the ledger step that was interrupted.
    client = ReplayChatCompletionClient(script[3:])
    resumed = MagenticOneGroupChat([ScriptedAgent("A"), ScriptedAgent("B")], model_client=client)
    await resumed.load_state(state)
    result = await resumed.run()
    assert result.stop_reason == "complete"
    assert "DONE" in prompt_texts(client.create_calls[0])


async def test_reset_forgets_the_task() -> None:
    client = ReplayChatCompletionClient(["f", "p", ledger(satisfied=True), "x"])
    team = MagenticOneGroupChat([ScriptedAgent("A")], model_client=client)
    await team.run(task="t")
    await team.reset()
    with pytest.raises(GroupChatRuntimeError, match="needs a task"):
        await team.run()


async def test_dump_and_load() -> None:
    agent = AssistantAgent(
        "coder", model_client=ReplayChatCompletionClient(["code"]), description="Writes code"
    )
    team = MagenticOneGroupChat(
        [agent],
        model_client=ReplayChatCompletionClient(["f", "p", ledger(satisfied=True), "x"]),
        max_turns=7,
        max_stalls=4,
        final_answer_prompt="Answer: {task}",
        termination_condition=TextMentionTermination("STOP"),
    )
    spec = team.dump_component()
    assert spec.provider == "muster.teams.MagenticOneGroupChat"
    assert spec.config["max_stalls"] == 4 and spec.config["max_turns"] == 7
    assert spec.config["final_answer_prompt"] == "Answer: {task}"
    loaded = MagenticOneGroupChat.load_component(spec.model_dump(mode="json"))
    assert loaded.dump_component() == spec
    result = await loaded.run(task="ship it")
    assert result.stop_reason == "because"


def test_defaults_and_validation() -> None:
    client = ReplayChatCompletionClient([])
    team = MagenticOneGroupChat([AssistantAgent("A", model_client=client)], model_client=client)
    assert (team.name, team.description) == ("MagenticOneGroupChat", "A team of agents.")
    assert team.dump_component().config["max_turns"] == 20
    assert team.dump_component().config["max_stalls"] == 3
    with pytest.raises(ValueError, match="At least one participant"):
        MagenticOneGroupChat([], model_client=client)
    with pytest.raises(TypeError, match="must be a ChatAgent"):
        MagenticOneGroupChat([RoundRobinGroupChat([ScriptedAgent("x")])], model_client=client)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="max_stalls"):
        MagenticOneGroupChat([ScriptedAgent("A")], model_client=client, max_stalls=0)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("plain words", "not valid JSON"),
        ("[1, 2]", "expected a JSON object, found list"),
        ("```json\n{}\n```\n```json\n{}\n```", "expected one JSON object, found 2"),
        ('{"is_request_satisfied": {"reason": "r", "answer": false}}', "does not have the ledger's shape"),
    ],
)
def test_parse_progress_ledger_rejections(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_progress_ledger(text, ["A", "B"])


def test_parse_progress_ledger_accepts_fences_and_satisfied_without_speaker() -> None:
    parsed = parse_progress_ledger("```\n" + ledger("nobody", satisfied=True) + "\n```", ["A", "B"])
    assert parsed.is_request_satisfied.answer is True
    assert parsed.next_speaker.answer == "nobody"  # irrelevant once satisfied


def test_ledger_error_carries_its_data() -> None:
    error = LedgerError(3, "oops", "not valid JSON")
    assert (error.attempts, error.last_output, error.reason) == (3, "oops", "not valid JSON")
    assert isinstance(error, ValueError)


def test_first_prompt_is_a_user_message_from_the_orchestrator() -> None:
    # Guards the model-facing contract the replay tests above rely on.
    assert UserMessage(content="x", source=ORCH).source == ORCH
    assert TextMessage(content="x", source=ORCH).to_model_message() == UserMessage(content="x", source=ORCH)
