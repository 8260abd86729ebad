"""Fit request parameters to whatever SDK version is installed.

SDK releases add and drop typed keyword arguments (recent ``anthropic`` releases no
longer list ``temperature``/``top_p``/``top_k`` on ``messages.create``) while the HTTP
API still accepts them. Parameters the installed SDK method does not declare are sent
through its ``extra_body`` escape hatch, so the request on the wire is the same whatever
the SDK version. The signature is inspected once per method.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["fit_to_sdk"]

_accepted: dict[Any, frozenset[str] | None] = {}


def _parameters(method: Callable[..., Any]) -> frozenset[str] | None:
    key = getattr(method, "__func__", method)
    if key not in _accepted:
        try:
            params = inspect.signature(method).parameters.values()
        except (TypeError, ValueError):
            _accepted[key] = None
        else:
            if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
                _accepted[key] = None  # takes anything
            else:
                _accepted[key] = frozenset(p.name for p in params)
    return _accepted[key]


def fit_to_sdk(method: Callable[..., Any], args: dict[str, Any]) -> dict[str, Any]:
    """``args`` with any names ``method`` does not declare moved into ``extra_body``."""
    accepted = _parameters(method)
    if accepted is None:
        return args
    unknown = [name for name in args if name not in accepted]
    if not unknown:
        return args
    fitted = {k: v for k, v in args.items() if k in accepted}
    extra = dict(fitted.get("extra_body") or {})
    for name in unknown:
        extra[name] = args[name]
    fitted["extra_body"] = extra
    return fitted
