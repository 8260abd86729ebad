"""SingleThreadedAgentRuntime.unregister_agent_type: nothing of the type stays referenced."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

import pytest

from muster.core import (
    AgentId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypePrefixSubscription,
    TypeSubscription,
    message_handler,
)
from muster.core.exceptions import AgentTypeBusyError, UnknownAgentTypeError


class Echo(RoutedAgent):
    """Replies with what it got; counts events; records its own close."""

    closed: list[AgentId] = []

    def __init__(self, gate: asyncio.Event | None = None, entered: asyncio.Event | None = None) -> None:
        super().__init__("echo")
        self.gate = gate
        self.entered = entered
        self.events = 0

    @message_handler
    async def on_str(self, message: str, ctx: MessageContext) -> str:
        if self.entered is not None:
            self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        return message

    @message_handler
    async def on_int(self, message: int, ctx: MessageContext) -> None:
        self.events += message

    async def close(self) -> None:
        Echo.closed.append(self.id)


def _sizes(runtime: SingleThreadedAgentRuntime) -> dict[str, int]:
    subscriptions = runtime._subscriptions
    return {
        "registrations": len(runtime._registrations),
        "instances": len(runtime._instances),
        "creating": len(runtime._registry._creating),
        "subscriptions": len(subscriptions.subscriptions),
        "by_type": len(subscriptions._by_type),
        "by_topic": len(subscriptions._by_topic),
        "tasks": len(runtime._tasks),
    }


async def test_unregister_removes_the_factory_instances_and_subscriptions_of_the_type() -> None:
    Echo.closed = []
    runtime = SingleThreadedAgentRuntime()
    await runtime.register_factory("gone", Echo)
    await runtime.register_factory("kept", Echo)
    for subscription in (
        TypeSubscription("news", "gone"),
        TypePrefixSubscription("alerts.", "gone"),
        TypeSubscription("news", "kept"),
    ):
        await runtime.add_subscription(subscription)
    runtime.start()
    assert await runtime.send_message("hi", AgentId("gone", "a")) == "hi"
    await runtime.publish_message(1, TopicId("news", "b"))
    await runtime.stop_when_idle()

    await runtime.unregister_agent_type("gone")

    assert sorted(map(str, Echo.closed)) == ["gone/a", "gone/b"]
    assert [sub.agent_type for sub in runtime._subscriptions.subscriptions] == ["kept"]  # type: ignore[attr-defined]
    assert set(runtime._instances) == {AgentId("kept", "b")}
    runtime.start()
    with pytest.raises(UnknownAgentTypeError):
        await runtime.send_message("hi", AgentId("gone", "a"))
    await runtime.publish_message(2, TopicId("news", "b"))  # reaches "kept" only
    await runtime.stop_when_idle()
    kept = await runtime.try_get_underlying_agent_instance(AgentId("kept", "b"), Echo)
    assert kept.events == 3
    # The name is free again.
    await runtime.register_factory("gone", Echo)
    runtime.start()
    assert await asyncio.wait_for(runtime.send_message("back", AgentId("gone", "a")), 10) == "back"
    await runtime.close()


async def test_unregister_a_type_of_pre_built_instances() -> None:
    Echo.closed = []
    runtime = SingleThreadedAgentRuntime()
    await runtime.register_agent_instance(Echo(), AgentId("solo", "one"))
    await runtime.register_agent_instance(Echo(), AgentId("solo", "two"))
    await runtime.unregister_agent_type("solo")
    assert sorted(map(str, Echo.closed)) == ["solo/one", "solo/two"]
    assert _sizes(runtime)["registrations"] == 0 and _sizes(runtime)["instances"] == 0


async def test_unregister_an_unknown_type_raises() -> None:
    runtime = SingleThreadedAgentRuntime()
    with pytest.raises(UnknownAgentTypeError) as caught:
        await runtime.unregister_agent_type("never")
    assert caught.value.agent_type == "never"


async def test_unregister_while_a_handler_of_the_type_runs_raises_and_changes_nothing() -> None:
    Echo.closed = []
    runtime = SingleThreadedAgentRuntime()
    gate, entered = asyncio.Event(), asyncio.Event()
    await runtime.register_factory("busy", lambda: Echo(gate, entered))
    await runtime.add_subscription(TypeSubscription("t", "busy"))
    runtime.start()
    reply = asyncio.create_task(runtime.send_message("slow", AgentId("busy", "k")))
    await asyncio.wait_for(entered.wait(), 10)
    with pytest.raises(AgentTypeBusyError) as caught:
        await runtime.unregister_agent_type("busy")
    assert caught.value.agent_type == "busy" and caught.value.running == 1
    assert Echo.closed == [] and len(runtime._subscriptions.subscriptions) == 1
    gate.set()
    assert await asyncio.wait_for(reply, 10) == "slow"
    await runtime.stop_when_idle()
    await runtime.unregister_agent_type("busy")
    assert Echo.closed == [AgentId("busy", "k")]


async def _cycle(runtime: SingleThreadedAgentRuntime, i: int) -> None:
    name = f"kind{i}"
    await runtime.register_factory(name, Echo)
    await runtime.add_subscription(TypeSubscription(f"topic{i}", name))
    await runtime.add_subscription(TypePrefixSubscription(f"prefix{i}.", name))
    assert await runtime.send_message("x", AgentId(name, "a")) == "x"
    await runtime.publish_message(1, TopicId(f"topic{i}", "b"))
    await runtime.publish_message(1, TopicId(f"prefix{i}.sub", "c"))
    await runtime.stop_when_idle()
    runtime.start()
    await runtime.unregister_agent_type(name)


async def test_1000_register_unregister_cycles_leave_nothing_behind() -> None:
    Echo.closed = []
    runtime = SingleThreadedAgentRuntime()
    await runtime.register_factory("resident", Echo)
    await runtime.add_subscription(TypeSubscription("resident-topic", "resident"))
    runtime.start()
    await runtime.send_message("x", AgentId("resident", "r"))
    await runtime.stop_when_idle()
    runtime.start()
    before = _sizes(runtime)

    measured: list[int] = []
    tracemalloc.start()
    try:
        count = 0
        for cycles in (100, 100, 1000):  # warm-up, then 100 and 1,000 measured cycles
            for _ in range(cycles):
                await _cycle(runtime, count)
                count += 1
            Echo.closed.clear()
            gc.collect()
            measured.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    await runtime.stop_when_idle()

    assert _sizes(runtime) == before
    growth_100 = measured[1] - measured[0]
    growth_1000 = measured[2] - measured[1]
    # A leak of even a few hundred bytes per type would make the 1,000-cycle growth about
    # ten times the 100-cycle one; generous slack absorbs allocator noise.
    assert growth_1000 < 2 * max(growth_100, 0) + 256 * 1024, (growth_100, growth_1000)
    await runtime.close()


async def test_wait_for_agent_type_lets_running_handlers_finish_then_unregister_succeeds() -> None:
    runtime = SingleThreadedAgentRuntime()
    gate, entered = asyncio.Event(), asyncio.Event()
    await runtime.register_factory("slow", lambda: Echo(gate, entered))
    runtime.start()
    reply = asyncio.create_task(runtime.send_message("hi", AgentId("slow", "k")))
    await entered.wait()
    with pytest.raises(AgentTypeBusyError):
        await runtime.unregister_agent_type("slow")
    waiting = asyncio.create_task(runtime.wait_for_agent_type("slow"))
    await asyncio.sleep(0)
    assert not waiting.done()  # the handler is still blocked on the gate
    gate.set()
    await waiting
    assert await reply == "hi"
    await runtime.unregister_agent_type("slow")
    await runtime.close()
