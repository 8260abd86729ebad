"""Helpers shared by agents and teams (AutoGen: ``autogen_agentchat.utils``)."""

from ._content import content_to_str, remove_images

__all__ = ["content_to_str", "remove_images"]
