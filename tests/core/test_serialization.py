"""Message serializers: known types, round trips, unknown payloads."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from muster.core import (
    JSON_DATA_CONTENT_TYPE,
    PROTOBUF_DATA_CONTENT_TYPE,
    MessageSerializer,
    UnknownPayload,
    try_get_known_serializers_for_type,
)
from muster.core._serialization import SerializationRegistry


class Note(BaseModel):
    title: str
    tags: list[str] = []


@dataclass
class Inner:
    x: int


@dataclass
class Outer:
    name: str
    inner: Inner
    maybe: int | str = 0
    items: list[Inner] = field(default_factory=list)


def test_known_serializers_by_type() -> None:
    (pyd,) = try_get_known_serializers_for_type(Note)
    (dc,) = try_get_known_serializers_for_type(Outer)
    assert isinstance(pyd, MessageSerializer) and isinstance(dc, MessageSerializer)
    assert pyd.type_name == "Note" and dc.type_name == "Outer"
    assert pyd.data_content_type == dc.data_content_type == JSON_DATA_CONTENT_TYPE
    assert try_get_known_serializers_for_type(str) == []
    assert PROTOBUF_DATA_CONTENT_TYPE == "application/x-protobuf"


@given(st.text(), st.lists(st.text(max_size=5), max_size=3))
def test_pydantic_round_trip(title: str, tags: list[str]) -> None:
    (serializer,) = try_get_known_serializers_for_type(Note)
    note = Note(title=title, tags=tags)
    assert serializer.deserialize(serializer.serialize(note)) == note


@given(st.text(), st.integers(), st.one_of(st.integers(), st.text()), st.lists(st.integers(), max_size=3))
def test_nested_dataclass_round_trip(name: str, x: int, maybe: int | str, xs: list[int]) -> None:
    (serializer,) = try_get_known_serializers_for_type(Outer)
    value = Outer(name, Inner(x), maybe, [Inner(i) for i in xs])
    assert serializer.deserialize(serializer.serialize(value)) == value


def test_registry_keeps_unknown_payloads_as_bytes() -> None:
    registry = SerializationRegistry()
    registry.add_serializer(try_get_known_serializers_for_type(Note))
    assert registry.is_registered("Note", JSON_DATA_CONTENT_TYPE)
    payload = registry.serialize(Note(title="t"), type_name="Note", data_content_type=JSON_DATA_CONTENT_TYPE)
    assert registry.deserialize(payload, type_name="Note", data_content_type=JSON_DATA_CONTENT_TYPE) == Note(
        title="t"
    )
    unknown = registry.deserialize(b"\x00", type_name="Mystery", data_content_type=PROTOBUF_DATA_CONTENT_TYPE)
    assert unknown == UnknownPayload("Mystery", PROTOBUF_DATA_CONTENT_TYPE, b"\x00")
    assert registry.type_name(Note(title="t")) == "Note"
