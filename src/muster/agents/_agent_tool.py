"""AgentTool: a whole chat agent offered to a model as one tool (AutoGen: ``autogen_agentchat.tools.AgentTool``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any, Self

from pydantic import BaseModel, ConfigDict

from muster.base import TaskResult
from muster.core import CancellationToken, Component, ComponentModel
from muster.tools.internal import TaskRunnerTool, TaskRunnerToolArgs

from ._base_chat_agent import BaseChatAgent

__all__ = ["AgentTool", "AgentToolConfig"]


class AgentToolConfig(BaseModel):
    """Spec of an AgentTool: the wrapped agent's own spec."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    agent: ComponentModel
    return_value_as_last_message: bool = False


class AgentTool(TaskRunnerTool, Component[AgentToolConfig]):
    """Lets a model delegate a task to another agent by calling it like a function.

    The tool is named after the agent and described by its description; its one
    argument is ``task``. The agent runs the task as a fresh turn (it keeps its memory
    between calls) and the calling model gets the agent's messages as text, or only the
    last one with ``return_value_as_last_message``. Inside an AssistantAgent the inner
    agent's events are forwarded to the caller's stream as they happen.

    Unlike AutoGen, which asks you to disable parallel tool calls, concurrent calls of
    the same AgentTool are safe: they are run one after another, because an agent's
    conversation state cannot take two turns at once.

    Args:
        agent: The agent to wrap.
        return_value_as_last_message: Return only the text of the agent's final message.
    """

    component_config_schema = AgentToolConfig
    component_provider_override = "muster.tools.AgentTool"

    def __init__(self, agent: BaseChatAgent, return_value_as_last_message: bool = False) -> None:
        self._agent = agent
        self._turn_lock = asyncio.Lock()
        super().__init__(
            agent,
            agent.name,
            agent.description,
            return_value_as_last_message=return_value_as_last_message,
            return_type=TaskResult,
        )

    @property
    def agent(self) -> BaseChatAgent:
        """The wrapped agent."""
        return self._agent

    async def run(self, args: TaskRunnerToolArgs, cancellation_token: CancellationToken) -> Any:
        """Run the task on the agent and return its TaskResult."""
        async with self._turn_lock:
            return await super().run(args, cancellation_token)

    async def run_stream(
        self, args: TaskRunnerToolArgs, cancellation_token: CancellationToken
    ) -> AsyncGenerator[Any, None]:
        """Yield the agent's messages and events as they come, then its TaskResult."""
        async with self._turn_lock:
            async for item in super().run_stream(args, cancellation_token):
                yield item

    def _to_config(self) -> AgentToolConfig:
        return AgentToolConfig(
            agent=self._agent.dump_component(),
            return_value_as_last_message=self._return_value_as_last_message,
        )

    @classmethod
    def _from_config(cls, config: AgentToolConfig) -> Self:
        return cls(BaseChatAgent.load_component(config.agent), config.return_value_as_last_message)
