"""The contract that maps published topics to the agents that receive them."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ._agent_id import AgentId
from ._topic import TopicId

__all__ = ["Subscription"]


@runtime_checkable
class Subscription(Protocol):
    """Decides which topics an agent type hears, and which instance of it handles each topic.

    Implementations must be pure functions of the topic: the runtime caches their
    answers per topic and only recomputes them when subscriptions are added or removed.
    """

    @property
    def id(self) -> str:
        """Unique id, used to remove the subscription."""
        ...

    def __eq__(self, other: object) -> bool:
        """Subscriptions that route the same topics to the same agents are equal (duplicates)."""
        ...

    def is_match(self, topic_id: TopicId) -> bool:
        """Whether a message published to ``topic_id`` concerns this subscription."""
        ...

    def map_to_agent(self, topic_id: TopicId) -> AgentId:
        """The agent that receives a message published to a matching ``topic_id``.

        Raises:
            CantHandleException: ``topic_id`` does not match.
        """
        ...
