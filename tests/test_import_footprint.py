"""What importing muster loads, and what a first run builds (start-up cost; docs/performance.md).

Each check runs in a fresh interpreter and looks at ``sys.modules`` and at which pydantic models
have built their schema: no timing, so the checks hold on any machine. They pin the decisions
that keep start-up cheap:

- ``import muster.agents`` / ``import muster.teams`` load no provider SDK, no team type and no
  ``importlib.metadata`` (pydantic's plugin discovery runs on the first schema build);
- a team type loads only its own modules;
- a plain ``AssistantAgent.run`` on a replay model, and a round robin's first run, build no
  pydantic schema at all, and the plain run loads no message class, tool, config model or
  state helper it does not use;
- ``muster --help`` loads neither asyncio nor pydantic.

The benchmark's second start-up floor (``benchmarks/scenarios/_public_types_floor.py``) defines,
standalone, the pydantic classes a plain run defines; a check here keeps it the same classes,
with the same fields and configs, as muster's.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SDKS = (
    "openai",
    "anthropic",
    "ollama",
    "mcp",
    "httpx",
    "rich",
    "redis",
    "psutil",
    "yaml",
    "diskcache",
    "tiktoken",
    "sqlalchemy",
    "fastapi",
)
METADATA_SCAN = ("importlib.metadata", "pydantic.plugin._loader")
TEAM_TYPES = {
    "RoundRobinGroupChat": "muster.teams._group_chat._round_robin_group_chat",
    "SelectorGroupChat": "muster.teams._group_chat._selector_group_chat",
    "Swarm": "muster.teams._group_chat._swarm_group_chat",
    "GraphFlow": "muster.teams._graph",
    "MagenticOneGroupChat": "muster.teams._magentic_one",
}

_REPORT = """
import json, sys
from pydantic import BaseModel

