"""The one explicit state of a team object: what it is doing right now.

A team object does one thing at a time: run, reset, load a state, or nothing; once
closed it does nothing ever again. Keeping that in one field (instead of flags spread
over the team and its manager) is what lets every public method check its precondition
in one line and raise the right typed error.
"""

from __future__ import annotations

from enum import Enum

from ..exceptions import TeamClosedError, TeamRunningError

__all__ = ["TeamPhase", "TeamPhaseMachine"]


class TeamPhase(Enum):
    """What a team object is doing."""

    IDLE = "idle"
    RUNNING = "running"
    RESETTING = "resetting"
    LOADING = "loading"
    CLOSED = "closed"


class TeamPhaseMachine:
    """Guards the transitions ``IDLE -> X -> IDLE`` and ``IDLE -> CLOSED``.

    Args:
        team_name: Named in the errors.
    """

    __slots__ = ("phase", "team_name")

    def __init__(self, team_name: str) -> None:
        self.team_name = team_name
        self.phase = TeamPhase.IDLE

    @property
    def busy(self) -> bool:
        """Whether a run, reset or load is in progress."""
        return self.phase is not TeamPhase.IDLE and self.phase is not TeamPhase.CLOSED

    @property
    def running(self) -> bool:
        """Whether a run is in progress."""
        return self.phase is TeamPhase.RUNNING

    def enter(self, phase: TeamPhase, operation: str) -> None:
        """Start ``operation`` (which puts the team in ``phase``).

        Raises:
            TeamClosedError: the team is closed.
            TeamRunningError: the team is busy with another operation.
        """
        if self.phase is TeamPhase.CLOSED:
            raise TeamClosedError(self.team_name, operation)
        if self.phase is not TeamPhase.IDLE:
            raise TeamRunningError(self.team_name, operation)
        self.phase = phase

    def leave(self) -> None:
        """The operation ended (however it ended); a closed team stays closed."""
        if self.phase is not TeamPhase.CLOSED:
            self.phase = TeamPhase.IDLE
