"""Subscriptions: matching, mapping to agents, class decorators, caching and fan-out rules."""

from __future__ import annotations

import pytest

from muster.core import (
    AgentId,
    AgentInstantiationContext,
    DefaultSubscription,
    DefaultTopicId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    SubscriptionInstantiationContext,
    TopicId,
    TypePrefixSubscription,
    TypeSubscription,
    default_subscription,
    message_handler,
    type_subscription,
)
from muster.core.exceptions import AgentRegistrationError, CantHandleException


def test_type_subscription_matches_exact_type_and_keys_by_source() -> None:
    sub = TypeSubscription("chat", "assistant")
    assert sub.is_match(TopicId("chat", "s1"))
    assert not sub.is_match(TopicId("chatter", "s1"))
    assert sub.map_to_agent(TopicId("chat", "s1")) == AgentId("assistant", "s1")
    with pytest.raises(CantHandleException):
        sub.map_to_agent(TopicId("other", "s1"))


def test_prefix_subscription_matches_prefix() -> None:
    sub = TypePrefixSubscription("assistant:", "assistant")
    assert sub.is_match(TopicId("assistant:", "s"))
    assert sub.is_match(TopicId("assistant:inbox", "s"))
    assert not sub.is_match(TopicId("assistant", "s"))
    assert sub.map_to_agent(TopicId("assistant:x", "s")) == AgentId("assistant", "s")


def test_subscription_equality_by_id_or_routing() -> None:
    a = TypeSubscription("t", "agent", id="one")
    assert a == TypeSubscription("t", "agent", id="two")
    assert a == TypeSubscription("other", "other", id="one")
    assert a != TypeSubscription("t", "other")
    assert a != TypePrefixSubscription("t", "agent")


def test_default_subscription_needs_registration_context_or_agent_type() -> None:
    with pytest.raises(CantHandleException):
        DefaultSubscription()
    assert DefaultSubscription(agent_type="a").topic_type == "default"


def test_static_contexts_cannot_be_instantiated_or_used_outside_scope() -> None:
    with pytest.raises(RuntimeError):
        SubscriptionInstantiationContext()
    with pytest.raises(RuntimeError):
        SubscriptionInstantiationContext.agent_type()
    with pytest.raises(RuntimeError):
        AgentInstantiationContext.current_runtime()
    assert not AgentInstantiationContext.is_in_factory_call()


class Recorder(RoutedAgent):
    """Appends every event it receives to a list shared through the class."""

    log: list[tuple[AgentId, str]]
    echoes = False

    def __init__(self) -> None:
        super().__init__("recorder")

    @message_handler
    async def on_text(self, message: str, ctx: MessageContext) -> None:
        type(self).log.append((self.id, message))
        if self.echoes and message.startswith("echo"):
            await self.publish_message("reply:" + message, DefaultTopicId())


@default_subscription
class DefaultListener(Recorder):
    log: list[tuple[AgentId, str]] = []
    echoes = True


@type_subscription("news")
class NewsListener(Recorder):
    log: list[tuple[AgentId, str]] = []


async def test_class_decorators_subscribe_on_register() -> None:
    DefaultListener.log.clear()
    NewsListener.log.clear()
    runtime = SingleThreadedAgentRuntime()
    await DefaultListener.register(runtime, "listener", DefaultListener)
    await NewsListener.register(runtime, "news_reader", NewsListener)
    runtime.start()
    await runtime.publish_message("hello", DefaultTopicId())
    await runtime.publish_message("headline", TopicId("news", "paper"))
    await runtime.stop_when_idle()
    assert DefaultListener.log == [(AgentId("listener", "default"), "hello")]
    assert NewsListener.log == [(AgentId("news_reader", "paper"), "headline")]


async def test_decorator_on_one_class_does_not_leak_to_parent_or_siblings() -> None:
    assert Recorder.internal_unbound_subscriptions_list == []
    assert len(DefaultListener.internal_unbound_subscriptions_list) == 1
    assert len(NewsListener.internal_unbound_subscriptions_list) == 1


