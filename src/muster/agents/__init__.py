"""Chat agents (AutoGen: ``autogen_agentchat.agents``)."""

from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports

# The assistant (and its base) load with the package: ``import muster.agents`` is how most
# applications start and they nearly all use it. The other agents (and, through them, the
# code executors and teams) load on first access.
from ._assistant_agent import AssistantAgent
from ._base_chat_agent import BaseChatAgent

if TYPE_CHECKING:
    from ._code_executor_agent import ApprovalFuncType, ApprovalRequest, ApprovalResponse, CodeExecutorAgent
    from ._message_filter_agent import MessageFilterAgent, MessageFilterConfig, PerSourceFilter
    from ._society_of_mind_agent import SocietyOfMindAgent
    from ._user_proxy_agent import UserProxyAgent

__all__ = [
    "ApprovalFuncType",
    "ApprovalRequest",
    "ApprovalResponse",
    "AssistantAgent",
    "BaseChatAgent",
    "CodeExecutorAgent",
    "MessageFilterAgent",
    "MessageFilterConfig",
    "PerSourceFilter",
    "SocietyOfMindAgent",
    "UserProxyAgent",
]

_EXPORTS = {
    "ApprovalFuncType": "._code_executor_agent",
    "ApprovalRequest": "._code_executor_agent",
    "ApprovalResponse": "._code_executor_agent",
    "CodeExecutorAgent": "._code_executor_agent",
    "MessageFilterAgent": "._message_filter_agent",
    "MessageFilterConfig": "._message_filter_agent",
    "PerSourceFilter": "._message_filter_agent",
    "SocietyOfMindAgent": "._society_of_mind_agent",
    "UserProxyAgent": "._user_proxy_agent",
}
"""Public name -> sub-module that defines it; imported on first access (see ``muster.core.internal``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
