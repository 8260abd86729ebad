"""What a workbench returns from a tool call: text and image parts plus an error flag."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..core import Image

__all__ = ["ImageResultContent", "ResultContent", "TextResultContent", "ToolResult"]


class TextResultContent(BaseModel):
    """A text part of a tool result."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    type: Literal["TextResultContent"] = "TextResultContent"

    content: str
    """The text."""


class ImageResultContent(BaseModel):
    """An image part of a tool result, for multimodal models."""

    model_config = ConfigDict(defer_build=True)

    type: Literal["ImageResultContent"] = "ImageResultContent"

    content: Image
    """The image."""


ResultContent = Annotated[TextResultContent | ImageResultContent, Field(discriminator="type")]
"""One part of a :class:`ToolResult`, discriminated by ``type``."""


class ToolResult(BaseModel):
    """The outcome of one tool call made through a workbench.

    Failures are results too (``is_error=True``, the text saying what went wrong) so that
    the model can read them and recover instead of the run crashing.
    """

    model_config = ConfigDict(defer_build=True)

    type: Literal["ToolResult"] = "ToolResult"

    name: str
    """The tool name as it was called (an overridden name stays overridden)."""

    result: list[ResultContent]
    """The parts of the result, in order."""

    is_error: bool = False
    """Whether the call failed."""

    def to_text(self, replace_image: str | None = None) -> str:
        """Join the parts into one string, one part a line.

        Args:
            replace_image: Text to put in place of each image; by default an image is
                written as ``[Image: <base64>]``.
        """
        parts: list[str] = []
        for part in self.result:
            if isinstance(part, TextResultContent):
                parts.append(part.content)
            elif replace_image is not None:
                parts.append(replace_image)
            else:
                parts.append(f"[Image: {part.content.to_base64()}]")
        return "\n".join(parts)
