"""Code blocks and results carried by code-generation events (AutoGen: ``autogen_core.code_executor``).

Only the data types live here; executing code is out of scope for the core package.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CodeBlock", "CodeResult"]


@dataclass
class CodeBlock:
    """A block of code extracted from a model reply."""

    code: str
    language: str


@dataclass
class CodeResult:
    """The outcome of running code."""

    exit_code: int
    output: str
