"""Property tests of ``|`` and ``&`` over real conditions fed random batches."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muster.base import TerminatedException, TerminationCondition
from muster.conditions import MaxMessageTermination, SourceMatchTermination, TextMentionTermination
from muster.messages import TextMessage

# Each message is (source, text); "a"/"b"/"c" senders, text possibly containing "STOP".
batches_strategy = st.lists(
    st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from(["hi", "STOP now", "ok"])), max_size=3),
    min_size=1,
    max_size=8,
)
Batches = list[list[tuple[str, str]]]


def to_messages(batch: list[tuple[str, str]]) -> list[TextMessage]:
    return [TextMessage(content=content, source=source) for source, content in batch]


def first_source(batches: Batches, source: str) -> int | None:
    return next((i for i, b in enumerate(batches) if any(s == source for s, _ in b)), None)


def first_mention(batches: Batches) -> int | None:
    return next((i for i, b in enumerate(batches) if any("STOP" in c for _, c in b)), None)


def first_count(batches: Batches, limit: int) -> int | None:
    total = 0
    for i, batch in enumerate(batches):
        total += len(batch)
        if total >= limit:
            return i
    return None


def leaves(limit: int) -> list[tuple[TerminationCondition, Callable[[Batches], int | None]]]:
    """Fresh conditions paired with a function computing, from the batches, where each fires."""
    return [
        (SourceMatchTermination(["a"]), lambda b: first_source(b, "a")),
        (TextMentionTermination("STOP"), first_mention),
        (MaxMessageTermination(limit), lambda b: first_count(b, limit)),
    ]


async def fire_index(condition: TerminationCondition, batches: Batches) -> int | None:
    """Feed batches until the condition fires; check the latch; return the batch index."""
    for i, batch in enumerate(batches):
        stop = await condition(to_messages(batch))
        if stop is not None:
            assert condition.terminated
            with pytest.raises(TerminatedException):
                await condition([])
            return i
        assert not condition.terminated
    return None


pair = st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(1, 6))


@given(batches_strategy, pair)
async def test_or_fires_on_the_first_batch_where_either_fires(
    batches: Batches, choice: tuple[int, int, int]
) -> None:
    i, j, limit = choice
    (left, left_at), (right, right_at) = leaves(limit)[i], leaves(limit)[j]
    expected = [x for x in (left_at(batches), right_at(batches)) if x is not None]
    combined = left | right
    assert await fire_index(combined, batches) == (min(expected) if expected else None)


@given(batches_strategy, pair)
async def test_and_fires_on_the_batch_where_the_later_fires(
    batches: Batches, choice: tuple[int, int, int]
) -> None:
    i, j, limit = choice
    left, left_at = leaves(limit)[i]
    right, right_at = leaves(limit)[j]
    at = (left_at(batches), right_at(batches))
    combined = left & right
    expected = None if None in at else max(at)
    assert await fire_index(combined, batches) == expected


@given(batches_strategy, pair, st.booleans())
async def test_reset_restores_a_fresh_condition(
    batches: Batches, choice: tuple[int, int, int], use_and: bool
) -> None:
    i, j, limit = choice
    left, right = leaves(limit)[i][0], leaves(limit)[j][0]
    combined = (left & right) if use_and else (left | right)
    first = await fire_index(combined, batches)
    await combined.reset()
    assert not combined.terminated
    assert await fire_index(combined, batches) == first


async def test_stop_messages_of_both_sides_are_joined() -> None:
    combined = SourceMatchTermination(["a"]) & TextMentionTermination("STOP")
    assert await combined([TextMessage(content="hi", source="a")]) is None
    stop = await combined([TextMessage(content="STOP", source="b")])
    assert stop is not None
    assert stop.content == "'a' answered, Text 'STOP' mentioned"
    assert stop.source == "SourceMatchTermination, TextMentionTermination"
