"""UserProxyAgent: input functions, the input-request event, handoffs back, and errors."""

from __future__ import annotations

import asyncio

import pytest

from muster.agents import UserProxyAgent
from muster.agents.exceptions import UserInputError
from muster.base import TaskResult
from muster.base.exceptions import StateError
from muster.core import CancellationToken
from muster.messages import HandoffMessage, TextMessage, UserInputRequestedEvent


async def test_sync_input_function_gets_the_prompt() -> None:
    prompts: list[str] = []

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        return "yes"

    agent = UserProxyAgent("human", input_func=answer)
    items = [m async for m in agent.run_stream(task="ok?")]
    assert [type(m).__name__ for m in items] == [
        "TextMessage",
        "UserInputRequestedEvent",
        "TextMessage",
        "TaskResult",
    ]
    assert prompts == ["Enter your response: "]
    reply = items[2]
    assert isinstance(reply, TextMessage) and reply.content == "yes" and reply.source == "human"


async def test_async_input_function_sees_token_and_request_id() -> None:
    seen: dict[str, object] = {}

    async def answer(prompt: str, token: CancellationToken | None) -> str:
        seen["token"] = token
        seen["request_id"] = UserProxyAgent.InputRequestContext.request_id()
        return "async answer"

    agent = UserProxyAgent("human", input_func=answer)
    token = CancellationToken()
    items = [m async for m in agent.on_messages_stream([TextMessage(content="q", source="bot")], token)]
    event = items[0]
    assert isinstance(event, UserInputRequestedEvent)
    assert seen == {"token": token, "request_id": event.request_id}
    with pytest.raises(RuntimeError, match="within the input callback"):
        UserProxyAgent.InputRequestContext.request_id()


async def test_handoff_to_the_user_is_answered_with_a_handoff_back() -> None:
    prompts: list[str] = []

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        return "go ahead"

    agent = UserProxyAgent("user", input_func=answer)
    result = await agent.run(task=HandoffMessage(content="need input", target="user", source="planner"))
    reply = result.messages[-1]
    assert isinstance(reply, HandoffMessage) and reply.target == "planner" and reply.content == "go ahead"
    assert prompts == ["Handoff received from planner. Enter your response: "]
    with pytest.raises(RuntimeError, match="does not match"):
        await agent.run(task=HandoffMessage(content="x", target="someone_else", source="planner"))


async def test_input_errors_are_wrapped() -> None:
    def broken(prompt: str) -> str:
        raise EOFError("stdin closed")

    agent = UserProxyAgent("human", input_func=broken)
    with pytest.raises(UserInputError, match="Failed to get user input") as info:
        await agent.run(task="x")
    assert isinstance(info.value, RuntimeError)
    assert isinstance(info.value.__cause__, EOFError)
    assert info.value.agent_name == "human" and info.value.error_type == "EOFError"


async def test_cancellation_is_not_wrapped() -> None:
    started = asyncio.Event()

    async def wait_forever(prompt: str, token: CancellationToken | None) -> str:
        started.set()
        await asyncio.Event().wait()
        return ""

    agent = UserProxyAgent("human", input_func=wait_forever)
    task = asyncio.ensure_future(agent.run(task="x"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_spec_round_trip() -> None:
    agent = UserProxyAgent("human", description="The customer", input_func=lambda p: "x")
    spec = agent.dump_component()
    assert spec.provider == "muster.agents.UserProxyAgent"
    loaded = UserProxyAgent.load_component(spec)
    assert loaded.name == "human" and loaded.description == "The customer"
    assert isinstance(await UserProxyAgent("a", input_func=lambda p: "y").run(task="t"), TaskResult)


async def test_state_is_empty_and_checked() -> None:
    agent = UserProxyAgent("human", input_func=lambda prompt: "ok")
    state = await agent.save_state()
    assert state == {"type": "BaseState", "version": "1.0.0"}
    await agent.load_state(state)
    with pytest.raises(StateError, match=r"^type: expected 'BaseState', got 'AssistantAgentState'$"):
        await agent.load_state({"type": "AssistantAgentState"})
