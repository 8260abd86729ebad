"""OpenAI, Azure OpenAI and OpenAI-compatible chat-completion clients (AutoGen: ``autogen_ext.models.openai``).

Importing this package imports the ``openai`` SDK (``pip install muster[openai]``);
``import muster.models`` alone does not.
"""

from ._azure_client import AZURE_OPENAI_USER_AGENT, AzureOpenAIChatCompletionClient
from ._base_client import BaseOpenAIChatCompletionClient
from ._config import (
    AzureOpenAIClientConfigurationConfigModel,
    BaseOpenAIClientConfigurationConfigModel,
    CreateArgumentsConfigModel,
    OpenAIClientConfigurationConfigModel,
)
from ._openai_client import OpenAIChatCompletionClient

__all__ = [
    "AZURE_OPENAI_USER_AGENT",
    "AzureOpenAIChatCompletionClient",
    "AzureOpenAIClientConfigurationConfigModel",
    "BaseOpenAIChatCompletionClient",
    "BaseOpenAIClientConfigurationConfigModel",
    "CreateArgumentsConfigModel",
    "OpenAIChatCompletionClient",
    "OpenAIClientConfigurationConfigModel",
]
