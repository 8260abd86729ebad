"""Errors raised by code executors and the CodeExecutorAgent.

Hierarchy::

    MusterError                          (muster.core.exceptions)
    └── CodeExecutorError
        ├── CodeExecutionConfigError     (ValueError) an executor or agent was configured wrongly
        ├── FunctionSetupError           (ValueError) the executor's user functions could not be installed
        └── ApprovalNotSerializableError (ValueError) dumping an agent whose approval_func is code

Code that fails, times out or is denied is not an error here: it comes back as a
``CodeResult`` with a non-zero exit code, because the agent (or the model behind it) is
meant to read the output and react. These classes are for mistakes the caller must fix.
They are ``ValueError`` as well because AutoGen raises ``ValueError`` in the same places,
so ported ``except ValueError`` clauses keep working.
"""

from __future__ import annotations

from muster.core.exceptions import MusterError

__all__ = [
    "ApprovalNotSerializableError",
    "CodeExecutionConfigError",
    "CodeExecutorError",
    "FunctionSetupError",
]


class CodeExecutorError(MusterError):
    """Root of the errors about running code."""


class CodeExecutionConfigError(CodeExecutorError, ValueError):
    """A constructor argument of an executor or a CodeExecutorAgent is invalid.

    Attributes:
        parameter: The offending argument.
        detail: What is wrong with it.
    """

    def __init__(self, parameter: str, detail: str) -> None:
        self.parameter = parameter
        self.detail = detail
        super().__init__(f"Invalid {parameter}: {detail}")


class FunctionSetupError(CodeExecutorError, ValueError):
    """The functions given to an executor could not be made importable by the executed code.

    Attributes:
        step: ``"pip install"`` or ``"load"``.
        output: What the failing step printed (or why it stopped).
    """

    def __init__(self, step: str, output: str) -> None:
        self.step = step
        self.output = output
        super().__init__(f"Setting up the executor's functions failed at {step}: {output}")


class ApprovalNotSerializableError(CodeExecutorError, ValueError):
    """A CodeExecutorAgent with an ``approval_func`` was dumped to a spec.

    The function is code, not data: a spec without it would load as an agent that runs
    everything unreviewed, so dumping refuses instead of silently dropping the safeguard.

    Attributes:
        agent_name: The agent being dumped.
    """

    def __init__(self, agent_name: str) -> None:
        self.agent_name = agent_name
        super().__init__(
            f"Cannot dump CodeExecutorAgent {agent_name!r}: its approval_func is a function and "
            "cannot be serialised; dump an agent without it and set it again after loading"
        )
