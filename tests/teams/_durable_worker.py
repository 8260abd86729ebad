"""Resume a team in a process of its own: read ``{"spec", "state"}`` on stdin, print the transcript.

The property tests run it with a fresh interpreter per case, so nothing of the original
run (objects, caches, module state) can leak into the resumed one.
"""

from __future__ import annotations

import asyncio
import json
import sys

from _durable_kit import transcript

from muster.base import Team


async def _main() -> None:
    request = json.loads(sys.stdin.read())
    team = Team.load_component(request["spec"])
    await team.load_state(request["state"])
    result = await team.run()
    json.dump({"transcript": transcript(result.messages), "stop_reason": result.stop_reason}, sys.stdout)


if __name__ == "__main__":
    asyncio.run(_main())
