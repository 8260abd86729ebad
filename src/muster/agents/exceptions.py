"""Errors raised by the agents in :mod:`muster.agents`.

Hierarchy::

    MusterError                        (muster.core.exceptions)
    └── AgentChatError                 (muster.base.exceptions)
        └── AgentError                 ``agent_name``, ``error_type``, ``detail``
            ├── ModelTurnError         (RuntimeError) the model's reply could not be used
            └── UserInputError         the input function of a UserProxyAgent failed

Failures of individual tool calls are not errors here: they go back to the model as
``FunctionExecutionResult(is_error=True)`` so it can correct itself.
"""

from __future__ import annotations

from muster.base.exceptions import AgentError

__all__ = ["ModelTurnError", "UserInputError"]


class ModelTurnError(AgentError, RuntimeError):
    """The model's reply could not be used (a streaming client sent no result, no text to reflect on...).

    A ``RuntimeError`` as well, because AutoGen raises ``RuntimeError`` in these cases.

    Attributes:
        agent_name: The agent whose model call failed.
        detail: What was wrong with the reply.
    """

    def __init__(self, agent_name: str, detail: str) -> None:
        super().__init__(agent_name, "ModelTurnError", detail)


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
