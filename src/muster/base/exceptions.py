"""Errors raised by agents, teams and termination conditions.

Hierarchy::

    MusterError                       (muster.core.exceptions)
    └── AgentChatError
        ├── TerminatedException       (RuntimeError) a termination condition was called after it fired
        ├── AgentError                an agent failed while handling messages; ``agent_name`` says which
        ├── InvalidTaskError          (ValueError) ``run(task=...)`` got something that is not a task
        └── StateError                (ValueError) saved state does not fit the object loading it;
                                      ``field`` names the offending field, nothing was loaded
"""

from __future__ import annotations

from muster.core.exceptions import MusterError

__all__ = ["AgentChatError", "AgentError", "InvalidTaskError", "StateError", "TerminatedException"]


class AgentChatError(MusterError):
    """An error from the agent-chat layer (agents, teams, conditions)."""


class TerminatedException(AgentChatError, RuntimeError):
    """A termination condition that already fired was called again without ``reset()``."""


class AgentError(AgentChatError):
    """An agent failed while handling messages.

    Attributes:
        agent_name: The failing agent.
        error_type: The original exception's class name.
        detail: The original exception's message.
    """

    def __init__(self, agent_name: str, error_type: str, detail: str) -> None:
        self.agent_name = agent_name
        self.error_type = error_type
        self.detail = detail
        super().__init__(f"Agent '{agent_name}' failed: {error_type}: {detail}")


class InvalidTaskError(AgentChatError, ValueError):
    """The task given to ``run``/``run_stream`` is not a string, a message or a list of messages."""


class StateError(AgentChatError, ValueError):
    """Saved state could not be loaded into this object; the object was left as it was.

    Loaders check a whole state before changing anything, so catching this error and
    carrying on with the object is safe. A ``ValueError`` as well, because AutoGen's
    loaders raise pydantic's ``ValidationError`` (a ``ValueError``) for a bad state.

    Attributes:
        detail: What is wrong.
        field: Where, as a path into the state (``"conditions[1].count"``); ``None``
            when the state as a whole is at fault.
    """

    def __init__(self, detail: str, field: str | None = None) -> None:
        self.detail = detail
        self.field = field
        super().__init__(f"{field}: {detail}" if field else detail)

    def __reduce__(self) -> tuple[type[StateError], tuple[str, str | None]]:
        # Exception pickles ``args`` (the built message) by default, which would lose ``field``.
        return type(self), (self.detail, self.field)
