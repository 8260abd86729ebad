"""SelectorGroupChat: a model (or a function) picks who speaks next from the conversation."""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Self, cast

from pydantic import BaseModel, ConfigDict

from muster.base import ChatAgent, Team, TerminationCondition
from muster.base.exceptions import StateError
from muster.core import TRACE_LOGGER_NAME, AgentRuntime, Component, ComponentModel
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    ModelClientStreamingChunkEvent,
    SelectSpeakerEvent,
)
from muster.model_context import ChatCompletionContext
from muster.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelFamily,
    RequestUsage,
    SystemMessage,
    UserMessage,
)
from muster.state import SelectorManagerState

from ._base_group_chat import BaseGroupChat
from ._base_group_chat_manager import BaseGroupChatManager
from ._specs import load_participants, load_termination
from ._wiring import GroupChatWiring

__all__ = [
    "DEFAULT_SELECTOR_PROMPT",
    "CandidateFuncType",
    "SelectorFuncType",
    "SelectorGroupChat",
    "SelectorGroupChatConfig",
    "SelectorGroupChatManager",
]

trace_logger = logging.getLogger(TRACE_LOGGER_NAME)

SyncSelectorFunc = Callable[[Sequence[BaseAgentEvent | BaseChatMessage]], str | None]
AsyncSelectorFunc = Callable[[Sequence[BaseAgentEvent | BaseChatMessage]], Awaitable[str | None]]
SelectorFuncType = SyncSelectorFunc | AsyncSelectorFunc
"""``thread -> name | None``; ``None`` defers to the model."""
SyncCandidateFunc = Callable[[Sequence[BaseAgentEvent | BaseChatMessage]], list[str]]
AsyncCandidateFunc = Callable[[Sequence[BaseAgentEvent | BaseChatMessage]], Awaitable[list[str]]]
CandidateFuncType = SyncCandidateFunc | AsyncCandidateFunc
"""``thread -> names`` the model may choose from."""

DEFAULT_SELECTOR_PROMPT = """You are choosing who speaks next in a team conversation.
The team members and what each of them does:
{roles}

The conversation so far:
{history}

Choose the member from {participants} who should speak next. Reply with that name only.
"""
"""The default prompt; ``{roles}``, ``{participants}`` and ``{history}`` are filled in each turn."""


def _render(source: str, content: Any) -> str:
    # Every entry ends with a blank line so the transcript reads the same however it is split.
    return f"{source}: {content}".rstrip() + "\n\n"


def _render_llm_messages(messages: Sequence[LLMMessage]) -> list[str]:
    return [_render(m.source, m.content) for m in messages if isinstance(m, UserMessage | AssistantMessage)]


def _mention_pattern(name: str) -> re.Pattern[str]:
    # A name counts when it stands as a word; models also write "my_agent" as
    # "my agent" or (in markdown) "my\_agent".
    variants = {name, name.replace("_", " "), name.replace("_", r"\_")}
    alternation = "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
    return re.compile(rf"(?<=\W)(?:{alternation})(?=\W)")


