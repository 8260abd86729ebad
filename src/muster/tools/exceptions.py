"""Errors raised by the tools package.

Hierarchy::

    MusterError                          root of every muster error (muster.core.exceptions)
    └── ToolError                        any error about a tool; ``tool_name`` names it
        ├── ToolDefinitionError          (ValueError) a function or args model cannot become a tool
        │   └── ToolStrictModeError      (ValueError) strict schema with defaults or extra properties
        ├── ToolOverrideConflictError    (ValueError) two tools would be exposed under one name
        ├── ToolArgumentsError           (ValueError) the arguments failed validation
        ├── ToolNotFoundError            (LookupError) no tool by that name in a workbench
        └── ToolTimeoutError             (TimeoutError) a tool call ran past its time limit

Two audiences, two paths. A workbench turns every failure of a *call* (unknown name, bad
arguments, the tool raising, a timeout) into a ``ToolResult(is_error=True)`` so the model
sees what went wrong and the run continues. Direct callers of ``BaseTool.run_json`` get the
typed exception instead. Definition errors (bad signature, strict-mode violations,
clashing overrides) are programming mistakes and always raise.

The ``ValueError``/``LookupError``/``TimeoutError`` bases keep ``except`` clauses written
for AutoGen (which raises plain ``ValueError`` and pydantic's ``ValidationError``) working.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from ..core.exceptions import MusterError

__all__ = [
    "ToolArgumentsError",
    "ToolDefinitionError",
    "ToolError",
    "ToolNotFoundError",
    "ToolOverrideConflictError",
    "ToolStrictModeError",
    "ToolTimeoutError",
]


class ToolError(MusterError):
    """An error about a tool.

    Attributes:
        tool_name: The tool concerned, or ``None`` when no single tool is to blame.
    """

    def __init__(self, message: str, tool_name: str | None = None) -> None:
        super().__init__(message)
        self.tool_name = tool_name


class ToolDefinitionError(ToolError, ValueError):
    """A function or args model cannot be turned into a tool (for example an unannotated parameter)."""


class ToolStrictModeError(ToolDefinitionError):
    """A strict tool's schema has optional arguments or allows extra properties.

    Strict mode (OpenAI structured outputs) requires every property to be required and
    ``additionalProperties`` to be false, so defaults cannot be expressed.

    Attributes:
        optional: Names of the arguments that have defaults.
        allows_additional: Whether the args model accepts extra properties.
    """

    def __init__(self, tool_name: str, optional: Sequence[str] = (), allows_additional: bool = False) -> None:
        self.optional = list(optional)
        self.allows_additional = allows_additional
        problems = []
        if self.optional:
            problems.append(
                "arguments with defaults are not allowed, but "
                + ", ".join(repr(n) for n in self.optional)
                + " have defaults"
            )
        if allows_additional:
            problems.append("additional properties are not allowed")
        super().__init__(f"Tool {tool_name!r} is strict: " + "; ".join(problems), tool_name)


class ToolOverrideConflictError(ToolError, ValueError):
    """Tool overrides would expose two tools under the same name.

    Attributes:
        exposed_name: The name that would be ambiguous.
        claimants: The original tool names that would share it.
    """

    def __init__(self, exposed_name: str, claimants: Sequence[str]) -> None:
        self.exposed_name = exposed_name
        self.claimants = list(claimants)
        super().__init__(
            f"Tool name {exposed_name!r} would be used by "
            + " and ".join(repr(c) for c in self.claimants)
            + "; exposed tool names must be unique",
            exposed_name,
        )


class ToolArgumentsError(ToolError, ValueError):
    """The arguments of a tool call failed validation against the tool's args model.

    Attributes:
        errors: ``(field, problem)`` pairs, ``field`` being a dotted path ("<root>" for the
            whole object), for example ``("city", "Field required")``.
        validation_error: The underlying pydantic error, when there is one.
    """

    def __init__(
        self,
        tool_name: str,
        errors: Sequence[tuple[str, str]],
        validation_error: ValidationError | None = None,
    ) -> None:
        self.errors = list(errors)
        self.validation_error = validation_error
        details = "; ".join(f"{field}: {problem}" for field, problem in self.errors)
        super().__init__(f"Invalid arguments for tool {tool_name!r}: {details}", tool_name)

    @classmethod
    def from_validation_error(cls, tool_name: str, exc: ValidationError) -> ToolArgumentsError:
        """Build the error from pydantic's, keeping only what a model can act on (field and problem)."""
        errors: list[tuple[str, str]] = []
        for err in exc.errors(include_url=False):
            field = ".".join(str(part) for part in err["loc"]) or "<root>"
            problem = err["msg"]
            if err["type"] not in ("missing", "extra_forbidden") and "input" in err:
                problem += f" (got {_short_repr(err['input'])})"
            errors.append((field, problem))
        return cls(tool_name, errors, exc)


class ToolNotFoundError(ToolError, LookupError):
    """No tool with the requested name is available.

    Attributes:
        available: The names that are available, so the caller (or model) can correct itself.
    """

    def __init__(self, tool_name: str, available: Sequence[str]) -> None:
        self.available = list(available)
        listing = ", ".join(self.available) if self.available else "none"
        super().__init__(f"Tool {tool_name!r} not found. Available tools: {listing}", tool_name)

    def __str__(self) -> str:
        # LookupError subclasses such as KeyError quote their message; this one must read plainly.
        return str(self.args[0])


class ToolTimeoutError(ToolError, TimeoutError):
    """A tool call ran past its time limit.

    Attributes:
        timeout: The limit, in seconds.
    """

    def __init__(self, tool_name: str, timeout: float) -> None:
        self.timeout = timeout
        super().__init__(f"Tool {tool_name!r} timed out after {timeout} s", tool_name)


def _short_repr(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
