"""The MagenticOne orchestrator: plans with a task ledger, steers each turn with a progress ledger.

Outer loop: write a fact sheet and a plan (the *task ledger*), reset every participant and
show them the ledger. Inner loop, after every turn: ask the model for a *progress ledger*
(is the request satisfied? are we looping? progressing? who speaks next, told what?). A
satisfied request gets a final answer; ``max_stalls`` stalled turns in a row (net of
progress) send the orchestrator back to the outer loop with an updated fact sheet and a
new plan.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from muster.base import Response
from muster.base.exceptions import StateError
from muster.core import TRACE_LOGGER_NAME, AgentId, CancellationToken, MessageContext, event
from muster.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    SelectSpeakerEvent,
    StopMessage,
    TextMessage,
)
from muster.models import AssistantMessage, ChatCompletionClient, LLMMessage, UserMessage
from muster.state import MagenticOneOrchestratorState
from muster.utils import remove_images

from .._group_chat._base_group_chat_manager import BaseGroupChatManager
from .._group_chat._events import (
    GroupChatAgentResponse,
    GroupChatReset,
    GroupChatStart,
    GroupChatTeamResponse,
    SerializableException,
)
from .._group_chat._wiring import GroupChatWiring
from ._ledger import LedgerEntry, parse_progress_ledger
from ._prompts import (
    FACTS_PROMPT,
    FACTS_UPDATE_PROMPT,
    LEDGER_RETRY_PROMPT,
    PLAN_PROMPT,
    PLAN_UPDATE_PROMPT,
    PROGRESS_LEDGER_PROMPT,
    TASK_LEDGER_PROMPT,
)
from .exceptions import LedgerError

__all__ = ["MAX_LEDGER_ATTEMPTS", "MagenticOneOrchestrator"]

MAX_LEDGER_ATTEMPTS = 10
"""How many times the model is asked for a usable progress ledger before the run fails."""

_trace = logging.getLogger(TRACE_LOGGER_NAME)


class MagenticOneOrchestrator(BaseGroupChatManager):
    """Drives a MagenticOne team; see the module docstring for the loop.

    Unlike the other managers it calls a model itself and talks to the team: its
    ledger, instructions and final answer are chat messages from ``name`` that every
    participant sees and that appear in the run's output.
    """

    state_type = MagenticOneOrchestratorState

    def __init__(
        self,
        wiring: GroupChatWiring,
        *,
        model_client: ChatCompletionClient,
        max_stalls: int,
        final_answer_prompt: str,
    ) -> None:
        super().__init__(wiring)
        self._model_client = model_client
        self._max_stalls = max_stalls
        self._final_answer_prompt = final_answer_prompt
        self._team_description = "\n".join(
            re.sub(r"\s+", " ", f"{n}: {d}").strip()
            for n, d in zip(wiring.participant_names, wiring.participant_descriptions, strict=True)
        )
        self._task = ""
        self._facts = ""
        self._plan = ""
        self._n_rounds = 0
        self._n_stalls = 0

    # ----------------------------------------------------------------- handlers

    async def _start_run(self, message: GroupChatStart, token: CancellationToken) -> None:
        """Plan for a new task, or continue the current task when none is given."""
        if not message.messages and not self._task:
            raise ValueError("MagenticOneGroupChat needs a task to start; there is none to continue.")
        # max_turns budgets each run, as with the other teams (the count is not carried over).
        self._n_rounds = 0
        if not message.messages:
            await self._orchestrate_step(token)
            return
        if message.output_task_messages:
            for msg in message.messages:
                await self._log_message(msg)
        self._task = " ".join(m.to_model_text() for m in message.messages)
        await self._create_task_ledger(token)
        self._n_stalls = 0
        await self._reenter_outer_loop(token)

    async def _next_step(self, token: CancellationToken) -> None:
        await self._orchestrate_step(token)

    @event
    async def handle_agent_response(  # type: ignore[override]
        self, message: GroupChatAgentResponse | GroupChatTeamResponse, ctx: MessageContext
    ) -> None:
        """Record the speaker's answer, check the termination condition, then take the next step."""
        if self._status != "active":
            return
        try:
            if not isinstance(message, GroupChatAgentResponse):
                raise RuntimeError("MagenticOneGroupChat does not support teams as participants.")
            response = message.response
            delta: list[BaseAgentEvent | BaseChatMessage] = [
                *(response.inner_messages or ()),
                response.chat_message,
            ]
            # Only the final message joins the thread: the orchestrator's model reasons over
            # what participants said, not over their tool-call traffic.
            await self.update_message_thread([response.chat_message])
            if message.name in self._active_speakers:
                self._active_speakers.remove(message.name)
            if self._termination_condition is not None:
                stop = await self._termination_condition(delta)
                if stop is not None:
                    await self._finish_run(stop)
                    return
            await self._orchestrate_step(ctx.cancellation_token)
        except Exception as exc:
            await self._signal_termination_with_error(SerializableException.from_exception(exc))

    # ----------------------------------------------------------------- the loops

    async def _create_task_ledger(self, token: CancellationToken) -> None:
        conversation: list[LLMMessage] = [
            UserMessage(content=FACTS_PROMPT.format(task=self._task), source=self._name)
        ]
        self._facts = await self._ask(conversation, token)
        conversation.append(AssistantMessage(content=self._facts, source=self._name))
        conversation.append(
            UserMessage(content=PLAN_PROMPT.format(team=self._team_description), source=self._name)
        )
        self._plan = await self._ask(conversation, token)

    async def _update_task_ledger(self, token: CancellationToken) -> None:
        conversation = self._thread_as_context()
        conversation.append(
            UserMessage(
                content=FACTS_UPDATE_PROMPT.format(task=self._task, facts=self._facts), source=self._name
            )
        )
        self._facts = await self._ask(conversation, token)
        conversation.append(AssistantMessage(content=self._facts, source=self._name))
        conversation.append(
            UserMessage(content=PLAN_UPDATE_PROMPT.format(team=self._team_description), source=self._name)
        )
        self._plan = await self._ask(conversation, token)

    async def _reenter_outer_loop(self, token: CancellationToken) -> None:
        """Start over with the current task ledger: fresh participants, fresh thread."""
        for topic_type in self._participant_name_to_topic_type.values():
            await self.send_message(
                GroupChatReset(), recipient=AgentId(topic_type, self.id.key), cancellation_token=token
            )
        self._message_thread.clear()
        ledger = TextMessage(
            content=TASK_LEDGER_PROMPT.format(
                task=self._task, team=self._team_description, facts=self._facts, plan=self._plan
            ),
            source=self._name,
        )
        await self._say(ledger, token)
        await self._orchestrate_step(token)

    async def _orchestrate_step(self, token: CancellationToken) -> None:
        """One inner-loop step: judge progress, then finish, re-plan, or hand the next turn out.

        The turn boundary comes after the instruction is given and before the speaker is
        asked, so a run resumed from it asks that speaker without calling the model again.
        """
        if token.is_cancelled():
            return
        if self._max_turns is not None and self._n_rounds >= self._max_turns:
            await self._finish("Max rounds reached.", token)
            return
        self._n_rounds += 1
        ledger = await self._progress_ledger(token)
        if ledger.is_request_satisfied.answer:
            await self._finish(ledger.is_request_satisfied.reason, token)
            return
        if not ledger.is_progress_being_made.answer or ledger.is_in_loop.answer:
            self._n_stalls += 1
        else:
            self._n_stalls = max(0, self._n_stalls - 1)
        if self._n_stalls >= self._max_stalls:
            _trace.debug("Stalled %d times; updating the task ledger and re-planning", self._n_stalls)
            await self._update_task_ledger(token)
            # A new plan deserves a fresh stall budget, or one more stall would re-plan at once.
            self._n_stalls = 0
            await self._reenter_outer_loop(token)
            return
        speaker = ledger.next_speaker.answer
        await self._say(TextMessage(content=ledger.instruction_or_question.answer, source=self._name), token)
        if self._emit_team_events:
            await self._log_message(SelectSpeakerEvent(content=[speaker], source=self._name))
        self._active_speakers = [speaker]
        await self._turn_boundary()
        if token.is_cancelled():
            return
        await self._request_turns([speaker], token)

    async def _progress_ledger(self, token: CancellationToken) -> LedgerEntry:
        """Ask for the progress ledger, feeding each unusable answer back with what was wrong."""
        context = self._thread_as_context()
        context.append(
            UserMessage(
                content=PROGRESS_LEDGER_PROMPT.format(
                    task=self._task, team=self._team_description, names=", ".join(self._participant_names)
                ),
                source=self._name,
            )
        )
        info = self._model_client.model_info
        json_output: bool | type[LedgerEntry] | None = None
        if info.get("structured_output", False):
            json_output = LedgerEntry
        elif info.get("json_output", False):
            json_output = True
        answer, problem = "", ""
        for attempt in range(1, MAX_LEDGER_ATTEMPTS + 1):
            answer = await self._ask(context, token, json_output=json_output)
            try:
                ledger = parse_progress_ledger(answer, self._participant_names)
            except ValueError as exc:
                problem = str(exc)
                _trace.debug("Unusable progress ledger (attempt %d): %s", attempt, problem)
                context.append(AssistantMessage(content=answer, source=self._name))
                context.append(
                    UserMessage(content=LEDGER_RETRY_PROMPT.format(error=problem), source=self._name)
                )
                continue
            _trace.debug("Progress ledger: %s", ledger.model_dump_json())
            return ledger
        raise LedgerError(MAX_LEDGER_ATTEMPTS, answer, problem)

    async def _finish(self, reason: str, token: CancellationToken) -> None:
        context = self._thread_as_context()
        # A literal replace, not str.format: custom prompts may contain braces of their own.
        context.append(
            UserMessage(content=self._final_answer_prompt.replace("{task}", self._task), source=self._name)
        )
        answer = await self._ask(context, token)
        await self._say(TextMessage(content=answer, source=self._name), token)
        await self._finish_run(StopMessage(content=reason, source=self._name))

    # ----------------------------------------------------------------- helpers

    async def _ask(
        self,
        messages: Sequence[LLMMessage],
        token: CancellationToken,
        *,
        json_output: bool | type[LedgerEntry] | None = None,
    ) -> str:
        if not self._model_client.model_info["vision"]:
            messages = remove_images(messages)
        result = await self._model_client.create(messages, json_output=json_output, cancellation_token=token)
        if not isinstance(result.content, str):
            raise TypeError("The orchestrator's model answered with tool calls; it must answer with text.")
        return result.content

    async def _say(self, message: TextMessage, token: CancellationToken) -> None:
        """Add an orchestrator message to the thread, the run's output and every participant's buffer."""
        await self.update_message_thread([message])
        await self._log_message(message)
        await self.publish_message(
            GroupChatAgentResponse(response=Response(chat_message=message), name=self._name),
            topic_id=self._topic(self._group_topic_type),
            cancellation_token=token,
        )

    def _thread_as_context(self) -> list[LLMMessage]:
        """The thread from the orchestrator model's point of view: its own words are its turns."""
        context: list[LLMMessage] = []
        for message in self._message_thread:
            if not isinstance(message, BaseChatMessage):
                continue
            if message.source == self._name:
                context.append(AssistantMessage(content=message.to_model_text(), source=self._name))
            else:
                context.append(message.to_model_message())
        return context

    # ----------------------------------------------------------------- manager hooks

    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        """Any task is accepted; continuing needs an earlier task (checked in handle_start)."""

    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str]:
        """Unused: the progress ledger picks each speaker (see ``_orchestrate_step``)."""
        return []

    async def reset(self) -> None:
        await self._reset_base()
        self._task = self._facts = self._plan = ""
        self._n_rounds = 0
        self._n_stalls = 0

    def _state_fields(self) -> dict[str, Any]:
        return {
            "task": self._task,
            "facts": self._facts,
            "plan": self._plan,
            "n_rounds": self._n_rounds,
            "n_stalls": self._n_stalls,
        }

    def _check_state(self, state: Any) -> None:
        if state.n_rounds < 0 or state.n_stalls < 0:
            raise StateError(f"{self._name}.n_rounds/n_stalls: must not be negative")

    def _apply_state(self, state: Any) -> None:
        self._task = state.task
        self._facts = state.facts
        self._plan = state.plan
        self._n_rounds = state.n_rounds
        self._n_stalls = state.n_stalls
