"""An agent whose answer is a summary of a whole inner team's discussion."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict

from muster.base import Response, TaskResult, Team
from muster.base.internal import StatePlan, parse_state
from muster.core import CancellationToken, Component, ComponentModel
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    ModelClientStreamingChunkEvent,
    TextMessage,
)
from muster.model_context import ChatCompletionContext, UnboundedChatCompletionContext
from muster.models import ChatCompletionClient, LLMMessage, SystemMessage, UserMessage
from muster.state import SocietyOfMindAgentState

from ._base_chat_agent import BaseChatAgent

__all__ = ["SocietyOfMindAgent", "SocietyOfMindAgentConfig"]


class SocietyOfMindAgentConfig(BaseModel):
    """Spec of a :class:`SocietyOfMindAgent`: its team and model as nested specs."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    name: str
    team: ComponentModel
    model_client: ComponentModel
    description: str | None = None
    instruction: str | None = None
    response_prompt: str | None = None
    model_context: ComponentModel | None = None


class SocietyOfMindAgent(BaseChatAgent, Component[SocietyOfMindAgentConfig]):
    """Runs an inner team on each request, then has a model write one standalone answer.

    To the outer conversation the inner team is invisible: its messages are streamed as
    inner events for observers, but the agent's :class:`~muster.base.Response` carries a
    single :class:`~muster.messages.TextMessage` and no inner messages, so an outer team
    records one turn. After every request the inner team is reset; continuity across
    requests comes from :attr:`model_context`, which remembers the requests this agent
    received and replays them to the inner team as a :class:`HandoffMessage` context.

    Args:
        name: The agent's name.
        team: The inner team; it must stop by itself (a termination condition or max_turns).
        model_client: Writes the final answer from the inner transcript.
        description: What the agent does, for outer selectors.
        instruction: Put before the inner transcript when asking for the answer.
        response_prompt: Put after the inner transcript when asking for the answer.
        model_context: Where earlier requests are remembered; unbounded by default. Pass a
            :class:`~muster.model_context.BufferedChatCompletionContext` to bound it.
    """

    component_config_schema = SocietyOfMindAgentConfig
    component_type = "agent"
    component_provider_override = "muster.agents.SocietyOfMindAgent"

    DEFAULT_INSTRUCTION: ClassVar[str] = (
        "Earlier you were asked to fulfill a request. You and your team worked diligently to address "
        "that request. Here is a transcript of that conversation:"
    )
    """Text put before the inner transcript (AutoGen's wording, so prompts match)."""
    DEFAULT_RESPONSE_PROMPT: ClassVar[str] = (
        "Output a standalone response to the original request, without mentioning any of the "
        "intermediate discussion."
    )
    """Text put after the inner transcript, asking for the answer itself."""
    DEFAULT_DESCRIPTION: ClassVar[str] = "An agent that uses an inner team of agents to generate responses."
    """Used when no description is given."""

    def __init__(
        self,
        name: str,
        team: Team,
        model_client: ChatCompletionClient,
        *,
        description: str = DEFAULT_DESCRIPTION,
        instruction: str = DEFAULT_INSTRUCTION,
        response_prompt: str = DEFAULT_RESPONSE_PROMPT,
        model_context: ChatCompletionContext | None = None,
    ) -> None:
        super().__init__(name=name, description=description)
        self._team = team
        self._model_client = model_client
        self._instruction = instruction
        self._response_prompt = response_prompt
        self._model_context = model_context if model_context is not None else UnboundedChatCompletionContext()

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)

    @property
    def model_context(self) -> ChatCompletionContext:
        """The earlier requests this agent remembers between inner-team runs."""
        return self._model_context

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        response: Response | None = None
        async for item in self.on_messages_stream(messages, cancellation_token):
            if isinstance(item, Response):
                response = item
        if response is None:  # pragma: no cover - on_messages_stream always ends with a Response
            raise RuntimeError("SocietyOfMindAgent produced no response")
        return response

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        task = await self._inner_task(messages)
        transcript: list[BaseAgentEvent | BaseChatMessage] = []
        result: TaskResult | None = None
        async for item in self._team.run_stream(
            task=task or None, cancellation_token=cancellation_token, output_task_messages=False
        ):
            if isinstance(item, TaskResult):
                result = item
                continue
            yield item
            # Chunks duplicate the full message that follows them.
            if not isinstance(item, ModelClientStreamingChunkEvent):
                transcript.append(item)
        if result is None:  # pragma: no cover - a team's stream always ends with its TaskResult
            raise RuntimeError("the inner team ended without a TaskResult")

        if not transcript:
            answer = TextMessage(source=self.name, content="No response.")
        else:
            completion = await self._model_client.create(
                messages=self._summary_prompt(transcript), cancellation_token=cancellation_token
            )
            if not isinstance(completion.content, str):
                raise TypeError(f"{self.name}: the model answered with tool calls; it must answer with text")
            answer = TextMessage(source=self.name, content=completion.content, models_usage=completion.usage)
        # The inner transcript was streamed already; repeating it as inner_messages would make
        # an outer team record it twice.
        yield Response(chat_message=answer, inner_messages=[])

        await self._remember(messages)
        await self._team.reset()

    async def _inner_task(self, messages: Sequence[BaseChatMessage]) -> list[BaseChatMessage]:
        """The new messages, preceded by earlier requests when there are any."""
        task = list(messages)
        earlier = await self._model_context.get_messages()
        if earlier:
            task.insert(
                0,
                HandoffMessage(
                    content="relevant previous messages", source=self.name, target="", context=earlier
                ),
            )
        return task

    def _summary_prompt(self, transcript: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[LLMMessage]:
        # Models that accept one system message only get the framing as user turns instead.
        multiple_system = self._model_client.model_info.get("multiple_system_messages", False)

        def framing(text: str) -> LLMMessage:
            return (
                SystemMessage(content=text) if multiple_system else UserMessage(content=text, source="user")
            )

        prompt: list[LLMMessage] = [framing(self._instruction)]
        prompt.extend(m.to_model_message() for m in transcript if isinstance(m, BaseChatMessage))
        prompt.append(framing(self._response_prompt))
        return prompt

    async def _remember(self, messages: Sequence[BaseChatMessage]) -> None:
        for message in messages:
            if isinstance(message, HandoffMessage):
                for carried in message.context:
                    await self._model_context.add_message(carried)
            await self._model_context.add_message(message.to_model_message())

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        await self._team.reset()
        await self._model_context.clear()

    async def save_state(self) -> Mapping[str, Any]:
        """The inner team's state and the model context's.

        AutoGen 0.7 saves the team only. The context holds the earlier requests replayed
        to the inner team on every call, so a resumed agent without it would give its team
        a different task than the uninterrupted one; muster saves it as ``llm_context``.
        """
        return SocietyOfMindAgentState(
            inner_team_state=await self._team.save_state(),
            llm_context=await self._model_context.save_state(),
        ).model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore the inner team and (when saved, i.e. not by AutoGen) the model context.

        Raises:
            StateError: the state does not fit this agent or its team; the message names
                the field and neither the team nor the context is changed.
        """
        saved = parse_state(SocietyOfMindAgentState, state)
        plan = StatePlan()
        # The context first: its load either fails untouched or succeeds, and rolling it
        # back if the team then refuses its state is cheaper than the other way round.
        if saved.llm_context is not None:
            plan.load("llm_context", self._model_context, saved.llm_context)
        plan.load("inner_team_state", self._team, saved.inner_team_state)
        await plan.run()

    def _to_config(self) -> SocietyOfMindAgentConfig:
        return SocietyOfMindAgentConfig(
            name=self.name,
            team=self._team.dump_component(),
            model_client=self._model_client.dump_component(),
            description=self.description,
            instruction=self._instruction,
            response_prompt=self._response_prompt,
            model_context=self._model_context.dump_component(),
        )

    @classmethod
    def _from_config(cls, config: SocietyOfMindAgentConfig) -> Self:
        return cls(
            name=config.name,
            team=Team.load_component(config.team),
            model_client=ChatCompletionClient.load_component(config.model_client),
            description=config.description or cls.DEFAULT_DESCRIPTION,
            instruction=config.instruction or cls.DEFAULT_INSTRUCTION,
            response_prompt=config.response_prompt or cls.DEFAULT_RESPONSE_PROMPT,
            model_context=(
                ChatCompletionContext.load_component(config.model_context) if config.model_context else None
            ),
        )
