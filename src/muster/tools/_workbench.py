"""The workbench contract: a set of tools, possibly sharing resources, behind one call interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping
from types import TracebackType
from typing import Any, Self

from pydantic import BaseModel, ConfigDict

from ..core import CancellationToken, ComponentBase
from ..core.internal import ToolSchema
from ._result import ToolResult

__all__ = ["StreamWorkbench", "ToolOverride", "Workbench"]


class ToolOverride(BaseModel):
    """How a workbench exposes one tool under another name and/or description.

    Useful when two tool sources use the same name, or a generic tool needs a description
    fitted to the task. ``None`` keeps the tool's own value.
    """

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    name: str | None = None
    """The name the model sees and calls."""
    description: str | None = None
    """The description the model sees."""


class Workbench(ABC, ComponentBase[BaseModel]):
    """A set of tools behind one interface, with a lifecycle and state.

    Tools in a workbench may share resources (a browser, a connection to a tool server);
    the list may change between calls. Callers use :meth:`list_tools` to tell the model
    what exists and :meth:`call_tool` to run one. ``call_tool`` reports failures as
    ``ToolResult(is_error=True)`` rather than raising, so one bad call does not end a run.

    Use it as an async context manager to pair :meth:`start` with :meth:`stop`.
    """

    component_type = "workbench"

    @abstractmethod
    async def list_tools(self) -> list[ToolSchema]:
        """The schemas of the tools available right now."""

    @abstractmethod
    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> ToolResult:
        """Call a tool by name.

        Args:
            name: The tool name as listed by :meth:`list_tools`.
            arguments: The arguments; ``None`` means none.
            cancellation_token: Cancels the call.
            call_id: The model's id for this call, for logs and traces.
        """

    @abstractmethod
    async def start(self) -> None:
        """Acquire the resources the tools need; call before the first :meth:`call_tool`."""

    @abstractmethod
    async def stop(self) -> None:
        """Release the resources acquired by :meth:`start`."""

    @abstractmethod
    async def reset(self) -> None:
        """Return to the freshly started state."""

    @abstractmethod
    async def save_state(self) -> Mapping[str, Any]:
        """Capture the state of the workbench and its tools as JSON-able data."""

    @abstractmethod
    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore state captured by :meth:`save_state`."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.stop()


class StreamWorkbench(Workbench, ABC):
    """A workbench whose tool calls can stream progress before their result."""

    @abstractmethod
    def call_tool_stream(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> AsyncGenerator[Any | ToolResult, None]:
        """Call a tool by name, yielding its progress items and finally a :class:`ToolResult`."""
