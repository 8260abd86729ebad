"""Errors raised by teams (group chats) to their callers.

Hierarchy::

    MusterError                          (muster.core.exceptions)
    └── AgentChatError                   (muster.base.exceptions)
        ├── AgentError                   an agent failed; ``agent_name`` says which
        │   └── ParticipantError         (RuntimeError) a team participant failed during a run
        └── TeamError                    (RuntimeError) a team could not do what was asked
            ├── TeamRunningError         run/reset/load_state while a run is in progress
            ├── TeamNotInitializedError  pause/resume before the team was ever run
            ├── TeamClosedError          the team was closed and can no longer run
            ├── TurnHookError            the team's turn hook raised; the run stopped at that boundary
            └── GroupChatRuntimeError    the group chat machinery itself failed (not a participant)

``ParticipantError`` and ``GroupChatRuntimeError`` subclass ``RuntimeError`` because AutoGen
raises a plain ``RuntimeError`` in those situations, so ported ``except RuntimeError`` clauses
keep working.
"""

from __future__ import annotations

from muster.base.exceptions import AgentChatError, AgentError

__all__ = [
    "GroupChatRuntimeError",
    "ParticipantError",
    "TeamClosedError",
    "TeamError",
    "TeamNotInitializedError",
    "TeamRunningError",
    "TurnHookError",
]


class ParticipantError(AgentError, RuntimeError):
    """A participant (agent or nested team) raised while handling its turn.

    The team stays usable: ``reset()`` works and ``run()`` can be called again, in which
    case the participant sees the messages it missed.

    Attributes:
        agent_name: The failing participant.
        error_type: The original exception's class name.
        detail: The original exception's message.
        traceback: The formatted traceback of the original exception, if captured.
    """

    def __init__(self, agent_name: str, error_type: str, detail: str, traceback: str | None = None) -> None:
        super().__init__(agent_name, error_type, detail)
        self.traceback = traceback


class TeamError(AgentChatError, RuntimeError):
    """A team could not do what was asked (misuse or a failure of the team machinery)."""


class TeamRunningError(TeamError):
    """An operation that needs an idle team was called while a run is in progress.

    Attributes:
        team_name: The busy team.
        operation: What was attempted (``"run"``, ``"reset"``, ``"load_state"``).
    """

    def __init__(self, team_name: str, operation: str) -> None:
        self.team_name = team_name
        self.operation = operation
        super().__init__(f"Team '{team_name}' is already running; cannot {operation} until it stops.")


class TeamNotInitializedError(TeamError):
    """``pause()``/``resume()`` was called on a team that has never been run.

    Attributes:
        team_name: The team.
        operation: What was attempted.
    """

    def __init__(self, team_name: str, operation: str) -> None:
        self.team_name = team_name
        self.operation = operation
        super().__init__(f"Team '{team_name}' has not been run yet; it cannot {operation}.")


class GroupChatRuntimeError(TeamError):
    """The group chat machinery (manager or runtime), not a participant, failed.

    Attributes:
        error_type: The original exception's class name.
        detail: The original exception's message.
        traceback: The formatted traceback of the original exception, if captured.
    """

    def __init__(self, error_type: str, detail: str, traceback: str | None = None) -> None:
        self.error_type = error_type
        self.detail = detail
        self.traceback = traceback
        super().__init__(f"Group chat failed: {error_type}: {detail}")


class TeamClosedError(TeamError):
    """The team was closed (``close()``); what it registered on its runtime is gone.

    Attributes:
        team_name: The closed team.
        operation: What was attempted.
    """

    def __init__(self, team_name: str, operation: str) -> None:
        self.team_name = team_name
        self.operation = operation
        super().__init__(f"Team '{team_name}' is closed; it cannot {operation}.")


class TurnHookError(TeamError):
    """The team's turn hook raised; the run stopped at that boundary, before the next turn.

    The run's state is the boundary's: fix what made the hook fail and ``run()`` with no
    task resumes the run there.

    Attributes:
        turn: The boundary whose hook raised.
        error: What the hook raised.
    """

    def __init__(self, turn: int, error: BaseException) -> None:
        self.turn = turn
        self.error = error
        super().__init__(f"The turn hook failed at turn {turn}: {type(error).__name__}: {error}")
