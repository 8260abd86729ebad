"""Errors raised by the core runtime.

Hierarchy::

    MusterError                        root of every muster error (also in muster.exceptions)
    └── CoreError
        ├── InvalidAgentIdError        (ValueError) malformed agent type or key
        ├── InvalidTopicError          (ValueError) malformed topic type
        ├── ComponentLoadError         (ValueError) a declarative spec could not be loaded
        ├── CantHandleException        the recipient has no handler for the message type
        ├── UndeliverableException     no agent/type can receive the message (unknown type)
        ├── MessageDroppedException    an intervention handler dropped the message
        ├── NotAccessibleError         a runtime feature is unavailable for this agent
        ├── AgentRegistrationError     (ValueError) duplicate or invalid registration
        └── GeneralError               anything else the runtime reports

The AutoGen names (``CantHandleException`` ...) are kept so ``except`` clauses in
ported code keep working.
"""

from __future__ import annotations

__all__ = [
    "AgentRegistrationError",
    "CantHandleException",
    "ComponentLoadError",
    "CoreError",
    "GeneralError",
    "InvalidAgentIdError",
    "InvalidTopicError",
    "MessageDroppedException",
    "MusterError",
    "NotAccessibleError",
    "UndeliverableException",
]


class MusterError(Exception):
    """Root of every error muster raises on purpose."""


class CoreError(MusterError):
    """An error from the core runtime."""


class InvalidAgentIdError(CoreError, ValueError):
    """An agent type or key does not follow the allowed character set."""


class InvalidTopicError(CoreError, ValueError):
    """A topic type does not follow the allowed character set."""


class ComponentLoadError(CoreError, ValueError):
    """A declarative component spec is invalid; the message names the bad field."""


class CantHandleException(CoreError):
    """The recipient has no handler for the message type it was sent."""


class UndeliverableException(CoreError):
    """The message cannot be delivered: its recipient's type is not registered."""


class MessageDroppedException(CoreError):
    """An intervention handler dropped the message before delivery."""


class NotAccessibleError(CoreError):
    """The requested runtime facility cannot be reached from here."""


class AgentRegistrationError(CoreError, ValueError):
    """An agent type was registered twice, or with an invalid factory."""


class GeneralError(CoreError):
    """A runtime error that fits no more specific class."""
