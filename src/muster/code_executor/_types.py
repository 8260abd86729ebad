"""The code blocks executors run and the results they report.

Plain dataclasses, not pydantic models, because AutoGen's are dataclasses and user code
builds them positionally (``CodeBlock("print(1)", "python")``); pydantic still validates
them where messages embed them (``CodeGenerationEvent``, ``CodeExecutionEvent``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CodeBlock", "CodeResult"]


@dataclass
class CodeBlock:
    """A block of code extracted from a message, with the language it is written in."""

    code: str
    """The source text, without the surrounding markdown fence."""
    language: str
    """The fence's language tag (``"python"``, ``"sh"``...), as the author wrote it."""


@dataclass
class CodeResult:
    """The outcome of running code: the exit code and what the code printed."""

    exit_code: int
    """0 on success; executors use 124 for a timeout and 125 for a cancellation."""
    output: str
    """What the code wrote to its console."""
