"""Saved-state models of agents, teams and termination conditions (AutoGen: ``autogen_agentchat.state``).

The agent and team models are AutoGen's (same fields, defaults and ``type`` tags); the
termination-condition models are muster's own, since AutoGen does not save conditions.
"""

from ._conditions import (
    AndTerminationConditionState,
    ExternalTerminationState,
    FiredConditionState,
    FunctionalTerminationState,
    FunctionCallTerminationState,
    HandoffTerminationState,
    MaxMessageTerminationState,
    OrTerminationConditionState,
    SourceMatchTerminationState,
    StopMessageTerminationState,
    TextMentionTerminationState,
    TextMessageTerminationState,
    TimeoutTerminationState,
    TokenUsageTerminationState,
)
from ._states import (
    AssistantAgentState,
    BaseGroupChatManagerState,
    BaseState,
    ChatAgentContainerState,
    MagenticOneOrchestratorState,
    RoundRobinManagerState,
    SelectorManagerState,
    SocietyOfMindAgentState,
    SwarmManagerState,
    TeamState,
)

__all__ = [
    "AndTerminationConditionState",
    "AssistantAgentState",
    "BaseGroupChatManagerState",
    "BaseState",
    "ChatAgentContainerState",
    "ExternalTerminationState",
    "FiredConditionState",
    "FunctionCallTerminationState",
    "FunctionalTerminationState",
    "HandoffTerminationState",
    "MagenticOneOrchestratorState",
    "MaxMessageTerminationState",
    "OrTerminationConditionState",
    "RoundRobinManagerState",
    "SelectorManagerState",
    "SocietyOfMindAgentState",
    "SourceMatchTerminationState",
    "StopMessageTerminationState",
    "SwarmManagerState",
    "TeamState",
    "TextMentionTerminationState",
    "TextMessageTerminationState",
    "TimeoutTerminationState",
    "TokenUsageTerminationState",
]
