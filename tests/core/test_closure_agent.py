"""ClosureAgent: function-backed agents, type policies and subscriptions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from muster.core import (
    AgentId,
    ClosureAgent,
    ClosureContext,
    DefaultSubscription,
    DefaultTopicId,
    MessageContext,
    SingleThreadedAgentRuntime,
    TopicId,
)
from muster.core.exceptions import CantHandleException


@dataclass
class Result:
    value: int


async def test_collects_published_results_through_subscriptions() -> None:
    queue: asyncio.Queue[Result] = asyncio.Queue()

    async def collect(agent: ClosureContext, message: Result, ctx: MessageContext) -> None:
        assert agent.id == AgentId("collector", "default")
        await queue.put(message)

    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(
        runtime, "collector", collect, subscriptions=lambda: [DefaultSubscription()]
    )
    runtime.start()
    await runtime.publish_message(Result(1), DefaultTopicId())
    await runtime.stop_when_idle()
    assert queue.get_nowait() == Result(1)


async def test_replies_to_rpc_and_can_send_as_itself() -> None:
    async def doubler(agent: ClosureContext, message: int, ctx: MessageContext) -> int:
        return message * 2

    async def relay(agent: ClosureContext, message: int, ctx: MessageContext) -> int:
        return await agent.send_message(message + 1, AgentId("doubler", "k"))

    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(runtime, "doubler", doubler)
    await ClosureAgent.register_closure(runtime, "relay", relay)
    runtime.start()
    assert await runtime.send_message(4, AgentId("relay", "k")) == 10
    meta = await runtime.agent_metadata(AgentId("relay", "k"))
    assert meta["type"] == "relay"
    assert await runtime.agent_save_state(AgentId("relay", "k")) == {}
    await runtime.stop()


@pytest.mark.parametrize(
    ("policy", "expectation"),
    [("error", "raises"), ("warn", "warns"), ("ignore", "delivers")],
)
async def test_unknown_type_policy(policy: Any, expectation: str) -> None:
    seen: list[Any] = []

    async def only_ints(agent: ClosureContext, message: int, ctx: MessageContext) -> str:
        seen.append(message)
        return "handled"

    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(runtime, "ints", only_ints, unknown_type_policy=policy)
    runtime.start()
    target = AgentId("ints", "k")
    if expectation == "raises":
        with pytest.raises(CantHandleException):
            await runtime.send_message("text", target)
    elif expectation == "warns":
        with pytest.warns(UserWarning, match="closure accepts"):
            assert await runtime.send_message("text", target) is None
    else:
        assert await runtime.send_message("text", target) == "handled"
    assert seen == (["text"] if expectation == "delivers" else [])
    await runtime.stop()


async def test_any_annotation_accepts_everything_and_direct_topic_works() -> None:
    seen: list[Any] = []

    async def everything(agent: ClosureContext, message: Any, ctx: MessageContext) -> None:
        seen.append(message)

    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(runtime, "all", everything, unknown_type_policy="error")
    runtime.start()
    await runtime.send_message(1, AgentId("all", "k"))
    await runtime.publish_message("x", TopicId("all:", "k"))  # direct-message prefix subscription
    await runtime.stop_when_idle()
    assert seen == [1, "x"]


async def test_invalid_policy_rejected() -> None:
    async def closure(agent: ClosureContext, message: int, ctx: MessageContext) -> None:
        return None

    runtime = SingleThreadedAgentRuntime()
    await ClosureAgent.register_closure(runtime, "bad", closure, unknown_type_policy="explode")  # type: ignore[arg-type]
    runtime.start()
    with pytest.raises(ValueError, match="unknown_type_policy"):
        await runtime.send_message(1, AgentId("bad", "k"))
    await runtime.stop()
