"""Import cost of ``from <agents module> import AssistantAgent`` in a fresh interpreter (ms)."""

from __future__ import annotations

from benchmarks.scenarios._common import scenario_main
from benchmarks.scenarios._fresh import import_floor, import_public_types_floor, time_in_fresh_interpreters

NAME = "import AssistantAgent"
UNIT = "ms"
GOAL = 3.0
FLOOR = "import of pydantic + asyncio, one model class defined"
TYPES_FLOOR = (
    "the same, with the 12 public pydantic types a plain run returns defined (standalone, muster's fields)"
)

_MODULE = {"muster": "muster.agents", "autogen": "autogen_agentchat.agents"}


async def run(flavor: str, quick: bool) -> float:
    code = f"import time; t = time.perf_counter(); import {_MODULE[flavor]}; print((time.perf_counter() - t) * 1000)"
    return time_in_fresh_interpreters(code, 3 if quick else 7, f"import {_MODULE[flavor]}")


if __name__ == "__main__":
    scenario_main(run, import_floor, import_public_types_floor)
