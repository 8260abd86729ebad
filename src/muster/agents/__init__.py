"""Chat agents (AutoGen: ``autogen_agentchat.agents``)."""

from ._base_chat_agent import BaseChatAgent

__all__ = ["BaseChatAgent"]
