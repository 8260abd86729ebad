"""CodeExecutorAgent: terminal mode, model mode with retries and reflection, approval, state, specs."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from muster.agents import (
    ApprovalFuncType,
    ApprovalRequest,
    ApprovalResponse,
    AssistantAgent,
    CodeExecutorAgent,
)
from muster.agents.exceptions import ModelTurnError
from muster.base import TaskResult
from muster.base.exceptions import StateError
from muster.code_executor import CodeBlock, CodeExecutor, CodeResult
from muster.code_executor.exceptions import ApprovalNotSerializableError, CodeExecutionConfigError
from muster.code_executors import CommandLineCodeResult
from muster.code_executors.local import LocalCommandLineCodeExecutor
from muster.conditions import MaxMessageTermination
from muster.core import CancellationToken
from muster.messages import (
    CodeExecutionEvent,
    CodeGenerationEvent,
    ModelClientStreamingChunkEvent,
    TextMessage,
    ThoughtEvent,
)
from muster.models import AssistantMessage, CreateResult, RequestUsage, SystemMessage, UserMessage
from muster.models.replay import ReplayChatCompletionClient
from muster.teams import RoundRobinGroupChat

Replay = Callable[[Sequence[str | CreateResult]], ReplayChatCompletionClient]


def fence(code: str, language: str = "python") -> str:
    return f"```{language}\n{code}\n```"


def kinds(result: TaskResult) -> list[str]:
    return [type(m).__name__ for m in result.messages]


@pytest.fixture
def executor(tmp_path: Path) -> LocalCommandLineCodeExecutor:
    with pytest.warns(UserWarning, match="not a sandbox"):
        return LocalCommandLineCodeExecutor(work_dir=tmp_path / "work", timeout=10)


def make_agent(executor: CodeExecutor, **kwargs: Any) -> CodeExecutorAgent:
    """An agent; without approval_func the no-review warning is expected."""
    if kwargs.get("approval_func") is not None:
        return CodeExecutorAgent("coder", executor, **kwargs)
    with pytest.warns(UserWarning, match="no approval_func"):
        return CodeExecutorAgent("coder", executor, **kwargs)


class ScriptedExecutor(CodeExecutor):
    """Returns canned results in order and records what it was asked to run."""

    def __init__(self, *results: CodeResult) -> None:
        self.results = list(results)
        self.runs: list[list[CodeBlock]] = []

    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CodeResult:
        self.runs.append(code_blocks)
        return self.results.pop(0)

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def restart(self) -> None: ...


# --- terminal mode (no model client) ---------------------------------------------------------


async def test_terminal_runs_fenced_python_and_sh_blocks(executor: LocalCommandLineCodeExecutor) -> None:
    agent = make_agent(executor)
    assert agent.description == CodeExecutorAgent.DEFAULT_TERMINAL_DESCRIPTION
    task = "Run these:\n" + fence("print('from python')") + "\nand\n" + fence("echo from sh", "sh")
    result = await agent.run(task=task)
    assert kinds(result) == ["TextMessage", "TextMessage"]
    reply = result.messages[-1]
    assert isinstance(reply, TextMessage) and reply.source == "coder"
    assert reply.content == "from python\nfrom sh\n"


async def test_extraction_rules() -> None:
    agent = make_agent(ScriptedExecutor())
    text = (
        "```Python  \r\nprint(1)\n```\n"  # language case and trailing blanks tolerated
        "```javascript\nconsole.log(2)\n```\n"  # unsupported: ignored
        "```\nno language\n```\n"  # no language: ignored
        "```sh\necho 3\n```"
    )
    blocks = await agent.extract_code_blocks_from_messages([TextMessage(content=text, source="user")])
    assert blocks == [CodeBlock("print(1)\n", "Python"), CodeBlock("echo 3\n", "sh")]


async def test_custom_supported_languages() -> None:
    agent = make_agent(ScriptedExecutor(), supported_languages=["bash"])
    text = fence("echo 1", "bash") + fence("print(2)")
    blocks = await agent.extract_code_blocks_from_messages([TextMessage(content=text, source="user")])
    assert blocks == [CodeBlock("echo 1\n", "bash")]


async def test_sources_filter_ignores_other_senders() -> None:
    scripted = ScriptedExecutor(CodeResult(0, "ran\n"))
    agent = make_agent(scripted, sources=["writer"])
    messages = [
        TextMessage(content=fence("print('mallory')"), source="mallory"),
        TextMessage(content=fence("print('writer')"), source="writer"),
    ]
    response = await agent.on_messages(messages, CancellationToken())
    assert scripted.runs == [[CodeBlock("print('writer')\n", "python")]]
    assert isinstance(response.chat_message, TextMessage)
    assert response.chat_message.content == "ran\n"


async def test_no_code_blocks_reply() -> None:
    scripted = ScriptedExecutor()
    agent = make_agent(scripted)
    result = await agent.run(task="just words, ```ruby\nputs 1\n```")
    reply = result.messages[-1]
    assert isinstance(reply, TextMessage)
    assert reply.content == CodeExecutorAgent.NO_CODE_BLOCKS_FOUND_MESSAGE
    assert "No code blocks found" in reply.content
    assert scripted.runs == []


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (CodeResult(0, "  \n"), "produced no output to console. The POSIX exit code was: 0."),
        (CodeResult(2, "boom\n"), "exited with an error (POSIX exit code: 2)\nIts output was:\nboom\n"),
    ],
)
async def test_silent_or_failed_runs_are_explained(result: CodeResult, expected: str) -> None:
    agent = make_agent(ScriptedExecutor(result))
    response = await agent.run(task=fence("x"))
    reply = response.messages[-1]
    assert isinstance(reply, TextMessage)
    assert expected in reply.content
    assert result.output in ("  \n", "boom\n"), "the executor's own result object is not mutated"


async def test_real_failure_reaches_the_reply(executor: LocalCommandLineCodeExecutor) -> None:
    result = await make_agent(executor).run(task=fence("import sys; print('oops'); sys.exit(4)"))
    reply = result.messages[-1]
    assert isinstance(reply, TextMessage)
    assert reply.content.startswith("The script ran, then exited with an error (POSIX exit code: 4)")
    assert reply.content.endswith("oops\n")


# --- approval ----------------------------------------------------------------------------------


async def test_sync_approval_sees_code_and_context_and_allows(executor: LocalCommandLineCodeExecutor) -> None:
    requests: list[ApprovalRequest] = []

    def approve(request: ApprovalRequest) -> ApprovalResponse:
        requests.append(request)
        return ApprovalResponse(approved=True, reason="looks safe")

    agent = make_agent(executor, approval_func=approve)
    task = fence("print('approved')") + fence("echo too", "sh")
    result = await agent.run(task=task)
    assert isinstance(result.messages[-1], TextMessage)
    assert result.messages[-1].content == "approved\ntoo\n"
    [request] = requests
    assert request.code == "```python\nprint('approved')\n\n```\n\n```sh\necho too\n\n```"
    assert [m.content for m in request.context] == [task]


async def test_async_denial_is_reported_and_nothing_runs(
    executor: LocalCommandLineCodeExecutor, tmp_path: Path
) -> None:
    marker = tmp_path / "work" / "ran"

    async def deny(request: ApprovalRequest) -> ApprovalResponse:
        return ApprovalResponse(approved=False, reason="writes files")

    agent = make_agent(executor, approval_func=deny)
    result = await agent.run(task=fence(f"open({str(marker)!r}, 'w')"))
    reply = result.messages[-1]
    assert isinstance(reply, TextMessage)
    assert reply.content == "Code execution was not approved. Reason: writes files"
    assert not marker.exists()


async def test_approval_denial_in_model_mode_is_reflected_on(replay: Replay) -> None:
    scripted = ScriptedExecutor()
    seen: list[ApprovalRequest] = []

    def deny(request: ApprovalRequest) -> ApprovalResponse:
        seen.append(request)
        return ApprovalResponse(approved=False, reason="no network")

    client = replay([fence("import urllib"), "I was not allowed to run it."])
    agent = make_agent(scripted, model_client=client, approval_func=deny)
    result = await agent.run(task="fetch a page")
    assert scripted.runs == []
    execution = next(m for m in result.messages if isinstance(m, CodeExecutionEvent))
    assert execution.result == CodeResult(1, "Code execution was not approved. Reason: no network")
    assert isinstance(result.messages[-1], TextMessage)
    assert result.messages[-1].content == "I was not allowed to run it."
    # The approver saw the conversation, including the model's code message.
    assert [type(m).__name__ for m in seen[0].context] == ["UserMessage", "AssistantMessage"]


async def test_approval_may_be_a_callable_object_returning_an_awaitable(
    executor: LocalCommandLineCodeExecutor,
) -> None:
    class Reviewer:
        def __call__(self, request: ApprovalRequest) -> Any:
            async def verdict() -> ApprovalResponse:
                return ApprovalResponse(approved="rm " not in request.code, reason="rm is not allowed")

            return verdict()

    reviewer: ApprovalFuncType = Reviewer()
    agent = make_agent(executor, approval_func=reviewer)
    denied = await agent.run(task=fence("rm -rf nothing", "sh"))
    assert "not approved" in denied.messages[-1].to_text()
    allowed = await agent.run(task=fence("echo fine", "sh"))
    assert allowed.messages[-1].to_text() == "fine\n"


# --- model mode ------------------------------------------------------------------------------


async def test_generate_execute_reflect(executor: LocalCommandLineCodeExecutor, replay: Replay) -> None:
    client = replay(["Here you go:\n" + fence("print(6 * 7)"), "The answer is 42."])
    agent = make_agent(executor, model_client=client)
    assert agent.description == CodeExecutorAgent.DEFAULT_AGENT_DESCRIPTION
    result = await agent.run(task="What is 6 times 7? Compute it.")
    assert kinds(result) == ["TextMessage", "CodeGenerationEvent", "CodeExecutionEvent", "TextMessage"]
    _, generation, execution, answer = result.messages
    assert isinstance(generation, CodeGenerationEvent)
    assert generation.retry_attempt == 0
    assert generation.code_blocks == [CodeBlock("print(6 * 7)\n", "python")]
    assert generation.models_usage is not None
    assert isinstance(execution, CodeExecutionEvent)
    assert isinstance(execution.result, CommandLineCodeResult)
    assert (execution.result.exit_code, execution.result.output) == (0, "42\n")
    assert isinstance(answer, TextMessage) and answer.content == "The answer is 42."
    assert answer.models_usage is not None

    first_prompt = client.create_calls[0]["messages"]
    assert isinstance(first_prompt[0], SystemMessage)
    assert first_prompt[0].content == CodeExecutorAgent.DEFAULT_SYSTEM_MESSAGE
    reflection_prompt = client.create_calls[1]["messages"]
    assert [type(m).__name__ for m in reflection_prompt] == [
        "SystemMessage",
        "UserMessage",
        "AssistantMessage",
        "UserMessage",
    ]
    assert reflection_prompt[-1] == UserMessage(content="42\n", source="coder")
    context = await agent.model_context.get_messages()
    assert context[-1] == AssistantMessage(content="The answer is 42.", source="coder")


async def test_model_reply_without_code_is_the_answer(replay: Replay) -> None:
    scripted = ScriptedExecutor()
    client = replay(["No code needed: Paris."])
    agent = make_agent(scripted, model_client=client, system_message=None)
    result = await agent.run(task="Capital of France?")
    assert kinds(result) == ["TextMessage", "TextMessage"]
    assert result.messages[-1].to_text() == "No code needed: Paris."
    assert scripted.runs == []
    assert not any(isinstance(m, SystemMessage) for m in client.create_calls[0]["messages"])


async def test_run_stream_yields_the_events_run_returns(replay: Replay) -> None:
    scripted = ScriptedExecutor(CodeResult(0, "ok\n"))
    agent = make_agent(scripted, model_client=replay([fence("print('ok')"), "done"]))
    streamed = [m async for m in agent.run_stream(task="go")]
    final = streamed[-1]
    assert isinstance(final, TaskResult)
    assert streamed[:-1] == final.messages
    assert kinds(final) == ["TextMessage", "CodeGenerationEvent", "CodeExecutionEvent", "TextMessage"]


async def test_streaming_chunks_and_thoughts(replay: Replay) -> None:
    scripted = ScriptedExecutor(CodeResult(0, "3\n"))
    reflection = CreateResult(
        finish_reason="stop",
        content="It printed 3.",
        usage=RequestUsage(prompt_tokens=1, completion_tokens=2),
        cached=False,
        thought="check the output",
    )
    client = replay(["Running " + fence("print(1 + 2)"), reflection])
    agent = make_agent(scripted, model_client=client, model_client_stream=True)
    items = [m async for m in agent.run_stream(task="add")]
    chunks = [m for m in items if isinstance(m, ModelClientStreamingChunkEvent)]
    assert chunks, "the generation was streamed"
    generation = next(m for m in items if isinstance(m, CodeGenerationEvent))
    assert {c.full_message_id for c in chunks} == {generation.id}
    # The replay client streams word by word, joined by single spaces.
    assert "".join(c.content for c in chunks) == " ".join(generation.content.split())
    thought = next(m for m in items if isinstance(m, ThoughtEvent))
    assert thought.content == "check the output"
    final = items[-1]
    assert isinstance(final, TaskResult)
    assert final.messages[-1].to_text() == "It printed 3."
    assert not any(isinstance(m, ModelClientStreamingChunkEvent) for m in final.messages)


def retry_decision(retry: bool, reason: str) -> str:
    return json.dumps({"retry": retry, "reason": reason})


async def test_failed_code_is_retried_after_the_model_agrees(
    executor: LocalCommandLineCodeExecutor, replay: Replay
) -> None:
    client = replay(
        [
            fence("print(undefined_name)"),
            retry_decision(True, "undefined_name is not defined; define it first"),
            fence("undefined_name = 5\nprint(undefined_name)"),
            "Fixed: it prints 5.",
        ]
    )
    agent = make_agent(executor, model_client=client, max_retries_on_error=2)
    result = await agent.run(task="print a variable")
    assert kinds(result) == [
        "TextMessage",
        "CodeGenerationEvent",
        "CodeExecutionEvent",
        "CodeGenerationEvent",
        "CodeGenerationEvent",
        "CodeExecutionEvent",
        "TextMessage",
    ]
    _, gen0, exec0, plan, gen1, exec1, answer = result.messages
    assert isinstance(exec0, CodeExecutionEvent) and exec0.retry_attempt == 0
    assert exec0.result.exit_code == 1 and "NameError" in exec0.result.output
    assert isinstance(plan, CodeGenerationEvent)
    assert plan.code_blocks == [] and plan.retry_attempt == 0
    assert (
        plan.content
        == "Attempt number: 1\nProposed correction: undefined_name is not defined; define it first"
    )
    assert isinstance(gen1, CodeGenerationEvent) and gen1.retry_attempt == 1
    assert isinstance(exec1, CodeExecutionEvent) and exec1.retry_attempt == 1
    assert (exec1.result.exit_code, exec1.result.output) == (0, "5\n")
    assert answer.to_text() == "Fixed: it prints 5."

    decision_call = client.create_calls[1]
    assert decision_call["json_output"] is not None
    assert "NameError" in decision_call["messages"][-1].content
    # The task went into the context once, and the retry question not at all.
    context = await agent.model_context.get_messages()
    assert [m.content for m in context if isinstance(m, UserMessage)].count("print a variable") == 1
    assert not any("retry" in str(m.content) for m in context if isinstance(m, UserMessage))


async def test_model_may_decline_to_retry(replay: Replay) -> None:
    scripted = ScriptedExecutor(CodeResult(1, "disk full\n"))
    client = replay([fence("write()"), retry_decision(False, "cannot fix a full disk"), "The disk is full."])
    agent = make_agent(scripted, model_client=client, max_retries_on_error=3)
    result = await agent.run(task="save")
    assert kinds(result) == ["TextMessage", "CodeGenerationEvent", "CodeExecutionEvent", "TextMessage"]
    assert len(scripted.runs) == 1
    assert result.messages[-1].to_text() == "The disk is full."


async def test_no_decision_is_asked_after_the_last_attempt(replay: Replay) -> None:
    scripted = ScriptedExecutor(CodeResult(1, "e1\n"), CodeResult(1, "e2\n"))
    client = replay([fence("a"), retry_decision(True, "try b"), fence("b"), "Both failed."])
    agent = make_agent(scripted, model_client=client, max_retries_on_error=1)
    result = await agent.run(task="do it")
    assert len(scripted.runs) == 2
    assert len(client.create_calls) == 4  # generate, decide, generate, reflect
    assert result.messages[-1].to_text() == "Both failed."


async def test_unusable_retry_decision_stops_retrying(
    replay: Replay, caplog: pytest.LogCaptureFixture
) -> None:
    scripted = ScriptedExecutor(CodeResult(1, "bad\n"))
    client = replay([fence("a"), "not json at all", "It failed."])
    agent = make_agent(scripted, model_client=client, max_retries_on_error=2)
    with caplog.at_level(logging.WARNING, logger="muster"):
        result = await agent.run(task="x")
    assert len(scripted.runs) == 1
    assert result.messages[-1].to_text() == "It failed."
    assert "unusable retry decision" in caplog.text


async def test_failures_without_retries_go_straight_to_reflection(replay: Replay) -> None:
    scripted = ScriptedExecutor(CodeResult(1, "bad\n"))
    client = replay([fence("a"), "It failed."])
    agent = make_agent(scripted, model_client=client)
    result = await agent.run(task="x")
    assert len(client.create_calls) == 2
    execution = result.messages[2]
    assert isinstance(execution, CodeExecutionEvent)
    assert execution.result.output.startswith(
        "The script ran, then exited with an error (POSIX exit code: 1)"
    )


@pytest.mark.parametrize("with_model", [False, True])
def test_retries_need_a_structured_output_model(with_model: bool) -> None:
    client = (
        ReplayChatCompletionClient(["x"]) if with_model else None
    )  # default model_info: no structured output
    with pytest.warns(UserWarning), pytest.raises(CodeExecutionConfigError) as info:
        CodeExecutorAgent("coder", ScriptedExecutor(), model_client=client, max_retries_on_error=1)
    assert info.value.parameter == "max_retries_on_error"
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="0 or more"):
        CodeExecutorAgent("coder", ScriptedExecutor(), max_retries_on_error=-1)


async def test_function_call_reply_is_a_model_turn_error(replay: Replay, script: Any) -> None:
    agent = make_agent(ScriptedExecutor(), model_client=replay([script.calls(("tool", {}))]))
    with pytest.raises(ModelTurnError, match="function calls"):
        await agent.run(task="x")


# --- state, reset, specs ---------------------------------------------------------------------------


async def test_state_round_trip_and_reset(replay: Replay) -> None:
    scripted = ScriptedExecutor(CodeResult(0, "1\n"))
    agent = make_agent(scripted, model_client=replay([fence("print(1)"), "one"]))
    await agent.run(task="print one")
    state = await agent.save_state()
    assert state["type"] == "CodeExecutorAgentState"
    assert len(state["llm_context"]["messages"]) == 4
    json.dumps(state)  # plain JSON all the way down

    restored = make_agent(ScriptedExecutor(), model_client=replay([]))
    await restored.load_state(state)
    assert await restored.model_context.get_messages() == await agent.model_context.get_messages()

    # A state saved by AutoGen's agent carries no context and changes nothing.
    await restored.load_state({"type": "BaseState", "version": "1.0.0"})
    assert len(await restored.model_context.get_messages()) == 4

    await restored.on_reset(CancellationToken())
    assert await restored.model_context.get_messages() == []


async def test_spec_round_trip_with_model(executor: LocalCommandLineCodeExecutor, tmp_path: Path) -> None:
    client = ReplayChatCompletionClient(
        ["x"], model_info={**ReplayChatCompletionClient(["x"]).model_info, "structured_output": True}
    )
    agent = make_agent(
        executor,
        model_client=client,
        max_retries_on_error=2,
        sources=["writer"],
        supported_languages=["python", "bash"],
        system_message="Write Python.",
        model_client_stream=True,
    )
    spec = agent.dump_component()
    assert spec.provider == "muster.agents.CodeExecutorAgent"
    assert (
        spec.config["code_executor"]["provider"] == "muster.code_executors.local.LocalCommandLineCodeExecutor"
    )
    with pytest.warns(UserWarning):  # both the executor and the agent warn again
        loaded = CodeExecutorAgent.load_component(spec)
    assert loaded.dump_component() == spec


async def test_spec_refuses_an_approval_func(executor: LocalCommandLineCodeExecutor) -> None:
    agent = make_agent(executor, approval_func=lambda r: ApprovalResponse(approved=True, reason=""))
    with pytest.raises(ApprovalNotSerializableError):
        agent.dump_component()


def test_autogen_spec_loads(tmp_path: Path) -> None:
    spec = {
        "provider": "autogen_agentchat.agents.CodeExecutorAgent",
        "component_type": "agent",
        "version": 1,
        "component_version": 1,
        "config": {
            "name": "terminal",
            "code_executor": {
                "provider": "autogen_ext.code_executors.local.LocalCommandLineCodeExecutor",
                "component_type": "code_executor",
                "version": 1,
                "component_version": 1,
                "config": {"timeout": 60, "work_dir": str(tmp_path), "functions_module": "functions"},
            },
            "description": "runs code",
            "sources": ["writer"],
            "system_message": None,
            "model_client_stream": False,
            "model_context": {
                "provider": "autogen_core.model_context.UnboundedChatCompletionContext",
                "component_type": "chat_completion_context",
                "version": 1,
                "component_version": 1,
                "config": {},
            },
            "supported_languages": ["python", "sh"],
        },
    }
    with pytest.warns(UserWarning):
        agent = CodeExecutorAgent.load_component(spec)
    assert (agent.name, agent.description) == ("terminal", "runs code")
    assert agent.dump_component().config["sources"] == ["writer"]


async def test_in_a_team_it_runs_what_the_writer_wrote(
    executor: LocalCommandLineCodeExecutor, replay: Replay
) -> None:
    writer = AssistantAgent("writer", model_client=replay(["Try this:\n" + fence("print(sum(range(5)))")]))
    terminal = make_agent(executor, sources=["writer"])
    team = RoundRobinGroupChat([writer, terminal], termination_condition=MaxMessageTermination(3))
    result = await team.run(task="sum 0..4")
    assert [m.source for m in result.messages] == ["user", "writer", "coder"]
    assert result.messages[-1].to_text() == "10\n"


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (
            {"type": "AssistantAgentState", "llm_context": {"messages": []}},
            r"^type: expected 'CodeExecutorAgentState'",
        ),
        ({"type": "CodeExecutorAgentState", "version": "0.1"}, r"^version: unsupported version '0.1'"),
        ({"type": "CodeExecutorAgentState", "llm_context": {"messages": 3}}, r"^llm_context\.messages: "),
        ({"type": "BaseState", "version": 1}, r"^version: unsupported version 1"),
    ],
)
async def test_a_bad_state_names_the_field_and_keeps_the_context(
    replay: Replay, state: dict[str, Any], message: str
) -> None:
    agent = make_agent(
        ScriptedExecutor(CodeResult(0, "1\n")), model_client=replay([fence("print(1)"), "one"])
    )
    await agent.run(task="print one")
    before = await agent.save_state()
    with pytest.raises(StateError, match=message):
        await agent.load_state(state)
    assert await agent.save_state() == before
