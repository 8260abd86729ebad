"""The stage partition: every instant of the window goes to exactly one stage."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from muster.core.instrumentation import Recorder, Span, SpanKind, open_span
from muster.ops._stages import partition


def make(kind: SpanKind, start: float, end: float, parent: Span | None = None) -> Span:
    """A finished span with chosen times (the recorder only supplies the object)."""
    recorder = Recorder()
    with recorder.recording():
        span = open_span(kind, kind.value)
        assert span is not None
        span.close()
    span.start, span.end, span.parent = start, end, parent
    return span


def test_a_turn_with_calls_splits_into_the_four_stages() -> None:
    turn = make(SpanKind.AGENT_TURN, 1.0, 11.0)
    spans = [
        turn,
        make(SpanKind.MODEL_CALL, 2.0, 4.0, turn),
        make(SpanKind.TOOL_CALL, 5.0, 7.0, turn),
        make(SpanKind.MODEL_CALL, 8.0, 9.0, turn),
    ]
    times = partition(spans, 0.0, 12.0)
    assert times.model_inference == 3.0
    assert times.tool_execution == 2.0
    # before the run's first turn (1), and before each call inside the turn (1 + 1 + 1)
    assert times.message_preprocessing == 4.0
    # after the turn's last call (2), and after the turn, outside any (1)
    assert times.response_postprocessing == 3.0
    assert times.outside_turns == 2.0
    assert times.total == 12.0


def test_parallel_calls_count_once_and_model_time_wins_over_tool_time() -> None:
    turn = make(SpanKind.AGENT_TURN, 0.0, 10.0)
    tool_a = make(SpanKind.TOOL_CALL, 1.0, 5.0, turn)
    tool_b = make(SpanKind.TOOL_CALL, 2.0, 6.0, turn)
    inner_model = make(SpanKind.MODEL_CALL, 3.0, 4.0, tool_a)  # an AgentTool's agent thinking
    times = partition([turn, tool_a, tool_b, inner_model], 0.0, 10.0)
    assert times.model_inference == 1.0
    assert times.tool_execution == 4.0  # 1..6 minus the model second, not 4 + 4
    assert times.message_preprocessing == 1.0
    assert times.response_postprocessing == 4.0


def test_spans_outside_the_window_are_clipped() -> None:
    times = partition([make(SpanKind.MODEL_CALL, -5.0, 2.0)], 0.0, 4.0)
    assert (times.model_inference, times.response_postprocessing) == (2.0, 2.0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(SpanKind)),
            st.floats(min_value=-1, max_value=11, allow_nan=False),
            st.floats(min_value=0, max_value=5, allow_nan=False),
            st.integers(min_value=-1, max_value=30),
        ),
        max_size=30,
    )
)
def test_the_stages_always_add_up_to_the_window(raw: list[tuple[SpanKind, float, float, int]]) -> None:
    spans: list[Span] = []
    for kind, start, length, parent in raw:
        owner = spans[parent] if 0 <= parent < len(spans) else None
        spans.append(make(kind, start, start + length, owner))
    times = partition(spans, 0.0, 10.0)
    assert abs(times.total - 10.0) < 1e-9
    assert all(value >= 0 for value in times.as_dict().values())
    assert times.outside_turns <= times.message_preprocessing + times.response_postprocessing + 1e-9
