"""Topics that published messages are addressed to."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .exceptions import InvalidTopicError

__all__ = ["TopicId"]

_TOPIC_TYPE = re.compile(r"^[\w\-.:=]+\Z")


@dataclass(eq=True, frozen=True, slots=True)
class TopicId:
    """A topic: ``type`` says what kind of event it carries, ``source`` which context it belongs to.

    The fields follow CloudEvents (type and source), which is why the runtime can map topics
    to agent instances: a subscription turns the topic type into an agent type and the
    source usually becomes the agent key.
    """

    type: str
    source: str

    def __post_init__(self) -> None:
        if not _TOPIC_TYPE.match(self.type):
            raise InvalidTopicError(f"Invalid topic type {self.type!r}: use letters, digits and '_-.:=' only")

    def __str__(self) -> str:
        return f"{self.type}/{self.source}"

    @classmethod
    def from_str(cls, topic_id: str) -> TopicId:
        """Parse ``"type/source"``."""
        type_, sep, source = topic_id.partition("/")
        if not sep:
            raise InvalidTopicError(f"Invalid topic id {topic_id!r}: expected 'type/source'")
        return cls(type_, source)
