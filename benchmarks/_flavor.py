"""One scenario, two frameworks: the same code runs on muster or AutoGen, only imports differ.

That the scenarios run unchanged on both is itself a check of the compatibility contract.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["FLAVORS", "load"]

FLAVORS = ("muster", "autogen")

_MODULES: dict[str, dict[str, str]] = {
    "muster": {
        "core": "muster.core",
        "models": "muster.models",
        "replay": "muster.models.replay",
        "agents": "muster.agents",
        "messages": "muster.messages",
        "teams": "muster.teams",
        "conditions": "muster.conditions",
        "tools": "muster.tools",
        "model_context": "muster.model_context",
        "openai": "muster.models.openai",
        "cache": "muster.models.cache",
        "ops": "muster.ops",
    },
    "autogen": {
        "core": "autogen_core",
        "models": "autogen_core.models",
        "replay": "autogen_ext.models.replay",
        "agents": "autogen_agentchat.agents",
        "messages": "autogen_agentchat.messages",
        "teams": "autogen_agentchat.teams",
        "conditions": "autogen_agentchat.conditions",
        "tools": "autogen_core.tools",
        "model_context": "autogen_core.model_context",
        "openai": "autogen_ext.models.openai",
        "cache": "autogen_ext.models.cache",
        # No "ops": AutoGen has no client pool or batcher; provider scenarios fall back to
        # AutoGen's plain shared client there (see docs/benchmarks.md).
    },
}


def load(flavor: str, name: str) -> ModuleType:
    """Import the module playing role ``name`` ("core", "agents"...) in ``flavor``."""
    return importlib.import_module(_MODULES[flavor][name])
