"""Saving and loading a whole team's state, all or nothing.

A team's state is its participants' and its manager's, keyed by name (``TeamState``).
Loading checks the envelope first, then loads each part; each part checks its own fields
before it changes anything, but a later part can still refuse after an earlier one
loaded. So the team's current state is taken first and put back if any part refuses: a
refused state leaves the team exactly as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from muster.base.exceptions import StateError
from muster.core import AgentId, AgentRuntime
from muster.state import TeamState

from ._state_checks import check_state_header

__all__ = ["load_team_state", "save_team_state"]

_logger = logging.getLogger(__name__)


async def save_team_state(runtime: AgentRuntime, parts: Sequence[tuple[str, AgentId]]) -> Mapping[str, Any]:
    """Every part's ``save_state()``, keyed by name, as a ``TeamState`` dict."""
    agent_states: dict[str, Mapping[str, Any]] = {}
    for name, agent_id in parts:
        agent_states[name] = await runtime.agent_save_state(agent_id)
    return TeamState(agent_states=agent_states).model_dump()


async def load_team_state(
    runtime: AgentRuntime, parts: Sequence[tuple[str, AgentId]], state: Mapping[str, Any], *, team_name: str
) -> None:
    """Load ``state`` into every part, or into none.

    Raises:
        StateError: the state is not a ``TeamState`` of this team (naming the field).
    """
    check_state_header(state, TeamState, where=team_name)
    try:
        team_state = TeamState.model_validate(state)
    except ValidationError as exc:
        raise StateError(f"{team_name}: not a team state: {exc}") from exc
    agent_states = team_state.agent_states
    names = [name for name, _ in parts]
    missing = [n for n in names if n not in agent_states]
    if missing:
        raise StateError(f"{team_name}.agent_states: no state for {missing}")
    unknown = [n for n in agent_states if n not in names]
    if unknown:
        raise StateError(f"{team_name}.agent_states: {unknown} are not part of this team ({names})")
    before = await save_team_state(runtime, parts)
    try:
        for name, agent_id in parts:
            try:
                await runtime.agent_load_state(agent_id, agent_states[name])
            except StateError:
                raise
            except (ValidationError, ValueError, KeyError, TypeError) as exc:
                raise StateError(f"{team_name}.agent_states.{name}: {exc}") from exc
    except BaseException:
        try:
            for name, agent_id in parts:
                await runtime.agent_load_state(agent_id, before["agent_states"][name])
        except Exception:  # the team's own state should always reload; say so if it did not
            _logger.exception("Team '%s' could not be restored after a refused load_state", team_name)
        raise
