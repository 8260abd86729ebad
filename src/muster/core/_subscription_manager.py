"""Which agents receive a topic: subscriptions plus the caches that make lookups cheap."""

from __future__ import annotations

from typing import Any

from ._agent_id import AgentId
from ._subscription import Subscription
from ._topic import TopicId
from .exceptions import AgentRegistrationError

__all__ = ["SubscriptionManager"]

_MAX_CACHED_TOPICS = 16_384
"""Bound on cached topics, so a runtime serving millions of sessions does not grow forever."""


class SubscriptionManager:
    """Holds subscriptions and answers "who hears this topic?" from two caches.

    * per topic type: the subscriptions that can match it. Built-in subscriptions
      (``type_only``) match on the topic type alone, so one scan serves every source;
      custom subscriptions stay candidates and are asked per topic.
    * per topic: the final, de-duplicated recipient ids.

    Both caches are dropped whenever a subscription is added or removed, and so is
    :attr:`plans`, which the runtime derives from the recipients.
    """

    __slots__ = ("_by_topic", "_by_type", "_subscriptions", "plans")

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._by_type: dict[str, tuple[Subscription, ...]] = {}
        self._by_topic: dict[TopicId, tuple[AgentId, ...]] = {}
        self.plans: dict[tuple[str, str, type[Any]], Any] = {}
        """The runtime's delivery plans by topic type, topic source and message type.

        Keyed by the topic's strings, not the ``TopicId``: hashing a tuple of strings is done
        in C, where a ``TopicId`` (a dataclass) calls its Python ``__hash__`` on every publish.
        Added with :meth:`keep_plan`; see the runtime's ``_fan_out``.

        Kept here so that whatever changes a topic's recipients drops them too. A plan also
        holds agents: the runtime removes agents only with :meth:`remove_agent_type`, which
        drops every plan.
        """

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        """The current subscriptions, in the order they were added."""
        return tuple(self._subscriptions)

    def add(self, subscription: Subscription) -> None:
        """Add ``subscription``.

        Raises:
            AgentRegistrationError: an equal subscription (same id, or same routing) exists.
        """
        if any(existing == subscription for existing in self._subscriptions):
            raise AgentRegistrationError(f"Subscription already exists: {subscription!r}")
        self._subscriptions.append(subscription)
        self._invalidate()

    def remove(self, subscription_id: str) -> None:
        """Remove the subscription with ``subscription_id``.

        Raises:
            AgentRegistrationError: no subscription has that id.
        """
        kept = [sub for sub in self._subscriptions if sub.id != subscription_id]
        if len(kept) == len(self._subscriptions):
            raise AgentRegistrationError(f"No subscription with id {subscription_id!r}")
        self._subscriptions = kept
        self._invalidate()

    def remove_agent_type(self, agent_type: str) -> int:
        """Remove every subscription routing to ``agent_type``; return how many there were.

        Subscriptions that do not name an agent type (custom ones without an
        ``agent_type`` attribute) are kept: the manager cannot tell where they route.
        """
        kept = [sub for sub in self._subscriptions if getattr(sub, "agent_type", None) != agent_type]
        removed = len(self._subscriptions) - len(kept)
        if removed:
            self._subscriptions = kept
        # Dropped even when no subscription went: cached recipient tuples may still name
        # agents of the type (a custom subscription mapping to it).
        self._invalidate()
        return removed

    def _invalidate(self) -> None:
        self._by_type.clear()
        self._by_topic.clear()
        self.plans.clear()

    def keep_plan(self, key: tuple[str, str, type[Any]], plan: Any) -> None:
        """Remember a delivery plan (see :attr:`plans`), within the bound on cached topics."""
        if len(self.plans) >= _MAX_CACHED_TOPICS:
            self.plans.clear()
        self.plans[key] = plan

    def recipients(self, topic_id: TopicId) -> tuple[AgentId, ...]:
        """The agents that receive a message published to ``topic_id``, each once."""
        cached = self._by_topic.get(topic_id)
        if cached is not None:
            return cached
        candidates = self._by_type.get(topic_id.type)
        if candidates is None:
            candidates = tuple(
                sub
                for sub in self._subscriptions
                if not getattr(sub, "type_only", False) or sub.is_match(topic_id)
            )
            self._by_type[topic_id.type] = candidates
        found: dict[AgentId, None] = {}
        for sub in candidates:
            if sub.is_match(topic_id):
                found[sub.map_to_agent(topic_id)] = None
        result = tuple(found)
        if len(self._by_topic) >= _MAX_CACHED_TOPICS:
            self._by_topic.clear()
            self.plans.clear()
        self._by_topic[topic_id] = result
        return result
