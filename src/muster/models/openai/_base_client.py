"""The chat-completions client shared by OpenAI, Azure OpenAI and OpenAI-compatible servers."""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal

import openai
from pydantic import BaseModel

from muster.core import CancellationToken
from muster.core.internal import Tool, ToolSchema
from muster.models._llm_message import LLMMessage
from muster.models._provider_client import ProviderClientBase
from muster.models._provider_client import resolve_model_info as resolve_provider_model_info
from muster.models._retry import RetryPolicy
from muster.models._sdk_errors import translate_error
from muster.models._sdk_params import fit_to_sdk
from muster.models._types import CreateResult, ModelCapabilities, ModelFamily, ModelInfo
from muster.models.exceptions import ModelConfigurationError
from muster.models.limits import RateLimiter
from muster.models.usage import UsageTracker

from ._config import CreateArgumentsConfigModel
from ._messages import (
    split_legacy_response_format,
    to_openai_messages,
    to_openai_response_format,
    to_openai_tool_choice,
    to_openai_tools,
)
from ._model_info import get_model_info, get_token_limit, is_reasoning_family
from ._response import OpenAIStreamParser, parse_completion
from ._tokens import count_openai_tokens

__all__ = ["BaseOpenAIChatCompletionClient", "resolve_model_info"]

_CREATE_ARG_NAMES = frozenset(CreateArgumentsConfigModel.model_fields) | {"model"}
_RESERVED_ARGS = frozenset({"messages", "stream", "tools", "tool_choice"})


def resolve_model_info(
    model: str, model_info: ModelInfo | None, model_capabilities: ModelCapabilities | None = None
) -> ModelInfo:
    """The user's ``model_info`` (checked), else ours for a known OpenAI model; unknown -> error."""
    return resolve_provider_model_info(
        model, model_info, model_capabilities, known=get_model_info, provider="OpenAI"
    )