class SelectorGroupChatManager(BaseGroupChatManager):
    """Picks each next speaker with ``selector_func``, else by asking the model.

    The model sees the prompt with the conversation rendered as ``source: content``
    entries. Without a custom ``model_context`` the rendering is kept incrementally:
    each message is rendered once, when it joins the thread, so a turn costs only the
    prompt's own formatting however long the conversation is.
    """

    state_type = SelectorManagerState

    def __init__(
        self,
        wiring: GroupChatWiring,
        *,
        model_client: ChatCompletionClient,
        selector_prompt: str,
        allow_repeated_speaker: bool,
        selector_func: SelectorFuncType | None,
        max_selector_attempts: int,
        candidate_func: CandidateFuncType | None,
        model_context: ChatCompletionContext | None,
        model_client_streaming: bool = False,
    ) -> None:
        super().__init__(wiring)
        participant_names = wiring.participant_names
        participant_descriptions = wiring.participant_descriptions
        if max_selector_attempts < 1:
            raise ValueError("max_selector_attempts must be at least 1")
        self._model_client = model_client
        self._selector_prompt = selector_prompt
        self._allow_repeated_speaker = allow_repeated_speaker
        self._selector_func = selector_func
        self._is_selector_func_async = inspect.iscoroutinefunction(selector_func)
        self._candidate_func = candidate_func
        self._is_candidate_func_async = inspect.iscoroutinefunction(candidate_func)
        self._max_selector_attempts = max_selector_attempts
        self._model_client_streaming = model_client_streaming
        self._model_context = model_context
        self._previous_speaker: str | None = None
        self._history = ""
        self._mention_patterns = {n: _mention_pattern(n) for n in participant_names}
        # Descriptions are fixed for the team's life: render the roles once.
        self._roles = "\n".join(
            re.sub(r"\s+", " ", f"{n}: {d}").strip()
            for n, d in zip(participant_names, participant_descriptions, strict=True)
        )

    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        """Any task (or none) is fine for a selector."""

    async def reset(self) -> None:
        await self._reset_base()
        self._previous_speaker = None
        self._history = ""
        if self._model_context is not None:
            await self._model_context.clear()

    async def update_message_thread(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> None:
        self._message_thread.extend(messages)
        await self._record_history([m for m in messages if isinstance(m, BaseChatMessage)])

    async def _record_history(self, messages: Sequence[BaseChatMessage]) -> None:
        """Add chat messages to what the selector model will see (handoff context first)."""
        for msg in messages:
            llm_messages: list[LLMMessage] = []
            if isinstance(msg, HandoffMessage):
                llm_messages.extend(msg.context)
            llm_messages.append(msg.to_model_message())
            if self._model_context is not None:
                for llm_message in llm_messages:
                    await self._model_context.add_message(llm_message)
            else:
                for part in _render_llm_messages(llm_messages):
                    self._history = f"{self._history}\n{part}" if self._history else part

    def _state_fields(self) -> dict[str, Any]:
        return {"previous_speaker": self._previous_speaker}

    def _check_state(self, state: Any) -> None:
        previous = state.previous_speaker
        if previous is not None and previous not in self._participant_names:
            raise StateError(
                f"{self._name}.previous_speaker: {previous!r} is not a participant {self._participant_names}"
            )

    def _apply_state(self, state: Any) -> None:
        self._previous_speaker = state.previous_speaker
        # The rendered history (or the selector's own model context) is derived from the
        # thread: rebuilt from it, it is exactly what the saved team had.
        self._history = ""

    async def load_state(self, state: Mapping[str, Any]) -> None:
        await super().load_state(state)
        if self._model_context is not None:
            await self._model_context.clear()
        await self._record_history([m for m in self._message_thread if isinstance(m, BaseChatMessage)])

    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str]:
        if self._selector_func is not None:
            if self._is_selector_func_async:
                chosen = await cast(AsyncSelectorFunc, self._selector_func)(thread)
            else:
                chosen = cast(SyncSelectorFunc, self._selector_func)(thread)
            if chosen is not None:
                if chosen not in self._participant_names:
                    raise ValueError(
                        f"selector_func returned {chosen!r}, which is not one of {self._participant_names}"
                    )
                # AutoGen does not record a selector_func choice as the previous speaker.
                return [chosen]
        candidates = await self._candidates(thread)
        usage: RequestUsage | None = None
        if len(candidates) > 1:
            speaker, usage = await self._select_with_model(candidates)
        else:
            speaker = candidates[0]
        self._previous_speaker = speaker
        self._last_selection_usage = usage
        trace_logger.debug("Selected speaker: %s", speaker)
        return [speaker]

    async def _candidates(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str]:
        if self._candidate_func is None:
            if self._previous_speaker is not None and not self._allow_repeated_speaker:
                return [p for p in self._participant_names if p != self._previous_speaker]
            return list(self._participant_names)
        if self._is_candidate_func_async:
            candidates = await cast(AsyncCandidateFunc, self._candidate_func)(thread)
        else:
            candidates = cast(SyncCandidateFunc, self._candidate_func)(thread)
        if not candidates:
            raise ValueError("candidate_func must return at least one participant name")
        unknown = [c for c in candidates if c not in self._participant_names]
        if unknown:
            raise ValueError(f"candidate_func returned unknown participants {unknown}")
        return list(candidates)

    async def _history_text(self) -> str:
        if self._model_context is None:
            return self._history
        return "\n".join(_render_llm_messages(await self._model_context.get_messages()))

    async def _select_with_model(self, candidates: list[str]) -> tuple[str, RequestUsage]:
        """Ask the model, re-prompting with feedback up to ``max_selector_attempts`` times.

        When no attempt names exactly one allowed speaker, fall back to the previous
        speaker, or to the first candidate when there is none (AutoGen's fallback); the
        selection never loops beyond the attempt budget.
        """
        prompt = self._selector_prompt.format(
            roles=self._roles, participants=str(candidates), history=await self._history_text()
        )
        messages: list[LLMMessage] = []
        if ModelFamily.is_openai(self._model_client.model_info["family"]):
            messages.append(SystemMessage(content=prompt))
        else:
            # Most other models need a user turn to answer.
            messages.append(UserMessage(content=prompt, source="user"))
        usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
        for attempt in range(1, self._max_selector_attempts + 1):
            result = await self._ask_model(messages)
            usage.prompt_tokens += result.usage.prompt_tokens
            usage.completion_tokens += result.usage.completion_tokens
            content = result.content if isinstance(result.content, str) else str(result.content)
            messages.append(AssistantMessage(content=content, source="selector"))
            # Every participant counts as a mention, the previous speaker included, so a
            # refused choice gets specific feedback instead of "no name".
            mentions = self._mentions(content)
            if len(mentions) == 1:
                chosen = mentions[0]
                repeated = not self._allow_repeated_speaker and chosen == self._previous_speaker
                if chosen in candidates and not repeated:
                    return chosen, usage
                feedback = f"{chosen} cannot speak now. Reply with one name from {candidates}."
            elif mentions:
                feedback = f"Several names were mentioned. Reply with exactly one name from {candidates}."
            else:
                feedback = f"No valid name was mentioned. Reply with one name from {candidates}."
            trace_logger.debug("Selector attempt %d rejected: %r", attempt, content)
            messages.append(UserMessage(content=feedback, source="user"))
        fallback = self._previous_speaker if self._previous_speaker is not None else candidates[0]
        trace_logger.warning(
            "Selector model named no valid speaker in %d attempts; falling back to %s",
            self._max_selector_attempts,
            fallback,
        )
        return fallback, usage

    async def _ask_model(self, messages: list[LLMMessage]) -> CreateResult:
        token = self._current_cancellation_token
        if not self._model_client_streaming:
            return await self._model_client.create(messages=messages, cancellation_token=token)
        final: CreateResult | None = None
        async for chunk in self._model_client.create_stream(messages=messages, cancellation_token=token):
            if isinstance(chunk, CreateResult):
                final = chunk
            elif self._emit_team_events:
                self._output_message_queue.put_nowait(
                    ModelClientStreamingChunkEvent(content=chunk, source=self._name)
                )
        if final is None:
            raise RuntimeError("The selector model's stream ended without a final result")
        return final

    def _mentions(self, content: str) -> list[str]:
        padded = f" {content} "
        return [name for name, pattern in self._mention_patterns.items() if pattern.search(padded)]

    async def _log_speaker_selection(self, speaker_names: list[str]) -> None:
        if self._emit_team_events:
            usage, self._last_selection_usage = self._last_selection_usage, None
            self._output_message_queue.put_nowait(
                SelectSpeakerEvent(content=speaker_names, source=self._name, models_usage=usage)
            )

    _last_selection_usage: RequestUsage | None = None


