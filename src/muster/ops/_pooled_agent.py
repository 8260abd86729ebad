"""An AssistantAgent that borrows its model client from a pool for each turn."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal, NoReturn

from pydantic import BaseModel

from muster.agents import AssistantAgent
from muster.core import CancellationToken
from muster.models import ChatCompletionClient, CreateResult, LLMMessage, ModelFamily, ModelInfo, RequestUsage
from muster.tools import Tool, ToolSchema

from ._pool import ModelClientPool

__all__ = ["PooledAgent"]

_DEFAULT_POOLED_MODEL_INFO = ModelInfo(
    vision=False, function_calling=True, json_output=True, family=ModelFamily.UNKNOWN, structured_output=True
)


class _UnboundClient(ChatCompletionClient):
    """Stands in for the model client between turns; using it is a bug, so it raises."""

    def __init__(self, model_info: ModelInfo) -> None:
        self._model_info = model_info

    def _unbound(self) -> NoReturn:
        raise RuntimeError("PooledAgent has no model client outside a turn; it borrows one per turn")

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
        self._unbound()

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
        self._unbound()

    async def close(self) -> None:
        """Nothing to close."""

    def actual_usage(self) -> RequestUsage:
        return RequestUsage(prompt_tokens=0, completion_tokens=0)

    def total_usage(self) -> RequestUsage:
        return RequestUsage(prompt_tokens=0, completion_tokens=0)

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        self._unbound()

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        self._unbound()

    @property
    def model_info(self) -> ModelInfo:
        return self._model_info


class PooledAgent(AssistantAgent):
    """An :class:`~muster.agents.AssistantAgent` whose model client comes from a pool.

    Each turn (``on_messages`` / ``on_messages_stream``, so also ``run`` and ``run_stream``)
    borrows a client from ``client_pool`` and gives it back when the turn ends, even if
    it fails. Many agents can then share a few clients; an agent whose turn finds the pool
    exhausted waits for a client. Between turns the agent holds no client.

    The agent cannot be dumped to a spec: the pool is runtime state, not configuration.

    Args:
        name: The agent's name.
        client_pool: Where clients are borrowed from.
        model_info: What the pooled clients can do, checked when tools or handoffs are
            given (there is no client to ask at construction). Defaults to function
            calling and JSON output, no vision.
        description: As for ``AssistantAgent``; the seed's wording by default.
        **kwargs: Any other ``AssistantAgent`` argument except ``model_client``.
    """

    def __init__(
        self,
        name: str,
        client_pool: ModelClientPool,
        *,
        model_info: ModelInfo | None = None,
        description: str = "A high-throughput agent that borrows model clients from a pool.",
        **kwargs: Any,
    ) -> None:
        if "model_client" in kwargs:
            raise TypeError("PooledAgent takes its model clients from client_pool, not model_client")
        self.client_pool = client_pool
        # Asked for its capabilities when tools or handoffs are checked; never called.
        unbound = _UnboundClient(model_info or _DEFAULT_POOLED_MODEL_INFO)
        super().__init__(name=name, model_client=unbound, description=description, **kwargs)

    @asynccontextmanager
    async def model_client_for_turn(self) -> AsyncIterator[ChatCompletionClient]:
        """Borrow a client from the pool for one turn; it goes back when the turn ends."""
        async with self.client_pool.client() as client:
            yield client

    def _to_config(self) -> NoReturn:
        raise TypeError("PooledAgent cannot be dumped: its client pool is runtime state, not configuration")
