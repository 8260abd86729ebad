"""Errors raised by the core runtime.

Hierarchy::

    MusterError                        root of every muster error (also in muster.exceptions)
    └── CoreError
        ├── InvalidAgentIdError        (ValueError) malformed agent type or key
        ├── InvalidTopicError          (ValueError) malformed topic type
        ├── ComponentLoadError         (ValueError) a declarative spec could not be loaded
        ├── CantHandleException        the recipient has no handler for the message type
        │   └── UnhandledMessageError  an RPC no handler accepts (opt-in)
        ├── UndeliverableException     no agent/type can receive the message (unknown type)
        │   ├── UnknownAgentTypeError  (LookupError) no factory is registered for the agent type
        │   └── RuntimeStoppedError    the runtime stopped before a queued message was delivered
        ├── MessageDroppedException    an intervention handler dropped the message
        ├── NotAccessibleError         a runtime feature is unavailable for this agent
        ├── AgentRegistrationError     (ValueError) duplicate or invalid registration
        ├── AgentTypeBusyError         (RuntimeError) unregistering a type whose handlers still run
        ├── HandlerReturnTypeError     (ValueError) a strict handler returned an undeclared type
        └── GeneralError               anything else the runtime reports

The AutoGen names (``CantHandleException`` ...) are kept so ``except`` clauses in
ported code keep working.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AgentRegistrationError",
    "AgentTypeBusyError",
    "CantHandleException",
    "ComponentLoadError",
    "CoreError",
    "GeneralError",
    "HandlerReturnTypeError",
    "InvalidAgentIdError",
    "InvalidTopicError",
    "MessageDroppedException",
    "MusterError",
    "NotAccessibleError",
    "RuntimeStoppedError",
    "UndeliverableException",
    "UnhandledMessageError",
    "UnknownAgentTypeError",
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


class AgentTypeBusyError(CoreError, RuntimeError):
    """An agent type cannot be unregistered while messages to it are being handled.

    Raised by ``SingleThreadedAgentRuntime.unregister_agent_type`` rather than cancelling
    the handlers: whether to wait (``stop_when_idle``) or to abandon the work
    (``close``) is the caller's decision, not the runtime's.
    """

    def __init__(self, agent_type: str, running: int) -> None:
        self.agent_type = agent_type
        """The agent type that was to be unregistered."""
        self.running = running
        """How many deliveries to (or instantiations of) agents of that type were in progress."""
        super().__init__(
            f"Agent type {agent_type!r} cannot be unregistered: {running} of its deliveries are in progress"
        )


class GeneralError(CoreError):
    """A runtime error that fits no more specific class."""


class UnhandledMessageError(CantHandleException):
    """A routed agent received an RPC whose type (or ``match`` predicates) no handler accepts.

    Raised at the sender, instead of AutoGen's ``None``, only by agents that opt in with
    ``RoutedAgent.raise_on_unhandled_rpc = True``, so a typo in a message type is a loud
    error, not a silent drop. Published events without a handler are only logged.
    """

    def __init__(self, agent_id: Any, message_type: type[Any]) -> None:
        self.agent_id = agent_id
        """The recipient (an ``AgentId``)."""
        self.message_type = message_type
        """The type of the message nobody handled."""
        super().__init__(f"Agent {agent_id} has no handler for RPC message type {message_type.__qualname__}")


class UnknownAgentTypeError(UndeliverableException, LookupError):
    """No factory or instance is registered under the agent type a message or lookup names.

    It is also a :class:`LookupError` because AutoGen signals the same condition with
    ``LookupError`` in ``get``/``agent_metadata``; ported ``except`` clauses keep working.
    """

    def __init__(self, agent_type: str) -> None:
        self.agent_type = agent_type
        """The unregistered agent type."""
        super().__init__(f"Recipient not found: no agent type {agent_type!r} is registered")


class RuntimeStoppedError(UndeliverableException):
    """The runtime was stopped or closed while the message still waited in its queue."""

    def __init__(self, recipient: Any) -> None:
        self.recipient = recipient
        """The ``AgentId`` the message was addressed to."""
        super().__init__(f"The runtime stopped before the message to {recipient} was delivered")


class HandlerReturnTypeError(CoreError, ValueError):
    """A ``strict`` message handler returned a value its return annotation does not allow."""

    def __init__(self, handler: str, returned: type[Any], declared: tuple[type[Any], ...]) -> None:
        self.handler = handler
        """Qualified name of the handler."""
        self.returned = returned
        """Type of the value it returned."""
        self.declared = declared
        """Types its annotation allows."""
        names = ", ".join(t.__qualname__ for t in declared)
        super().__init__(f"Handler {handler} returned {returned.__qualname__}, declared to return {names}")
