"""Teams: a checkpoint at every turn of a 3-agent round robin, 60 turns (µs per turn, all in).

What a durable service pays to persist a run after each turn, short of the database
write: muster's turn hook receives a consistent snapshot at each boundary and the
benchmark serialises its delta (``json.dumps(checkpoint.delta)``), as a store would.
AutoGen has no turn hook; the nearest equivalent is to call ``team.save_state()`` after
each message of ``run_stream`` and serialise the whole state (which may also catch the
team mid-turn, so it is not even consistent). The per-turn figure includes the turn
itself; compare with ``team: round robin run`` for the hook's own cost, and see
docs/benchmarks.md ("Turn hook") for the breakdown and the cost when no hook is set.
"""

from __future__ import annotations

import json
import sys
import time

from benchmarks.scenarios._common import best_of, per_op_us, round_robin_team, scenario_main

NAME = "team: checkpoint every turn (3 agents)"
UNIT = "µs/turn"
GOAL = 3.0


async def run(flavor: str, quick: bool) -> float:
    count = 30 if quick else 60

    async def body() -> float:
        team = round_robin_team(flavor, count)
        written: list[int] = []
        start = time.perf_counter()
        if flavor == "muster":

            async def hook(checkpoint: object) -> None:
                delta = checkpoint.delta  # type: ignore[attr-defined]
                payload = checkpoint.state if delta is None else delta  # type: ignore[attr-defined]
                written.append(len(json.dumps(payload)))

            team.turn_hook = hook  # type: ignore[attr-defined]
            result = await team.run(task="Take turns counting.")  # type: ignore[attr-defined]
            messages = result.messages
        else:
            messages = []
            async for item in team.run_stream(task="Take turns counting."):  # type: ignore[attr-defined]
                if hasattr(item, "stop_reason"):
                    continue
                messages.append(item)
                written.append(len(json.dumps(await team.save_state())))  # type: ignore[attr-defined]
        per = per_op_us(start, count)
        assert len(messages) == count + 1, len(messages)
        assert len(written) >= count, len(written)
        return per

    value = await best_of(1 if quick else 3, body)
    if flavor == "muster" and not quick:
        await _muster_breakdown()
    return value


async def _muster_breakdown() -> None:
    """Extra figures on stderr: µs per turn with no hook, with the hook, and the delta size, by run length."""

    async def timed(count: int, hook: bool) -> tuple[float, float]:
        team = round_robin_team("muster", count)
        sizes: list[int] = []
        if hook:

            async def record(checkpoint: object) -> None:
                delta = checkpoint.delta  # type: ignore[attr-defined]
                if delta is not None:
                    sizes.append(len(json.dumps(delta)))

            team.turn_hook = record  # type: ignore[attr-defined]
        start = time.perf_counter()
        await team.run(task="Take turns counting.")  # type: ignore[attr-defined]
        return per_op_us(start, count), (sum(sizes) / len(sizes) if sizes else 0.0)

    for count in (30, 90, 300):
        plain = min([(await timed(count, False))[0] for _ in range(5)])
        hooked = [await timed(count, True) for _ in range(5)]
        best = min(h[0] for h in hooked)
        print(
            f"  {count:>4} turns: no hook {plain:7.1f} µs/turn, hook {best:7.1f} µs/turn "
            f"(+{best - plain:.1f}), delta {hooked[0][1] / 1024:.1f} KiB/turn",
            file=sys.stderr,
        )


if __name__ == "__main__":
    scenario_main(run)
