"""What LLM messages carry besides text: images, and the function calls a model requests.

Both are plain values every LLM message type refers to, so every process that defines those
types loads them; they share a module (they used to be two) because a module costs a process
about 0.3 ms to find and load (docs/performance.md, "Start-up").

Unlike AutoGen, the image is kept as encoded bytes (PNG/JPEG...) rather than a decoded
PIL image: messages are mostly passed through to a provider as base64, so decoding is
wasted work and memory. ``Image.image`` still returns a PIL image when Pillow is
installed, for code that expects AutoGen's attribute.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

__all__ = ["FunctionCall", "Image"]

_DATA_URI = r"^data:(?P<mime>image/[\w.+-]+);base64,(?P<data>.*)$"
"""Compiled on first use (``re`` caches it): most processes never read an image URI."""
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"RIFF", "image/webp"),
)


def _sniff_mime(data: bytes) -> str:
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    return "image/png"


class Image:
    """An encoded image with its MIME type."""

    __slots__ = ("_data", "_mime")

    def __init__(self, image: Any) -> None:
        """Wrap raw encoded bytes, or a PIL image (encoded to PNG)."""
        if isinstance(image, bytes | bytearray):
            self._data = bytes(image)
            self._mime = _sniff_mime(self._data)
        elif hasattr(image, "save"):  # a PIL image, without importing PIL
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            self._data = buffer.getvalue()
            self._mime = "image/png"
        else:
            raise TypeError(f"Image() takes encoded bytes or a PIL image, not {type(image).__name__}")

    @classmethod
    def from_pil(cls, pil_image: Any) -> Image:
        """Wrap a PIL image."""
        return cls(pil_image)

    @classmethod
    def from_bytes(cls, data: bytes) -> Image:
        """Wrap already-encoded image bytes."""
        return cls(data)

    @classmethod
    def from_base64(cls, base64_str: str) -> Image:
        """Decode base64 text (without a ``data:`` prefix)."""
        return cls(base64.b64decode(base64_str))

    @classmethod
    def from_uri(cls, uri: str) -> Image:
        """Decode a ``data:image/...;base64,`` URI."""
        match = re.match(_DATA_URI, uri, re.DOTALL)
        if match is None:
            raise ValueError("Image.from_uri expects a base64 data URI ('data:image/png;base64,...')")
        img = cls.from_base64(match.group("data"))
        img._mime = match.group("mime")
        return img

    @classmethod
    def from_file(cls, file_path: str | Path) -> Image:
        """Read an encoded image file."""
        return cls(Path(file_path).read_bytes())

    @property
    def mime_type(self) -> str:
        """The image's MIME type, sniffed from its header."""
        return self._mime

    @property
    def data(self) -> bytes:
        """The encoded bytes."""
        return self._data

    @property
    def image(self) -> Any:
        """A PIL image (requires Pillow), for code written against AutoGen."""
        from PIL import Image as PILImage  # optional dependency

        return PILImage.open(io.BytesIO(self._data))

    def to_base64(self) -> str:
        """The encoded bytes as base64 text."""
        return base64.b64encode(self._data).decode("ascii")

    @property
    def data_uri(self) -> str:
        """A ``data:`` URI suitable for the OpenAI image_url field."""
        return f"data:{self._mime};base64,{self.to_base64()}"

    def to_openai_format(self, detail: Literal["auto", "low", "high"] = "auto") -> dict[str, Any]:
        """The OpenAI chat-completions content part for this image."""
        return {"type": "image_url", "image_url": {"url": self.data_uri, "detail": detail}}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Image) and other._data == self._data

    def __hash__(self) -> int:
        return hash(self._data)

    def __repr__(self) -> str:
        return f"Image(mime_type={self._mime!r}, bytes={len(self._data)})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> Image:
            if isinstance(value, Image):
                return value
            if isinstance(value, dict) and isinstance(value.get("data"), str):
                data: str = value["data"]
                return cls.from_uri(data) if data.startswith("data:") else cls.from_base64(data)
            raise ValueError("expected an Image or {'data': <base64>}")

        def serialize(value: Image) -> dict[str, str]:
            return {"data": value.to_base64()}

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(serialize),
        )


# A dataclass whose methods are written out: ``@dataclass`` generates and compiles them at
# import (about 0.25 ms per class, in every process). They are exactly what the decorator
# would generate (tests/core/test_handwritten_dataclasses.py).
@dataclass(init=False, repr=False, eq=False)
class FunctionCall:
    """One tool call requested by a model; ``arguments`` is the raw JSON text the model wrote."""

    id: str
    arguments: str
    name: str

    def __init__(self, id: str, arguments: str, name: str) -> None:
        self.id = id
        self.arguments = arguments
        self.name = name

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}(id={self.id!r}, arguments={self.arguments!r}, name={self.name!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.id, self.arguments, self.name) == (other.id, other.arguments, other.name)  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]
