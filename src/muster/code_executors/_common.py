"""What command-line executors share: their result type and how a block becomes a file and a command.

Kept apart from the local executor so another command-line executor (a container, a
remote shell) resolves languages, file names and pip noise the same way.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from muster.code_executor import CodeResult

__all__ = [
    "PYTHON_ALIASES",
    "SHELL_LANGUAGES",
    "CommandLineCodeResult",
    "file_extension",
    "file_name_from_content",
    "shell_command",
    "silence_pip",
]

PYTHON_ALIASES = frozenset({"python", "py"})
"""Language tags run with the Python interpreter (compared lower-cased)."""

SHELL_LANGUAGES = ("bash", "shell", "sh", "pwsh", "powershell", "ps1")
"""Language tags run as shell scripts."""

_POWERSHELL = frozenset({"pwsh", "powershell", "ps1"})
_FILENAME_MARKER = re.compile(r"^#\s*filename:\s*(?P<name>\S.*?)\s*$")


@dataclass
class CommandLineCodeResult(CodeResult):
    """A :class:`CodeResult` that also says which file held the (first) code block run."""

    code_file: str | None
    """Absolute path of the first block's file; None when no block was written."""


def file_name_from_content(code: str, work_dir: Path) -> str | None:
    """The file a block asks to be saved as (a first line ``# filename: name``), relative to ``work_dir``.

    Lets a model write a module that a later block imports.

    Raises:
        ValueError: the name points outside ``work_dir``.
    """
    first_line = code.split("\n", 1)[0]
    match = _FILENAME_MARKER.match(first_line)
    if match is None:
        return None
    root = work_dir.resolve()
    target = (root / match.group("name")).resolve()
    return str(target.relative_to(root))


def file_extension(language: str) -> str:
    """The extension a block's file gets, so interpreters and humans recognise it."""
    if language == "python":
        return "py"
    if language in _POWERSHELL:
        return "ps1"
    return language


def shell_command(language: str, script: Path) -> list[str] | None:
    """The argv that runs ``script`` written in the shell ``language``; None if PowerShell is missing."""
    if language in _POWERSHELL:
        program = shutil.which("pwsh") or shutil.which("powershell")
        if program is None:
            return None
        return [program, "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", str(script)]
    return ["sh" if language == "shell" else language, str(script)]


def silence_pip(code: str, language: str) -> str:
    """Add ``-qqq`` to ``pip install`` lines so install progress does not drown the real output."""
    if language == "python":
        pattern = re.compile(r"^! ?pip install")
    elif language in SHELL_LANGUAGES:
        pattern = re.compile(r"^pip install")
    else:
        return code
    lines = code.split("\n")
    for index, line in enumerate(lines):
        match = pattern.search(line)
        if match is not None and "-qqq" not in line:
            lines[index] = match.group(0) + " -qqq" + line[match.end() :]
    return "\n".join(lines)
