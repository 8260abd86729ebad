"""Rendering runs for people (AutoGen: ``autogen_agentchat.ui``)."""

from ._console import Console, UserInputManager

__all__ = ["Console", "UserInputManager"]
