"""Pins the public surface: every module exports at least what its AutoGen counterpart exports.

The expected names are AutoGen 0.7.5's ``__all__`` for the module each muster module replaces
(the compatibility contract in README). A name that disappears here breaks ported code.
"""

from __future__ import annotations

import importlib

import pytest

EXPECTED: dict[str, set[str]] = {
    "muster": {"EVENT_LOGGER_NAME", "TRACE_LOGGER_NAME"},
    "muster.core": {
        "Agent", "AgentId", "AgentInstantiationContext", "AgentMetadata", "AgentProxy", "AgentRuntime",
        "AgentType", "BaseAgent", "CacheStore", "CancellationToken", "ClosureAgent", "ClosureContext",
        "Component", "ComponentBase", "ComponentFromConfig", "ComponentLoader", "ComponentModel",
        "ComponentSchemaType", "ComponentToConfig", "ComponentType", "DefaultInterventionHandler",
        "DefaultSubscription", "DefaultTopicId", "DropMessage", "EVENT_LOGGER_NAME", "FunctionCall", "Image",
        "InMemoryStore", "InterventionHandler", "JSON_DATA_CONTENT_TYPE", "MessageContext",
        "MessageHandlerContext", "MessageSerializer", "PROTOBUF_DATA_CONTENT_TYPE", "ROOT_LOGGER_NAME",
        "RoutedAgent", "SingleThreadedAgentRuntime", "Subscription", "SubscriptionInstantiationContext",
        "TRACE_LOGGER_NAME", "TopicId", "TypePrefixSubscription", "TypeSubscription", "UnknownPayload",
        "default_subscription", "event", "is_component_class", "is_component_instance", "message_handler",
        "rpc", "trace_create_agent_span", "trace_invoke_agent_span", "trace_tool_span",
        "try_get_known_serializers_for_type", "type_subscription",
    },
    "muster.models": {
        "AssistantMessage", "ChatCompletionClient", "ChatCompletionTokenLogprob", "CreateResult",
        "FinishReasons", "FunctionExecutionResult", "FunctionExecutionResultMessage", "LLMMessage",
        "ModelCapabilities", "ModelFamily", "ModelInfo", "RequestUsage", "SystemMessage", "TopLogprob",
        "UserMessage", "validate_model_info",
    },
    "muster.tools": {
        "BaseStreamTool", "BaseTool", "BaseToolWithState", "FunctionTool", "ImageResultContent",
        "ParametersSchema", "StaticStreamWorkbench", "StaticWorkbench", "StreamTool", "TextResultContent",
        "Tool", "ToolOverride", "ToolResult", "ToolSchema", "Workbench", "AgentTool", "TeamTool",
    },
    "muster.model_context": {
        "BufferedChatCompletionContext", "ChatCompletionContext", "ChatCompletionContextState",
        "HeadAndTailChatCompletionContext", "TokenLimitedChatCompletionContext",
        "UnboundedChatCompletionContext",
    },
    "muster.memory": {
        "ListMemory", "Memory", "MemoryContent", "MemoryMimeType", "MemoryQueryResult", "UpdateContextResult",
    },
    "muster.agents": {
        "ApprovalFuncType", "ApprovalRequest", "ApprovalResponse", "AssistantAgent", "BaseChatAgent",
        "CodeExecutorAgent", "MessageFilterAgent", "MessageFilterConfig", "PerSourceFilter",
        "SocietyOfMindAgent", "UserProxyAgent",
    },
    "muster.messages": {
        "AgentEvent", "BaseAgentEvent", "BaseChatMessage", "BaseMessage", "BaseTextChatMessage", "ChatMessage",
        "CodeExecutionEvent", "CodeGenerationEvent", "HandoffMessage", "MemoryQueryEvent", "MessageFactory",
        "ModelClientStreamingChunkEvent", "MultiModalMessage", "SelectSpeakerEvent", "StopMessage",
        "StructuredContentType", "StructuredMessage", "StructuredMessageFactory", "TextMessage",
        "ThoughtEvent", "ToolCallExecutionEvent", "ToolCallRequestEvent", "ToolCallSummaryMessage",
        "UserInputRequestedEvent",
    },
    "muster.base": {
        "AndTerminationCondition", "ChatAgent", "Handoff", "OrTerminationCondition", "Response", "TaskResult",
        "TaskRunner", "Team", "TerminatedException", "TerminationCondition",
    },
    "muster.ui": {"Console", "UserInputManager", "RichConsole"},
    "muster.utils": {"content_to_str", "remove_images"},
    "muster.models.replay": {"ReplayChatCompletionClient"},
    "muster.teams": {
        "BaseGroupChat", "DiGraph", "DiGraphBuilder", "DiGraphEdge", "DiGraphNode", "GraphFlow",
        "MagenticOneGroupChat", "RoundRobinGroupChat", "SelectorGroupChat", "Swarm",
    },
    "muster.conditions": {
        "ExternalTermination", "FunctionCallTermination", "FunctionalTermination", "HandoffTermination",
        "MaxMessageTermination", "SourceMatchTermination", "StopMessageTermination", "TextMentionTermination",
        "TextMessageTermination", "TimeoutTermination", "TokenUsageTermination",
    },
    "muster.state": {
        "AssistantAgentState", "BaseGroupChatManagerState", "BaseState", "ChatAgentContainerState",
        "MagenticOneOrchestratorState", "RoundRobinManagerState", "SelectorManagerState",
        "SocietyOfMindAgentState", "SwarmManagerState", "TeamState",
    },
    "muster.models.openai": {
        "AZURE_OPENAI_USER_AGENT", "AzureOpenAIChatCompletionClient", "AzureOpenAIClientConfigurationConfigModel",
        "BaseOpenAIChatCompletionClient", "BaseOpenAIClientConfigurationConfigModel",
        "CreateArgumentsConfigModel", "OpenAIChatCompletionClient", "OpenAIClientConfigurationConfigModel",
    },
    "muster.models.anthropic": {
        "AnthropicChatCompletionClient", "AnthropicClientConfiguration", "AnthropicClientConfigurationConfigModel",
        "BaseAnthropicChatCompletionClient", "CreateArgumentsConfigModel",
    },
    "muster.models.cache": {"CHAT_CACHE_VALUE_TYPE", "ChatCompletionCache"},
    "muster.cache_store.diskcache": {"DiskCacheStore"},
    "muster.cache_store.redis": {"RedisStore"},
    "muster.ops": {"BatchProcessor", "MemoryMonitor", "ModelClientPool"},
    "muster.code_executor": {
        "Alias", "CodeBlock", "CodeExecutor", "CodeResult", "FunctionWithRequirements",
        "FunctionWithRequirementsStr", "Import", "ImportFromModule", "with_requirements",
    },
    "muster.code_executors.local": {"LocalCommandLineCodeExecutor"},
    "muster.tools.http": {"HttpTool"},
    "muster.models.ollama": {
        "OllamaChatCompletionClient", "BaseOllamaClientConfigurationConfigModel", "CreateArgumentsConfigModel",
    },
    "muster.tools.mcp": {
        "create_mcp_server_session", "McpSessionActor", "StdioMcpToolAdapter", "StdioServerParams",
        "SseMcpToolAdapter", "SseServerParams", "StreamableHttpMcpToolAdapter", "StreamableHttpServerParams",
        "McpServerParams", "mcp_server_tools", "McpWorkbench",
    },
}  # fmt: skip


@pytest.mark.parametrize("module_name", sorted(EXPECTED))
def test_module_exports_autogen_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = set(getattr(module, "__all__", ()))
    missing = EXPECTED[module_name] - exported
    assert not missing, f"{module_name}.__all__ lacks {sorted(missing)}"


@pytest.mark.parametrize("module_name", sorted(EXPECTED))
def test_every_exported_name_resolves(module_name: str) -> None:
    module = importlib.import_module(module_name)
    unresolved = [name for name in module.__all__ if not hasattr(module, name)]
    assert not unresolved, f"{module_name} exports names it does not define: {unresolved}"


def test_group_chat_events_importable_where_autogen_code_expects_them() -> None:
    """Custom teams import event classes from the private events module, as in AutoGen."""
    events = importlib.import_module("muster.teams._group_chat._events")
    for name in (
        "GroupChatStart",
        "GroupChatAgentResponse",
        "GroupChatRequestPublish",
        "GroupChatTermination",
    ):
        assert hasattr(events, name), name
