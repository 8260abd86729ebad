"""The typed message runtime (AutoGen: ``autogen_core``).

Agents are addressed by :class:`AgentId`, exchange typed messages through an
:class:`AgentRuntime` by direct send (RPC) or topic publish, and are created lazily
from registered factories.
"""

from typing import TYPE_CHECKING

from .internal import lazy_exports

# The logger names are defined here, as in AutoGen's ``autogen_core``: the runtime's modules
# import them from the package, which a module of their own would only make one more to load.
ROOT_LOGGER_NAME = "muster.core"
"""Parent logger of everything the core runtime logs."""
EVENT_LOGGER_NAME = "muster.core.events"
"""Structured runtime events (messages sent, delivered, dropped)."""
TRACE_LOGGER_NAME = "muster.core.trace"
"""Human-readable debug traces."""

if TYPE_CHECKING:
    from ._agent import Agent
    from ._agent_id import AgentId, AgentType
    from ._agent_instantiation import AgentInstantiationContext
    from ._agent_metadata import AgentMetadata
    from ._agent_proxy import AgentProxy
    from ._agent_runtime import AgentRuntime
    from ._base_agent import BaseAgent
    from ._cache_store import CacheStore, InMemoryStore
    from ._cancellation_token import CancellationToken
    from ._closure_agent import ClosureAgent, ClosureContext
    from ._component_config import (
        Component,
        ComponentBase,
        ComponentFromConfig,
        ComponentLoader,
        ComponentSchemaType,
        ComponentToConfig,
        ComponentType,
        is_component_class,
        is_component_instance,
    )
    from ._component_model import ComponentModel
    from ._default_subscription import DefaultSubscription, default_subscription, type_subscription
    from ._default_topic import DefaultTopicId
    from ._handlers import event, message_handler, rpc
    from ._intervention import DefaultInterventionHandler, DropMessage, InterventionHandler
    from ._message_content import FunctionCall, Image
    from ._message_context import MessageContext
    from ._message_handler_context import MessageHandlerContext
    from ._routed_agent import RoutedAgent
    from ._serialization import (
        JSON_DATA_CONTENT_TYPE,
        PROTOBUF_DATA_CONTENT_TYPE,
        MessageSerializer,
        UnknownPayload,
        try_get_known_serializers_for_type,
    )
    from ._single_threaded_agent_runtime import SingleThreadedAgentRuntime
    from ._subscription import Subscription
    from ._subscription_context import SubscriptionInstantiationContext
    from ._telemetry import trace_create_agent_span, trace_invoke_agent_span, trace_tool_span
    from ._topic import TopicId
    from ._type_prefix_subscription import TypePrefixSubscription
    from ._type_subscription import TypeSubscription

__all__ = [
    "EVENT_LOGGER_NAME",
    "JSON_DATA_CONTENT_TYPE",
    "PROTOBUF_DATA_CONTENT_TYPE",
    "ROOT_LOGGER_NAME",
    "TRACE_LOGGER_NAME",
    "Agent",
    "AgentId",
    "AgentInstantiationContext",
    "AgentMetadata",
    "AgentProxy",
    "AgentRuntime",
    "AgentType",
    "BaseAgent",
    "CacheStore",
    "CancellationToken",
    "ClosureAgent",
    "ClosureContext",
    "Component",
    "ComponentBase",
    "ComponentFromConfig",
    "ComponentLoader",
    "ComponentModel",
    "ComponentSchemaType",
    "ComponentToConfig",
    "ComponentType",
    "DefaultInterventionHandler",
    "DefaultSubscription",
    "DefaultTopicId",
    "DropMessage",
    "FunctionCall",
    "Image",
    "InMemoryStore",
    "InterventionHandler",
    "MessageContext",
    "MessageHandlerContext",
    "MessageSerializer",
    "RoutedAgent",
    "SingleThreadedAgentRuntime",
    "Subscription",
    "SubscriptionInstantiationContext",
    "TopicId",
    "TypePrefixSubscription",
    "TypeSubscription",
    "UnknownPayload",
    "default_subscription",
    "event",
    "is_component_class",
    "is_component_instance",
    "message_handler",
    "rpc",
    "trace_create_agent_span",
    "trace_invoke_agent_span",
    "trace_tool_span",
    "try_get_known_serializers_for_type",
    "type_subscription",
]

_EXPORTS = {
    "Agent": "._agent",
    "AgentId": "._agent_id",
    "AgentType": "._agent_id",
    "AgentInstantiationContext": "._agent_instantiation",
    "AgentMetadata": "._agent_metadata",
    "AgentProxy": "._agent_proxy",
    "AgentRuntime": "._agent_runtime",
    "BaseAgent": "._base_agent",
    "CacheStore": "._cache_store",
    "InMemoryStore": "._cache_store",
    "CancellationToken": "._cancellation_token",
    "ClosureAgent": "._closure_agent",
    "ClosureContext": "._closure_agent",
    "Component": "._component_config",
    "ComponentBase": "._component_config",
    "ComponentFromConfig": "._component_config",
    "ComponentLoader": "._component_config",
    "ComponentModel": "._component_model",
    "ComponentSchemaType": "._component_config",
    "ComponentToConfig": "._component_config",
    "ComponentType": "._component_config",
    "is_component_class": "._component_config",
    "is_component_instance": "._component_config",
    "DefaultSubscription": "._default_subscription",
    "default_subscription": "._default_subscription",
    "type_subscription": "._default_subscription",
    "DefaultTopicId": "._default_topic",
    "FunctionCall": "._message_content",
    "event": "._handlers",
    "message_handler": "._handlers",
    "rpc": "._handlers",
    "Image": "._message_content",
    "DefaultInterventionHandler": "._intervention",
    "DropMessage": "._intervention",
    "InterventionHandler": "._intervention",
    "MessageContext": "._message_context",
    "MessageHandlerContext": "._message_handler_context",
    "RoutedAgent": "._routed_agent",
    "JSON_DATA_CONTENT_TYPE": "._serialization",
    "PROTOBUF_DATA_CONTENT_TYPE": "._serialization",
    "MessageSerializer": "._serialization",
    "UnknownPayload": "._serialization",
    "try_get_known_serializers_for_type": "._serialization",
    "SingleThreadedAgentRuntime": "._single_threaded_agent_runtime",
    "Subscription": "._subscription",
    "SubscriptionInstantiationContext": "._subscription_context",
    "trace_create_agent_span": "._telemetry",
    "trace_invoke_agent_span": "._telemetry",
    "trace_tool_span": "._telemetry",
    "TopicId": "._topic",
    "TypePrefixSubscription": "._type_prefix_subscription",
    "TypeSubscription": "._type_subscription",
}
"""Public name -> sub-module that defines it; imported on first access (see ``muster.core.internal``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
