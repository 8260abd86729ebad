"""Saving and restoring conditions' progress: resumed runs stop where uninterrupted ones do."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muster.base import (
    AndTerminationCondition,
    OrTerminationCondition,
    TerminatedException,
    TerminationCondition,
)
from muster.base._termination import plan_condition_state
from muster.base.exceptions import StateError
from muster.conditions import (
    ExternalTermination,
    FunctionalTermination,
    FunctionCallTermination,
    HandoffTermination,
    MaxMessageTermination,
    SourceMatchTermination,
    StopMessageTermination,
    TextMentionTermination,
    TextMessageTermination,
    TimeoutTermination,
    TokenUsageTermination,
)
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    StopMessage,
    TextMessage,
    ToolCallExecutionEvent,
)
from muster.models import FunctionExecutionResult, RequestUsage

Message = BaseAgentEvent | BaseChatMessage


def text(content: str = "hi", source: str = "a", usage: tuple[int, int] | None = None) -> TextMessage:
    return TextMessage(
        content=content, source=source, models_usage=RequestUsage(*usage) if usage is not None else None
    )


def executed(name: str, source: str = "a") -> ToolCallExecutionEvent:
    result = FunctionExecutionResult(content="ok", name=name, call_id="1", is_error=False)
    return ToolCallExecutionEvent(content=[result], source=source)


def json_copy(state: Mapping[str, Any]) -> Any:
    """The state as it comes back from a file or database: proves it is plain JSON."""
    return json.loads(json.dumps(state))


def rebuild(condition: TerminationCondition) -> TerminationCondition:
    """A fresh condition from the spec, as a resumed process builds it."""
    return TerminationCondition.load_component(condition.dump_component().model_dump(mode="json"))


async def test_max_message_resumed_from_saved_state_stops_where_the_uninterrupted_run_does() -> None:
    # The reproduction from issue 7: stopped after 3 messages under MaxMessageTermination(6),
    # the resumed run went on to 10 because the count was lost.
    condition = MaxMessageTermination(6)
    assert await condition([text(), text(), text()]) is None
    state = json_copy(await condition.save_state())

    resumed = rebuild(condition)
    await resumed.load_state(state)
    assert await resumed([text()]) is None
    assert await resumed([text()]) is None
    stop = await resumed([text()])
    assert stop is not None
    assert stop.content == "Maximum number of messages 6 reached, current message count: 6"


# One condition of each built-in kind, and a batch that moves it forward without firing it
# (or, for the latched ones, one that fires it: their only progress is having fired).
PROGRESS: list[tuple[Callable[[], TerminationCondition], list[Message], str]] = [
    (lambda: MaxMessageTermination(5), [text(), text()], "MaxMessageTerminationState"),
    (
        lambda: MaxMessageTermination(5, include_agent_event=True),
        [executed("f")],
        "MaxMessageTerminationState",
    ),
    (lambda: TokenUsageTermination(100), [text(usage=(10, 5))], "TokenUsageTerminationState"),
    (lambda: TextMentionTermination("STOP"), [text("STOP")], "TextMentionTerminationState"),
    (StopMessageTermination, [StopMessage(content="x", source="a")], "StopMessageTerminationState"),
    (lambda: TextMessageTermination("a"), [text()], "TextMessageTerminationState"),
    (lambda: SourceMatchTermination(["a"]), [text()], "SourceMatchTerminationState"),
    (
        lambda: HandoffTermination("user"),
        [HandoffMessage(content="x", source="a", target="user")],
        "HandoffTerminationState",
    ),
    (lambda: FunctionCallTermination("f"), [executed("f")], "FunctionCallTerminationState"),
    (lambda: TimeoutTermination(0), [text()], "TimeoutTerminationState"),
]


@pytest.mark.parametrize(("make", "batch", "tag"), PROGRESS)
async def test_each_condition_saves_its_progress_and_a_fresh_one_restores_it(
    make: Callable[[], TerminationCondition], batch: list[Message], tag: str
) -> None:
    condition = make()
    await condition(batch)
    state = json_copy(await condition.save_state())
    assert (state["type"], state["version"]) == (tag, "1.0.0")

    fresh = rebuild(condition)
    assert await fresh.save_state() != state
    await fresh.load_state(state)
    assert fresh.terminated == condition.terminated
    restored = dict(await fresh.save_state())
    if tag == "TimeoutTerminationState":  # still running on the clock
        assert restored.pop("elapsed_seconds") >= state.pop("elapsed_seconds")
    assert restored == state


async def test_functional_termination_restores_having_fired() -> None:
    condition = FunctionalTermination(lambda messages: True)
    await condition([])
    fresh = FunctionalTermination(lambda messages: True)
    await fresh.load_state(json_copy(await condition.save_state()))
    assert fresh.terminated
    with pytest.raises(TerminatedException):
        await fresh([])


async def test_token_usage_keeps_both_counts() -> None:
    condition = TokenUsageTermination(max_prompt_token=20, max_completion_token=20)
    await condition([text(usage=(12, 3))])
    fresh = rebuild(condition)
    await fresh.load_state(json_copy(await condition.save_state()))
    assert await fresh([text(usage=(0, 3))]) is None
    stop = await fresh([text(usage=(8, 0))])
    assert stop is not None and "prompt token count: 20, completion token count: 6" in stop.content


async def test_timeout_resumes_with_the_budget_that_was_left(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr("muster.conditions._limits.time.monotonic", lambda: now[0])
    condition = TimeoutTermination(10)
    now[0] += 4
    state = json_copy(await condition.save_state())
    assert state["elapsed_seconds"] == 4

    now[0] += 3600  # the process was down for an hour: not charged to the run
    resumed = rebuild(condition)
    await resumed.load_state(state)
    now[0] += 5.9
    assert await resumed([]) is None
    now[0] += 0.1
    assert await resumed([]) is not None


async def test_external_request_made_before_the_save_still_stops_the_resumed_run() -> None:
    condition = ExternalTermination()
    condition.set()
    resumed = rebuild(condition)
    await resumed.load_state(json_copy(await condition.save_state()))
    assert await resumed([]) is not None


async def test_and_keeps_the_stop_messages_of_children_that_fired() -> None:
    condition = TextMentionTermination("STOP") & MaxMessageTermination(3)
    assert await condition([text("STOP")]) is None
    state = json_copy(await condition.save_state())
    assert [m["content"] for m in state["stop_messages"]] == ["Text 'STOP' mentioned"]

    resumed = rebuild(condition)
    await resumed.load_state(state)
    stop = await resumed([text(), text()])
    assert stop is not None
    assert stop.content == (
        "Text 'STOP' mentioned, Maximum number of messages 3 reached, current message count: 3"
    )


async def test_a_state_without_version_loads_as_version_1() -> None:
    condition = MaxMessageTermination(5)
    await condition.load_state({"type": "MaxMessageTerminationState", "count": 2})
    assert await condition.save_state() == {
        "type": "MaxMessageTerminationState",
        "version": "1.0.0",
        "count": 2,
    }


class Countdown(TerminationCondition):
    """A user's condition that does not override save_state/load_state."""

    def __init__(self) -> None:
        self._fired = False

    @property
    def terminated(self) -> bool:
        return self._fired

    async def __call__(self, messages: Sequence[Message]) -> StopMessage | None:
        return None

    async def reset(self) -> None:
        self._fired = False


