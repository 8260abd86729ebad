"""Built-in termination conditions (AutoGen: ``autogen_agentchat.conditions``).

Combine them with ``|`` (stop when either fires) and ``&`` (stop once both have fired).
Every condition except :class:`FunctionalTermination` dumps to, and loads from, a spec.
"""

from ._content import (
    SourceMatchTermination,
    StopMessageTermination,
    TextMentionTermination,
    TextMessageTermination,
)
from ._external import ExternalTermination, FunctionalTermination
from ._limits import MaxMessageTermination, TimeoutTermination, TokenUsageTermination
from ._tool_calls import FunctionCallTermination, HandoffTermination

__all__ = [
    "ExternalTermination",
    "FunctionCallTermination",
    "FunctionalTermination",
    "HandoffTermination",
    "MaxMessageTermination",
    "SourceMatchTermination",
    "StopMessageTermination",
    "TextMentionTermination",
    "TextMessageTermination",
    "TimeoutTermination",
    "TokenUsageTermination",
]
