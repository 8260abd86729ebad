"""Reading a run's checkpoints back: the last full state with the deltas after it applied.

A run's checkpoints are a full ``TeamState`` now and then and deltas in between, each
delta against the turn just before it (``record_turn`` only stores a delta when that turn
is there), so the state at the last turn is the last full state with every later delta
applied in turn order.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from muster.teams import apply_state_delta

from .base import Checkpoint
from .tables import checkpoints

__all__ = ["FULL", "DELTA", "rebuild_state"]

FULL = "full"
DELTA = "delta"


async def rebuild_state(conn: AsyncConnection, run_id: str) -> Checkpoint | None:
    """The run's last turn and the full state there; ``None`` before its first checkpoint.

    Raises:
        ValueError: the stored chain is broken (a missing turn): never written by this store.
    """
    c = checkpoints.c
    base_turn = sa.select(sa.func.max(c.turn)).where(c.run_id == run_id, c.kind == FULL).scalar_subquery()
    rows = (
        await conn.execute(
            sa.select(c.turn, c.kind, c.state, c.finished)
            .where(c.run_id == run_id, c.turn >= base_turn)
            .order_by(c.turn)
        )
    ).all()
    if not rows:
        return None
    turn, kind, state, _ = rows[0]
    if kind != FULL:  # pragma: no cover - record_turn never stores a delta without its base
        raise ValueError(f"run {run_id!r}: checkpoint {turn} is a delta without a full state before it")
    for next_turn, _, delta, _ in rows[1:]:
        if next_turn != turn + 1:
            raise ValueError(f"run {run_id!r}: checkpoint {turn + 1} is missing before {next_turn}")
        state = apply_state_delta(state, delta)
        turn = next_turn
    return Checkpoint(turn=turn, state=state, finished=bool(rows[-1].finished))
