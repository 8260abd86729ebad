"""The tool contract shared by model clients (which send schemas) and the tools package.

It lives in core, not in ``muster.tools``, because ``muster.models`` sits above
``muster.tools`` in the layer order yet its ``ChatCompletionClient.create`` takes tools.
``muster.tools`` re-exports every name here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, Protocol, runtime_checkable

from pydantic import BaseModel
from typing_extensions import TypedDict

from ._cancellation_token import CancellationToken

__all__ = ["ParametersSchema", "Tool", "ToolSchema"]


class ParametersSchema(TypedDict):
    """JSON schema of a tool's arguments (an object schema)."""

    type: str
    properties: dict[str, Any]
    required: NotRequired[list[str]]
    additionalProperties: NotRequired[bool]


class ToolSchema(TypedDict):
    """What a model is told about a tool."""

    parameters: NotRequired[ParametersSchema]
    name: str
    description: NotRequired[str]
    strict: NotRequired[bool]


@runtime_checkable
class Tool(Protocol):
    """Anything an agent can call on a model's behalf."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def schema(self) -> ToolSchema: ...

    def args_type(self) -> type[BaseModel]: ...

    def return_type(self) -> type[Any]: ...

    def state_type(self) -> type[BaseModel] | None: ...

    def return_value_as_string(self, value: Any) -> str: ...

    async def run_json(
        self, args: Mapping[str, Any], cancellation_token: CancellationToken, call_id: str | None = None
    ) -> Any: ...

    async def save_state_json(self) -> Mapping[str, Any]: ...

    async def load_state_json(self, state: Mapping[str, Any]) -> None: ...
