"""Declarative specs of the OpenAI-family clients, and the Azure wire shape."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fake_llm_server import FakeLLMServer, openai_completion

from muster.core._component_config import ComponentLoader
from muster.models import ChatCompletionClient, UserMessage
from muster.models.exceptions import ModelConfigurationError
from muster.models.openai import (
    AZURE_OPENAI_USER_AGENT,
    AzureOpenAIChatCompletionClient,
    OpenAIChatCompletionClient,
)
from muster.models.usage import USAGE_LOGGER_NAME, UsageTracker

HI = [UserMessage(content="hi", source="u")]
_clients: list[ChatCompletionClient] = []


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    yield
    while _clients:
        await _clients.pop().close()


def test_dumped_spec_holds_no_secret() -> None:
    client = OpenAIChatCompletionClient(
        model="gpt-4o", api_key="sk-very-secret", temperature=0.3, max_tokens=99
    )
    spec = client.dump_component()
    text = spec.model_dump_json()
    assert "sk-very-secret" not in text and "api_key" not in text
    assert spec.provider == "muster.models.openai.OpenAIChatCompletionClient"
    assert spec.component_type == "model"
    assert spec.config["temperature"] == 0.3 and spec.config["max_tokens"] == 99


async def test_loaded_spec_takes_the_key_from_the_environment(
    fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = OpenAIChatCompletionClient(
        model="gpt-4o-mini", api_key="sk-original", base_url=fake_llm.openai_url, seed=3
    )
    dumped = json.loads(spec.dump_component().model_dump_json())
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    loaded = ChatCompletionClient.load_component(dumped)
    _clients.extend([spec, loaded])
    assert isinstance(loaded, OpenAIChatCompletionClient)
    fake_llm.queue(openai_completion("ok"))
    await loaded.create(HI)
    sent = fake_llm.requests[0]
    assert sent.headers["authorization"] == "Bearer sk-from-env"
    assert sent.json["model"] == "gpt-4o-mini" and sent.json["seed"] == 3


def test_autogen_spec_with_masked_key_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    spec = {
        "provider": "autogen_ext.models.openai.OpenAIChatCompletionClient",
        "component_type": "model",
        "version": 1,
        "component_version": 1,
        "config": {"model": "gpt-4o", "api_key": "**********", "temperature": 0.5},
    }
    client = ComponentLoader.load_component(spec, ChatCompletionClient)
    assert isinstance(client, OpenAIChatCompletionClient)
    assert client.model_info["family"] == "gpt-4o"


def test_model_info_round_trips_for_local_models() -> None:
    info = {
        "vision": False,
        "function_calling": True,
        "json_output": False,
        "family": "unknown",
        "structured_output": False,
    }
    client = OpenAIChatCompletionClient(model="qwen", base_url="http://127.0.0.1:1/v1", model_info=info)  # type: ignore[arg-type]
    loaded = OpenAIChatCompletionClient.load_component(client.dump_component())
    assert loaded.model_info == info


async def test_azure_url_headers_and_spec(fake_llm: FakeLLMServer) -> None:
    client = AzureOpenAIChatCompletionClient(
        model="gpt-4o",
        azure_endpoint=fake_llm.url,
        azure_deployment="prod-gpt4o",
        api_version="2024-10-21",
        api_key="azure-secret",
    )
    _clients.append(client)
    fake_llm.queue(openai_completion("from azure"))
    result = await client.create(HI)
    assert result.content == "from azure"
    sent = fake_llm.requests[0]
    assert sent.path == "/openai/deployments/prod-gpt4o/chat/completions"
    assert sent.query == {"api-version": "2024-10-21"}
    assert sent.headers["api-key"] == "azure-secret"
    assert sent.headers["user-agent"] == AZURE_OPENAI_USER_AGENT
    assert "authorization" not in sent.headers

    spec = client.dump_component()
    assert spec.provider == "muster.models.openai.AzureOpenAIChatCompletionClient"
    assert "azure-secret" not in spec.model_dump_json()
    assert spec.config["azure_deployment"] == "prod-gpt4o"


async def test_azure_token_provider_sends_a_bearer_token(fake_llm: FakeLLMServer) -> None:
    calls: list[int] = []

    def token_provider() -> str:
        calls.append(1)
        return "entra-token"

    client = AzureOpenAIChatCompletionClient(
        model="gpt-4o",
        azure_endpoint=fake_llm.url,
        azure_deployment="d",
        api_version="2024-10-21",
        azure_ad_token_provider=token_provider,
    )
    _clients.append(client)
    fake_llm.queue(openai_completion("ok"))
    await client.create(HI)
    assert fake_llm.requests[0].headers["authorization"] == "Bearer entra-token"
    assert calls
    with pytest.warns(UserWarning, match="plain callable"):
        client.dump_component()


def test_azure_needs_some_credential() -> None:
    with pytest.raises(ModelConfigurationError, match="AZURE_OPENAI_API_KEY"):
        AzureOpenAIChatCompletionClient(
            model="gpt-4o", azure_endpoint="http://127.0.0.1:1", api_version="2024-10-21"
        )


async def test_usage_cost_is_tracked_and_logged(
    fake_llm: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    shared = UsageTracker()
    clients: list[Any] = [
        OpenAIChatCompletionClient(
            model="gpt-4o", api_key="k", base_url=fake_llm.openai_url, usage_tracker=shared
        )
        for _ in range(2)
    ]
    _clients.extend(clients)
    fake_llm.queue(
        openai_completion("a", prompt_tokens=1_000_000, completion_tokens=0, cached_tokens=400_000),
        openai_completion("b", prompt_tokens=0, completion_tokens=1_000_000),
    )
    with caplog.at_level(logging.INFO, logger=USAGE_LOGGER_NAME):
        await clients[0].create(HI)
        await clients[1].create(HI)
    # gpt-4o: $2.50/M input, $1.25/M cached input, $10/M output.
    assert shared.calls == 2
    assert shared.cost_usd == pytest.approx(0.6 * 2.50 + 0.4 * 1.25 + 10.0)
    assert shared.cached_prompt_tokens == 400_000
    records = [r.model_call for r in caplog.records if hasattr(r, "model_call")]
    assert [r.cost_usd for r in records] == pytest.approx([2.0, 10.0])
    assert records[0].model == "gpt-4o-2024-08-06" and records[0].provider == "openai"


@pytest.mark.parametrize(
    "provider",
    [
        "OpenAIChatCompletionClient",
        "openai_chat_completion_client",
        "autogen_ext.models.openai.OpenAIChatCompletionClient",
    ],
)
async def test_autogen_short_provider_names_load(
    provider: str, fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AutoGen's model-client guide: ``ChatCompletionClient.load_component(config)`` with a short name."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.openai_url)
    config = {"provider": provider, "config": {"model": "gpt-4o"}}
    client = ChatCompletionClient.load_component(config)
    _clients.append(client)
    assert isinstance(client, OpenAIChatCompletionClient)
    fake_llm.queue(openai_completion("loaded"))
    assert (await client.create(HI)).content == "loaded"
    assert fake_llm.requests[0].headers["authorization"] == "Bearer sk-env"


@pytest.mark.parametrize(
    "provider", ["AzureOpenAIChatCompletionClient", "azure_openai_chat_completion_client"]
)
def test_autogen_short_azure_provider_names_load(provider: str) -> None:
    config = {
        "provider": provider,
        "config": {
            "model": "gpt-4o",
            "azure_deployment": "dep",
            "azure_endpoint": "http://127.0.0.1:9",
            "api_version": "2024-06-01",
            "api_key": "k",
        },
    }
    client = ChatCompletionClient.load_component(config)
    _clients.append(client)
    assert isinstance(client, AzureOpenAIChatCompletionClient)
