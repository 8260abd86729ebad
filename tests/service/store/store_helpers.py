"""Builders shared by the store tests (imported with the test folder on ``sys.path``)."""

from __future__ import annotations

from typing import Any

from muster.service.store import TurnWrite

COMPONENT: dict[str, Any] = {
    "provider": "muster.teams.RoundRobinGroupChat",
    "component_type": "team",
    "config": {"participants": [], "max_turns": 3},
}


def text(content: str, source: str = "assistant") -> dict[str, Any]:
    """A message as ``TextMessage.dump()`` writes it (the store only keeps the JSON)."""
    return {"type": "TextMessage", "source": source, "content": content}


def turn(run_id: str, k: int, *contents: str, **kwargs: Any) -> TurnWrite:
    """Turn ``k`` of a run whose state is the list of every message so far."""
    state = kwargs.pop("state", {"turn": k, "said": [f"t{i}" for i in range(k + 1)]})
    return TurnWrite(run_id=run_id, turn=k, messages=[text(c) for c in contents], state=state, **kwargs)
