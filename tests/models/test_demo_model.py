"""examples/demo_model.py picks a replay client offline and a real client when configured."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from fake_llm_server import FakeLLMServer, openai_completion

from muster.models import UserMessage


def _load_demo() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "examples" / "demo_model.py"
    spec = importlib.util.spec_from_file_location("demo_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["demo_model"] = module
    spec.loader.exec_module(module)
    return module


demo = _load_demo()


async def test_replays_when_no_model_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MUSTER_MODEL_BASE_URL", raising=False)
    client = demo.demo_model_client(["scripted answer"])
    result = await client.create([UserMessage(content="?", source="u")])
    assert result.content == "scripted answer"
    assert "OPENAI_API_KEY" in demo.describe_model(client)


async def test_uses_a_local_server_when_configured(
    fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MUSTER_MODEL_BASE_URL", fake_llm.openai_url)
    monkeypatch.setenv("MUSTER_MODEL", "llama3.2")
    client = demo.demo_model_client(["unused"])
    try:
        fake_llm.queue(openai_completion("real answer", model="llama3.2"))
        result = await client.create([UserMessage(content="?", source="u")])
        assert result.content == "real answer"
        assert fake_llm.requests[0].json["model"] == "llama3.2"
        assert "llama3.2" in demo.describe_model(client) and fake_llm.openai_url in demo.describe_model(
            client
        )
    finally:
        await client.close()


@pytest.mark.parametrize("selector", ["provider", "host"])
async def test_uses_ollama_when_asked(
    selector: str, fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fake_llm_server import ollama_chat

    monkeypatch.delenv("MUSTER_MODEL_BASE_URL", raising=False)
    monkeypatch.setenv("OLLAMA_HOST", fake_llm.url)
    if selector == "provider":
        monkeypatch.setenv("MUSTER_MODEL_PROVIDER", "ollama")
    client = demo.demo_model_client(["unused"])
    try:
        fake_llm.queue(ollama_chat("local answer"))
        result = await client.create([UserMessage(content="?", source="u")])
        assert result.content == "local answer"
        assert fake_llm.requests[0].path == "/api/chat" and fake_llm.requests[0].json["model"] == "llama3.2"
        assert "Ollama at " + fake_llm.url in demo.describe_model(client)
    finally:
        await client.close()
