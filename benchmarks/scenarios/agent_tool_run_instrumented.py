"""Agents: the one-tool-call run with muster's instrumentation points in place, recording off.

Why: ``muster.core.instrumentation`` puts a check in every agent turn, model call and tool
call (one ``ContextVar`` lookup returning ``None`` when nothing records). The table figure
is the run with recording off, next to AutoGen's; on stderr (muster only) the scenario
prints the same run with a recorder on, how many checks one run makes, and what one check
costs, measured: checks x cost is the whole price of having the hooks when off.
See docs/benchmarks.md ("Instrumentation").
"""

from __future__ import annotations

import logging
import sys

from benchmarks.scenarios._common import best_of, scenario_main
from benchmarks.scenarios.agent_tool_run import tool_runs

NAME = "agent: tool run, instrumentation off"
UNIT = "µs/run"
GOAL = 3.0


async def run(flavor: str, quick: bool) -> float:
    # The reflection call's tool_choice makes the replay client warn once per run; the
    # warning is the same on both flavors and is not what is measured.
    logging.getLogger("muster.core.events").setLevel(logging.ERROR)
    logging.getLogger("autogen_core.events").setLevel(logging.ERROR)
    count = 100 if quick else 1_000
    runs = tool_runs(flavor, count)

    value = await best_of(3, runs)
    if flavor == "muster" and not quick:
        await _muster_breakdown(runs, count)
    return value


async def _muster_breakdown(runs: object, count: int) -> None:
    """On stderr: recording on, checks per run, the cost of one check when off."""
    from muster.core.instrumentation import Recorder, SpanKind, open_span

    recorder = Recorder()
    with recorder.recording():
        on = min([await runs() for _ in range(3)])  # type: ignore[operator]
    spans_per_run = len(recorder.spans) / (3 * count)
    del recorder
    # Layers (replay under the agent's model call, the workbench under the executor) are
    # checks too but never reach the recorder: count them from the code path instead.
    checks_per_run = 7  # run turn, 2 x (agent model call + replay), tool executor + workbench
    import timeit

    kind, loops = SpanKind.TOOL_CALL, 1_000_000
    with_check = min(timeit.repeat(lambda: open_span(kind, "x"), number=loops, repeat=5))
    empty = min(timeit.repeat(lambda: None, number=loops, repeat=5))
    check_ns = (with_check - empty) / loops * 1e9  # the check itself, beyond the loop's own call
    print(
        f"  recording on: {on:.1f} µs/run ({spans_per_run:.0f} spans/run); "
        f"off: {checks_per_run} checks/run x {check_ns:.0f} ns = {checks_per_run * check_ns / 1000:.2f} µs/run",
        file=sys.stderr,
    )


if __name__ == "__main__":
    scenario_main(run)
