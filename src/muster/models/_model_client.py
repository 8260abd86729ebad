"""The contract every chat-completion client implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel
from typing_extensions import deprecated

from muster.core import CancellationToken, ComponentBase

from ._types import CreateResult, ModelCapabilities, ModelInfo, RequestUsage

if TYPE_CHECKING:
    from muster.core.internal import Tool, ToolSchema

    from ._llm_message import LLMMessage

__all__ = ["ChatCompletionClient"]


class ChatCompletionClient(ComponentBase[BaseModel], ABC):
    """A chat-completion model: request/response, streaming, usage and token counting.

    ``total_usage`` counts every call since construction; ``actual_usage`` counts only
    calls that reached the model (cache hits are excluded).
    """

    component_type = "model"

    @abstractmethod
    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """Send ``messages`` to the model and return its complete reply.

        Args:
            messages: The conversation so far.
            tools: Tools the model may call.
            tool_choice: ``"auto"``, ``"required"``, ``"none"`` or one tool to force.
            json_output: ``True`` for JSON mode, or a pydantic model class for structured output.
            extra_create_args: Provider-specific parameters passed through.
            cancellation_token: Cancelling it aborts the request.
        """

    @abstractmethod
    def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Stream the reply: text chunks, then exactly one final :class:`CreateResult`."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections held by the client."""

    @abstractmethod
    def actual_usage(self) -> RequestUsage:
        """Tokens used by calls that reached the model."""

    @abstractmethod
    def total_usage(self) -> RequestUsage:
        """Tokens used by all calls, including ones a cache answered."""

    @abstractmethod
    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        """Tokens ``messages`` (and tool schemas) would take in the prompt."""

    @abstractmethod
    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        """Tokens left in the context window after ``messages``."""

    @property
    @deprecated("Use the model_info property instead.")
    def capabilities(self) -> ModelCapabilities:
        """Deprecated alias of :attr:`model_info`."""
        info = self.model_info
        return ModelCapabilities(
            vision=info["vision"], function_calling=info["function_calling"], json_output=info["json_output"]
        )

    @property
    @abstractmethod
    def model_info(self) -> ModelInfo:
        """What the model can do."""
