"""Planning the restore of an agent's memories, checked with the rest of the agent's state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from muster.base.exceptions import StateError
from muster.base.internal import StatePlan, join_field
from muster.memory import Memory, MemoryStateError

__all__ = ["plan_memory_states"]


def plan_memory_states(memories: Sequence[Memory], states: Sequence[Mapping[str, Any]]) -> StatePlan:
    """Check one saved state per memory and return the plan restoring them all.

    The states are matched to the memories by position, as the agent saved them; a
    different count means the agent was built from another spec.

    Raises:
        StateError: a count mismatch, or a memory's state does not fit it; the field is a
            path from the agent's state (``"memory_states[1].memory_contents[0].mime_type"``).
    """
    if len(states) != len(memories):
        raise StateError(
            f"expected {len(memories)} states, one per memory, got {len(states)}", "memory_states"
        )
    plan = StatePlan()
    for i, (memory, state) in enumerate(zip(memories, states, strict=True)):
        field = f"memory_states[{i}]"
        if type(memory).load_state is not Memory.load_state:
            # A user's memory: its checks are inside its load_state, which may still fail.
            plan.load(field, memory, state)
            continue
        try:
            plan.assign(memory._prepare_state(state))
        except MemoryStateError as exc:
            raise StateError(exc.detail, join_field(field, exc.field)) from exc
    return plan
