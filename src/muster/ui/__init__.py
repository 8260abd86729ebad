"""Rendering runs for people (AutoGen: ``autogen_agentchat.ui`` and ``autogen_ext.ui``).

``RichConsole`` needs the ``rich`` extra; it is imported on first access so that
``import muster.ui`` never imports rich.
"""

from typing import Any

from ._console import Console, UserInputManager

__all__ = ["Console", "RichConsole", "UserInputManager"]


def __getattr__(name: str) -> Any:
    if name != "RichConsole":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ._rich_console import RichConsole

    globals()[name] = RichConsole  # later lookups skip __getattr__
    return RichConsole


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
