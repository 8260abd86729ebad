"""What a memory stores: one item of content and its MIME type.

Apart from the :class:`~muster.memory.Memory` contract because every chat message module
needs :class:`MemoryContent` (the memory-query event carries items), and an agent without
memories should not load the rest.
"""

from __future__ import annotations

import base64
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializationInfo, field_serializer, model_validator

from muster.core import Image

__all__ = ["ContentType", "MemoryContent", "MemoryMimeType"]


class MemoryMimeType(str, Enum):  # noqa: UP042 - StrEnum would change str() from AutoGen's
    """Common MIME types of memory content; any other MIME string is accepted too.

    A ``str`` enum so that ``item.mime_type == "text/plain"`` holds whether the item
    was built with the member or the plain string.
    """

    TEXT = "text/plain"
    JSON = "application/json"
    MARKDOWN = "text/markdown"
    IMAGE = "image/*"
    BINARY = "application/octet-stream"


ContentType = str | bytes | dict[str, Any] | Image
"""What a memory item can hold."""


def _mime_string(mime_type: MemoryMimeType | str) -> str:
    return mime_type.value if isinstance(mime_type, MemoryMimeType) else mime_type


class MemoryContent(BaseModel):
    """One item stored in a memory.

    Serialised to JSON, ``bytes`` become base64 text and an :class:`Image` becomes
    ``{"data": <base64>}``. On validation the MIME type tells them apart from plain
    text and dicts again: base64 text under ``application/octet-stream`` turns back into
    bytes, ``{"data": ...}`` under an ``image/...`` type back into an :class:`Image`.
    So an item survives a JSON round trip unchanged.
    """

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)

    content: ContentType
    """The stored text, bytes, JSON object or image."""
    mime_type: MemoryMimeType | str = Field(union_mode="left_to_right")
    """What ``content`` is; known types load back as :class:`MemoryMimeType` members."""
    metadata: dict[str, Any] | None = None
    """Free-form data about the item (source, timestamps, scores...)."""

    @model_validator(mode="before")
    @classmethod
    def _restore_binary_content(cls, data: Any) -> Any:
        # Undo the JSON encoding of bytes and images, which the union alone would read
        # back as a str and a dict.
        if not isinstance(data, dict):
            return data
        mime = data.get("mime_type")
        content = data.get("content")
        if not isinstance(mime, MemoryMimeType | str):
            return data
        mime_str = _mime_string(mime)
        if mime_str == MemoryMimeType.BINARY.value and isinstance(content, str):
            try:
                decoded = base64.b64decode(content, validate=True)
            except ValueError:
                return data
            return {**data, "content": decoded}
        if (
            mime_str.startswith("image/")
            and isinstance(content, dict)
            and set(content) == {"data"}
            and isinstance(content["data"], str)
        ):
            return {**data, "content": Image.from_base64(content["data"])}
        return data

    @field_serializer("mime_type")
    def _serialize_mime_type(self, mime_type: MemoryMimeType | str) -> str:
        return _mime_string(mime_type)

    @field_serializer("content", mode="wrap")
    def _serialize_content(self, content: ContentType, handler: Any, info: SerializationInfo) -> Any:
        if isinstance(content, bytes) and info.mode_is_json():
            return base64.b64encode(content).decode("ascii")
        return handler(content)
