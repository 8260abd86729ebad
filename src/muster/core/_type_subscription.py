"""Subscribe an agent type to every topic of one topic type, one agent per topic source."""

from __future__ import annotations

import uuid

from ._agent_id import AgentId, AgentType
from ._topic import TopicId
from .exceptions import CantHandleException

__all__ = ["TypeSubscription"]


class TypeSubscription:
    """Routes topics whose type equals ``topic_type`` to ``agent_type``, keyed by topic source.

    Publishing to ``TopicId("chat", "session-1")`` reaches agent ``(agent_type, "session-1")``,
    so every source (conversation, user...) gets its own agent instance.
    """

    __slots__ = ("_agent_type", "_id", "_topic_type")

    type_only = True
    """Matching depends on the topic type alone, which lets the runtime cache per topic type."""

    def __init__(self, topic_type: str, agent_type: str | AgentType, id: str | None = None) -> None:
        self._topic_type = topic_type
        self._agent_type = agent_type.type if isinstance(agent_type, AgentType) else agent_type
        self._id = id or str(uuid.uuid4())

    @property
    def id(self) -> str:
        """Unique id, used to remove the subscription."""
        return self._id

    @property
    def topic_type(self) -> str:
        """The topic type this subscription listens to."""
        return self._topic_type

    @property
    def agent_type(self) -> str:
        """The agent type that receives the messages."""
        return self._agent_type

    def is_match(self, topic_id: TopicId) -> bool:
        """Whether ``topic_id`` has exactly this subscription's topic type."""
        return topic_id.type == self._topic_type

    def map_to_agent(self, topic_id: TopicId) -> AgentId:
        """The agent of ``agent_type`` keyed by the topic's source."""
        if not self.is_match(topic_id):
            raise CantHandleException(f"Topic {topic_id} does not match subscription to {self._topic_type!r}")
        return AgentId(self._agent_type, topic_id.source)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TypeSubscription):
            return False
        return self._id == other._id or (
            self._agent_type == other._agent_type and self._topic_type == other._topic_type
        )

    __hash__ = None  # type: ignore[assignment]  # equality is not transitive, so no hash

    def __repr__(self) -> str:
        return f"TypeSubscription(topic_type={self._topic_type!r}, agent_type={self._agent_type!r}, id={self._id!r})"