class SelectorGroupChatConfig(BaseModel):
    """Declarative spec of a :class:`SelectorGroupChat` (functions are not serialisable)."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    name: str | None = None
    description: str | None = None
    participants: list[ComponentModel]
    model_client: ComponentModel
    termination_condition: ComponentModel | None = None
    max_turns: int | None = None
    selector_prompt: str
    allow_repeated_speaker: bool
    max_selector_attempts: int = 3
    emit_team_events: bool = False
    model_client_streaming: bool = False
    model_context: ComponentModel | None = None


class SelectorGroupChat(BaseGroupChat, Component[SelectorGroupChatConfig]):
    """A team where a model reads the conversation and names the next speaker.

    Each turn, ``selector_func`` (when given and it returns a name) decides; otherwise the
    candidates (``candidate_func``'s list, or everyone but the previous speaker unless
    ``allow_repeated_speaker``) are offered to ``model_client`` through
    ``selector_prompt`` (placeholders ``{roles}``, ``{participants}``, ``{history}``). A
    reply naming no single valid candidate is re-prompted with feedback, up to
    ``max_selector_attempts`` calls; then the previous speaker (or the first candidate)
    speaks. With ``emit_team_events`` the ``SelectSpeakerEvent`` carries the selector
    model's token usage for that turn.

    Args:
        participants: At least two agents and/or teams, with unique names.
        model_client: The model that selects speakers.
        name: The team's name; defaults to ``"SelectorGroupChat"``.
        description: What the team does.
        termination_condition: When to stop.
        max_turns: Stop after this many turns.
        runtime: A caller-managed runtime to run on.
        selector_prompt: The selection prompt template.
        allow_repeated_speaker: Whether the previous speaker may be selected again.
        max_selector_attempts: Model calls allowed per selection.
        selector_func: Overrides the model when it returns a name.
        candidate_func: Narrows the names the model may choose from.
        custom_message_types: Extra message classes the participants exchange.
        emit_team_events: Also stream ``SelectSpeakerEvent`` (and, when streaming, the
            selector model's chunks).
        model_client_streaming: Call the selector model in streaming mode.
        model_context: Bounds what the selector sees of the conversation.
    """

    component_config_schema = SelectorGroupChatConfig
    component_provider_override = "muster.teams.SelectorGroupChat"

    DEFAULT_NAME = "SelectorGroupChat"
    DEFAULT_DESCRIPTION = "A team of agents."

    def __init__(
        self,
        participants: list[ChatAgent | Team],
        model_client: ChatCompletionClient,
        *,
        name: str | None = None,
        description: str | None = None,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
        runtime: AgentRuntime | None = None,
        selector_prompt: str = DEFAULT_SELECTOR_PROMPT,
        allow_repeated_speaker: bool = False,
        max_selector_attempts: int = 3,
        selector_func: SelectorFuncType | None = None,
        candidate_func: CandidateFuncType | None = None,
        custom_message_types: list[type[BaseAgentEvent | BaseChatMessage]] | None = None,
        emit_team_events: bool = False,
        model_client_streaming: bool = False,
        model_context: ChatCompletionContext | None = None,
    ) -> None:
        if len(participants) < 2:
            raise ValueError("SelectorGroupChat needs at least two participants.")
        if max_selector_attempts < 1:
            raise ValueError("max_selector_attempts must be at least 1")
        super().__init__(
            name=name or self.DEFAULT_NAME,
            description=description or self.DEFAULT_DESCRIPTION,
            participants=participants,
            group_chat_manager_name="SelectorGroupChatManager",
            group_chat_manager_class=SelectorGroupChatManager,
            termination_condition=termination_condition,
            max_turns=max_turns,
            runtime=runtime,
            custom_message_types=custom_message_types,
            emit_team_events=emit_team_events,
        )
        self._model_client = model_client
        self._selector_prompt = selector_prompt
        self._allow_repeated_speaker = allow_repeated_speaker
        self._max_selector_attempts = max_selector_attempts
        self._selector_func = selector_func
        self._candidate_func = candidate_func
        self._model_client_streaming = model_client_streaming
        self._model_context = model_context

    def _create_group_chat_manager_factory(
        self, wiring: GroupChatWiring
    ) -> Callable[[], SelectorGroupChatManager]:
        def _factory() -> SelectorGroupChatManager:
            return SelectorGroupChatManager(
                wiring,
                model_client=self._model_client,
                selector_prompt=self._selector_prompt,
                allow_repeated_speaker=self._allow_repeated_speaker,
                selector_func=self._selector_func,
                max_selector_attempts=self._max_selector_attempts,
                candidate_func=self._candidate_func,
                model_context=self._model_context,
                model_client_streaming=self._model_client_streaming,
            )

        return _factory

    def _to_config(self) -> SelectorGroupChatConfig:
        return SelectorGroupChatConfig(
            **self._common_config_fields(),
            model_client=self._model_client.dump_component(),
            selector_prompt=self._selector_prompt,
            allow_repeated_speaker=self._allow_repeated_speaker,
            max_selector_attempts=self._max_selector_attempts,
            model_client_streaming=self._model_client_streaming,
            model_context=self._model_context.dump_component() if self._model_context else None,
        )

    @classmethod
    def _from_config(cls, config: SelectorGroupChatConfig) -> Self:
        return cls(
            load_participants(config.participants),
            ChatCompletionClient.load_component(config.model_client),
            name=config.name,
            description=config.description,
            termination_condition=load_termination(config.termination_condition),
            max_turns=config.max_turns,
            selector_prompt=config.selector_prompt,
            allow_repeated_speaker=config.allow_repeated_speaker,
            max_selector_attempts=config.max_selector_attempts,
            emit_team_events=config.emit_team_events,
            model_client_streaming=config.model_client_streaming,
            model_context=(
                ChatCompletionContext.load_component(config.model_context) if config.model_context else None
            ),
        )
