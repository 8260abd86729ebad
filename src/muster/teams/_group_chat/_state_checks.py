"""Checks shared by every ``load_state`` in the team machinery.

A saved state is data from outside (a file, a database row, another version of muster):
before anything is applied its ``type`` and ``version`` must name what the loader
expects, and every message must rebuild. Each failure is a
:class:`~muster.base.exceptions.StateError` naming the offending field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from muster.base.exceptions import StateError
from muster.messages import BaseAgentEvent, BaseChatMessage, MessageFactory

__all__ = ["SUPPORTED_MAJOR_VERSION", "check_state_header", "parse_thread"]

SUPPORTED_MAJOR_VERSION = "1"
"""States of format 1.x load; AutoGen writes 1.0.0."""


def _default(model: type[BaseModel], field: str) -> Any:
    return model.model_fields[field].default


def check_state_header(state: Any, model: type[BaseModel], *, where: str) -> None:
    """Check that ``state`` is a mapping whose ``type`` and ``version`` fit ``model``.

    Raises:
        StateError: not a mapping, another ``type``, or an unsupported ``version``.
    """
    if not isinstance(state, Mapping):
        raise StateError(f"{where}: expected a saved state (a mapping), got {type(state).__name__}")
    expected = _default(model, "type")
    found = state.get("type", expected)
    if found != expected:
        raise StateError(f"{where}.type: expected {expected!r}, got {found!r}")
    version = state.get("version", _default(model, "version"))
    if not isinstance(version, str) or version.split(".", 1)[0] != SUPPORTED_MAJOR_VERSION:
        raise StateError(
            f"{where}.version: {version!r} is not a supported state format "
            f"(this muster reads {SUPPORTED_MAJOR_VERSION}.x)"
        )


def parse_thread(
    dumped: Sequence[Mapping[str, Any]], factory: MessageFactory, *, where: str
) -> list[BaseAgentEvent | BaseChatMessage]:
    """Rebuild saved messages, naming the first one that does not rebuild.

    Raises:
        StateError: a message of an unknown or unregistered type, or with bad fields.
    """
    messages: list[BaseAgentEvent | BaseChatMessage] = []
    for index, data in enumerate(dumped):
        try:
            messages.append(factory.create(data))
        except Exception as exc:  # the factory raises ValueError or pydantic's errors
            raise StateError(f"{where}[{index}]: {exc}") from exc
    return messages
