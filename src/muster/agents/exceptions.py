"""Errors raised by the agents in :mod:`muster.agents`.

Hierarchy::

    MusterError                        (muster.core.exceptions)
    └── AgentChatError                 (muster.base.exceptions)
        └── AgentError                 ``agent_name``, ``error_type``, ``detail``
            ├── ModelTurnError         (RuntimeError) the model's reply could not be used
            │   └── StructuredOutputError  (ValueError) the reply does not fit ``output_content_type``;
            │                              ``raw_text``, ``validation_error``
            └── UserInputError         the input function of a UserProxyAgent failed

Failures of individual tool calls are not errors here: they go back to the model as
``FunctionExecutionResult(is_error=True)`` so it can correct itself.
"""

from __future__ import annotations

from pydantic import ValidationError

from muster.base.exceptions import AgentError

__all__ = ["ModelTurnError", "StructuredOutputError", "UserInputError"]

_SHOWN_REPLY_CHARS = 200
"""How much of the model's reply the message quotes; ``raw_text`` keeps all of it."""


class ModelTurnError(AgentError, RuntimeError):
    """The model's reply could not be used (a streaming client sent no result, no text to reflect on...).

    A ``RuntimeError`` as well, because AutoGen raises ``RuntimeError`` in these cases.

    Attributes:
        agent_name: The agent whose model call failed.
        detail: What was wrong with the reply.
    """

    def __init__(self, agent_name: str, detail: str) -> None:
        super().__init__(agent_name, "ModelTurnError", detail)


class StructuredOutputError(ModelTurnError, ValueError):
    """The model's final reply does not validate against the agent's ``output_content_type``.

    AutoGen raises pydantic's ``ValidationError`` here, which is a ``ValueError``; this is
    one too, so ``except ValueError`` in ported code still catches it. (Subclassing
    pydantic's error is not possible in a supported way: it is built by pydantic-core.)
    The agent's model context is left as it was before the call that failed.

    Attributes:
        agent_name: The agent whose model replied.
        raw_text: The model's reply, unparsed.
        validation_error: What pydantic found wrong with it (also the ``__cause__``).
    """

    def __init__(self, agent_name: str, raw_text: str, validation_error: ValidationError) -> None:
        self.raw_text = raw_text
        self.validation_error = validation_error
        errors = validation_error.errors(include_url=False)
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"]) or "the reply"
        count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''}"
        shown = raw_text if len(raw_text) <= _SHOWN_REPLY_CHARS else raw_text[:_SHOWN_REPLY_CHARS] + "..."
        detail = (
            f"reply does not match {validation_error.title} ({count}; first at {where}: {first['msg']}); "
            f"reply was {shown!r}"
        )
        super().__init__(agent_name, detail)
        self.error_type = "StructuredOutputError"
        self.args = (f"Agent '{agent_name}' failed: {detail}",)


class UserInputError(AgentError, RuntimeError):
    """A UserProxyAgent's input function raised; the original exception is the ``__cause__``.

    Attributes:
        agent_name: The UserProxyAgent.
        error_type: Class name of the input function's exception.
        detail: Its message.
    """

    def __init__(self, agent_name: str, cause: BaseException) -> None:
        super().__init__(agent_name, type(cause).__name__, str(cause))
        # Message says what the user sees: which proxy failed to get input and why.
        self.args = (f"Failed to get user input for agent '{agent_name}': {type(cause).__name__}: {cause}",)