class Tally(TerminationCondition):
    """A user's condition with progress, saved and loaded by its own methods."""

    def __init__(self) -> None:
        self.seen = 0

    @property
    def terminated(self) -> bool:
        return False

    async def __call__(self, messages: Sequence[Message]) -> StopMessage | None:
        self.seen += len(messages)
        return None

    async def reset(self) -> None:
        self.seen = 0

    async def save_state(self) -> Mapping[str, Any]:
        return {"type": "TallyState", "seen": self.seen}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.seen = state["seen"]  # changes the object before it fails: the rollback must undo it
        if self.seen > 5:
            raise ValueError(f"seen {self.seen} is past the limit")


async def test_a_custom_condition_without_overrides_saves_only_its_tag_and_loads_nothing() -> None:
    condition = Countdown()
    state = await condition.save_state()
    assert state == {"type": "CountdownState", "version": "1.0.0"}
    await condition.load_state(state)
    with pytest.raises(StateError, match=r"^type: expected 'CountdownState', got 'TallyState'$"):
        await condition.load_state({"type": "TallyState"})


async def test_custom_conditions_nest_in_composites() -> None:
    condition = Tally() | MaxMessageTermination(5)
    await condition([text(), text()])
    state = json_copy(await condition.save_state())
    assert state["conditions"][0] == {"type": "TallyState", "seen": 2}
    fresh = Tally() | MaxMessageTermination(5)
    await fresh.load_state(state)
    assert json_copy(await fresh.save_state()) == state


async def test_a_failing_custom_load_rolls_back_everything_loaded() -> None:
    first, failing = Tally(), Tally()
    condition = OrTerminationCondition(first, MaxMessageTermination(9), failing)
    await condition([text()])
    before = await condition.save_state()
    state = json_copy(before)
    state["conditions"][0]["seen"] = 3
    state["conditions"][1]["count"] = 3
    state["conditions"][2]["seen"] = 7
    with pytest.raises(StateError, match=r"^conditions\[2\]: ValueError: seen 7 is past the limit$"):
        await condition.load_state(state)
    assert await condition.save_state() == before
    assert (first.seen, failing.seen) == (1, 1)


