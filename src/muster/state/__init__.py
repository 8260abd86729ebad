"""Saved-state models of agents, teams and termination conditions (AutoGen: ``autogen_agentchat.state``).

The agent and team models are AutoGen's (same fields, defaults and ``type`` tags); the
termination-condition models are muster's own, since AutoGen does not save conditions.
Each name loads its module on first access (see ``muster.core.internal``): an agent needs
only its own state model, not the team and condition ones.
"""

from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports

if TYPE_CHECKING:
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
    from ._states import AssistantAgentState, BaseState, SocietyOfMindAgentState
    from ._team_states import (
        BaseGroupChatManagerState,
        ChatAgentContainerState,
        MagenticOneOrchestratorState,
        RoundRobinManagerState,
        SelectorManagerState,
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

_EXPORTS = {
    **dict.fromkeys(["AssistantAgentState", "BaseState", "SocietyOfMindAgentState"], "._states"),
    **dict.fromkeys(
        [
            "BaseGroupChatManagerState",
            "ChatAgentContainerState",
            "MagenticOneOrchestratorState",
            "RoundRobinManagerState",
            "SelectorManagerState",
            "SwarmManagerState",
            "TeamState",
        ],
        "._team_states",
    ),
    **dict.fromkeys(
        [
            "AndTerminationConditionState",
            "ExternalTerminationState",
            "FiredConditionState",
            "FunctionCallTerminationState",
            "FunctionalTerminationState",
            "HandoffTerminationState",
            "MaxMessageTerminationState",
            "OrTerminationConditionState",
            "SourceMatchTerminationState",
            "StopMessageTerminationState",
            "TextMentionTerminationState",
            "TextMessageTerminationState",
            "TimeoutTerminationState",
            "TokenUsageTerminationState",
        ],
        "._conditions",
    ),
}
"""Public name -> sub-module that defines it; imported on first access (see ``muster.core.internal``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
