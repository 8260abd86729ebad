"""Runtime lifecycle: start/stop variants, background errors, state, instances, metadata."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from muster.core import (
    Agent,
    AgentId,
    AgentMetadata,
    AgentProxy,
    AgentRuntime,
    BaseAgent,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    message_handler,
)
from muster.core.exceptions import AgentRegistrationError, RuntimeStoppedError, UndeliverableException


class Counter(RoutedAgent):
    """Counts messages; state is the count."""

    closed: list[AgentId] = []

    def __init__(self) -> None:
        super().__init__("counts messages")
        self.count = 0

    @message_handler
    async def on_int(self, message: int, ctx: MessageContext) -> int:
        if message < 0:
            raise ArithmeticError("negative")
        self.count += message
        return self.count

    async def save_state(self) -> Mapping[str, Any]:
        return {"count": self.count}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.count = state["count"]

    async def close(self) -> None:
        Counter.closed.append(self.id)


async def _runtime(**kwargs: Any) -> SingleThreadedAgentRuntime:
    runtime = SingleThreadedAgentRuntime(**kwargs)
    await Counter.register(runtime, "counter", Counter)
    await runtime.add_subscription(TypeSubscription("numbers", "counter"))
    return runtime


def test_runtime_satisfies_the_protocol() -> None:
    assert isinstance(SingleThreadedAgentRuntime(), AgentRuntime)


async def test_start_twice_and_stop_unstarted_raise() -> None:
    runtime = await _runtime()
    with pytest.raises(RuntimeError):
        await runtime.stop()
    with pytest.raises(RuntimeError):
        await runtime.stop_when_idle()
    with pytest.raises(RuntimeError):
        await runtime.stop_when(lambda: True)
    runtime.start()
    with pytest.raises(RuntimeError):
        runtime.start()
    await runtime.stop()
    runtime.start()  # restartable
    assert await runtime.send_message(1, AgentId("counter", "k")) == 1
    await runtime.stop()


async def test_stop_when_idle_waits_for_chains_of_work() -> None:
    runtime = await _runtime()
    runtime.start()
    for _ in range(50):
        await runtime.publish_message(2, TopicId("numbers", "k"))
    await runtime.stop_when_idle()
    agent = await runtime.try_get_underlying_agent_instance(AgentId("counter", "k"), Counter)
    assert agent.count == 100


async def test_publish_errors_logged_by_default(caplog: pytest.LogCaptureFixture) -> None:
    runtime = await _runtime()
    runtime.start()
    await runtime.publish_message(-1, TopicId("numbers", "k"))
    await runtime.stop_when_idle()  # does not raise
    assert "ArithmeticError: negative" in caplog.text


async def test_publish_errors_raised_from_stop_when_idle_when_not_ignored() -> None:
    runtime = await _runtime(ignore_unhandled_exceptions=False)
    runtime.start()
    await runtime.publish_message(-1, TopicId("numbers", "k"))
    with pytest.raises(ArithmeticError, match="negative"):
        await runtime.stop_when_idle()
    runtime.start()  # the error was reported once; the runtime is usable again
    await runtime.publish_message(1, TopicId("numbers", "k"))
    await runtime.stop_when_idle()


async def test_stop_when_condition() -> None:
    runtime = await _runtime()
    runtime.start()
    target = AgentId("counter", "k")
    agent = await runtime.try_get_underlying_agent_instance(target, Counter)
    stopper = asyncio.create_task(runtime.stop_when(lambda: agent.count >= 3))
    for _ in range(3):
        await runtime.publish_message(1, TopicId("numbers", "k"))
    await asyncio.wait_for(stopper, 5)
    assert agent.count == 3
    with pytest.raises(RuntimeError):
        await runtime.stop()  # already stopped


async def test_save_and_load_state_round_trip() -> None:
    runtime = await _runtime()
    runtime.start()
    await runtime.send_message(5, AgentId("counter", "a"))
    await runtime.send_message(7, AgentId("counter", "b"))
    assert await runtime.agent_save_state(AgentId("counter", "a")) == {"count": 5}
    state = await runtime.save_state()
    assert state == {"counter/a": {"count": 5}, "counter/b": {"count": 7}}
    await runtime.stop()

    fresh = await _runtime()
    await fresh.load_state({**state, "unregistered/x": {"count": 1}})
    fresh.start()
    assert await fresh.send_message(1, AgentId("counter", "b")) == 8
    await fresh.agent_load_state(AgentId("counter", "a"), {"count": 100})
    assert await fresh.send_message(1, AgentId("counter", "a")) == 101
    await fresh.stop()


async def test_base_agent_default_state_is_empty_and_warns_on_lost_state() -> None:
    class Stateless(BaseAgent):
        async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
            return None

    runtime = SingleThreadedAgentRuntime()
    await runtime.register_factory("stateless", lambda: Stateless("no state"))
    assert await runtime.agent_save_state(AgentId("stateless", "k")) == {}
    await runtime.agent_load_state(AgentId("stateless", "k"), {})
    with pytest.warns(UserWarning, match="does not implement load_state"):
        await runtime.agent_load_state(AgentId("stateless", "k"), {"x": 1})


async def test_close_closes_instantiated_agents() -> None:
    Counter.closed = []
    runtime = await _runtime()
    runtime.start()
    await runtime.send_message(1, AgentId("counter", "a"))
    await runtime.close()
    assert Counter.closed == [AgentId("counter", "a")]


class Stuck(RoutedAgent):
    """Its handler never returns on its own; it records how it ended."""

    def __init__(self, entered: asyncio.Event, endings: list[str]) -> None:
        super().__init__("stuck")
        self.entered = entered
        self.endings = endings

    @message_handler
    async def on_str(self, message: str, ctx: MessageContext) -> str:
        self.entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.endings.append(f"cancelled {message}")
            raise
        return "unreachable"


async def test_close_cancels_and_awaits_running_handlers_and_is_idempotent() -> None:
    Counter.closed = []
    runtime = await _runtime()
    endings: list[str] = []
    sent_entered, published_entered = asyncio.Event(), asyncio.Event()
    await runtime.register_factory("stuck", lambda: Stuck(sent_entered, endings))
    await runtime.register_factory("stuck-sub", lambda: Stuck(published_entered, endings))
    await runtime.add_subscription(TypeSubscription("stuck-topic", "stuck-sub"))
    runtime.start()
    await runtime.send_message(1, AgentId("counter", "a"))
    sender = asyncio.create_task(runtime.send_message("sent", AgentId("stuck", "k")))
    await runtime.publish_message("published", TopicId("stuck-topic", "k"))
    await asyncio.wait_for(sent_entered.wait(), 10)
    await asyncio.wait_for(published_entered.wait(), 10)

    await asyncio.wait_for(runtime.close(), 10)
    # Both handlers were cancelled, and close() returned only once they had finished.
    assert sorted(endings) == ["cancelled published", "cancelled sent"]
    assert len(runtime._tasks) == 0
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(sender, 10)
    assert Counter.closed == [AgentId("counter", "a")]

    await asyncio.wait_for(runtime.close(), 10)
    assert Counter.closed == [AgentId("counter", "a")]  # agents are not closed twice


async def test_a_delivery_cancelled_before_it_started_does_not_hold_up_close() -> None:
    runtime = await _runtime()
    runtime.start()
    await runtime.send_message(0, AgentId("counter", "k"))
    for _ in range(5):
        await runtime.publish_message(1, TopicId("numbers", "k"))  # tasks created, none run yet
    pending = list(runtime._tasks)
    assert len(pending) == 5
    for task in pending:  # cancelled before their first step: their own cleanup never runs
        task.cancel()
    await asyncio.wait(pending)
    await asyncio.wait_for(runtime.close(), 10)
    assert len(runtime._tasks) == 0
    agent = await runtime.try_get_underlying_agent_instance(AgentId("counter", "k"), Counter)
    assert agent.count == 0


async def test_deliveries_go_through_the_loops_task_factory() -> None:
    loop = asyncio.get_running_loop()
    made: list[str] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        made.append(coro.__qualname__)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(factory)
    try:
        runtime = await _runtime()
        runtime.start()
        await runtime.publish_message(2, TopicId("numbers", "k"))
        assert await runtime.send_message(3, AgentId("counter", "k")) == 5
        await runtime.stop_when_idle()
    finally:
        loop.set_task_factory(None)
    assert "SingleThreadedAgentRuntime._deliver_event" in made
    assert "SingleThreadedAgentRuntime._deliver_send" in made


class SendsWhenCancelled(RoutedAgent):
    """On cancellation, tries to tell another agent before giving up."""

    def __init__(self, entered: asyncio.Event, outcomes: list[str]) -> None:
        super().__init__("sends when cancelled")
        self.entered = entered
        self.outcomes = outcomes

    @message_handler
    async def on_str(self, message: str, ctx: MessageContext) -> None:
        self.entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            try:
                await self.send_message(1, AgentId("counter", "witness"))
            except RuntimeStoppedError:
                self.outcomes.append("send refused")
            await self.publish_message(1, TopicId("numbers", "witness"))
            self.outcomes.append("published")
            raise


async def test_close_does_not_wait_forever_on_a_handler_that_sends_while_cancelled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runtime = await _runtime()
    entered = asyncio.Event()
    outcomes: list[str] = []
    await runtime.register_factory("farewell", lambda: SendsWhenCancelled(entered, outcomes))
    runtime.start()
    await runtime.add_subscription(TypeSubscription("farewell", "farewell"))
    await runtime.publish_message("go", TopicId("farewell", "k"))
    await asyncio.wait_for(entered.wait(), 10)
    await asyncio.wait_for(runtime.close(), 10)
    assert outcomes == ["send refused", "published"]
    assert "discarded int published to numbers/witness" in caplog.text


async def test_close_before_start_and_twice_is_harmless() -> None:
    Counter.closed = []
    runtime = await _runtime()
    await runtime.close()
    await runtime.close()
    runtime.start()  # still usable
    assert await runtime.send_message(2, AgentId("counter", "b")) == 2
    await runtime.close()
    assert Counter.closed == [AgentId("counter", "b")]


async def test_metadata_proxy_and_get() -> None:
    runtime = await _runtime()
    runtime.start()
    agent_id = await runtime.get("counter", key="p")
    assert agent_id == AgentId("counter", "p")
    assert await runtime.get(agent_id, lazy=False) == agent_id
    metadata: AgentMetadata = await runtime.agent_metadata(agent_id)
    assert metadata == {"type": "counter", "key": "p", "description": "counts messages"}
    proxy = AgentProxy(agent_id, runtime)
    assert proxy.id == agent_id
    assert await proxy.metadata == metadata
    assert await proxy.send_message(4, sender=AgentId("me", "x")) == 4
    assert await proxy.save_state() == {"count": 4}
    await proxy.load_state({"count": 0})
    assert await proxy.send_message(1, sender=AgentId("me", "x")) == 1
    await runtime.stop()


async def test_try_get_underlying_agent_instance_checks_type() -> None:
    runtime = await _runtime()
    agent = await runtime.try_get_underlying_agent_instance(AgentId("counter", "k"))
    assert isinstance(agent, Counter) and isinstance(agent, Agent)
    with pytest.raises(TypeError):
        await runtime.try_get_underlying_agent_instance(AgentId("counter", "k"), str)  # type: ignore[type-var]
    with pytest.raises(LookupError):
        await runtime.try_get_underlying_agent_instance(AgentId("nope", "k"))


class Named(RoutedAgent):
    def __init__(self, name: str) -> None:
        super().__init__(f"agent {name}")
        self.name = name

    @message_handler
    async def on_str(self, message: str, ctx: MessageContext) -> str:
        return f"{self.name}:{message}"


async def test_register_instance_binds_and_subscribes_by_key() -> None:
    runtime = SingleThreadedAgentRuntime()
    alice = Named("alice")
    with pytest.raises(AttributeError, match="not bound"):
        _ = alice.id
    await alice.register_instance(runtime, AgentId("person", "alice"))
    await Named("bob").register_instance(runtime, AgentId("person", "bob"))
    assert alice.id == AgentId("person", "alice") and alice.runtime is runtime
    runtime.start()
    assert await runtime.send_message("hi", AgentId("person", "alice")) == "alice:hi"
    with pytest.raises(UndeliverableException, match="pre-registered instances"):
        await runtime.send_message("hi", AgentId("person", "carol"))
    with pytest.raises(AgentRegistrationError):
        await Named("again").register_instance(runtime, AgentId("person", "alice"))
    with pytest.raises(AgentRegistrationError):
        await Counter.register(runtime, "person", Counter)
    with pytest.raises(RuntimeError, match="already bound"):
        await alice.bind_id_and_runtime(AgentId("person", "other"), runtime)
    await runtime.stop()


async def test_factory_with_runtime_and_id_arguments_is_deprecated_but_works() -> None:
    runtime = SingleThreadedAgentRuntime()

    def legacy(rt: Any, agent_id: AgentId) -> Named:
        assert rt is runtime
        return Named(agent_id.key)

    await runtime.register_factory("legacy", legacy)
    runtime.start()
    with pytest.warns(DeprecationWarning):
        assert await runtime.send_message("x", AgentId("legacy", "zed")) == "zed:x"
    await runtime.stop()


async def test_agents_built_directly_cannot_be_closure_agents() -> None:
    from muster.core import ClosureAgent

    async def closure(agent: Any, message: str, ctx: MessageContext) -> None:
        return None

    with pytest.raises(RuntimeError, match="register_closure"):
        ClosureAgent("x", closure)
