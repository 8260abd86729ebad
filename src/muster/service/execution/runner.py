"""RunRunner: one run, start to end (docs/service.md, "A run, start to end").

1. **Claim** the run (``pending`` -> ``running``); ``None`` means someone else has it.
2. **Build** the team from the run's spec version (``build.py``: recorded model clients,
   service user proxies, an agent alone in a one-turn round robin).
3. **Start** from the run's last checkpoint (a resumed run: ``run()`` with no task), or
   from the state the thread's previous run left, then ``run(task=...)``.
4. At every **turn boundary** the hook writes the turn (messages, delta or full state)
   in one transaction, notifies the run's streams, heartbeats now and then and checks
   whether a stop was requested. The last boundary is written with the run's end, in
   the transaction that sets its status. The task's boundary (turn 0) and model answers
   that call no tool are held briefly and written with the next write (``_held.py``).
5. **End** with a status: ``succeeded``; ``interrupted`` (a handoff to someone outside
   the team, a user proxy asking for input, or the ``interrupt`` strategy); ``cancelled``;
   ``failed`` with a :class:`RunError` (type, message, agent: never a stack trace), also
   when ``agents.timeout`` passes (``RunTimeout``). A run given back (drain) goes back to
   ``pending`` and resumes elsewhere from its last checkpoint. A run rolled back or taken
   over by another worker (the store refuses this runner's writes) is left alone: the
   store or the other worker writes its end.

Stops come from outside through :meth:`RunRunner.request_stop`. ``cancel``, ``rollback``,
``timeout``, ``release`` and ``lost`` cancel the run's token at once: the turn in progress
is asked to stop, and since only finished turns are ever written, the run's stored state
is its last boundary. ``interrupt`` waits for the next boundary, keeping the turn.

Tools are at-least-once: a turn redone after a crash calls its tools again. The
idempotency key of a tool call is ``f"{run_id}:{call_id}"``: ``call_id`` is the model's id
for the call (``BaseTool.run_json(..., call_id=)``; the same on a redo, since the model
response is replayed) and the run id is ``muster.models.usage.current_usage_scope().run_id``
inside the tool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from muster.core import CancellationToken
from muster.messages import BaseChatMessage, HandoffMessage, MessageFactory, TextMessage
from muster.models.usage import usage_scope
from muster.teams import BaseGroupChat, Swarm, TurnCheckpoint
from muster.teams.exceptions import ParticipantError, TurnHookError

from ..exceptions import ConflictError, StoreUnavailableError
from ..logs import log_context, log_run_transition
from ..models import Run, RunError, RunStatus
from ..settings import AgentsSettings
from ..store.base import STOP_INTERRUPT, STOP_ROLLBACK, RunStart, Store, TurnWrite
from ..timeline import TurnTimings
from ..tracing import ServiceTracing, trace_run
from ._context import BuildContext
from ._held import HeldWrites
from ._runstart import StartPlan, last_message, plan_start
from .build import build_team, release_team
from .human import HumanInput, input_stop_reason

if TYPE_CHECKING:
    from ..metrics import ServiceMetrics

__all__ = ["IMMEDIATE_STOPS", "RunRunner", "StopReason"]

logger = logging.getLogger("muster.service.runs")

StopReason = str
"""``cancel``, ``rollback``, ``interrupt``, ``timeout``, ``input``, ``release`` or ``lost``."""

IMMEDIATE_STOPS = frozenset({"cancel", "rollback", "timeout", "input", "release", "lost"})
"""Stops that cancel the turn in progress; ``interrupt`` waits for the next boundary."""


def normalize_reason(reason: str) -> StopReason:
    """The stop a store's stop request stands for (anything unknown is a cancel)."""
    return reason if reason in (STOP_INTERRUPT, STOP_ROLLBACK) else "cancel"


