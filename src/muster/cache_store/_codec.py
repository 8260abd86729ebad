"""JSON encoding shared by the persistent stores (SQLite, diskcache, Redis).

Persistent stores never pickle: a pickle read back from a shared disk or a Redis server
anyone on the network can write to runs arbitrary code. Values are turned into plain
JSON (pydantic models and dataclasses become objects) and come back as plain JSON, so
the reader validates them into its own types (``ChatCompletionCache`` rebuilds its
``CreateResult`` values). Anything that fails to decode is reported as corrupt, which
the stores turn into a logged miss.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import PydanticSerializationError, to_jsonable_python

from .exceptions import CacheValueError

__all__ = ["CorruptValueError", "decode_value", "encode_value"]


class CorruptValueError(ValueError):
    """Stored bytes are not valid UTF-8 JSON; internal, always turned into a miss."""


def encode_value(store: str, value: Any) -> str:
    """Serialise ``value`` to compact JSON text.

    Args:
        store: Name of the calling store, for the error message.
        value: A pydantic model, dataclass, or JSON-compatible value (nested freely).

    Raises:
        CacheValueError: ``value`` (or something inside it) has no JSON form.
    """
    try:
        return json.dumps(to_jsonable_python(value), separators=(",", ":"), ensure_ascii=False)
    except (PydanticSerializationError, TypeError, ValueError) as exc:
        raise CacheValueError(store, type(value).__name__, str(exc)) from exc


def decode_value(raw: str | bytes | bytearray | memoryview) -> Any:
    """Parse JSON text (or UTF-8 bytes) written by :func:`encode_value`.

    Raises:
        CorruptValueError: the data is not UTF-8 or not JSON.
    """
    try:
        if isinstance(raw, memoryview | bytearray):
            raw = bytes(raw)
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptValueError(str(exc)) from exc
