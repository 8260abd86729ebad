"""Cold start: a fresh process imports, builds one AssistantAgent on a replay model and runs it once (ms).

What a CLI command, a freshly scaled-out worker or a serverless invocation pays before its
first answer. Timed inside the child from its first statement to the end of the run, so
interpreter start-up (the same for both frameworks; see ``cli_help`` for a whole-process
figure) is left out, and everything deferred to first use (schema builds, lazy imports)
is in.
"""

from __future__ import annotations

from benchmarks.scenarios._common import scenario_main
from benchmarks.scenarios._fresh import (
    FLOOR_IMPORTS,
    PUBLIC_TYPES_FLOOR,
    PUBLIC_TYPES_FLOOR_WHAT,
    time_in_fresh_interpreters,
)

NAME = "cold start: import, build, run once"
UNIT = "ms"
GOAL = 2.5
LIMIT = 190.0
FLOOR = "import of pydantic + asyncio, one model class defined, asyncio.run of an empty coroutine"
TYPES_FLOOR = (
    "the same, with the 12 public pydantic types a plain run returns defined (standalone, muster's fields)"
)

_IMPORTS = {
    "muster": "from muster.agents import AssistantAgent\n"
    "from muster.models.replay import ReplayChatCompletionClient\n",
    "autogen": "from autogen_agentchat.agents import AssistantAgent\n"
    "from autogen_ext.models.replay import ReplayChatCompletionClient\n",
}

_CODE = """\
import time
start = time.perf_counter()
import asyncio
{imports}

async def main():
    agent = AssistantAgent("assistant", model_client=ReplayChatCompletionClient(["Hello there."]))
    result = await agent.run(task="Say hello.")
    assert len(result.messages) == 2 and result.messages[-1].content == "Hello there.", result

asyncio.run(main())
print((time.perf_counter() - start) * 1000)
"""


async def run(flavor: str, quick: bool) -> float:
    code = _CODE.format(imports=_IMPORTS[flavor])
    return time_in_fresh_interpreters(code, 3 if quick else 9, f"cold start ({flavor})")


async def floor(quick: bool) -> float:
    """The same process with nothing but muster's two dependencies and an event loop."""
    code = (
        "import time\nstart = time.perf_counter()\n"
        + FLOOR_IMPORTS
        + "async def main():\n    pass\nasyncio.run(main())\nprint((time.perf_counter() - start) * 1000)\n"
    )
    return time_in_fresh_interpreters(code, 3 if quick else 9, "floor: pydantic + asyncio + asyncio.run")


async def types_floor(quick: bool) -> float:
    """The floor, with the public pydantic types a plain run returns defined (not muster's)."""
    code = (
        "import time\nstart = time.perf_counter()\n"
        + PUBLIC_TYPES_FLOOR
        + "import asyncio\nasync def main():\n    pass\nasyncio.run(main())\n"
        + "print((time.perf_counter() - start) * 1000)\n"
    )
    return time_in_fresh_interpreters(
        code, 3 if quick else 9, f"floor: {PUBLIC_TYPES_FLOOR_WHAT} + asyncio.run"
    )


if __name__ == "__main__":
    scenario_main(run, floor, types_floor)
