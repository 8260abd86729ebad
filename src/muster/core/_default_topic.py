"""A topic id whose source defaults to the current agent's key."""

from __future__ import annotations

from ._message_handler_context import MessageHandlerContext
from ._topic import TopicId

__all__ = ["DefaultTopicId"]


class DefaultTopicId(TopicId):
    """``TopicId("default", <source>)`` with a source that follows the conversation.

    Inside a message handler the source defaults to the handling agent's key, so a reply
    published with ``DefaultTopicId()`` stays within the same session; elsewhere it is
    ``"default"``.
    """

    __slots__ = ()

    def __init__(self, type: str = "default", source: str | None = None) -> None:
        if source is None:
            try:
                source = MessageHandlerContext.agent_id().key
            except RuntimeError:
                source = "default"
        super().__init__(type, source)