class RunRunner:
    """Executes one run (see the module docstring).

    Args:
        store: The service store.
        run_id: The run.
        worker: This process's name (``host:pid``), recorded as the run's worker.
        agents: Limits: ``timeout`` and ``retry_attempts``.
        notify: Called with the run id after every write, to wake the run's streams.
        heartbeat_seconds: How often the run is marked alive while a turn is long.
        takeover_after: Claim the run even if it is ``running``, when its heartbeat is this
            many seconds old (its worker died: this one takes it over); ``None``: never.
        full_state_every: A full state every this many turns (deltas in between).
        thread_id: The run's thread, when the caller knows it (executors group by it).
        metrics: The process's ``ServiceMetrics`` (turns, replays, queue wait, run time), or ``None``.
        response_cache: The process's shared response cache (``cache.type``), or ``None``.
        tracing: The process's tracing (the run's span, its turns and calls), or ``None``.
    """

    def __init__(
        self,
        store: Store,
        run_id: str,
        *,
        worker: str,
        agents: AgentsSettings,
        notify: Any = None,
        heartbeat_seconds: float = 5.0,
        takeover_after: float | None = None,
        full_state_every: int = 10,
        thread_id: str | None = None,
        metrics: ServiceMetrics | None = None,
        response_cache: Any = None,
        tracing: ServiceTracing | None = None,
    ) -> None:
        self.store = store
        self._tracing = tracing
        self.run_id = run_id
        self.thread_id = thread_id
        self.worker = worker
        self.agents = agents
        self._notify = notify
        self._metrics = metrics
        self._response_cache = response_cache
        self._context: BuildContext | None = None
        self._replays_seen = 0
        self._heartbeat_seconds = heartbeat_seconds
        self._takeover_after = takeover_after
        self._full_state_every = full_state_every
        self._token: CancellationToken | None = None
        self._human: HumanInput | None = None
        self.stop_reason: StopReason | None = None
        self.turns_written = 0
        self.replayed_calls = 0
        self.model_calls = 0
        self._last_beat = 0.0
        self._timings = TurnTimings()  # each turn's spans, written with it (the run's timeline)
        self._last_turn: TurnWrite | None = None  # the last boundary, written with the run's end
        self._held: HeldWrites | None = None  # the task's boundary and answers, held briefly

    # ------------------------------------------------------------------ control

    def request_stop(self, reason: StopReason) -> None:
        """Stop the run: at once for most reasons, at the next boundary for ``interrupt``.

        The first reason wins, except that an immediate stop overrides a pending
        ``interrupt`` (a cancel must not wait for the boundary an interrupt waits for).
        """
        if self.stop_reason is not None and not (
            self.stop_reason == "interrupt" and reason in IMMEDIATE_STOPS
        ):
            return
        self.stop_reason = reason
        if reason in IMMEDIATE_STOPS and self._token is not None:
            self._token.cancel()
            if self._human is not None:
                self._human.abandon()

    async def check_stop(self) -> None:
        """Read the store's stop request for the run and act on it (a poke from the API)."""
        requested = await self.store.stop_requested(self.run_id)
        if requested:
            self.request_stop(normalize_reason(requested))

    # ------------------------------------------------------------------ the run

    async def execute(self) -> Run | None:
        """Run it to its end; returns the run as it ended, or ``None`` if not claimed.

        A run given back (``release``) or lost to another worker (taken over, rolled back)
        returns ``None`` too: its end is someone else's to write.
        """
        stale_before = None
        if self._takeover_after is not None:  # a run its dead worker left running is taken over
            stale_before = datetime.now(UTC) - timedelta(seconds=self._takeover_after)
        claimed = await self.store.claim_run_start(self.run_id, self.worker, stale_before=stale_before)
        if claimed is None:
            return None
        run, start = claimed
        self.thread_id = run.thread_id
        started = time.monotonic()
        with (
            log_context(run_id=run.id, thread_id=run.thread_id, spec=run.spec, worker=self.worker),
            trace_run(self._tracing, run) as trace,
        ):
            log_run_transition(run, RunStatus.PENDING, RunStatus.RUNNING)
            if self._metrics is not None and run.attempt == 1 and run.started_at is not None:
                self._metrics.observe_queue_wait((run.started_at - run.created_at).total_seconds())
            heartbeat = asyncio.create_task(self._heartbeat_loop(), name=f"heartbeat {self.run_id}")
            timer = asyncio.get_running_loop().call_later(self.agents.timeout, self.request_stop, "timeout")
            try:
                return trace.ended(await self._run(run, start, started))
            finally:
                timer.cancel()
                heartbeat.cancel()

    async def _run(self, run: Run, start: RunStart, started: float) -> Run | None:
        plan = await plan_start(self.store, run, start)
        self._token = CancellationToken()
        if self.stop_reason in IMMEDIATE_STOPS:
            self._token.cancel()
        self._human = HumanInput(plan.answer, lambda agent: self.request_stop("input"))
        held = self._held = HeldWrites(self.store, run.id, self._after_write)
        context = self._context = BuildContext(
            store=self.store,
            run_id=run.id,
            human=self._human,
            metrics=self._metrics,
            response_cache=self._response_cache,
            fresh=run.attempt == 1 and run.turns == 0,
            held=held,
        )
        spec = await self.store.get_spec(run.spec, run.spec_version)
        try:
            team = build_team(spec.component, context, retry_attempts=self.agents.retry_attempts)
        except Exception as exc:
            return await self._fail(run, exc, started)
        try:
            return await self._drive(run, team, plan, started)
        finally:
            self.replayed_calls = sum(client.replayed for client in context.clients)
            self.model_calls = sum(client.recorded for client in context.clients)
            await held.close()
            await release_team(team, context)

    async def _drive(self, run: Run, team: BaseGroupChat, plan: StartPlan, started: float) -> Run | None:
        if plan.finished:
            # Crashed between its last turn and its status: only the status is missing.
            status = RunStatus.SUCCEEDED
            last = await last_message(self.store, run.id)
            if last is not None and last.get("type") == "HandoffMessage":
                if last.get("target") not in {p.name for p in team.participants}:
                    status = RunStatus.INTERRUPTED
            stored = await self.store.get_run(run.id)
            return await self._end(run, status, stored.stop_reason, started)
        try:
            if plan.state is not None:
                await team.load_state(plan.state)
            task = _task_messages(plan, team)
        except Exception as exc:  # a state or task this spec cannot take
            return await self._fail(run, exc, started)
        team.turn_hook = self._on_turn
        current = asyncio.current_task()
        try:
            with usage_scope(run_id=run.id), self._timings.recording():
                result = await team.run(task=task, cancellation_token=self._token, run_id=run.id)
        except asyncio.CancelledError:
            if self.stop_reason is None or (current is not None and current.cancelling()):
                raise  # cancelled from outside the runner: not a stop of ours
            return await self._end(run, None, None, started)
        except TurnHookError as exc:
            if isinstance(exc.error, StoreUnavailableError):
                # Not the run's failure: the executor gives it back and it resumes later.
                raise exc.error from exc
            if isinstance(exc.error, ConflictError):
                # The store refused the write: taken over, rolled back or cancelled meanwhile.
                self.stop_reason = "lost"
                return await self._end(run, None, None, started)
            return await self._fail(run, exc.error, started)
        except Exception as exc:
            return await self._fail(run, exc, started)
        # A stop that came too late (the run reached its end first) is moot.
        self.stop_reason = None
        status = RunStatus.INTERRUPTED if _handed_off_outside(result.messages, team) else RunStatus.SUCCEEDED
        return await self._end(run, status, result.stop_reason, started)

    # ------------------------------------------------------------------ boundaries

    async def _on_turn(self, checkpoint: TurnCheckpoint) -> None:
        finished = checkpoint.status == "finished"
        full = (
            self.turns_written == 0
            or finished
            or checkpoint.delta is None
            or checkpoint.turn % self._full_state_every == 0
        )
        write = TurnWrite(
            run_id=self.run_id,
            turn=checkpoint.turn,
            messages=[message.dump() for message in checkpoint.messages],
            state=checkpoint.state if full else None,
            delta=checkpoint.delta,
            finished=finished,
            stop_reason=checkpoint.stop_reason,
            worker=self.worker,
            events=[self._timings.turn_event(checkpoint.turn)],
        )
        if finished:
            # The last boundary is written with the run's end, in one transaction
            # (``_finish``): the status is known once ``run()`` returns, right after.
            # Until then nothing follows it that could be lost: a crash in between redoes
            # the turn from the last checkpoint, replaying its recorded model answers.
            self._last_turn = write
            self._count_turn()
            return
        held = self._held
        if held is not None and checkpoint.turn == 0 and self.stop_reason is None:
            held.hold_turn(write)  # the task's boundary goes with the next write (``_held.py``)
            self._count_turn()
            return
        if held is not None:
            earlier, responses = await held.take()
            if earlier is not None or responses:
                state = checkpoint.state if earlier is not None else write.state
                earlier_turns = (earlier,) if earlier is not None else ()
                write = replace(write, earlier=earlier_turns, responses=responses, state=state)
        requested = await self.store.record_turn(write)
        self._count_turn()
        await self._after_write(requested)

    async def _after_write(self, requested: str | None) -> None:
        """After a boundary's write: wake the streams, take up a stop the store returned."""
        await self._publish()
        if self.stop_reason is None and requested:
            self.request_stop(normalize_reason(requested))
        if self.stop_reason == "interrupt" and self._token is not None:
            self._token.cancel()  # after the write: the boundary is where the next run starts
        self._last_beat = time.monotonic()  # record_turn heartbeats too

    def _count_turn(self) -> None:
        self.turns_written += 1
        if self._metrics is not None:
            replays = self._replays()
            self._metrics.turn(replayed=replays > self._replays_seen)
            self._replays_seen = replays

    def _replays(self) -> int:
        context = self._context
        return sum(client.replayed for client in context.clients) if context is not None else 0

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_seconds)
            if time.monotonic() - self._last_beat >= self._heartbeat_seconds / 2:
                await self._beat()

    async def _beat(self) -> None:
        self._last_beat = time.monotonic()
        try:
            alive = await self.store.heartbeat(self.run_id, self.worker)
        except Exception:
            logger.warning("heartbeat of run %s failed", self.run_id, exc_info=True)
            return
        if not alive:
            self.request_stop("lost")

    async def _publish(self, *, ended: bool = False) -> None:
        if self._notify is None:
            return
        try:
            await self._notify(self.run_id, ended=ended)
        except Exception:  # streams also poll: a lost wake-up only delays them
            logger.warning("could not notify the streams of run %s", self.run_id, exc_info=True)

    # ------------------------------------------------------------------ endings

    async def _fail(self, run: Run, exc: BaseException, started: float) -> Run | None:
        if isinstance(exc, ParticipantError):
            error = RunError(type=exc.error_type, message=exc.detail, agent=exc.agent_name)
        else:
            error = RunError(type=type(exc).__name__, message=str(exc))
        return await self._finish(run, RunStatus.FAILED, None, error, started)

    async def _end(
        self, run: Run, status: RunStatus | None, stop_reason: str | None, started: float
    ) -> Run | None:
        reason = self.stop_reason
        error: RunError | None = None
        if status is None:
            if reason in ("release", "lost", "rollback"):
                # Given back, taken over, or rolled back (the store already ended it).
                if self._held is not None:
                    if reason == "release":
                        with contextlib.suppress(ConflictError):
                            await self._held.flush()  # what it held is where it resumes
                    self._held.drop()
                if reason == "release" and await self.store.release_run(run.id, self.worker):
                    await self._publish()
                    log_run_transition(run, RunStatus.RUNNING, RunStatus.PENDING, duration_ms=_ms(started))
                elif reason != "release":
                    logger.warning("run %s was %s: this worker stops", run.id, _LEFT[str(reason)])
                return None
            if reason == "timeout":
                status = RunStatus.FAILED
                error = RunError(
                    type="RunTimeout", message=f"the run took longer than {self.agents.timeout:g} s"
                )
            elif reason == "interrupt":
                status, stop_reason = RunStatus.INTERRUPTED, "Interrupted by a newer run on the thread."
            elif reason == "input":
                requester = self._human.requested_by if self._human is not None else None
                status, stop_reason = RunStatus.INTERRUPTED, input_stop_reason(requester or "user")
            else:
                status, stop_reason = RunStatus.CANCELLED, "Cancelled."
        return await self._finish(run, status, stop_reason, error, started)

    async def _finish(
        self, run: Run, status: RunStatus, stop_reason: str | None, error: RunError | None, started: float
    ) -> Run | None:
        last, self._last_turn = self._last_turn, None
        try:
            if self._held is not None and last is not None:
                earlier, responses = await self._held.take()
                if earlier is not None or responses:
                    earlier_turns = (earlier,) if earlier is not None else ()
                    last = replace(last, earlier=earlier_turns, responses=responses)
            elif self._held is not None:
                await self._held.flush()  # a run that ends without a last boundary keeps what it held
            ended = await self.store.finish_run(
                run.id, status, stop_reason=stop_reason, error=error, worker=self.worker, turn=last
            )
        except ConflictError:
            logger.warning("run %s was ended or taken over meanwhile: this worker stops", run.id)
            return None
        await self._publish(ended=True)
        log_run_transition(ended, RunStatus.RUNNING, status, duration_ms=_ms(started), error=error)
        if self._metrics is not None:
            self._metrics.observe_run(time.monotonic() - started)
        return ended


def _task_messages(plan: StartPlan, team: BaseGroupChat) -> list[BaseChatMessage] | None:
    if not plan.task:
        return None
    factory = MessageFactory()
    messages: list[BaseChatMessage] = []
    for data in plan.task:
        message = factory.create(dict(data))
        if not isinstance(message, BaseChatMessage):
            raise ValueError(f"a task holds chat messages, not {type(message).__name__}")
        messages.append(message)
    if plan.handoff_back is not None and isinstance(team, Swarm) and len(messages) == 1:
        only = messages[0]
        if isinstance(only, TextMessage):
            human, agent = plan.handoff_back
            messages = [HandoffMessage(content=only.content, source=human, target=agent)]
    return messages


def _handed_off_outside(messages: Sequence[Any], team: BaseGroupChat) -> bool:
    """Whether the run ended on a handoff to someone outside the team (a human)."""
    if not messages or not isinstance(messages[-1], HandoffMessage):
        return False
    return messages[-1].target not in {p.name for p in team.participants}


_LEFT = {"lost": "taken over by another worker", "rollback": "rolled back by a newer run"}


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
