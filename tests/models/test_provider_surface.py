"""Public names of the provider packages, and that muster.models never pulls in an SDK."""

from __future__ import annotations

import subprocess
import sys

import muster.models.anthropic as anthropic_pkg
import muster.models.openai as openai_pkg


def test_openai_package_exports() -> None:
    assert set(openai_pkg.__all__) == {
        "AZURE_OPENAI_USER_AGENT",
        "AzureOpenAIChatCompletionClient",
        "AzureOpenAIClientConfigurationConfigModel",
        "BaseOpenAIChatCompletionClient",
        "BaseOpenAIClientConfigurationConfigModel",
        "CreateArgumentsConfigModel",
        "OpenAIChatCompletionClient",
        "OpenAIClientConfigurationConfigModel",
    }
    for name in openai_pkg.__all__:
        assert hasattr(openai_pkg, name)


def test_anthropic_package_exports() -> None:
    assert set(anthropic_pkg.__all__) == {
        "AnthropicChatCompletionClient",
        "AnthropicClientConfiguration",
        "AnthropicClientConfigurationConfigModel",
        "BaseAnthropicChatCompletionClient",
        "CreateArgumentsConfigModel",
    }
    for name in anthropic_pkg.__all__:
        assert hasattr(anthropic_pkg, name)


def test_models_package_and_shared_machinery_import_no_sdk() -> None:
    code = (
        "import sys, muster.models, muster.models.limits, muster.models.pricing, "
        "muster.models.usage, muster.models.exceptions\n"
        "bad = [m for m in ('openai', 'anthropic', 'tiktoken') if m in sys.modules]\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
