"""Base classes for tools: schema from an args model, JSON in, typed call, string out."""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping
from typing import Annotated, Any, Generic, Protocol, TypeVar, get_args, get_origin, runtime_checkable

from pydantic import BaseModel, ValidationError

from .. import EVENT_LOGGER_NAME
from ..core import CancellationToken, ComponentBase
from ..core.internal import Tool, ToolSchema
from ._schema import build_tool_schema
from .exceptions import ToolArgumentsError

__all__ = ["BaseStreamTool", "BaseTool", "BaseToolWithState", "StreamTool"]

ArgsT = TypeVar("ArgsT", bound=BaseModel)
ReturnT = TypeVar("ReturnT")
StateT = TypeVar("StateT", bound=BaseModel)
StreamT = TypeVar("StreamT")

_event_logger = logging.getLogger(EVENT_LOGGER_NAME)


@runtime_checkable
class StreamTool(Tool, Protocol):
    """A tool that can report progress while it runs, ending with its final return value."""

    def run_json_stream(
        self, args: Mapping[str, Any], cancellation_token: CancellationToken, call_id: str | None = None
    ) -> AsyncGenerator[Any, None]: ...


def _strip_annotated(tp: Any) -> Any:
    # ``Annotated[str, "doc"]`` means ``str`` to every consumer of the return type.
    if get_origin(tp) is Annotated:
        return get_args(tp)[0]
    return tp


def _is_instance(value: Any, tp: Any) -> bool:
    # Generic aliases (``list[int]``) and special forms (``Any``) cannot be checked: accept them.
    try:
        return isinstance(value, tp)
    except TypeError:
        return True


class BaseTool(ABC, ComponentBase[BaseModel], Generic[ArgsT, ReturnT]):
    """A tool whose arguments are described and validated by a pydantic model.

    Subclasses implement :meth:`run` with already-validated arguments; :meth:`run_json`
    is what agents and workbenches call with the model's raw JSON arguments.

    Args:
        args_type: The pydantic model of the arguments; its JSON schema is what the model sees.
        return_type: What :meth:`run` returns (``Annotated`` is unwrapped).
        name: The tool name the model calls.
        description: Tells the model what the tool does and when to call it.
        strict: Ask providers for strict argument decoding. The schema must then have no
            defaults and no extra properties, otherwise reading :attr:`schema` raises
            :class:`~muster.tools.exceptions.ToolStrictModeError`.
    """

    component_type = "tool"

    def __init__(
        self,
        args_type: type[ArgsT],
        return_type: type[ReturnT],
        name: str,
        description: str,
        strict: bool = False,
    ) -> None:
        self._args_type = args_type
        self._return_type: type[Any] = _strip_annotated(return_type)
        self._name = name
        self._description = description
        self._strict = strict
        self._schema_cache: tuple[str, str, ToolSchema] | None = None

    @property
    def name(self) -> str:
        """The name the model uses to call the tool."""
        return self._name

    @property
    def description(self) -> str:
        """What the model is told the tool does."""
        return self._description

    @property
    def schema(self) -> ToolSchema:
        """The schema sent to the model.

        Computed once and cached, because model clients read it on every request; the
        cache is keyed on name and description so a subclass that renames itself still
        gets a fresh schema. The top-level dict is a copy, nested dicts are shared: treat
        them as read-only.
        """
        cached = self._schema_cache
        if cached is None or cached[0] != self._name or cached[1] != self._description:
            schema = build_tool_schema(self._args_type, self._name, self._description, self._strict)
            cached = self._schema_cache = (self._name, self._description, schema)
        return cached[2].copy()

    def args_type(self) -> type[BaseModel]:
        """The pydantic model the arguments are validated against."""
        return self._args_type

    def return_type(self) -> type[Any]:
        """The type :meth:`run` returns."""
        return self._return_type

    def state_type(self) -> type[BaseModel] | None:
        """The pydantic model of the tool's state; ``None`` for a stateless tool."""
        return None

    def return_value_as_string(self, value: Any) -> str:
        """Render a return value for the model: pydantic models as JSON, anything else with ``str``."""
        if isinstance(value, BaseModel):
            dumped = value.model_dump(mode="json")
            if isinstance(dumped, dict):
                return json.dumps(dumped)
            return str(dumped)
        return str(value)

    @abstractmethod
    async def run(self, args: ArgsT, cancellation_token: CancellationToken) -> ReturnT:
        """Do the work with validated arguments."""

    def _validate_args(self, args: Mapping[str, Any]) -> ArgsT:
        try:
            return self._args_type.model_validate(args)
        except ValidationError as exc:
            raise ToolArgumentsError.from_validation_error(self._name, exc) from exc

    async def run_json(
        self, args: Mapping[str, Any], cancellation_token: CancellationToken, call_id: str | None = None
    ) -> Any:
        """Validate raw JSON arguments and run the tool.

        Args:
            args: The arguments as decoded from the model's tool call.
            cancellation_token: Cancels the call.
            call_id: The model's id for this call, for logs and traces.

        Returns:
            Whatever :meth:`run` returns; render it with :meth:`return_value_as_string`.

        Raises:
            ToolArgumentsError: ``args`` do not match :meth:`args_type`; the message names
                each bad field.
            Exception: whatever the tool itself raises, unchanged.
        """
        value = await self.run(self._validate_args(args), cancellation_token)
        self._log_call(args, value, call_id)
        return value

    def _log_call(self, args: Mapping[str, Any], value: Any, call_id: str | None) -> None:
        # Rendering the result costs as much as the call for big outputs: only when someone listens.
        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(
                {
                    "type": "ToolCall",
                    "tool_name": self._name,
                    "call_id": call_id,
                    "arguments": dict(args),
                    "result": self.return_value_as_string(value),
                }
            )

    async def save_state_json(self) -> Mapping[str, Any]:
        """Return the tool's state as JSON-able data; stateless tools return ``{}``."""
        return {}

    async def load_state_json(self, state: Mapping[str, Any]) -> None:
        """Restore state saved by :meth:`save_state_json`; stateless tools ignore it."""


