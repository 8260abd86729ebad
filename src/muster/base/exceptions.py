"""Errors raised by agents, teams and termination conditions.

Hierarchy::

    MusterError                       (muster.core.exceptions)
    └── AgentChatError
        ├── TerminatedException       (RuntimeError) a termination condition was called after it fired
        ├── AgentError                an agent failed while handling messages; ``agent_name`` says which
        ├── InvalidTaskError          (ValueError) ``run(task=...)`` got something that is not a task
        └── StateError                (ValueError) saved state does not fit the object loading it
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
    """Saved state could not be loaded into this object."""