def states_of_three() -> tuple[TerminationCondition, dict[str, Any]]:
    condition = AndTerminationCondition(
        MaxMessageTermination(5), TextMentionTermination("STOP") | TokenUsageTermination(50), Tally()
    )
    return condition, {
        "type": "AndTerminationConditionState",
        "version": "1.0.0",
        "conditions": [
            {"type": "MaxMessageTerminationState", "version": "1.0.0", "count": 4},
            {
                "type": "OrTerminationConditionState",
                "version": "1.0.0",
                "conditions": [
                    {"type": "TextMentionTerminationState", "version": "1.0.0", "terminated": False},
                    {
                        "type": "TokenUsageTerminationState",
                        "version": "1.0.0",
                        "prompt_tokens": 3,
                        "completion_tokens": 4,
                    },
                ],
            },
            {"type": "TallyState", "seen": 9},
        ],
        "stop_messages": [],
    }


def corrupt(path: Sequence[str | int], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(state: dict[str, Any]) -> None:
        target: Any = state
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return edit


_DELETE = object()

BAD_STATES = [
    (
        corrupt(["type"], "OrTerminationConditionState"),
        r"^type: expected 'AndTerminationConditionState', got",
    ),
    (corrupt(["type"], _DELETE), r"^type: missing"),
    (corrupt(["version"], "2.0.0"), r"^version: unsupported version '2.0.0'"),
    (
        corrupt(["conditions", 0, "count"], -1),
        r"^conditions\[0\]\.count: Input should be greater than or equal to 0",
    ),
    (corrupt(["conditions", 0, "count"], "4"), r"^conditions\[0\]\.count: Input should be a valid integer"),
    (corrupt(["conditions", 0, "version"], 1), r"^conditions\[0\]\.version: unsupported version 1"),
    (corrupt(["conditions", 1, "conditions", 1, "type"], "X"), r"^conditions\[1\]\.conditions\[1\]\.type: "),
    (
        corrupt(["conditions", 1, "conditions", 0, "terminated"], "no"),
        r"^conditions\[1\]\.conditions\[0\]\.terminated: Input should be a valid boolean",
    ),
    (
        corrupt(["conditions", 1, "conditions"], []),
        r"^conditions\[1\]\.conditions: expected 2 child states, got 0",
    ),
    (corrupt(["conditions", 2], []), r"^conditions\[2\]: Input should be a valid dictionary"),
    (corrupt(["conditions"], [{}]), r"^conditions: expected 3 child states, got 1"),
    (corrupt(["conditions"], "none"), r"^conditions: Input should be a valid list"),
    (corrupt(["stop_messages"], [{"content": 3}]), r"^stop_messages\[0\]\.source: Field required"),
]


@pytest.mark.parametrize(("edit", "message"), BAD_STATES)
async def test_a_bad_state_names_the_field_and_changes_nothing(
    edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    condition, good = states_of_three()
    await condition([text("STOP", usage=(1, 1))])
    before = await condition.save_state()
    edit(good)
    with pytest.raises(StateError, match=message):
        await condition.load_state(good)
    assert await condition.save_state() == before


@pytest.mark.parametrize("state", [None, [], "MaxMessageTerminationState"])
async def test_a_state_that_is_not_a_mapping_is_rejected(state: Any) -> None:
    with pytest.raises(StateError, match="^expected a mapping"):
        await MaxMessageTermination(3).load_state(state)


# ---- Property: saving at any point and resuming from the spec changes no outcome. ----

leaf_conditions: st.SearchStrategy[TerminationCondition] = st.one_of(
    st.builds(MaxMessageTermination, st.integers(0, 8), st.booleans()),
    st.builds(TextMentionTermination, st.just("STOP"), st.none() | st.just(["a"])),
    st.builds(TextMessageTermination, st.none() | st.just("b")),
    st.builds(SourceMatchTermination, st.just(["c"])),
    st.builds(StopMessageTermination),
    st.builds(HandoffTermination, st.sampled_from(["x", "y"])),
    st.builds(FunctionCallTermination, st.sampled_from(["f", "g"])),
    st.builds(
        TokenUsageTermination, st.none() | st.integers(1, 40), st.none() | st.integers(1, 20), st.just(15)
    ),
    st.builds(TimeoutTermination, st.sampled_from([0.0, 1e9])),  # fires at once / never
    st.builds(ExternalTermination),
)


def combine(kind: bool, parts: list[TerminationCondition]) -> TerminationCondition:
    return AndTerminationCondition(*parts) if kind else OrTerminationCondition(*parts)


condition_trees = st.recursive(
    leaf_conditions,
    lambda children: st.builds(combine, st.booleans(), st.lists(children, min_size=2, max_size=3)),
    max_leaves=6,
)

sources = st.sampled_from("abc")
usages = st.none() | st.tuples(st.integers(0, 6), st.integers(0, 6))
messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(text, st.sampled_from(["hi", "STOP now", "ok"]), sources, usages),
    st.builds(StopMessage, content=st.just("stop"), source=sources),
    st.builds(HandoffMessage, content=st.just("over"), source=sources, target=st.sampled_from(["x", "y"])),
    st.builds(executed, st.sampled_from(["f", "g"]), sources),
)
batch_lists = st.lists(st.lists(messages, max_size=3), max_size=8)

Outcome = str | None


async def feed(condition: TerminationCondition, batches: Sequence[Sequence[Message]]) -> list[Outcome]:
    """The stop message's content per batch (None: go on; "<raised>": already terminated)."""
    outcomes: list[Outcome] = []
    for batch in batches:
        if condition.terminated:
            with pytest.raises(TerminatedException):
                await condition(batch)
            outcomes.append("<raised>")
            continue
        stop = await condition(batch)
        outcomes.append(None if stop is None else stop.content)
    return outcomes


@settings(max_examples=150, deadline=None)
@given(condition_trees, batch_lists, st.data())
async def test_resuming_from_saved_state_gives_the_uninterrupted_outcomes(
    tree: TerminationCondition, batches: list[list[Message]], data: st.DataObject
) -> None:
    split = data.draw(st.integers(0, len(batches)), label="save after batch")
    spec = tree.dump_component().model_dump(mode="json")

    uninterrupted = TerminationCondition.load_component(spec)
    expected = await feed(uninterrupted, batches)

    before_crash = TerminationCondition.load_component(spec)
    outcomes = await feed(before_crash, batches[:split])
    state = json_copy(await before_crash.save_state())
    resumed = TerminationCondition.load_component(spec)
    await resumed.load_state(state)
    outcomes += await feed(resumed, batches[split:])

    assert outcomes == expected
    assert resumed.terminated == uninterrupted.terminated


class Broken(Tally):
    """A user's condition whose loader refuses everything, even its own saved state."""

    async def load_state(self, state: Mapping[str, Any]) -> None:
        raise OSError("tally store unavailable")


async def test_when_restoring_a_failed_custom_load_fails_too_the_first_error_is_raised() -> None:
    condition = OrTerminationCondition(MaxMessageTermination(9), Broken())
    state = json_copy(await condition.save_state())
    with pytest.raises(StateError, match=r"^conditions\[1\]: OSError: tally store unavailable") as caught:
        await condition.load_state(state)
    assert caught.value.__notes__ == [
        "restoring conditions[1] also failed: OSError('tally store unavailable')"
    ]


async def test_a_team_can_check_its_condition_with_its_other_parts_before_changing_any() -> None:
    # How a team restores its condition and participants together (a Tally stands for an agent).
    condition, participant = MaxMessageTermination(5), Tally()
    await condition([text()])
    good = {"type": "MaxMessageTerminationState", "count": 3}
    with pytest.raises(StateError, match=r"^termination_condition\.count: Input should be a valid integer"):
        plan_condition_state(condition, {**good, "count": "3"}, "termination_condition")

    plan = plan_condition_state(condition, good, "termination_condition")
    plan.load("agent_states.writer", participant, {"type": "TallyState", "seen": 9})
    with pytest.raises(StateError, match=r"^agent_states\.writer: ValueError: seen 9 is past the limit$"):
        await plan.run()
    assert await condition.save_state() == {
        "type": "MaxMessageTerminationState",
        "version": "1.0.0",
        "count": 1,
    }
    assert participant.seen == 0


@pytest.mark.parametrize("condition", [MaxMessageTermination(3), Tally()])
def test_a_part_that_is_not_a_mapping_is_named(condition: TerminationCondition) -> None:
    with pytest.raises(StateError, match=r"^termination_condition: expected a mapping, got list$"):
        plan_condition_state(condition, [], "termination_condition")


def test_state_error_keeps_its_field_through_pickle() -> None:
    error = pickle.loads(pickle.dumps(StateError("Input should be a valid integer", "conditions[1].count")))
    assert (error.detail, error.field) == ("Input should be a valid integer", "conditions[1].count")
    assert str(error) == "conditions[1].count: Input should be a valid integer"