def walk(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from walk(sub)

built = sorted({c.__qualname__ for c in walk(BaseModel) if c.__dict__.get("__pydantic_complete__")})
defined = sorted({c.__qualname__ for c in walk(BaseModel) if c.__module__.startswith("muster.")})
print(json.dumps({"modules": sorted(sys.modules), "built": built, "defined": defined}))
"""


def _report(code: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\n" + _REPORT], capture_output=True, text=True, check=True
    ).stdout
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


def _load(code: str) -> tuple[set[str], list[str]]:
    """Run ``code`` in a fresh interpreter; the modules it left loaded and the models it built."""
    report = _report(code)
    return set(report["modules"]), report["built"]


def _loaded(modules: set[str], prefixes: tuple[str, ...] | list[str]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


def test_importing_agents_and_teams_loads_no_sdk_no_team_type_and_no_metadata_scan() -> None:
    modules, built = _load("import muster.agents, muster.teams")
    assert _loaded(modules, SDKS) == []
    assert _loaded(modules, list(TEAM_TYPES.values())) == []
    assert _loaded(modules, ["muster.teams._group_chat"]) == []
    assert _loaded(modules, METADATA_SCAN) == []
    assert built == []


@pytest.mark.parametrize("team", sorted(TEAM_TYPES))
def test_a_team_type_loads_only_itself(team: str) -> None:
    modules, built = _load(f"from muster.teams import {team}")
    others = [module for name, module in TEAM_TYPES.items() if name != team]
    assert _loaded(modules, [TEAM_TYPES[team]]) != []
    assert _loaded(modules, others) == []
    assert _loaded(modules, SDKS) == []
    assert _loaded(modules, METADATA_SCAN) == []
    assert built == []


_PLAIN_RUN = (
    "import asyncio\n"
    "from muster.agents import AssistantAgent\n"
    "from muster.models.replay import ReplayChatCompletionClient\n"
    "async def main():\n"
    "    agent = AssistantAgent('assistant', model_client=ReplayChatCompletionClient(['Hello.']))\n"
    "    result = await agent.run(task='Say hello.')\n"
    "    assert result.messages[-1].content == 'Hello.'\n"
    "asyncio.run(main())\n"
    "import sys\n"
    "assert 'json' not in sys.modules, 'json loaded'\n"
)

PLAIN_RUN_MODELS = [
    "AssistantMessage",
    "BaseAgentEvent",
    "BaseChatMessage",
    "BaseMessage",
    "BaseTextChatMessage",
    "ChatCompletionTokenLogprob",
    "CreateResult",
    "SystemMessage",
    "TaskResult",
    "TextMessage",
    "TopLogprob",
    "UserMessage",
]
"""The pydantic classes a plain run (and ``import muster.agents, muster.teams``) defines: the
public types it returns or passes to the model. The benchmark's types floor defines the same."""


def test_a_plain_agent_run_builds_no_schema() -> None:
    modules, built = _load(_PLAIN_RUN)
    # (json is checked in the child: the report imports it.)
    assert built == []
    assert _loaded(modules, METADATA_SCAN) == []
    assert _loaded(modules, SDKS) == []
    # Only what the run used: no tools machinery (not even the agent's default workbench),
    # no events or other message classes, no memory, saved states, config models or teams,
    # no exception classes (none was raised) and no recording helpers (nothing recorded).
    unused = [
        "muster.tools",
        "muster.agents._tool_execution",
        "muster.messages._events",
        "muster.messages._chat",
        "muster.messages._structured",
        "muster.messages._factory",
        "muster.memory",
        "muster.code_executor",
        "muster.models._usage_tracker",
        "muster.state",
        "muster.base._saved_state",
        "muster.agents._assistant_agent_config",
        "muster.models._replay_config",
        "muster.model_context._unbounded_config",
        "muster.model_context._state",
        "muster.teams._group_chat",
        "pydantic.functional_serializers",
        # Errors load where they are raised, the recording helpers when something records.
        "muster.core.exceptions",
        "muster.base.exceptions",
        "muster.agents.exceptions",
        "muster.models._replay_errors",
        "muster.base.internal",
        # Nothing recorded: no Span, Recorder or SpanKind class (open_span returned None).
        "muster.core._span",
        # No tool ran: no tool result, nor the LLMMessage union that includes one.
        "muster.models._llm_message",
    ]
    # Merged into their neighbours by the sixth pass (docs/performance.md), so that a plain
    # run loads five modules fewer; their names must not come back as modules of their own.
    merged = [
        "muster.base._chat_agent",
        "muster.messages._base",
        "muster.models._model_info",
        "muster.model_context._unbounded",
        "muster.core._image",
        "muster.core._function_call",
    ]
    assert _loaded(modules, merged) == []
    assert _loaded(modules, unused) == []
    # Each module costs about 0.1 ms to find and load whatever it holds: 37 before the start-up
    # work of docs/performance.md, "Fourth pass", 29 after it, 24 since the sixth pass merged
    # five small modules into their neighbours; a new one on this path should be a decision.
    assert len(_loaded(modules, ["muster"])) <= 24


def test_a_plain_run_defines_only_the_public_types_it_uses() -> None:
    assert _report(_PLAIN_RUN)["defined"] == PLAIN_RUN_MODELS
    assert _report("import muster.agents, muster.teams")["defined"] == PLAIN_RUN_MODELS


def _shape(cls: Any) -> dict[str, Any]:
    """A pydantic class's definition, with the modules' names taken out of its annotations."""

    def plain(text: str) -> str:
        text = re.sub(r"\b(?:muster(?:\.\w+)*|_public_types_floor)\.", "", text)
        return re.sub(r" at 0x[0-9a-f]+", "", text)

    return {
        "bases": [base.__name__ for base in cls.__bases__],
        "config": dict(cls.model_config),
        "abstract": sorted(getattr(cls, "__abstractmethods__", ())),
        "fields": [
            (
                name,
                plain(repr(info.annotation)),
                plain(repr(info.metadata)),
                repr(info.default),
                getattr(info.default_factory, "__name__", None),
            )
            for name, info in cls.model_fields.items()
        ],
    }


def test_the_benchmark_types_floor_defines_muster_s_public_types() -> None:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "scenarios" / "_public_types_floor.py"
    spec = importlib.util.spec_from_file_location("_public_types_floor", path)
    assert spec is not None and spec.loader is not None
    floor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(floor)

    import muster.base
    import muster.messages
    import muster.models

    for name in PLAIN_RUN_MODELS:
        ours = next(
            getattr(m, name) for m in (muster.models, muster.messages, muster.base) if hasattr(m, name)
        )
        assert _shape(getattr(floor, name)) == _shape(ours), name
    # The floor imports nothing of muster (nor of the benchmarks package).
    imported = [
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else node.names[:1])
    ]
    assert [m for m in imported if m.split(".")[0] in ("muster", "benchmarks")] == []


def test_a_round_robin_first_run_builds_no_schema() -> None:
    modules, built = _load(
        "import asyncio\n"
        "from muster.agents import AssistantAgent\n"
        "from muster.conditions import MaxMessageTermination\n"
        "from muster.models.replay import ReplayChatCompletionClient\n"
        "from muster.teams import RoundRobinGroupChat\n"
        "async def main():\n"
        "    agents = [AssistantAgent(n, ReplayChatCompletionClient(['hi'] * 3)) for n in ('a', 'b')]\n"
        "    team = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(5))\n"
        "    result = await team.run(task='go')\n"
        "    assert len(result.messages) == 5 and result.stop_reason\n"
        "asyncio.run(main())\n"
    )
    assert built == []
    assert _loaded(modules, METADATA_SCAN) == []


def test_muster_help_loads_neither_asyncio_nor_pydantic() -> None:
    modules, _ = _load(
        "import contextlib, io\n"
        "from muster.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "import sys\n"
        "assert 'asyncio' not in sys.modules and 'pydantic' not in sys.modules, 'loaded'\n"
    )
    # The report itself imports pydantic; the assertion above ran before it.
    assert "muster.cli._main" in modules
