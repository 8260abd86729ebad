"""Import cost of the agents and teams modules together, in a fresh interpreter (ms).

What an application that builds a team pays before its first line runs. A team type's
import should cost only that type: ``import muster.teams`` loads neither GraphFlow nor
MagenticOne until one of them is used (``tests/test_import_footprint.py``).
"""

from __future__ import annotations

from benchmarks.scenarios._common import scenario_main
from benchmarks.scenarios._fresh import import_floor, import_public_types_floor, time_in_fresh_interpreters

NAME = "import agents + teams"
UNIT = "ms"
GOAL = 2.5
LIMIT = 190.0
FLOOR = "import of pydantic + asyncio, one model class defined"
TYPES_FLOOR = (
    "the same, with the 12 public pydantic types a plain run returns defined (standalone, muster's fields)"
)

_MODULES = {
    "muster": "muster.agents, muster.teams",
    "autogen": "autogen_agentchat.agents, autogen_agentchat.teams",
}


async def run(flavor: str, quick: bool) -> float:
    code = (
        "import time; t = time.perf_counter(); "
        f"import {_MODULES[flavor]}; print((time.perf_counter() - t) * 1000)"
    )
    return time_in_fresh_interpreters(code, 3 if quick else 9, f"import {_MODULES[flavor]}")


if __name__ == "__main__":
    scenario_main(run, import_floor, import_public_types_floor)
