"""What every spec-running command needs: the spec with the chosen models, and closing clients."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ._spec import load_spec_file, real_model_config_from_env, swap_replay_models

__all__ = ["close_model_clients", "reachable_model_clients", "spec_with_models"]


def spec_with_models(path: Path, mode: str) -> dict[str, Any]:
    """Read the spec; with ``mode="auto"``, swap its replay models for the environment's real one."""
    spec = load_spec_file(path)
    if mode == "auto":
        model_config = real_model_config_from_env()
        if model_config is not None:
            spec = swap_replay_models(spec, model_config)
            print(f"[muster] using model {model_config['model']} from the environment", file=sys.stderr)
    return spec


def reachable_model_clients(root: object) -> list[Any]:
    """Every model client reachable from ``root`` through instance attributes and containers.

    Agents do not close the model clients they are given (a client is often shared), so
    the CLI, which built every object from the spec and owns them all, closes them itself.
    """
    from muster.models import ChatCompletionClient

    found: list[Any] = []
    seen: set[int] = set()
    stack: list[object] = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, str | bytes | int | float | bool | type) or obj is None:
            continue
        seen.add(id(obj))
        if isinstance(obj, ChatCompletionClient):
            found.append(obj)
        if isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        elif hasattr(obj, "__dict__") and obj.__class__.__module__.startswith("muster."):
            stack.extend(vars(obj).values())
    return found


async def close_model_clients(root: object) -> None:
    """Close every model client reachable from ``root``."""
    for client in reachable_model_clients(root):
        await client.close()
