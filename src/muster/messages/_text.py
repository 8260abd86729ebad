"""TextMessage: plain text, the message nearly every run starts and ends with.

In a module of its own, apart from the other chat messages and the events, so that a plain
agent run defines only the message classes it uses (docs/performance.md, "Start-up").
"""

from typing import Literal

from ._base import BaseTextChatMessage

__all__ = ["TextMessage"]


class TextMessage(BaseTextChatMessage):
    """Plain text."""

    type: Literal["TextMessage"] = "TextMessage"
