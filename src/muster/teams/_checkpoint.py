"""Turn checkpoints: what a team hands its turn hook, and compact deltas between snapshots.

A team given a turn hook (``team.turn_hook = hook``) awaits ``hook(checkpoint)`` at every
turn boundary, before the next turn starts. ``checkpoint.state`` is a complete
``TeamState`` snapshot: loaded into a fresh team built from the same spec, ``run()`` with
no task continues exactly there. A store persists what it needs in the hook; a slow hook
holds the run, a raising hook fails it (``ParticipantError`` is not involved: the run
ends with a :class:`~muster.teams.exceptions.GroupChatRuntimeError` naming the hook's
exception), it is never skipped.

Deltas
------
A full snapshot repeats the whole history (the shared thread, every agent's model
context) at every turn, so writing one per turn costs O(turns²) over a run. The snapshot
is still *built* every turn (agents only know how to dump their whole state), but
:func:`state_delta` encodes it against the previous one, and the delta of a turn is about
the size of what the turn added: messages appended to a list become ``{"+": [...]}``,
changed keys of a mapping ``{"~": {...}, "-": [...]}``, and anything else a replacement
``{"=": value}``. A store writes a full snapshot now and then and deltas in between, and
rebuilds with :func:`apply_state_delta`. Computing a delta compares each list's old
prefix with the new one (C-level equality of plain dicts), a few microseconds per
hundred messages; see ``docs/benchmarks.md`` for the measured per-turn cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from muster.messages import BaseAgentEvent, BaseChatMessage

__all__ = ["TurnCheckpoint", "apply_state_delta", "state_delta"]

RunStatus = Literal["running", "finished"]


@dataclass(frozen=True, slots=True)
class TurnCheckpoint:
    """One turn boundary of a run, as handed to the team's turn hook.

    Attributes:
        run_id: The run's id (given to ``run``/``run_stream`` or generated).
        team: The team's name.
        turn: 0 for the boundary after the task messages, then 1, 2, ... (a resumed run
            continues the numbering of the run it resumes).
        messages: What the turn added to the run's output, in order (streaming chunks
            aside); each chat message and event carries its ``id``.
        state: A complete ``TeamState`` snapshot taken at this boundary (plain JSON).
        delta: ``state`` encoded against the previous snapshot this team took (the
            previous boundary, or the state it loaded); ``None`` when there is none.
        status: ``"running"`` while turns remain, ``"finished"`` at the last boundary.
        stop_reason: Why the run stopped, at the last boundary.
        next_speakers: Who speaks next (empty at the last boundary).
    """

    run_id: str
    team: str
    turn: int
    messages: Sequence[BaseAgentEvent | BaseChatMessage]
    state: Mapping[str, Any]
    delta: Mapping[str, Any] | None = None
    status: RunStatus = "running"
    stop_reason: str | None = None
    next_speakers: Sequence[str] = field(default_factory=tuple)


def state_delta(old: Any, new: Any) -> dict[str, Any]:
    """Encode ``new`` against ``old`` (both plain JSON values); ``{}`` when they are equal."""
    if old is new or old == new:
        return {}
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        changed: dict[str, Any] = {}
        for key, value in new.items():
            if key not in old:
                changed[key] = {"=": value}
            else:
                sub = state_delta(old[key], value)
                if sub:
                    changed[key] = sub
        removed = [key for key in old if key not in new]
        out: dict[str, Any] = {}
        if changed:
            out["~"] = changed
        if removed:
            out["-"] = removed
        return out
    if isinstance(old, list) and isinstance(new, list) and len(new) > len(old) and new[: len(old)] == old:
        return {"+": new[len(old) :]}
    return {"=": new}


def apply_state_delta(old: Any, delta: Mapping[str, Any]) -> Any:
    """Rebuild the value :func:`state_delta` encoded; ``old`` is not modified.

    Raises:
        ValueError: ``delta`` does not fit ``old`` (a delta applied to the wrong base).
    """
    if not delta:
        return old
    if "=" in delta:
        return delta["="]
    if "+" in delta:
        if not isinstance(old, list):
            raise ValueError(f"delta appends to a list, but the base holds {type(old).__name__}")
        return [*old, *delta["+"]]
    if not isinstance(old, Mapping):
        raise ValueError(f"delta changes a mapping, but the base holds {type(old).__name__}")
    result = dict(old)
    for key in delta.get("-", ()):
        result.pop(key, None)
    for key, sub in delta.get("~", {}).items():
        result[key] = apply_state_delta(result.get(key), sub)
    return result
