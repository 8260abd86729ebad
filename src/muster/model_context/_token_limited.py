"""A model context that trims the conversation to fit a token budget."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from pydantic import BaseModel, ConfigDict

from muster.core import Component, ComponentModel
from muster.core.internal import ToolSchema
from muster.models import ChatCompletionClient, LLMMessage

from ._chat_completion_context import ChatCompletionContext, drop_leading_tool_results
from .exceptions import InvalidContextSizeError

__all__ = ["TokenLimitedChatCompletionContext", "TokenLimitedChatCompletionContextConfig"]


class TokenLimitedChatCompletionContextConfig(BaseModel):
    """Declarative config of :class:`TokenLimitedChatCompletionContext`."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    model_client: ComponentModel
    """Spec of the client that counts tokens."""
    token_limit: int | None = None
    tool_schema: list[ToolSchema] | None = None
    initial_messages: list[LLMMessage] | None = None


class TokenLimitedChatCompletionContext(
    ChatCompletionContext, Component[TokenLimitedChatCompletionContextConfig]
):
    """Returns as much of the conversation as fits a token budget, dropping from the middle.

    Tokens are counted by ``model_client`` (its ``count_tokens`` against
    ``token_limit``, or its ``remaining_tokens`` when no limit is given), including the
    ``tool_schema`` the agent will send. While over budget, the message at the middle of
    the view is removed, so both the opening instructions and the latest turns survive
    longest. A tool result left first in the view is then dropped too.

    Args:
        model_client: The client whose tokenizer measures the messages.
        token_limit: Most tokens the view may take; ``None`` means "what the model's
            context window has left".
        tool_schema: Tool schemas counted alongside the messages.
        initial_messages: Messages the context starts with.

    Raises:
        InvalidContextSizeError: (a ``ValueError``) ``token_limit`` is not positive.
    """

    component_config_schema = TokenLimitedChatCompletionContextConfig
    component_provider_override = "muster.model_context.TokenLimitedChatCompletionContext"

    def __init__(
        self,
        model_client: ChatCompletionClient,
        *,
        token_limit: int | None = None,
        tool_schema: Sequence[ToolSchema] | None = None,
        initial_messages: Sequence[LLMMessage] | None = None,
    ) -> None:
        super().__init__(initial_messages)
        if token_limit is not None and token_limit <= 0:
            raise InvalidContextSizeError("token_limit", token_limit)
        self._model_client = model_client
        self._token_limit = token_limit
        self._tool_schema: list[ToolSchema] = list(tool_schema) if tool_schema else []

    @property
    def model_client(self) -> ChatCompletionClient:
        """The client that counts tokens."""
        return self._model_client

    @property
    def token_limit(self) -> int | None:
        """The token budget, or ``None`` to use the model's remaining context window."""
        return self._token_limit

    def _fits(self, messages: list[LLMMessage]) -> bool:
        client = self._model_client
        if self._token_limit is None:
            return client.remaining_tokens(messages, tools=self._tool_schema) >= 0
        return client.count_tokens(messages, tools=self._tool_schema) <= self._token_limit

    async def get_messages(self) -> list[LLMMessage]:
        """The stored messages, middle ones removed until the rest fits the budget."""
        messages = list(self._messages)
        while messages and not self._fits(messages):
            del messages[len(messages) // 2]
        return drop_leading_tool_results(messages)

    def _to_config(self) -> TokenLimitedChatCompletionContextConfig:
        return TokenLimitedChatCompletionContextConfig(
            model_client=self._model_client.dump_component(),
            token_limit=self._token_limit,
            tool_schema=self._tool_schema or None,
            initial_messages=self._initial_messages,
        )

    @classmethod
    def _from_config(cls, config: TokenLimitedChatCompletionContextConfig) -> Self:
        return cls(
            model_client=ChatCompletionClient.load_component(config.model_client),
            token_limit=config.token_limit,
            tool_schema=config.tool_schema,
            initial_messages=config.initial_messages,
        )
