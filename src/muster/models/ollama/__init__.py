"""Models served by Ollama (AutoGen: ``autogen_ext.models.ollama``), the local-model path.

Needs the ``ollama`` extra (``pip install 'muster[ollama]'``), which brings the official
``ollama`` client. Point it at a server with ``host=`` or ``$OLLAMA_HOST``.
"""

from ._client import OllamaChatCompletionClient
from ._config import BaseOllamaClientConfigurationConfigModel, CreateArgumentsConfigModel

__all__ = [
    "BaseOllamaClientConfigurationConfigModel",
    "CreateArgumentsConfigModel",
    "OllamaChatCompletionClient",
]
