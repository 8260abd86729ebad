"""FunctionCall, RequestUsage and Response write out their dataclass methods (start-up cost).

Each must behave exactly as the class ``@dataclass`` would generate from the same fields:
a reference class is built here with the decorator and compared on construction, repr,
equality, hashing, ``fields``/``asdict``/``replace``, ``__match_args__`` and pydantic
validation where the class is a field of a model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from muster.base import Response
from muster.core import FunctionCall
from muster.messages import TextMessage
from muster.models import AssistantMessage, CreateResult, RequestUsage


def _reference(cls: type[Any]) -> type[Any]:
    """The same fields, with the methods the decorator generates."""
    fields = [(f.name, f.type, f) for f in dataclasses.fields(cls)]
    copies = [
        (name, annotation, dataclasses.field(default=f.default, kw_only=f.kw_only))
        if f.default is not dataclasses.MISSING
        else (name, annotation, dataclasses.field(kw_only=f.kw_only))
        for name, annotation, f in fields
    ]
    return dataclasses.make_dataclass(cls.__name__, copies)


@pytest.mark.parametrize(
    ("cls", "args", "kwargs"),
    [
        (FunctionCall, ("call_1", '{"x": 1}', "add"), {}),
        (RequestUsage, (10, 2), {}),
        (Response, (), {"chat_message": TextMessage(content="hi", source="a", id="1"), "inner_messages": []}),
    ],
)
def test_behaves_as_the_generated_dataclass(
    cls: type[Any], args: Sequence[Any], kwargs: dict[str, Any]
) -> None:
    reference = _reference(cls)
    ours, theirs = cls(*args, **kwargs), reference(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert dataclasses.asdict(ours) == dataclasses.asdict(theirs)
    assert cls.__match_args__ == reference.__match_args__
    assert dataclasses.is_dataclass(cls)
    assert [(f.name, f.kw_only, f.default) for f in dataclasses.fields(cls)] == [
        (f.name, f.kw_only, f.default) for f in dataclasses.fields(reference)
    ]
    assert ours == cls(*args, **kwargs) and ours != theirs and (ours == theirs) is (theirs == ours)
    assert cls.__hash__ is None and reference.__hash__ is None
    first = dataclasses.fields(cls)[0].name
    changed = dataclasses.replace(ours, **{first: getattr(theirs, first)})
    assert changed == ours and changed is not ours
    with pytest.raises(TypeError):
        cls(*args, **kwargs, unknown=1)


def test_response_takes_keywords_only_and_defaults_inner_messages() -> None:
    message = TextMessage(content="hi", source="a")
    with pytest.raises(TypeError):
        Response(message)  # type: ignore[misc]
    assert Response(chat_message=message).inner_messages is None


def test_pydantic_models_validate_and_dump_them() -> None:
    result = CreateResult.model_validate(
        {
            "finish_reason": "stop",
            "content": "x",
            "usage": {"prompt_tokens": 3, "completion_tokens": 1},
            "cached": False,
        }
    )
    assert result.usage == RequestUsage(3, 1)
    message = AssistantMessage.model_validate(
        {"content": [{"id": "c", "arguments": "{}", "name": "f"}], "source": "a"}
    )
    assert message.content == [FunctionCall("c", "{}", "f")]
    assert message.model_dump()["content"] == [{"id": "c", "arguments": "{}", "name": "f"}]
    assert result.model_dump()["usage"] == {"prompt_tokens": 3, "completion_tokens": 1}
