"""TeamTool: a whole team as one tool an agent can call (AutoGen: ``autogen_agentchat.tools.TeamTool``)."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict

from muster.base import TaskResult, Team
from muster.core import Component, ComponentModel
from muster.tools.internal import TaskRunnerTool

__all__ = ["TeamTool", "TeamToolConfig"]


class TeamToolConfig(BaseModel):
    """Declarative spec of a :class:`TeamTool`: the tool's identity and the team's own spec."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    name: str
    description: str
    team: ComponentModel
    return_value_as_last_message: bool = False


class TeamTool(TaskRunnerTool, Component[TeamToolConfig]):
    """Runs ``team`` on the calling model's ``task`` and returns the conversation as text.

    Each call continues the team's conversation (the team is not reset between calls),
    so a tool-using agent can delegate several steps to the same team. The team must not
    be running elsewhere at the same time.

    Args:
        team: The team to run.
        name: The tool name the model sees.
        description: What the tool (team) does, for the model.
        return_value_as_last_message: Return only the team's last message instead of
            every non-task message as ``"source: text"`` blocks.
    """

    component_config_schema = TeamToolConfig
    component_provider_override = "muster.tools.TeamTool"

    def __init__(
        self, team: Team, name: str, description: str, return_value_as_last_message: bool = False
    ) -> None:
        self._team = team
        super().__init__(
            team,
            name,
            description,
            return_value_as_last_message=return_value_as_last_message,
            return_type=TaskResult,
        )

    @property
    def team(self) -> Team:
        """The team this tool runs."""
        return self._team

    def _to_config(self) -> TeamToolConfig:
        return TeamToolConfig(
            name=self.name,
            description=self.description,
            team=self._team.dump_component(),
            return_value_as_last_message=self._return_value_as_last_message,
        )

    @classmethod
    def _from_config(cls, config: TeamToolConfig) -> Self:
        return cls(
            Team.load_component(config.team),
            config.name,
            config.description,
            config.return_value_as_last_message,
        )
