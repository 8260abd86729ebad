"""OllamaChatCompletionClient: local models through the official ``ollama`` client."""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal, Self

import ollama
from pydantic import BaseModel

from muster.core import CancellationToken, Component
from muster.core.internal import Tool, ToolSchema
from muster.models import (
    CreateResult,
    LLMMessage,
    ModelCapabilities,
    ModelFamily,
    ModelInfo,
)
from muster.models._provider_client import ProviderClientBase, resolve_model_info
from muster.models._retry import RetryPolicy
from muster.models._sdk_errors import translate_ollama_error
from muster.models._token_estimate import estimate_messages_tokens, estimate_tools_tokens
from muster.models.limits import RateLimiter
from muster.models.usage import UsageTracker

from ._config import BaseOllamaClientConfigurationConfigModel
from ._messages import to_ollama_format, to_ollama_messages, to_ollama_tools
from ._model_info import get_model_info, get_token_limit
from ._response import OllamaStreamParser, parse_chat

__all__ = ["OllamaChatCompletionClient"]

_CLIENT_ARGS = ("host", "timeout", "headers", "follow_redirects")
_RESERVED = frozenset({"model", "messages", "tools", "stream"})


class OllamaChatCompletionClient(ProviderClientBase, Component[BaseOllamaClientConfigurationConfigModel]):
    """Chat completions from a model served by Ollama, with tools, structured output and streaming.

    Retries, rate limits, usage records and typed errors work as for the other providers
    (see docs/providers.md); Ollama reports no prices, so the cost of a call is 0.

    Args:
        model: The model name (``"llama3.2"``, ``"qwen2.5:14b"``).
        host: The server; defaults to ``$OLLAMA_HOST``, else ``http://127.0.0.1:11434``.
        timeout: Seconds to wait for each request.
        headers: Extra HTTP headers.
        follow_redirects: Follow HTTP redirects.
        model_info: Capabilities; required for models the client does not know.
        model_capabilities: Deprecated; use ``model_info``.
        options: Ollama's model options (``temperature``, ``num_ctx``, ``seed``...).
        response_format: A pydantic class (or JSON schema) every answer must follow.
        max_retries: Retries of transient failures (default 2).
        retry_policy: Full control over retries (overrides ``max_retries``).
        rate_limiter: A shared :class:`~muster.models.limits.RateLimiter`.
        usage_tracker: Where to total usage.

    Other keyword arguments (``keep_alive``, ``think``...) are sent with every request.
    """

    component_type = "model"
    component_config_schema = BaseOllamaClientConfigurationConfigModel
    component_provider_override = "muster.models.ollama.OllamaChatCompletionClient"

    def __init__(
        self,
        *,
        model: str,
        host: str | None = None,
        timeout: Any = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        model_info: ModelInfo | None = None,
        model_capabilities: ModelCapabilities | None = None,
        options: Mapping[str, Any] | None = None,
        response_format: type[BaseModel] | dict[str, Any] | None = None,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        usage_tracker: UsageTracker | None = None,
        **create_args: Any,
    ) -> None:
        reserved = _RESERVED.intersection(create_args) - {"model"}
        if reserved:
            raise ValueError(
                f"OllamaChatCompletionClient does not take {sorted(reserved)}: use create()'s parameters"
            )
        self._model = model
        self._model_info = resolve_model_info(
            model, model_info, model_capabilities, known=get_model_info, provider="Ollama"
        )
        self._settings: dict[str, Any] = {
            "model": model, "host": host, "timeout": timeout, "headers": dict(headers) if headers else None,
            "follow_redirects": follow_redirects, "model_info": model_info,
            "model_capabilities": model_capabilities, "options": dict(options) if options else None,
        }  # fmt: skip
        self._response_format = response_format
        self._options = dict(options) if options else None
        self._create_args = create_args
        resolved_host = host or os.environ.get("OLLAMA_HOST") or None
        self._client = ollama.AsyncClient(
            host=resolved_host,
            timeout=timeout,
            headers=dict(headers or {}),
            follow_redirects=follow_redirects,
        )
        self._think_tags = self._model_info["family"] == ModelFamily.R1
        self._init_provider(
            provider="ollama",
            translate=functools.partial(translate_ollama_error, provider="ollama"),
            retry_policy=retry_policy or RetryPolicy(max_retries=2 if max_retries is None else max_retries),
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
    ) -> dict[str, Any]:
        reserved = _RESERVED.intersection(extra_create_args)
        if reserved:
            raise ValueError(f"extra_create_args may not set {sorted(reserved)}: use the create() parameters")
        args: dict[str, Any] = {**self._create_args, **extra_create_args}
        legacy = args.pop("response_format", None) or self._response_format
        if "format" in args and json_output is not None:
            raise ValueError("json_output and format cannot both be set; use json_output")
        fmt = to_ollama_format(json_output, self._model_info)
        if fmt is None and "format" not in args and legacy is not None:
            # AutoGen's older spelling of structured output: response_format=SomeModel.
            if isinstance(legacy, type) and issubclass(legacy, BaseModel):
                fmt = legacy.model_json_schema()
            else:
                fmt = legacy
        if fmt is not None:
            args["format"] = fmt
        if self._options is not None:
            args["options"] = {**self._options, **dict(args.get("options") or {})}
        args["model"] = self._model
        args["messages"] = to_ollama_messages(messages, vision=self._model_info["vision"])
        if tools and tool_choice != "none":
            if not self._model_info["function_calling"]:
                raise ValueError(
                    "this model does not support tools (model_info['function_calling'] is False)"
                )
            if not isinstance(tool_choice, str):  # Ollama cannot force one tool: offer only that one
                tools = [
                    t for t in tools if (t.schema if isinstance(t, Tool) else t)["name"] == tool_choice.name
                ]
                if not tools:
                    raise ValueError(f"tool_choice names {tool_choice.name!r}, which is not among the tools")
            args["tools"] = to_ollama_tools(tools)
        elif not tools and not isinstance(tool_choice, str):
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
        result = await self._caller.call(
            lambda: self._client.chat(**args, stream=False),
            lambda response: parse_chat(response, think_tags=self._think_tags),
            model=self._model,
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
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Stream text chunks, then one :class:`CreateResult` with usage and tool calls."""
        args = self._request(messages, tools, tool_choice, json_output, extra_create_args)

        async def open_stream() -> Any:
            return await self._client.chat(**args, stream=True)

        async for item in self._caller.stream(
            open_stream,
            lambda: OllamaStreamParser(think_tags=self._think_tags),
            model=self._model,
            estimated_tokens=self._estimate(messages, tools),
            cancellation_token=cancellation_token,
        ):
            if isinstance(item, CreateResult):
                self._add_usage(item.usage)
            yield item

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()  # type: ignore[no-untyped-call]  # untyped in the ollama client

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        """An estimate (about four characters a token): Ollama exposes no tokenizer."""
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

    def _to_config(self) -> BaseOllamaClientConfigurationConfigModel:
        settings = {k: v for k, v in self._settings.items() if v is not None}
        fmt = self._response_format
        if isinstance(fmt, type) and issubclass(fmt, BaseModel):
            fmt = fmt.model_json_schema()
        return BaseOllamaClientConfigurationConfigModel(**settings, response_format=fmt)

    @classmethod
    def _from_config(cls, config: BaseOllamaClientConfigurationConfigModel) -> Self:
        settings = config.model_dump(exclude_none=True)
        return cls(**settings)
