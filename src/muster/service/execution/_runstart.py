"""Where a run starts: its own last checkpoint, or the state its thread's previous run left.

Three cases, decided from the store alone (so any worker decides the same way):

- **Resumed run** (it has checkpoints: a crash or a drain gave it back): its last
  checkpoint's state, no task: ``run()`` continues exactly there. If that checkpoint
  was the run's last boundary, only its status is missing.
- **Answer to a human-in-the-loop stop**: the thread's previous run ended ``interrupted``
  because a user proxy asked for input, and this run's task is one text message: the
  text is the proxy's answer, and the previous run's state is resumed (no task), so the
  proxy's turn, which was cancelled when it asked, is asked again and gets it.
- **New run**: the state the thread's previous run left, and this run's task.

A handoff to a human (``HandoffTermination``) ends the previous run normally; for a
Swarm, a plain-text answer becomes a ``HandoffMessage`` back to the agent that handed off
(a Swarm resumes only on a handoff to one of its participants).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from muster.messages import HandoffMessage, TextMessage

from ..models import Run, RunStatus
from ..store.base import RunStart, Store
from .human import input_requester

__all__ = ["StartPlan", "last_message", "plan_start", "text_task"]


@dataclass(frozen=True, slots=True)
class StartPlan:
    """What :func:`plan_start` decided."""

    state: Mapping[str, Any] | None
    """The team state to load first (``None``: a fresh team)."""
    task: list[Mapping[str, Any]] | None
    """The task messages (``None``: resume the loaded state)."""
    answer: str | None = None
    """Input waiting for the user proxy that stopped the previous run."""
    handoff_back: tuple[str, str] | None = None
    """``(human, agent)`` when the previous run handed off to a human: a Swarm's answer
    goes back to ``agent`` as a handoff from ``human``."""
    finished: bool = False
    """The run's last boundary is already written (it crashed before its status was)."""


def text_task(text: str) -> list[dict[str, Any]]:
    """A task of one ``TextMessage`` from ``user``: what a plain-text task means."""
    return [dict(TextMessage(content=text, source="user").dump())]


def _single_text(task: Sequence[Mapping[str, Any]] | None) -> str | None:
    if task and len(task) == 1 and task[0].get("type") in ("TextMessage", "HandoffMessage"):
        content = task[0].get("content")
        return content if isinstance(content, str) else None
    return None


async def last_message(store: Store, run_id: str) -> Mapping[str, Any] | None:
    last: Mapping[str, Any] | None = None
    after = 0
    while True:
        events = await store.read_events(run_id, after=after)
        if not events:
            return last
        for event in events:
            if event.event == "message":
                last = event.data
        after = events[-1].seq


async def _answered(store: Store, run_id: str, agent: str) -> bool:
    """Whether the run's stored messages already hold a turn of ``agent`` (its answer used)."""
    after = 0
    while True:
        events = await store.read_events(run_id, after=after)
        if not events:
            return False
        if any(e.event == "message" and e.data.get("source") == agent for e in events):
            return True
        after = events[-1].seq


async def plan_start(store: Store, run: Run, start: RunStart | None = None) -> StartPlan:
    """Decide where ``run`` starts (see the module docstring); ``start``: read with the claim."""
    if start is None:
        start = await store.run_start(run.id)
    task, previous = start.task, start.previous
    requester = None
    if previous is not None and previous.status is RunStatus.INTERRUPTED:
        requester = input_requester(previous.stop_reason)
    answer = _single_text(task) if requester else None

    # A run that wrote no turn has no checkpoint: most runs, asked nothing more here.
    checkpoint = await store.latest_checkpoint(run.id) if run.turns else None
    if checkpoint is not None:
        if answer is not None and requester is not None and await _answered(store, run.id, requester):
            answer = None
        return StartPlan(state=checkpoint.state, task=None, answer=answer, finished=checkpoint.finished)

    # finish_run makes a run's last checkpoint its thread's state, whatever its status,
    # so this is where the previous run stopped (rolled-back runs excepted: they are undone).
    state = start.thread_state
    if answer is not None and state is not None:
        return StartPlan(state=state, task=None, answer=answer)

    handoff_back = None
    if previous is not None and previous.status is RunStatus.INTERRUPTED and requester is None:
        last = await last_message(store, previous.id)
        if last is not None and last.get("type") == HandoffMessage.__name__:
            handoff_back = (str(last.get("target")), str(last.get("source")))
    return StartPlan(state=state, task=list(task) if task else None, handoff_back=handoff_back)
