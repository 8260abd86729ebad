"""Subscribe an agent type to every topic whose type starts with a prefix."""

from __future__ import annotations

import uuid

from ._agent_id import AgentId, AgentType
from ._topic import TopicId
from .exceptions import CantHandleException

__all__ = ["TypePrefixSubscription"]


class TypePrefixSubscription:
    """Routes topics whose type starts with ``topic_type_prefix`` to ``agent_type``, keyed by source.

    ``BaseAgent.register`` adds one with prefix ``"<agent type>:"`` so that a topic such as
    ``TopicId("writer:", "s1")`` addresses agent ``writer/s1`` directly.
    """

    __slots__ = ("_agent_type", "_id", "_topic_type_prefix")

    type_only = True
    """Matching depends on the topic type alone, which lets the runtime cache per topic type."""

    def __init__(self, topic_type_prefix: str, agent_type: str | AgentType, id: str | None = None) -> None:
        self._topic_type_prefix = topic_type_prefix
        self._agent_type = agent_type.type if isinstance(agent_type, AgentType) else agent_type
        self._id = id or str(uuid.uuid4())

    @property
    def id(self) -> str:
        """Unique id, used to remove the subscription."""
        return self._id

    @property
    def topic_type_prefix(self) -> str:
        """The prefix topic types must start with."""
        return self._topic_type_prefix

    @property
    def agent_type(self) -> str:
        """The agent type that receives the messages."""
        return self._agent_type

    def is_match(self, topic_id: TopicId) -> bool:
        """Whether the topic type starts with the prefix."""
        return topic_id.type.startswith(self._topic_type_prefix)

    def map_to_agent(self, topic_id: TopicId) -> AgentId:
        """The agent of ``agent_type`` keyed by the topic's source."""
        if not self.is_match(topic_id):
            raise CantHandleException(
                f"Topic {topic_id} does not match subscription to prefix {self._topic_type_prefix!r}"
            )
        return AgentId(self._agent_type, topic_id.source)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TypePrefixSubscription):
            return False
        return self._id == other._id or (
            self._agent_type == other._agent_type and self._topic_type_prefix == other._topic_type_prefix
        )

    __hash__ = None  # type: ignore[assignment]  # equality is not transitive, so no hash

    def __repr__(self) -> str:
        return (
            f"TypePrefixSubscription(topic_type_prefix={self._topic_type_prefix!r}, "
            f"agent_type={self._agent_type!r}, id={self._id!r})"
        )
