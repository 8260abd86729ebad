"""MCP content blocks as muster tool results and as text for the model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import mcp.types as mcp_types

from muster.core import Image

from .._result import ImageResultContent, TextResultContent

__all__ = ["content_as_string", "to_result_parts"]


def to_result_parts(blocks: Sequence[Any]) -> list[TextResultContent | ImageResultContent]:
    """Text and images stay what they are; other blocks (audio, resources) become JSON text."""
    parts: list[TextResultContent | ImageResultContent] = []
    for block in blocks:
        if isinstance(block, mcp_types.TextContent):
            parts.append(TextResultContent(content=block.text))
        elif isinstance(block, mcp_types.ImageContent):
            parts.append(ImageResultContent(content=Image.from_base64(block.data)))
        else:
            parts.append(TextResultContent(content=_dump(block)))
    return parts


def _dump(block: Any) -> str:
    dumped = block.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(dumped)


def content_as_string(blocks: Sequence[Any]) -> str:
    """A tool adapter's result for the model: the blocks as a JSON list, as AutoGen renders them."""
    return json.dumps([block.model_dump(mode="json", by_alias=True, exclude_none=True) for block in blocks])
