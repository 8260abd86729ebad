"""Turning messages into bytes and back, for remote runtimes, persistence and event logs.

The single-threaded runtime passes message objects by reference and never serialises
on the delivery path; serializers are only registered so that logs and other runtimes
can name and encode the types agents handle.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, TypeAdapter

__all__ = [
    "JSON_DATA_CONTENT_TYPE",
    "PROTOBUF_DATA_CONTENT_TYPE",
    "DataclassJsonMessageSerializer",
    "MessageSerializer",
    "PydanticJsonMessageSerializer",
    "SerializationRegistry",
    "UnknownPayload",
    "try_get_known_serializers_for_type",
    "type_name",
]

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=BaseModel)

JSON_DATA_CONTENT_TYPE = "application/json"
"""Content type of JSON-encoded messages."""
PROTOBUF_DATA_CONTENT_TYPE = "application/x-protobuf"
"""Content type of protobuf-encoded messages (muster ships no protobuf serializer itself)."""


@runtime_checkable
class MessageSerializer(Protocol[T]):
    """Encodes one message type in one content type."""

    @property
    def data_content_type(self) -> str:
        """MIME type of the encoded bytes, e.g. :data:`JSON_DATA_CONTENT_TYPE`."""
        ...

    @property
    def type_name(self) -> str:
        """The name the type travels under."""
        ...

    def deserialize(self, payload: bytes) -> T:
        """Rebuild a message from ``payload``."""
        ...

    def serialize(self, message: T) -> bytes:
        """Encode ``message``."""
        ...


@dataclass(frozen=True, slots=True)
class UnknownPayload:
    """A payload whose type no registered serializer knows; kept as bytes rather than dropped."""

    type_name: str
    """The type name the payload was sent under."""
    data_content_type: str
    """Its content type."""
    payload: bytes
    """The undecoded bytes."""


def type_name(cls_or_obj: Any) -> str:
    """The wire name of a type (or of an instance's type): its ``__name__``."""
    cls = cls_or_obj if isinstance(cls_or_obj, type) else type(cls_or_obj)
    return cls.__name__


class PydanticJsonMessageSerializer(Generic[ModelT]):
    """JSON for pydantic models, through the model's own validation."""

    __slots__ = ("_cls",)

    def __init__(self, cls: type[ModelT]) -> None:
        self._cls = cls

    @property
    def data_content_type(self) -> str:
        """Always :data:`JSON_DATA_CONTENT_TYPE`."""
        return JSON_DATA_CONTENT_TYPE

    @property
    def type_name(self) -> str:
        """The model class name."""
        return type_name(self._cls)

    def deserialize(self, payload: bytes) -> ModelT:
        """Validate ``payload`` as JSON for the model."""
        return self._cls.model_validate_json(payload)

    def serialize(self, message: ModelT) -> bytes:
        """Dump the model to JSON bytes."""
        return message.model_dump_json().encode()


class DataclassJsonMessageSerializer(Generic[T]):
    """JSON for dataclasses, via a pydantic ``TypeAdapter``.

    Using a TypeAdapter (rather than ``asdict`` + ``cls(**data)``) means nested
    dataclasses, models and unions round-trip too. The adapter is built on first use:
    registering an agent must stay cheap and must not fail because one of its message
    types holds something unserialisable (an ``asyncio.Event``...) that never leaves
    the process anyway.
    """

    __slots__ = ("_adapter_cache", "_cls")

    def __init__(self, cls: type[T]) -> None:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls!r} is not a dataclass")
        self._cls = cls
        self._adapter_cache: TypeAdapter[T] | None = None

    @property
    def _adapter(self) -> TypeAdapter[T]:
        if self._adapter_cache is None:
            self._adapter_cache = TypeAdapter(self._cls)
        return self._adapter_cache

    @property
    def data_content_type(self) -> str:
        """Always :data:`JSON_DATA_CONTENT_TYPE`."""
        return JSON_DATA_CONTENT_TYPE

    @property
    def type_name(self) -> str:
        """The dataclass name."""
        return type_name(self._cls)

    def deserialize(self, payload: bytes) -> T:
        """Validate ``payload`` as JSON for the dataclass."""
        return self._adapter.validate_json(payload)

    def serialize(self, message: T) -> bytes:
        """Dump the dataclass to JSON bytes."""
        return self._adapter.dump_json(message)


def try_get_known_serializers_for_type(cls: type[Any]) -> list[MessageSerializer[Any]]:
    """The serializers muster can build for ``cls``: JSON for pydantic models and dataclasses.

    Returns an empty list for other types (``str``, ``dict``...): those still travel
    through the in-process runtime, they just cannot cross a process boundary.
    """
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return [PydanticJsonMessageSerializer(cls)]
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        return [DataclassJsonMessageSerializer(cls)]
    return []


class SerializationRegistry:
    """Serializers indexed by (type name, content type)."""

    __slots__ = ("_serializers",)

    def __init__(self) -> None:
        self._serializers: dict[tuple[str, str], MessageSerializer[Any]] = {}

    def add_serializer(self, serializer: MessageSerializer[Any] | Sequence[MessageSerializer[Any]]) -> None:
        """Register one serializer or several; a later one replaces an earlier one for the same key."""
        serializers = serializer if isinstance(serializer, Sequence) else [serializer]
        for item in serializers:
            self._serializers[(item.type_name, item.data_content_type)] = item

    def is_registered(self, type_name: str, data_content_type: str) -> bool:
        """Whether a serializer exists for the pair."""
        return (type_name, data_content_type) in self._serializers

    def serialize(self, message: Any, *, type_name: str, data_content_type: str) -> bytes:
        """Encode ``message`` with the serializer registered for the pair.

        Raises:
            LookupError: no serializer is registered for the pair.
        """
        serializer = self._serializers.get((type_name, data_content_type))
        if serializer is None:
            raise LookupError(f"No serializer registered for type {type_name!r} as {data_content_type!r}")
        return serializer.serialize(message)

    def deserialize(self, payload: bytes, *, type_name: str, data_content_type: str) -> Any:
        """Decode ``payload``; unknown pairs come back as :class:`UnknownPayload`, never lost."""
        serializer = self._serializers.get((type_name, data_content_type))
        if serializer is None:
            return UnknownPayload(type_name, data_content_type, payload)
        return serializer.deserialize(payload)

    def type_name(self, message: Any) -> str:
        """The wire name of ``message``'s type."""
        return type_name(message)