def create_args_from(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The request parameters among constructor ``kwargs`` (unset ones dropped)."""
    return {k: v for k, v in kwargs.items() if k in _CREATE_ARG_NAMES and v is not None}


class BaseOpenAIChatCompletionClient(ProviderClientBase):
    """Chat completions over an ``openai.AsyncOpenAI`` (or Azure) SDK client.

    The SDK's own retries are switched off (``max_retries=0``): muster's retry loop
    (:mod:`muster.models._retry`) handles them so behaviour is the same for every
    provider. Use the concrete :class:`OpenAIChatCompletionClient` or
    :class:`AzureOpenAIChatCompletionClient` unless you bring your own SDK client.

    Args:
        client: The SDK client.
        create_args: Request parameters sent with every call (``model`` required).
        model_capabilities: Deprecated; use ``model_info``.
        model_info: Capabilities of the model; required for models muster does not know.
        add_name_prefixes: Write ``"<source>:\\n"`` before each user message's text.
        include_name_in_message: Send user messages' ``source`` as the ``name`` field
            (some OpenAI-compatible servers reject it; set False for those).
        retry_policy: Retry behaviour; defaults to 2 retries with jittered backoff.
        rate_limiter: A shared :class:`~muster.models.limits.RateLimiter`.
        usage_tracker: Where to total usage and cost (shareable); one of its own by default.
        provider: Name used in errors, logs and usage records.
    """

    def __init__(
        self,
        client: openai.AsyncOpenAI | openai.AsyncAzureOpenAI,
        *,
        create_args: dict[str, Any],
        model_capabilities: ModelCapabilities | None = None,
        model_info: ModelInfo | None = None,
        add_name_prefixes: bool = False,
        include_name_in_message: bool = True,
        retry_policy: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        usage_tracker: UsageTracker | None = None,
        provider: str = "openai",
    ) -> None:
        if "model" not in create_args:
            raise ModelConfigurationError("create_args must contain 'model'")
        self._client = client if client.max_retries == 0 else client.with_options(max_retries=0)
        self._create_args = dict(create_args)
        self._model: str = self._create_args["model"]
        self._model_info = resolve_model_info(self._model, model_info, model_capabilities)
        self._add_name_prefixes = add_name_prefixes
        self._include_name_in_message = include_name_in_message
        self._think_tags = self._model_info["family"] == ModelFamily.R1
        self._reasoning = is_reasoning_family(self._model_info["family"])
        self._init_provider(
            provider=provider,
            translate=functools.partial(translate_error, provider=provider, sdk=openai),
            retry_policy=retry_policy,
            rate_limiter=rate_limiter,
            usage_tracker=usage_tracker,
        )
        self._provider = provider

    # -- requests

    def _request(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: Tool | Literal["auto", "required", "none"],
        json_output: bool | type[BaseModel] | None,
        extra_create_args: Mapping[str, Any],
    ) -> dict[str, Any]:
        reserved = _RESERVED_ARGS.intersection(extra_create_args)
        if reserved:
            raise ValueError(f"extra_create_args may not set {sorted(reserved)}: use the create() parameters")
        args = {**self._create_args, **extra_create_args}
        json_output = split_legacy_response_format(args, json_output)
        response_format = to_openai_response_format(json_output, self._model_info)
        if response_format is not None:
            args["response_format"] = response_format
        if self._reasoning and "max_tokens" in args:
            # Reasoning models reject max_tokens; the limit moved to max_completion_tokens.
            args["max_completion_tokens"] = args.pop("max_tokens")
        args["messages"] = to_openai_messages(
            messages,
            include_name=self._include_name_in_message,
            name_prefix=self._add_name_prefixes,
            vision=self._model_info["vision"],
        )
        if tools:
            if not self._model_info["function_calling"]:
                raise ValueError(
                    "this model does not support tools (model_info['function_calling'] is False)"
                )
            args["tools"] = to_openai_tools(tools)
            args["tool_choice"] = to_openai_tool_choice(tool_choice, tools)
        elif not isinstance(tool_choice, str):
            raise ValueError("tool_choice names a tool but no tools were given")
        return args

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
        """Send ``messages`` and return the complete reply (see :class:`ChatCompletionClient`)."""
        args = self._request(messages, tools, tool_choice, json_output, extra_create_args)
        completions = self._client.chat.completions
        args = fit_to_sdk(completions.create, args)
        result = await self._caller.call(
            lambda: completions.create(**args),
            lambda response: parse_completion(response, provider=self._provider, think_tags=self._think_tags),
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
        max_consecutive_empty_chunk_tolerance: int = 0,
        include_usage: bool | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Stream text chunks, then one :class:`CreateResult` with usage and tool calls.

        Args:
            include_usage: Ask for the usage chunk (``stream_options``); on by default so
                streamed calls are metered like others. Set False for servers that reject it.
            max_consecutive_empty_chunk_tolerance: Accepted for AutoGen compatibility;
                empty chunks are always tolerated.
        """
        args = self._request(messages, tools, tool_choice, json_output, extra_create_args)
        args["stream"] = True
        if include_usage is not None:
            args["stream_options"] = {"include_usage": include_usage}
        else:
            args.setdefault("stream_options", {"include_usage": True})
        if not args["stream_options"].get("include_usage", False):
            del args["stream_options"]
        completions = self._client.chat.completions
        args = fit_to_sdk(completions.create, args)

        async def open_stream() -> Any:
            return await completions.create(**args)

        async for item in self._caller.stream(
            open_stream,
            lambda: OpenAIStreamParser(provider=self._provider, think_tags=self._think_tags),
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

    # -- accounting

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        """Prompt tokens, exact with tiktoken when its tables are on disk, else estimated."""
        return count_openai_tokens(self._model, messages, tools)

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        """Context-window tokens left after ``messages`` (128k assumed for unknown models)."""
        return get_token_limit(self._model) - self.count_tokens(messages, tools=tools)

    @property
    def model_info(self) -> ModelInfo:
        """What the model can do."""
        return self._model_info
