"""The Messages API client over an ``anthropic.AsyncAnthropic`` SDK client."""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal

import anthropic
from pydantic import BaseModel

from muster.core import CancellationToken
from muster.core.internal import Tool, ToolSchema
from muster.models._llm_message import LLMMessage
from muster.models._provider_client import ProviderClientBase
from muster.models._retry import RetryPolicy
from muster.models._sdk_errors import translate_error
from muster.models._sdk_params import fit_to_sdk
from muster.models._token_estimate import estimate_messages_tokens, estimate_tools_tokens
from muster.models._types import CreateResult, ModelInfo, validate_model_info
from muster.models.exceptions import ModelConfigurationError
from muster.models.limits import RateLimiter
from muster.models.usage import UsageTracker

from ._messages import json_instruction, to_anthropic_messages, to_anthropic_tool_choice, to_anthropic_tools
from ._model_info import get_model_info, get_token_limit
from ._response import AnthropicStreamParser, parse_message

__all__ = ["BaseAnthropicChatCompletionClient"]

_RESERVED_ARGS = frozenset({"messages", "stream", "tools", "tool_choice", "system"})


class BaseAnthropicChatCompletionClient(ProviderClientBase):
    """Claude models through the Messages API, with muster's retries, limits and accounting.

    The SDK's retries are switched off; muster's own loop retries 429/5xx/529
    (overloaded), timeouts and dropped connections. Anthropic has no JSON mode, so
    ``json_output`` (``True`` or a pydantic class) is requested through the system
    prompt and a Markdown fence around the reply is removed. Token counts are
    estimates (exact counting is a paid API call).

    Args:
        client: The SDK client.
        create_args: Request parameters (``model`` required; ``max_tokens`` too, by the API).
        model_info: Capabilities; required for models muster does not know.
        retry_policy, rate_limiter, usage_tracker: As for the OpenAI clients.
    """

    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        *,
        create_args: dict[str, Any],
        model_info: ModelInfo | None = None,
        retry_policy: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        usage_tracker: UsageTracker | None = None,
    ) -> None:
        if "model" not in create_args:
            raise ModelConfigurationError("create_args must contain 'model'")
        self._client = client if client.max_retries == 0 else client.with_options(max_retries=0)
        self._create_args = dict(create_args)
        self._model: str = self._create_args["model"]
        if model_info is not None:
            validate_model_info(model_info)
            self._model_info = model_info
        else:
            known = get_model_info(self._model)
            if known is None:
                raise ModelConfigurationError(
                    f"model {self._model!r} is not a known Claude model: pass model_info= to say what it can do"
                )
            self._model_info = known
        self._init_provider(
            provider="anthropic",
            translate=functools.partial(translate_error, provider="anthropic", sdk=anthropic),
            retry_policy=retry_policy,
            rate_limiter=rate_limiter,
            usage_tracker=usage_tracker,
        )

    def _request(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: Tool | Literal["auto", "required", "none"],
        json_output: bool | type[BaseModel] | None,
        extra_create_args: Mapping[str, Any],
    ) -> tuple[dict[str, Any], bool]:
        reserved = _RESERVED_ARGS.intersection(extra_create_args)
        if reserved:
            raise ValueError(f"extra_create_args may not set {sorted(reserved)}: use the create() parameters")
        args = {**self._create_args, **extra_create_args}
        response_format = args.pop("response_format", None)
        if (
            json_output is None
            and isinstance(response_format, dict)
            and response_format.get("type") == "json_object"
        ):
            json_output = True
        system, wire = to_anthropic_messages(messages, vision=self._model_info["vision"])
        instruction = json_instruction(json_output)
        if instruction is not None:
            system = f"{system}\n\n{instruction}" if system else instruction
        if system is not None:
            args["system"] = system
        args["messages"] = wire
        if tools:
            if not self._model_info["function_calling"]:
                raise ValueError(
                    "this model does not support tools (model_info['function_calling'] is False)"
                )
            args["tools"] = to_anthropic_tools(tools)
            args["tool_choice"] = to_anthropic_tool_choice(tool_choice, tools)
        elif not isinstance(tool_choice, str):
            raise ValueError("tool_choice names a tool but no tools were given")
        return args, instruction is not None

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
        """Send ``messages`` and return the complete reply."""
        args, json_requested = self._request(messages, tools, tool_choice, json_output, extra_create_args)
        api = self._client.messages
        args = fit_to_sdk(api.create, args)
        result = await self._caller.call(
            lambda: api.create(**args),
            lambda response: parse_message(response, provider="anthropic", json_requested=json_requested),
            model=args["model"],
            estimated_tokens=self._estimate(messages, tools),
            cancellation_token=cancellation_token,
        )
        self._add_usage(result.usage)
        return result

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Stream text chunks, then one :class:`CreateResult` (usage includes cache tokens)."""
        args, json_requested = self._request(messages, tools, tool_choice, json_output, extra_create_args)
        args["stream"] = True
        api = self._client.messages
        args = fit_to_sdk(api.create, args)

        async def open_stream() -> Any:
            return await api.create(**args)

        async for item in self._caller.stream(
            open_stream,
            lambda: AnthropicStreamParser(provider="anthropic", json_requested=json_requested),
            model=args["model"],
            estimated_tokens=self._estimate(messages, tools),
            cancellation_token=cancellation_token,
        ):
            if isinstance(item, CreateResult):
                self._add_usage(item.usage)
            yield item

    async def close(self) -> None:
        """Close the SDK client's connections."""
        await self._client.close()

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        """Estimated prompt tokens (about four characters per token; see ``_token_estimate``)."""
        return estimate_messages_tokens(messages) + estimate_tools_tokens(tools)

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        """Context-window tokens left after ``messages``."""
        return get_token_limit(self._model) - self.count_tokens(messages, tools=tools)

    @property
    def model_info(self) -> ModelInfo:
        """What the model can do."""
        return self._model_info
