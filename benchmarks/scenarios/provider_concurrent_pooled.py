"""Providers: the 1,000-run burst of ``provider_concurrent_naive``, pooled with ``muster.ops``.

Muster-only: on the autogen flavor this measures AutoGen's naive shared client (AutoGen
has no equivalent), so the ratio reads "muster with ops vs. a plain AutoGen app".
See ``provider_concurrent_naive`` for the setup and docs/benchmarks.md for the figures.
"""

from __future__ import annotations

from benchmarks.scenarios._common import scenario_main
from benchmarks.scenarios.provider_concurrent_naive import measure

NAME = "provider: 1k runs, pooled (AutoGen: naive)"
UNIT = "s/1k runs"
GOAL = None


async def run(flavor: str, quick: bool) -> float:
    return await measure(flavor, quick, "pooled")


if __name__ == "__main__":
    scenario_main(run)
