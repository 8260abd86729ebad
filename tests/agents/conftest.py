"""Shared helpers for agent tests: a function-calling replay client and tool-call results."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from muster.core import FunctionCall
from muster.models import CreateResult, ModelInfo, RequestUsage
from muster.models.replay import ReplayChatCompletionClient

TOOL_MODEL = ModelInfo(
    vision=False, function_calling=True, json_output=True, family="unknown", structured_output=True
)


def calls(
    *specs: tuple[str, Any], thought: str | None = None, usage: tuple[int, int] = (3, 4)
) -> CreateResult:
    """A model reply asking for tool calls; each spec is (name, args-dict-or-raw-string)."""
    function_calls = [
        FunctionCall(id=f"call_{i}", name=name, arguments=args if isinstance(args, str) else json.dumps(args))
        for i, (name, args) in enumerate(specs)
    ]
    return CreateResult(
        finish_reason="function_calls",
        content=function_calls,
        usage=RequestUsage(*usage),
        cached=False,
        thought=thought,
    )


def text(content: str, thought: str | None = None) -> CreateResult:
    return CreateResult(
        finish_reason="stop", content=content, usage=RequestUsage(5, 6), cached=False, thought=thought
    )


class Script:
    """Builders of scripted model replies, handed to tests as the ``script`` fixture."""

    calls = staticmethod(calls)
    text = staticmethod(text)


@pytest.fixture
def script() -> type[Script]:
    return Script


@pytest.fixture
def replay() -> Callable[[Sequence[str | CreateResult]], ReplayChatCompletionClient]:
    def make(replies: Sequence[str | CreateResult]) -> ReplayChatCompletionClient:
        return ReplayChatCompletionClient(list(replies), model_info=TOOL_MODEL)

    return make
