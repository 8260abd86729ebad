"""construct_trusted makes exactly the object validation makes, for the classes muster builds with it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, field_validator

from muster.base import TaskResult
from muster.core import FunctionCall
from muster.core.internal import construct_trusted
from muster.messages import TextMessage
from muster.models import AssistantMessage, CreateResult, RequestUsage, SystemMessage, UserMessage

_WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

CASES: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (TextMessage, {"content": "hi", "source": "user", "id": "m1", "created_at": _WHEN}),
    (
        TextMessage,
        {"content": "hi", "source": "a", "models_usage": RequestUsage(3, 4), "id": "m2", "created_at": _WHEN},
    ),
    (SystemMessage, {"content": "be brief"}),
    (UserMessage, {"content": "hello", "source": "user"}),
    (AssistantMessage, {"content": "done", "source": "a", "thought": None}),
    (AssistantMessage, {"content": "done", "source": "a", "thought": "because"}),
    (CreateResult, {"finish_reason": "stop", "content": "x", "usage": RequestUsage(1, 2), "cached": False}),
]


def _state(obj: BaseModel) -> tuple[Any, ...]:
    return (
        type(obj),
        list(obj.__dict__.items()),
        obj.model_fields_set,
        obj.__pydantic_extra__,
        obj.__pydantic_private__,
    )


@pytest.mark.parametrize(("cls", "values"), CASES)
def test_same_object_as_validation(cls: type[BaseModel], values: dict[str, Any]) -> None:
    trusted = construct_trusted(cls, **values)
    validated = cls(**values)
    assert _state(trusted) == _state(validated)
    assert trusted == validated
    assert repr(trusted) == repr(validated)
    assert trusted.model_dump() == validated.model_dump()
    assert trusted.model_dump_json() == validated.model_dump_json()


def test_defaults_are_filled_like_validation_and_mutable_ones_are_not_shared() -> None:
    first = construct_trusted(TextMessage, content="a", source="user")
    second = construct_trusted(TextMessage, content="a", source="user")
    validated = TextMessage(content="a", source="user", id=first.id, created_at=first.created_at)
    assert list(first.__dict__.items()) == list(validated.__dict__.items())
    assert first.id != second.id and isinstance(first.created_at, datetime)
    assert first.metadata == {} and first.metadata is not second.metadata
    assert first.model_fields_set == {"content", "source"}


def test_task_result_keeps_the_given_messages() -> None:
    message = TextMessage(content="hi", source="user")
    messages = [message]
    result = construct_trusted(TaskResult, messages=messages)
    assert _state(result)[1:] == _state(TaskResult(messages=[message]))[1:]
    assert result.model_dump() == TaskResult(messages=[message]).model_dump()


def test_tool_call_content() -> None:
    calls = [FunctionCall(id="1", name="f", arguments="{}")]
    trusted = construct_trusted(AssistantMessage, content=calls, source="a")
    assert trusted == AssistantMessage(content=calls, source="a")


def test_misuse_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="missing required field 'source'"):
        construct_trusted(TextMessage, content="a")
    with pytest.raises(TypeError, match=r"unknown fields \['colour'\]"):
        construct_trusted(SystemMessage, content="a", colour="red")


def test_classes_with_validators_are_validated() -> None:
    class Shouting(BaseModel):
        text: str

        @field_validator("text")
        @classmethod
        def _upper(cls, value: str) -> str:
            return value.upper()

    assert construct_trusted(Shouting, text="hey").text == "HEY"


def test_constructing_builds_no_schema() -> None:
    class Deferred(BaseModel, defer_build=True):
        text: str

    obj = construct_trusted(Deferred, text="x")
    assert obj.text == "x" and not Deferred.__pydantic_complete__
