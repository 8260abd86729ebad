"""Import cost of ``from <agents module> import AssistantAgent`` in a fresh interpreter (ms)."""

from __future__ import annotations

import subprocess
import sys

from benchmarks.scenarios._common import scenario_main

NAME = "import AssistantAgent"
UNIT = "ms"
GOAL = 3.0

_MODULE = {"muster": "muster.agents", "autogen": "autogen_agentchat.agents"}


async def run(flavor: str, quick: bool) -> float:
    code = f"import time; t = time.perf_counter(); import {_MODULE[flavor]}; print((time.perf_counter() - t) * 1000)"
    runs = 3 if quick else 7
    samples = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]
    return min(samples)


if __name__ == "__main__":
    scenario_main(run)
