"""The typed message runtime (AutoGen: ``autogen_core``).

Agents are addressed by :class:`AgentId`, exchange typed messages through an
:class:`AgentRuntime` by direct send (RPC) or topic publish, and are created lazily
from registered factories.
"""

from ._agent_id import AgentId, AgentType
from ._cache_store import CacheStore, InMemoryStore
from ._cancellation_token import CancellationToken
from ._component_config import (
    Component,
    ComponentBase,
    ComponentFromConfig,
    ComponentLoader,
    ComponentModel,
    ComponentSchemaType,
    ComponentToConfig,
    ComponentType,
    is_component_class,
    is_component_instance,
)
from ._constants import EVENT_LOGGER_NAME, ROOT_LOGGER_NAME, TRACE_LOGGER_NAME
from ._function_call import FunctionCall
from ._image import Image
from ._topic import TopicId

__all__ = [
    "EVENT_LOGGER_NAME",
    "ROOT_LOGGER_NAME",
    "TRACE_LOGGER_NAME",
    "AgentId",
    "AgentType",
    "CacheStore",
    "CancellationToken",
    "Component",
    "ComponentBase",
    "ComponentFromConfig",
    "ComponentLoader",
    "ComponentModel",
    "ComponentSchemaType",
    "ComponentToConfig",
    "ComponentType",
    "FunctionCall",
    "Image",
    "InMemoryStore",
    "TopicId",
    "is_component_class",
    "is_component_instance",
]
