"""publish_message's delivery plans: what a publish settles once per topic and message type.

The runtime finds each recipient's agent and route once per (topic, message type) and keeps
that plan until subscriptions change or agents are removed; these tests pin that a plan
delivers exactly what looking everything up per delivery did (see
``SingleThreadedAgentRuntime._plan``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, fields
from typing import Any

from muster.core import (
    AgentId,
    BaseAgent,
    CancellationToken,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    event,
    message_handler,
    rpc,
)

TOPIC = TopicId("t", "s")


@dataclass
class Note:
    text: str


PLAN = ("t", "s", Note)
"""The key of the plan for a ``Note`` published to ``TOPIC``."""


class Recorder(RoutedAgent):
    """Records (agent type, handler, text, context) for every message it handles."""

    seen: list[tuple[str, str, str, MessageContext]] = []

    def __init__(self) -> None:
        super().__init__("records what it handles")

    @message_handler
    async def on_note(self, message: Note, ctx: MessageContext) -> None:
        self.seen.append((self.id.type, "on_note", message.text, ctx))


async def _started(*agent_types: str, cls: type[BaseAgent] = Recorder) -> SingleThreadedAgentRuntime:
    runtime = SingleThreadedAgentRuntime()
    for name in agent_types:
        await cls.register(runtime, name, cls)
        await runtime.add_subscription(TypeSubscription("t", name))
    runtime.start()
    return runtime


async def _publish(runtime: SingleThreadedAgentRuntime, *texts: str, **kwargs: Any) -> None:
    """Publish each text once the previous one was handled (so the first builds the agents)."""
    for text in texts:
        await runtime.publish_message(Note(text), TOPIC, **kwargs)
        await runtime.stop_when_idle()
        runtime.start()


async def test_each_recipient_gets_its_own_complete_context() -> None:
    Recorder.seen = []
    runtime = await _started("a", "b")
    token = CancellationToken()
    sender = AgentId("elsewhere", "k")
    # The first publish builds the agents, the second goes through the plan.
    await _publish(runtime, "1", "2", sender=sender, cancellation_token=token, message_id="m")
    await runtime.stop()
    assert len(Recorder.seen) == 4
    contexts = [ctx for _, _, _, ctx in Recorder.seen]
    assert len({id(ctx) for ctx in contexts}) == 4
    for ctx in contexts:
        assert type(ctx) is MessageContext
        assert ctx == MessageContext(sender, TOPIC, False, token, "m")
    # The publish path sets these fields one by one (no __init__ call): a new field must be
    # added there too.
    assert [f.name for f in fields(MessageContext)] == [
        "sender",
        "topic_id",
        "is_rpc",
        "cancellation_token",
        "message_id",
    ]


class Picky(RoutedAgent):
    """Two handlers a ``match`` chooses between, and an RPC-only one that sorts first."""

    seen: list[str] = []

    def __init__(self) -> None:
        super().__init__("picks by content")

    @rpc
    async def a_rpc_only(self, message: Note, ctx: MessageContext) -> None:
        self.seen.append("rpc")

    @message_handler(match=lambda message, ctx: message.text.startswith("x"))
    async def b_x(self, message: Note, ctx: MessageContext) -> None:
        self.seen.append(f"x:{message.text}")

    @event
    async def c_other(self, message: Note, ctx: MessageContext) -> None:
        self.seen.append(f"other:{message.text}")


async def test_a_match_predicate_still_picks_per_message_once_planned() -> None:
    Picky.seen = []
    runtime = await _started("p", cls=Picky)
    await _publish(runtime, "x1", "y1", "x2", "y2")
    await runtime.stop()
    assert Picky.seen == ["x:x1", "other:y1", "x:x2", "other:y2"]
    assert runtime._subscriptions.plans[PLAN][0][3] is None  # dispatched on delivery


async def test_a_fixed_route_is_planned_after_the_agents_exist() -> None:
    Recorder.seen = []
    runtime = await _started("a")
    await _publish(runtime, "1")
    assert PLAN not in runtime._subscriptions.plans  # the agent did not exist yet
    await _publish(runtime, "2")
    assert runtime._subscriptions.plans[PLAN][0][3] is not None
    await _publish(runtime, "3")
    await runtime.stop()
    assert [text for _, _, text, _ in Recorder.seen] == ["1", "2", "3"]


async def test_plans_follow_subscription_changes_and_unregistered_types() -> None:
    Recorder.seen = []
    runtime = await _started("a", "b")
    await _publish(runtime, "1")
    subscription_of_b = next(
        s
        for s in runtime._subscriptions.subscriptions
        if isinstance(s, TypeSubscription) and s.agent_type == "b"
    )
    await runtime.remove_subscription(subscription_of_b.id)
    await _publish(runtime, "2")
    await runtime.add_subscription(TypeSubscription("t", "b"))
    await _publish(runtime, "3")

    class Replacement(Recorder):
        @message_handler
        async def on_note(self, message: Note, ctx: MessageContext) -> None:
            self.seen.append((self.id.type, "replacement", message.text, ctx))

    await runtime.stop_when_idle()
    await runtime.unregister_agent_type("a")
    await Replacement.register(runtime, "a", Replacement)
    await runtime.add_subscription(TypeSubscription("t", "a"))
    runtime.start()
    await _publish(runtime, "4", "5")
    await runtime.stop()
    assert sorted((t, h, text) for t, h, text, _ in Recorder.seen) == [
        ("a", "on_note", "1"),
        ("a", "on_note", "2"),
        ("a", "on_note", "3"),
        ("a", "replacement", "4"),
        ("a", "replacement", "5"),
        ("b", "on_note", "1"),
        ("b", "on_note", "3"),
        ("b", "on_note", "4"),
        ("b", "on_note", "5"),
    ]


class OwnOnMessage(Recorder):
    """Overrides ``on_message``: the runtime must call it, plan or no plan."""

    async def on_message(self, message: Any, ctx: MessageContext) -> Any:
        self.seen.append((self.id.type, "on_message", message.text, ctx))
        return await super().on_message(message, ctx)


async def test_an_agent_overriding_on_message_is_called_through_it() -> None:
    Recorder.seen = []
    runtime = await _started("o", cls=OwnOnMessage)
    await _publish(runtime, "1", "2")
    await runtime.stop()
    assert [h for _, h, _, _ in Recorder.seen] == ["on_message", "on_note", "on_message", "on_note"]


async def test_delivery_tasks_are_named_after_their_recipient() -> None:
    names: list[str] = []

    class NameRecorder(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("records its task's name")

        @message_handler
        async def on_note(self, message: Note, ctx: MessageContext) -> None:
            task = asyncio.current_task()
            assert task is not None
            names.append(task.get_name())

    runtime = await _started("n", cls=NameRecorder)
    await _publish(runtime, "1", "2")
    await runtime.stop()
    assert names == ["deliver to n/s", "deliver to n/s"]


async def test_a_planned_publish_still_skips_its_sender() -> None:
    Recorder.seen = []
    runtime = await _started("a", "b")
    await _publish(runtime, "1")
    await _publish(runtime, "2", "3", sender=AgentId("a", "s"))
    await runtime.stop()
    assert sorted((t, text) for t, _, text, _ in Recorder.seen) == [
        ("a", "1"),
        ("b", "1"),
        ("b", "2"),
        ("b", "3"),
    ]