async def test_skip_class_subscriptions() -> None:
    DefaultListener.log.clear()
    runtime = SingleThreadedAgentRuntime()
    await DefaultListener.register(runtime, "listener", DefaultListener, skip_class_subscriptions=True)
    runtime.start()
    await runtime.publish_message("hello", DefaultTopicId())
    await runtime.stop_when_idle()
    assert DefaultListener.log == []


async def test_one_instance_per_topic_source_created_lazily() -> None:
    DefaultListener.log.clear()
    runtime = SingleThreadedAgentRuntime()
    await DefaultListener.register(runtime, "listener", DefaultListener)
    runtime.start()
    assert await runtime.save_state() == {}  # nothing instantiated by registration
    for source in ("s1", "s2", "s1"):
        await runtime.publish_message(source, TopicId("default", source))
    await runtime.stop_when_idle()
    assert set((await runtime.save_state()).keys()) == {"listener/s1", "listener/s2"}
    assert sorted(DefaultListener.log, key=str) == [
        (AgentId("listener", "s1"), "s1"),
        (AgentId("listener", "s1"), "s1"),
        (AgentId("listener", "s2"), "s2"),
    ]


async def test_publisher_does_not_receive_its_own_message() -> None:
    DefaultListener.log.clear()
    runtime = SingleThreadedAgentRuntime()
    await DefaultListener.register(runtime, "listener", DefaultListener)
    await NewsListener.register(runtime, "other", NewsListener)
    await runtime.add_subscription(TypeSubscription("default", "other"))
    NewsListener.log.clear()
    runtime.start()
    # "listener" republishes "reply:echo" as itself: "other" hears it, "listener" does not.
    await runtime.publish_message("echo", DefaultTopicId())
    await runtime.stop_when_idle()
    assert DefaultListener.log == [(AgentId("listener", "default"), "echo")]
    assert sorted(m for _, m in NewsListener.log) == ["echo", "reply:echo"]


async def test_direct_message_prefix_subscription_added_by_register() -> None:
    DefaultListener.log.clear()
    runtime = SingleThreadedAgentRuntime()
    await DefaultListener.register(runtime, "listener", DefaultListener)
    runtime.start()
    await runtime.publish_message("direct", TopicId("listener:", "k9"))
    await runtime.stop_when_idle()
    assert DefaultListener.log == [(AgentId("listener", "k9"), "direct")]


async def test_add_remove_subscription_invalidates_cached_routes() -> None:
    NewsListener.log.clear()
    runtime = SingleThreadedAgentRuntime()
    await NewsListener.register(runtime, "reader", NewsListener, skip_class_subscriptions=True)
    runtime.start()
    topic = TopicId("sports", "s")
    await runtime.publish_message("before", topic)  # caches "nobody"
    sub = TypeSubscription("sports", "reader")
    await runtime.add_subscription(sub)
    await runtime.publish_message("during", topic)
    await runtime.stop_when_idle()
    runtime.start()
    await runtime.remove_subscription(sub.id)
    await runtime.publish_message("after", topic)
    await runtime.stop_when_idle()
    assert [m for _, m in NewsListener.log] == ["during"]


async def test_duplicate_and_unknown_subscriptions_raise() -> None:
    runtime = SingleThreadedAgentRuntime()
    await runtime.add_subscription(TypeSubscription("t", "a"))
    with pytest.raises(AgentRegistrationError):
        await runtime.add_subscription(TypeSubscription("t", "a"))
    with pytest.raises(ValueError):
        await runtime.remove_subscription("no-such-id")


async def test_overlapping_subscriptions_deliver_once() -> None:
    NewsListener.log.clear()
    runtime = SingleThreadedAgentRuntime()
    await NewsListener.register(runtime, "reader", NewsListener)
    await runtime.add_subscription(TypePrefixSubscription("new", "reader"))
    runtime.start()
    await runtime.publish_message("once", TopicId("news", "s"))
    await runtime.stop_when_idle()
    assert NewsListener.log == [(AgentId("reader", "s"), "once")]
