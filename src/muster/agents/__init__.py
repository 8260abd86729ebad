"""Chat agents (AutoGen: ``autogen_agentchat.agents``)."""

from ._assistant_agent import AssistantAgent
from ._base_chat_agent import BaseChatAgent

__all__ = ["AssistantAgent", "BaseChatAgent"]
