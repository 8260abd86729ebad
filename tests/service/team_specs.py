"""Team specs the service tests run, all on the loopback model (``model_server.py``)."""

from __future__ import annotations

from typing import Any

from model_server import openai_agent

from muster.conditions import MaxMessageTermination
from muster.core import ComponentLoader
from muster.teams import RoundRobinGroupChat

__all__ = ["duo", "pipeline"]


def _agent(name: str, url: str) -> Any:
    return ComponentLoader.load_component(openai_agent(name, url))


def duo(url: str, max_turns: int = 2) -> dict[str, Any]:
    """Alice then bob, ``max_turns`` turns."""
    team = RoundRobinGroupChat(
        [_agent("alice", url), _agent("bob", url)],
        max_turns=max_turns,
        termination_condition=MaxMessageTermination(50),
    )
    return team.dump_component().model_dump()


def pipeline(url: str) -> dict[str, Any]:
    """Two model calls in one turn: a nested team (alice, bob) is one turn of the outer team.

    Outer turns: the nested team (alice then bob), carol, the nested team again. A crash
    while bob answers in the first turn loses that turn, but alice's answer in it was
    recorded: the redone turn must replay it, not ask the model again.
    """
    inner = RoundRobinGroupChat([_agent("alice", url), _agent("bob", url)], name="inner", max_turns=2)
    outer = RoundRobinGroupChat([inner, _agent("carol", url)], name="outer", max_turns=3)
    return outer.dump_component().model_dump()
