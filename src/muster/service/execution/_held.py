"""Writes a run holds back for a moment, to send them with its next write.

A one-agent run used to make four writes: the task's boundary (turn 0), the model's
answer (recorded for replay), the agent's turn with the run's end, and the claim before
them. Two of them carry nothing a crash could lose:

- **The task's boundary** (turn 0) holds no agent's work: its messages are the run's task,
  stored with the run, and its state is where the run starts. A crash before it is
  written resumes from the run's start, which is the same place.
- **A model answer that calls no tool** is followed by nothing but the end of the agent's
  turn: no side effect happens between the answer and the boundary that writes it.

Both are held here and written with the run's next write (the next boundary, or the
end), in its transaction, or on their own when :data:`HOLD_SECONDS` pass first, so a
stream still sees the task at once with a model that takes seconds, and a long turn
(a code executor running what a text answer said) keeps its answer recorded. Held
answers are also written before the run asks a model again (the recorder does it when
its lookup misses): a crash during the second call must not cost the first again. An
answer that calls tools is written at once, with whatever is held, before any tool runs:
tools have side effects, and a crash must replay the answer that asked for them.

Writes happen one at a time and in order: a timed write in flight is awaited before
the next write is made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from ..store.base import Store, TurnWrite

__all__ = ["HOLD_SECONDS", "HeldWrites"]

HOLD_SECONDS = 0.1
"""How long a held write waits for the next one before it is written alone."""


class HeldWrites:
    """One run's held writes (see the module docstring).

    Args:
        store: The service store.
        run_id: The run.
        written: Called after a held boundary was written on its own, with the run's stop
            request the store returned (what the runner does after any boundary's write).
        hold_seconds: :data:`HOLD_SECONDS`, unless a caller knows better.
    """

    def __init__(
        self,
        store: Store,
        run_id: str,
        written: Callable[[str | None], Awaitable[None]],
        hold_seconds: float = HOLD_SECONDS,
    ) -> None:
        self._store = store
        self._run_id = run_id
        self._written = written
        self._hold_seconds = hold_seconds
        self._turn: TurnWrite | None = None
        self._responses: list[tuple[str, Mapping[str, Any]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timed: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.written_alone = 0
        """Writes the timer made (held items the next write did not come for in time)."""

    @property
    def holding(self) -> bool:
        """Whether anything is held."""
        return self._turn is not None or bool(self._responses)

    @property
    def answers_held(self) -> bool:
        """Whether a model answer is held (the recorder writes it before the next model call)."""
        return bool(self._responses)

    def hold_turn(self, write: TurnWrite) -> None:
        """Hold the task's boundary (one at most: only turn 0 is held)."""
        if self._turn is not None:
            raise RuntimeError(f"run {self._run_id!r}: a boundary is held already")
        self._turn = write
        self._arm()

    def hold_response(self, key: str, response: Mapping[str, Any]) -> None:
        """Hold a recorded model answer that calls no tool."""
        self._responses.append((key, response))
        self._arm()

    async def write_response(self, key: str, response: Mapping[str, Any]) -> None:
        """Write an answer at once, with whatever is held (an answer that calls tools)."""
        self._responses.append((key, response))
        await self.flush()

    async def take(self) -> tuple[TurnWrite | None, list[tuple[str, Mapping[str, Any]]]]:
        """What is held, to go with the caller's write (nothing is held afterwards).

        A timed write in flight is awaited first (its error, if any, is raised here: the
        caller's write must not overtake a failed one).
        """
        await self._settle()
        self._disarm()
        turn, responses = self._turn, self._responses
        self._turn, self._responses = None, []
        return turn, responses

    async def flush(self) -> None:
        """Write what is held now, on its own; ``written`` is told of it."""
        await self._settle()
        await self._write()

    def drop(self) -> None:
        """Forget what is held (the run was taken over or rolled back: no write may land)."""
        self._disarm()
        self._turn, self._responses = None, []
        if self._timed is not None and not self._timed.done():
            self._timed.cancel()

    async def close(self) -> None:
        """Stop the timer and wait for a timed write in flight (its error is the run's past)."""
        self._disarm()
        timed, self._timed = self._timed, None
        if timed is not None:
            await asyncio.wait({timed})  # a cancellation of the caller still reaches it
            if not timed.cancelled():
                timed.exception()  # seen: it was the run's to raise, and the run is over

    # ------------------------------------------------------------------ inside

    def _arm(self) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._hold_seconds, self._on_timer)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        if self.holding:
            self.written_alone += 1
            self._timed = asyncio.create_task(
                self._write_after(self._timed), name=f"held writes {self._run_id}"
            )

    async def _write_after(self, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            await previous  # in order; its error stops this one too
        await self._write()

    async def _settle(self) -> None:
        timed, self._timed = self._timed, None
        if timed is not None:
            await timed  # its error is the caller's now

    async def _write(self) -> None:
        async with self._lock:
            self._disarm()
            turn, responses = self._turn, self._responses
            self._turn, self._responses = None, []
            if turn is None and not responses:
                return
            if turn is not None:
                requested = await self._store.record_turn(
                    replace(turn, responses=(*turn.responses, *responses))
                )
                await self._written(requested)
                return
            for key, response in responses:
                await self._store.put_model_response(self._run_id, key, response)