class BaseToolWithState(BaseTool[ArgsT, ReturnT], ABC, Generic[ArgsT, ReturnT, StateT]):
    """A tool that keeps state between calls, saved and restored through a pydantic model.

    Args:
        args_type: See :class:`BaseTool`.
        return_type: See :class:`BaseTool`.
        state_type: The pydantic model of the state.
        name: See :class:`BaseTool`.
        description: See :class:`BaseTool`.
        strict: See :class:`BaseTool`.
    """

    component_type = "tool"

    def __init__(
        self,
        args_type: type[ArgsT],
        return_type: type[ReturnT],
        state_type: type[StateT],
        name: str,
        description: str,
        strict: bool = False,
    ) -> None:
        super().__init__(args_type, return_type, name, description, strict)
        self._state_type = state_type

    def state_type(self) -> type[BaseModel] | None:
        """The pydantic model of the tool's state."""
        return self._state_type

    @abstractmethod
    def save_state(self) -> StateT:
        """Capture the current state."""

    @abstractmethod
    def load_state(self, state: StateT) -> None:
        """Replace the current state."""

    async def save_state_json(self) -> Mapping[str, Any]:
        """Return :meth:`save_state` as JSON-able data."""
        return self.save_state().model_dump(mode="json")

    async def load_state_json(self, state: Mapping[str, Any]) -> None:
        """Validate ``state`` against the state model and pass it to :meth:`load_state`."""
        self.load_state(self._state_type.model_validate(state))


class BaseStreamTool(BaseTool[ArgsT, ReturnT], ABC, Generic[ArgsT, StreamT, ReturnT]):
    """A tool that yields progress items while it runs and its return value last.

    Implement :meth:`run_stream`; :meth:`run` is still required for callers that only
    want the result (it can simply drain the stream).
    """

    component_type = "tool"

    @abstractmethod
    def run_stream(
        self, args: ArgsT, cancellation_token: CancellationToken
    ) -> AsyncGenerator[StreamT | ReturnT, None]:
        """Yield progress items, then the final return value."""

    async def run_json_stream(
        self, args: Mapping[str, Any], cancellation_token: CancellationToken, call_id: str | None = None
    ) -> AsyncGenerator[StreamT | ReturnT, None]:
        """Validate raw JSON arguments and stream :meth:`run_stream`.

        Raises:
            ToolArgumentsError: ``args`` do not match :meth:`args_type`.
            TypeError: the stream was empty, or its last item is not of the return type.
        """
        last: Any = None
        seen_any = False
        async for item in self.run_stream(self._validate_args(args), cancellation_token):
            last, seen_any = item, True
            yield item
        if not seen_any:
            raise TypeError(f"Tool {self._name!r} streamed nothing; the stream must end with its result")
        if not _is_instance(last, self._return_type):
            raise TypeError(
                f"Tool {self._name!r} must end its stream with a {self._return_type.__name__}, "
                f"got {type(last).__name__}"
            )
        self._log_call(args, last, call_id)
