"""Reading declarative specs for the CLI, and swapping replay models for a real one.

Specs are checked into repositories with replay models so they run offline and in CI;
when the user has configured a real model (``OPENAI_API_KEY``, or a base URL of a local
OpenAI-compatible server) the same spec runs against it with no edit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from muster.core.exceptions import ComponentLoadError

__all__ = ["load_spec_file", "real_model_config_from_env", "swap_replay_models"]

_REPLAY_SUFFIX = "ReplayChatCompletionClient"


def load_spec_file(path: Path) -> dict[str, Any]:
    """Parse a JSON or YAML spec file into a dict.

    Raises:
        ComponentLoadError: the file is missing, unreadable or not a mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ComponentLoadError(f"cannot read spec {path}: {exc.strerror or exc}") from exc
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ComponentLoadError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    else:
        try:
            import yaml
        except ImportError as exc:  # pragma: no cover - yaml ships with the cli extra
            raise ComponentLoadError("YAML specs need PyYAML: pip install 'muster[yaml]'") from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ComponentLoadError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ComponentLoadError(f"{path}: a spec must be a mapping with 'provider' and 'config'")
    return data


def real_model_config_from_env(env: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The OpenAI-compatible client config the environment asks for, or None for offline.

    ``OPENAI_API_KEY`` selects OpenAI; ``MUSTER_MODEL_BASE_URL`` (or ``OPENAI_BASE_URL``)
    points at any OpenAI-compatible server; ``MUSTER_MODEL`` picks the model.
    """
    env = os.environ if env is None else env
    api_key = env.get("OPENAI_API_KEY")
    base_url = env.get("MUSTER_MODEL_BASE_URL") or env.get("OPENAI_BASE_URL")
    if not api_key and not base_url:
        return None
    config: dict[str, Any] = {"model": env.get("MUSTER_MODEL", "gpt-4o-mini")}
    if base_url:
        config["base_url"] = base_url
        config["api_key"] = api_key or "not-needed"
        config["model_info"] = {
            "vision": False,
            "function_calling": True,
            "json_output": True,
            "family": "unknown",
            "structured_output": True,
        }
    return config


def swap_replay_models(spec: Any, model_config: Mapping[str, Any]) -> Any:
    """Return a copy of ``spec`` with every replay model client replaced by an OpenAI client."""
    if isinstance(spec, dict):
        provider = spec.get("provider")
        if isinstance(provider, str) and provider.endswith(_REPLAY_SUFFIX) and "config" in spec:
            return {
                "provider": "muster.models.openai.OpenAIChatCompletionClient",
                "component_type": "model",
                "config": dict(model_config),
            }
        return {key: swap_replay_models(value, model_config) for key, value in spec.items()}
    if isinstance(spec, list):
        return [swap_replay_models(item, model_config) for item in spec]
    return spec
