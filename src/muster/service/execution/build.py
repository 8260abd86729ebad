"""From a stored spec to the team a run executes.

The spec is rewritten before it is loaded, as plain data, so the framework builds
everything through its public ``load_component`` and nothing is patched afterwards:

- every ``model_client`` is wrapped in a :class:`~.recording.RecordingClient` (the run's
  responses are recorded and replayed on resume), inside it, when ``cache.type`` is not
  ``none``, in the process's shared response cache, and, when the spec does not say,
  given ``max_retries = agents.retry_attempts`` for transient errors;
- every ``UserProxyAgent`` becomes a :class:`~.human.ServiceUserProxyAgent` (its input
  comes from the run, see ``human.py``).

An agent spec is wrapped in a one-turn ``RoundRobinGroupChat``, so every run is a team
run with turn boundaries, checkpoints and the same event log.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from muster.base import ChatAgent, Team
from muster.core import ComponentLoader
from muster.teams import BaseGroupChat, RoundRobinGroupChat

from ..exceptions import InvalidSpecError
from ._context import BuildContext, building
from .human import HumanInput, ServiceUserProxyAgent
from .recording import wrap_client

__all__ = ["build_team", "check_spec", "prepare_spec", "release_team"]

_RETRYING_PROVIDERS = ("openai", "azure", "anthropic")
"""Provider names (any part) whose clients take ``max_retries``."""


def _is_user_proxy(provider: Any) -> bool:
    return isinstance(provider, str) and (
        provider == "UserProxyAgent" or provider.endswith(".UserProxyAgent")
    )


def _takes_retries(provider: Any) -> bool:
    if not isinstance(provider, str):
        return False
    lowered = provider.lower()
    return any(name in lowered for name in _RETRYING_PROVIDERS) and "cache" not in lowered


def _rewrite(node: Any, path: str, retry_attempts: int | None, shared: bool) -> Any:
    if isinstance(node, list):
        return [_rewrite(item, f"{path}.{i}", retry_attempts, shared) for i, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        child = _rewrite(value, f"{path}.{key}" if path else key, retry_attempts, shared)
        if key == "model_client" and isinstance(child, dict) and "provider" in child:
            if retry_attempts is not None and _takes_retries(child["provider"]):
                config = child.setdefault("config", {})
                if isinstance(config, dict):
                    config.setdefault("max_retries", retry_attempts)
            child = wrap_client(child, f"{path}.{key}" if path else key, shared=shared)
        out[key] = child
    if _is_user_proxy(out.get("provider")):
        out["provider"] = ServiceUserProxyAgent.component_provider_override
    return out


def prepare_spec(
    spec: Mapping[str, Any], *, retry_attempts: int | None = None, shared_cache: bool = False
) -> dict[str, Any]:
    """A copy of ``spec`` ready to build for a run (see the module docstring).

    ``shared_cache``: each client also goes through the process's response cache.
    """
    prepared = _rewrite(copy.deepcopy(dict(spec)), "", retry_attempts, shared_cache)
    assert isinstance(prepared, dict)
    return prepared


def _load(spec: Mapping[str, Any]) -> Team | ChatAgent:
    try:
        component = ComponentLoader.load_component(dict(spec))
    except Exception as exc:
        raise InvalidSpecError(f"the spec does not load: {exc}", field="component") from exc
    if not isinstance(component, Team | ChatAgent):
        raise InvalidSpecError(
            f"the spec builds a {type(component).__name__}, not a team or an agent", field="component"
        )
    return component


def build_team(
    spec: Mapping[str, Any], context: BuildContext, *, retry_attempts: int | None
) -> BaseGroupChat:
    """Build the team a run executes (an agent alone becomes a one-turn round robin).

    Raises:
        InvalidSpecError: the spec does not build a group chat or an agent.
    """
    shared = context.response_cache is not None
    with building(context):
        component = _load(prepare_spec(spec, retry_attempts=retry_attempts, shared_cache=shared))
    if isinstance(component, BaseGroupChat):
        return component
    if isinstance(component, Team):
        # Durable runs need turn boundaries, which only group chats have.
        raise InvalidSpecError(
            f"a {type(component).__name__} has no turn boundaries: a served team must be a group chat",
            field="component",
        )
    return RoundRobinGroupChat([component], max_turns=1)


async def check_spec(spec: Mapping[str, Any]) -> None:
    """Refuse a spec that does not build (``POST /v1/specs``, ``--specs``).

    The spec is built exactly as a run builds it (recording clients, service proxies),
    then released. Building needs what the spec's model clients need (an API key in the
    environment, say), as a run will.

    Raises:
        InvalidSpecError: naming what does not load.
    """
    context = BuildContext(store=None, run_id="", human=HumanInput(None, lambda agent: None))
    team = build_team(spec, context, retry_attempts=None)
    await release_team(team, context)


async def release_team(team: BaseGroupChat, context: BuildContext) -> None:
    """Close the team and the model clients built for it (agents do not close their clients)."""
    try:
        await team.close()
    finally:
        for client in context.clients:
            try:
                await client.close()
            except Exception:  # noqa: S110 - a client that fails to close holds nothing we can free
                pass
