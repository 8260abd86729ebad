"""Anthropic Claude chat-completion client (AutoGen: ``autogen_ext.models.anthropic``).

Importing this package imports the ``anthropic`` SDK (``pip install muster[anthropic]``).
The Bedrock and Vertex variants of AutoGen are not provided.
"""

from ._base_client import BaseAnthropicChatCompletionClient
from ._client import AnthropicChatCompletionClient
from ._config import (
    AnthropicClientConfiguration,
    AnthropicClientConfigurationConfigModel,
    CreateArgumentsConfigModel,
)

__all__ = [
    "AnthropicChatCompletionClient",
    "AnthropicClientConfiguration",
    "AnthropicClientConfigurationConfigModel",
    "BaseAnthropicChatCompletionClient",
    "CreateArgumentsConfigModel",
]
